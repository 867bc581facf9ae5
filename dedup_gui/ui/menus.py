"""The window's actions, menus, tool bar and context menu, as tables.

Each action is a row: the name it is known by, its text, the method it calls (a dotted path
from the object passed as ``slots``), its shortcut, its tip and whether its shortcut only works
in the results tree. Menus, the tool bar and the tree's context menu list action names.
:func:`build` takes the main window, the slots and the tree as arguments and returns the
actions; it knows nothing of the window class.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce

from PySide6.QtGui import QAction, QActionGroup, QKeySequence, Qt
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar, QWidget

from dedup_gui.core.review import selection

Key = QKeySequence.StandardKey


@dataclass(frozen=True)
class Spec:
    """One action of the window."""

    name: str
    text: str
    slot: str
    shortcut: str | QKeySequence.StandardKey | None = None
    tip: str = ""
    tree_only: bool = False  # the shortcut works in the results tree only
    checkable: bool = False


ACTIONS = [
    Spec("act_add", "&Add folder…", "folders.choose_folder", "Ctrl+Shift+O",
         "Add a folder to scan"),
    Spec("act_open", "&Open results…", "open_results", Key.Open, "Open a saved result set"),
    Spec("act_save", "&Save results…", "save_results", Key.Save,
         "Save the results to reopen later"),
    Spec("act_csv", "Export as &CSV…", "export_csv", "Ctrl+E",
         "Export the groups as a spreadsheet"),
    Spec("act_json", "Export as &JSON…", "save_results", None, "Export the groups as JSON"),
    Spec("act_quit", "&Quit", "close", Key.Quit, "Quit"),
    Spec("act_prefs", "&Preferences…", "edit_preferences", "Ctrl+,",
         "Matching and analysis settings"),
    Spec("act_forget", "Forget “not a duplicate” choices…", "forget_ignores", None,
         "Show hidden pairs and files again"),
    Spec("act_scan", "&Scan", "start_scan", "F5", "Scan the folders for duplicate videos"),
    Spec("act_cancel", "&Cancel scan", "cancel_scan", "Esc", "Stop the scan"),
    Spec("act_find", "&Find copies of a video…", "find.choose_file", "Ctrl+Shift+F",
         "Where else is this? Find a video's or clip's copies in the scanned folders"),
    Spec("act_find_like", "Find &everything like this", "find.find_like_selected", "Ctrl+L",
         "Find the copies of this file anywhere in the scanned folders"),
    Spec("act_problems", "Show scan &problems…", "show_problems", None,
         "Files that could not be compared"),
    Spec("act_mark", "&Mark all but the keeper", "mark_all_but_keepers", "Ctrl+K",
         "In every group, mark all files except the one to keep"),
    Spec("act_clear", "C&lear marks", "marks.clear_marks", "Ctrl+Shift+K", "Unmark every file"),
    Spec("act_preferred", "Choose the &preferred folder…", "marks.choose_preferred_folder", None,
         "The folder whose copies the “preferred folder” rule keeps"),
    Spec("act_toggle", "&Toggle mark", "toggle_selected", "Space",
         "Mark or unmark the selected files", tree_only=True),
    Spec("act_hide_file", "&Not a duplicate: hide this file", "hide_selected_files", "Ctrl+H",
         "Remove the selected files from their groups, now and in later scans"),
    Spec("act_hide_pair", "Not a duplicate of the &reference", "hide_selected_pairs",
         "Ctrl+Shift+H", "These files are not copies of their group's reference"),
    Spec("act_play", "&Play", "play_current", "Return", "Open in the system video player",
         tree_only=True),
    Spec("act_reveal", "Show in &folder", "reveal_current", "Ctrl+R", "Reveal in the file manager"),
    Spec("act_compare", "&Compare…", "compare_selected", "Ctrl+D",
         "Compare two files side by side"),
    Spec("act_trash", "Move marked to &trash…", "marks.trash_marked", Key.Delete,
         "Move the marked files to the system trash", tree_only=True),
    Spec("act_move", "Move marked to f&older…", "marks.move_marked", "Ctrl+M",
         "Move the marked files to another folder"),
    Spec("act_delete", "&Delete marked permanently…", "marks.delete_marked", "Shift+Del",
         "Delete the marked files for good (asks twice)", tree_only=True),
    Spec("act_thumbs", "Show &frames in the list", "toggle_thumbnails", "Ctrl+T",
         "Show a strip of frames for each file", checkable=True),
    Spec("act_filter", "&Filter…", "results.focus_filter", Key.Find, "Filter the groups"),
    Spec("act_expand", "&Expand all", "results.tree.expandAll", "Ctrl+Shift+Down"),
    Spec("act_collapse", "C&ollapse all", "results.tree.collapseAll", "Ctrl+Shift+Up"),
    Spec("act_shortcuts", "&Keyboard shortcuts", "show_shortcuts", "F1"),
    Spec("act_about", "&About dedup-gui", "show_about"),
]  # fmt: skip

RULES = "rules"  # placeholder in MENUS for the keeper-rule sub-menu
MENUS: dict[str, list[str | None]] = {
    "&File": ["act_add", None, "act_open", "act_save", "act_csv", "act_json", None, "act_quit"],
    "&Edit": ["act_prefs", "act_forget"],
    "&Scan": ["act_scan", "act_cancel", None, "act_find", "act_find_like", None, "act_problems"],
    "&Marks": ["act_mark", RULES, "act_preferred", "act_clear", "act_toggle", None,
               "act_hide_file", "act_hide_pair"],
    "&Files": ["act_play", "act_reveal", "act_compare", None, "act_trash", "act_move", None,
               "act_delete"],
    "&View": ["act_thumbs", "act_filter", "act_expand", "act_collapse"],
    "&Help": ["act_shortcuts", "act_about"],
}  # fmt: skip
TOOLBAR = ["act_add", "act_scan", "act_cancel", "act_find", None, "act_clear", None, "act_compare",
           "act_play", "act_reveal", None, "act_trash", "act_move", None, "act_prefs"]  # fmt: skip
CONTEXT = ["act_play", "act_reveal", "act_compare", "act_find_like", None, "act_toggle",
           "act_hide_file", "act_hide_pair", None, "act_trash", "act_move"]  # fmt: skip
# the Find copies tree's context menu
FIND_CONTEXT = ["act_play", "act_reveal", "act_compare", "act_find_like", None, "act_toggle",
                None, "act_trash", "act_move"]  # fmt: skip


def key_text(act: QAction) -> str:
    """An action's shortcut as the user sees it."""
    return act.shortcut().toString(QKeySequence.SequenceFormat.NativeText)


