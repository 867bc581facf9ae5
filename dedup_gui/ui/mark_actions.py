"""Marks and what is done with the marked files: keeper rules, mark/unmark, trash/move/delete."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QWidget

from dedup_gui.core.review import selection
from dedup_gui.core.types import ActionKind
from dedup_gui.ui import formatting as fmt
from dedup_gui.ui.dialogs import Prompter
from dedup_gui.ui.file_actions import FileActions
from dedup_gui.ui.group_model import GroupModel
from dedup_gui.ui.results_view import ResultsView
from dedup_gui.ui.settings import Settings

Status = Callable[[str, int], None]


class MarkActions(QObject):
    """The Marks menu and the marked-file actions of the groups view.

    Args:
        parent: The window.
        model: The groups and their marks.
        results: The results tree (selection, rule bar).
        settings: The keeper rule and preferred folder persist here.
        file_actions: Runs trash/move/delete on the marked files.
        prompt: Returns the prompter.
        status: Shows a one-line message in the status bar.
        start_dir: The folder file dialogs open in.
        may_act: False while a scan runs (file actions wait for it).

    Signals:
        rule_changed(): Keepers were picked again.
    """

    rule_changed = Signal()

    def __init__(
        self,
        parent: QWidget,
        model: GroupModel,
        results: ResultsView,
        settings: Settings,
        file_actions: FileActions,
        prompt: Callable[[], Prompter],
        status: Status,
        start_dir: Callable[[], str],
        may_act: Callable[[], bool],
    ) -> None:
        super().__init__(parent)
        self._model, self._results, self._settings = model, results, settings
        self._file_actions, self._prompt, self._status = file_actions, prompt, status
        self._start_dir, self._may_act = start_dir, may_act
        self.rule_actions: Callable[[], list] = list  # the Keep rule menu's checkable actions

    def preferred(self) -> tuple[Path, ...]:
        """The folders whose copies the "preferred folder" rule keeps."""
        pref = self._settings.preferred_folder
        if pref:
            return (Path(pref),)
        return tuple(f.path for f in self._settings.folders if f.reference)

    def set_rule(self, rule: selection.KeepRule) -> None:
        """Pick keepers with ``rule`` (the preferred-folder rule asks for the folder once)."""
        if rule == selection.KeepRule.FOLDER and not self.preferred():
            folder = self._prompt().choose_folder(
                "Preferred folder: keep the copies in it", self._start_dir()
            )
            if folder is None:
                self._results.set_rule(self._model.rule)
                return
            self._settings.preferred_folder = str(folder)
        self._settings.keep_rule = str(rule)
        self._model.set_rule(rule, self.preferred())
        self._results.set_rule(rule)
        for act in self.rule_actions():
            act.setChecked(act.data() == str(rule))
        self.rule_changed.emit()

    def apply_rule(self, rule: selection.KeepRule) -> None:
        """Pick keepers with ``rule`` without asking (another view chose it)."""
        self._model.set_rule(rule, self.preferred())
        self._results.set_rule(rule)

    def choose_preferred_folder(self) -> None:
        """Pick the folder whose copies the "preferred folder" rule keeps, and use that rule."""
        folder = self._prompt().choose_folder(
            "Preferred folder: keep the copies in it", self._start_dir()
        )
        if folder is not None:
            self._settings.preferred_folder = str(folder)
            self.set_rule(selection.KeepRule.FOLDER)

    def mark_all_but_keepers(self) -> None:
        """Mark all files but each group's suggested keeper."""
        n = self._model.mark_all_but_keepers()
        self._status(
            f"Marked {n} files ({fmt.size(self._model.marked_bytes())}); "
            "review, then press Delete to trash them",
            8000,
        )

    def clear_marks(self) -> None:
        """Unmark everything."""
        self._model.clear_marks()

    def toggle_selected(self) -> None:
        """Flip the marks of the selected files (reference files stay unmarked)."""
        members = [m for m in self._results.selected_members() if selection.can_mark(m)]
        if not members:
            return
        target = not all(self._model.is_marked(m.file.path) for m in members)
        for m in members:
            self._model.set_marked(m.file.path, target)

    def trash_marked(self) -> None:
        """Move the marked files to the system trash, after confirmation."""
        self._act(ActionKind.TRASH)

    def move_marked(self) -> None:
        """Move the marked files to a folder, after confirmation."""
        folder = self._prompt().choose_folder("Move the marked files to…", self._start_dir())
        if folder is not None:
            self._act(ActionKind.MOVE, folder)

    def delete_marked(self) -> None:
        """Delete the marked files permanently, after two explicit confirmations."""
        self._act(ActionKind.DELETE)

    def _act(self, kind: ActionKind, destination: Path | None = None) -> None:
        if self._may_act():
            self._file_actions.run(kind, destination)


class MarkTargets:
    """The Marks and Files menus act on the view in front: the groups, or the found copies.

    Args:
        targets: One :class:`MarkActions` per view.
        current: Which of them is in front (an index into ``targets``).
    """

    def __init__(self, targets: list[MarkActions], current: Callable[[], int]) -> None:
        self.targets = targets
        self._current = current

    def current(self) -> MarkActions:
        """The marks of the view in front."""
        return self.targets[self._current()]

    def preferred(self) -> tuple[Path, ...]:
        """See :meth:`MarkActions.preferred`."""
        return self.targets[0].preferred()

    def set_rule(self, rule: selection.KeepRule) -> None:
        """See :meth:`MarkActions.set_rule` (every view follows the rule)."""
        self.current().set_rule(rule)
        for t in self.targets:
            if t is not self.current():
                t.apply_rule(rule)

    def choose_preferred_folder(self) -> None:  # noqa: D102
        self.current().choose_preferred_folder()

    def mark_all_but_keepers(self) -> None:  # noqa: D102
        self.current().mark_all_but_keepers()

    def clear_marks(self) -> None:  # noqa: D102
        self.current().clear_marks()

    def toggle_selected(self) -> None:  # noqa: D102
        self.current().toggle_selected()

    def trash_marked(self) -> None:  # noqa: D102
        self.current().trash_marked()

    def move_marked(self) -> None:  # noqa: D102
        self.current().move_marked()

    def delete_marked(self) -> None:  # noqa: D102
        self.current().delete_marked()