@dataclass
class Built:
    """What :func:`build` made: the actions by name, the keeper-rule group, the menus by title."""

    actions: dict[str, QAction]
    rule_group: QActionGroup
    menus: dict[str, QMenu]


def _make(window: QMainWindow, slots: object, spec: Spec) -> QAction:
    act = QAction(spec.text, window)
    if spec.shortcut is not None:
        act.setShortcut(QKeySequence(spec.shortcut))
        if spec.tree_only:
            act.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    if spec.tip:
        act.setToolTip(f"{spec.tip} ({key_text(act)})" if spec.shortcut else spec.tip)
        act.setStatusTip(spec.tip)
    act.setCheckable(spec.checkable)
    slot = reduce(getattr, spec.slot.split("."), slots)
    act.triggered.connect(lambda _checked=False: slot())
    window.addAction(act)
    return act


def add_context(tree: QWidget, names: list[str | None], acts: dict[str, QAction]) -> None:
    """Give ``tree`` a context menu of the named actions (None: a separator)."""
    for name in names:
        if name is None:
            sep = QAction(tree)
            sep.setSeparator(True)
            tree.addAction(sep)
        else:
            tree.addAction(acts[name])


def build(
    window: QMainWindow,
    slots: object,
    tree: QWidget,
    on_rule: Callable[[selection.KeepRule], None],
) -> Built:
    """Create the actions, then ``window``'s menus and tool bar and ``tree``'s context menu.

    Args:
        window: Owns the actions, menu bar and tool bar.
        slots: The object whose (dotted) attributes the actions call.
        tree: The results tree (its context menu).
        on_rule: Called with the keeper rule picked in *Marks → Keep rule*.
    """
    acts = {spec.name: _make(window, slots, spec) for spec in ACTIONS}
    rule_group = QActionGroup(window)
    menus: dict[str, QMenu] = {}
    bar = window.menuBar()
    for title, names in MENUS.items():
        menu = bar.addMenu(title)
        menus[title.replace("&", "")] = menu
        for name in names:
            if name is None:
                menu.addSeparator()
            elif name == RULES:
                rules = menu.addMenu("&Keep rule")
                for rule, label in selection.RULE_LABELS.items():
                    act = rules.addAction(label)
                    act.setCheckable(True)
                    act.setData(str(rule))
                    rule_group.addAction(act)
            else:
                menu.addAction(acts[name])
    rule_group.triggered.connect(lambda act: on_rule(selection.KeepRule(act.data())))
    tb = QToolBar("Main")
    tb.setObjectName("mainToolbar")
    tb.setMovable(False)
    tb.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
    for name in TOOLBAR:
        tb.addSeparator() if name is None else tb.addAction(acts[name])
    window.addToolBar(tb)
    add_context(tree, CONTEXT, acts)
    return Built(acts, rule_group, menus)
