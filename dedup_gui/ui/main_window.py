"""The main window: folders on the left, results in the middle, the selected file on the right."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, Slot
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QMainWindow, QTabWidget

from dedup_gui.core.analyse.embed import Embedder
from dedup_gui.core.options import ScanOptions
from dedup_gui.core.progress import ProgressEvent
from dedup_gui.core.review import selection
from dedup_gui.core.review.actions import Trasher
from dedup_gui.core.review.ignores import IgnoreList
from dedup_gui.core.review.thumbnails import ThumbnailCache
from dedup_gui.core.types import ScanResult
from dedup_gui.ui import menus, theme, window_help, window_layout
from dedup_gui.ui.action_safety import ActionSafety
from dedup_gui.ui.compare_windows import CompareWindows
from dedup_gui.ui.current_file import CurrentFile
from dedup_gui.ui.dialogs import ProblemsDialog, Prompter
from dedup_gui.ui.file_actions import FileActions
from dedup_gui.ui.find_copies import FindCopies
from dedup_gui.ui.folders import FolderPanel
from dedup_gui.ui.group_model import GroupModel
from dedup_gui.ui.mark_actions import MarkActions, MarkTargets
from dedup_gui.ui.not_duplicates import NotDuplicates
from dedup_gui.ui.preview import PreviewPanel
from dedup_gui.ui.progress_panel import ProgressPanel
from dedup_gui.ui.result_files import RESULT_FILTER, ResultFiles, options_dict
from dedup_gui.ui.results_view import ResultsView
from dedup_gui.ui.scan_controller import ScanController
from dedup_gui.ui.settings import Settings
from dedup_gui.ui.status_line import StatusLine
from dedup_gui.ui.thumbnails import ThumbnailLoader

log = logging.getLogger(__name__)

_NO_DUPLICATES = (
    "<h3>No duplicates found</h3><p>Try a lower sensitivity or the partial-clip mode in "
    "Preferences.</p>"
)
__all__ = ["RESULT_FILTER", "MainWindow"]


class MainWindow(QMainWindow):
    """The application window.

    Args:
        settings: Where choices persist (the user's settings by default).
        ignores: The "not a duplicate" list (the user's data folder by default).
        embedder: A loaded embedder to reuse (tests share one).
        thumbnail_cache: The thumbnail disk cache (the user's cache folder by default).
        trasher: Replaces send2trash (tests may inject failures).
    """

    def __init__(
        self,
        settings: Settings | None = None,
        ignores: IgnoreList | None = None,
        embedder: Embedder | None = None,
        thumbnail_cache: ThumbnailCache | None = None,
        trasher: Trasher | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings or Settings()
        self.ignores = ignores if ignores is not None else IgnoreList.load()
        self.prompt = Prompter(self)
        self.result: ScanResult | None = None
        self.scan_options: ScanOptions | None = None
        self._options_dict: dict[str, Any] = {}
        self.setWindowTitle("dedup-gui — duplicate videos")
        self.setWindowIcon(theme.app_icon())
        self.setAcceptDrops(True)

        self.loader = ThumbnailLoader(thumbnail_cache, self)
        self.model = GroupModel(self)
        self.controller = ScanController(self, embedder)
        self.file_actions = FileActions(self.model, lambda: self.prompt, trasher, self)
        self.action_task = self.file_actions.task
        self.compares = CompareWindows(self, self.loader, self.controller.embedder)
        self.result_files = ResultFiles(lambda: self.prompt, self.settings, self._show_status)
        self.not_duplicates = NotDuplicates(
            self.model, self.ignores, lambda: self.prompt, self._show_status
        )

        self.folders = FolderPanel(self.settings)
        self.scan_button = window_layout.scan_button()
        self.results = ResultsView(self.model, self.loader)
        self.preview = PreviewPanel(self.loader)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("views")
        self.tabs.setDocumentMode(True)
        self.tabs.addTab(self.results, "Duplicates")
        self.progress_panel = ProgressPanel()
        self.stage_label = self.progress_panel.stage_label
        self.cancel_button = self.progress_panel.cancel_button
        body, self.splitter = window_layout.body(
            window_layout.column(self.folders, self.scan_button),
            window_layout.column(self.tabs, self.progress_panel),
            self.preview,
        )
        self.setCentralWidget(body)

        self.status_line = StatusLine(self.statusBar())
        self.groups_label = self.status_line.groups_label
        self.reclaim_label = self.status_line.reclaim_label
        self.marked_label = self.status_line.marked_label
        self.problems_button = self.status_line.problems_button
        self.problems_button.clicked.connect(self.show_problems)
        self.current = CurrentFile(
            self, self.model, self.results, self.preview, self.compares,
            lambda: self.scan_options or self.settings.scan_options(), self._show_status,
        )  # fmt: skip
        self.group_marks = MarkActions(
            self, self.model, self.results, self.settings, self.file_actions,
            lambda: self.prompt, self._show_status, self.result_files.start_dir,
            lambda: not self.controller.running,
        )  # fmt: skip
        # action log + history, quarantine fallback, ask again
        self.action_safety = ActionSafety(
            self, lambda: self.prompt, self._show_status, self._reference_roots
        )
        self.action_safety.watch(self.file_actions)
        self.find = FindCopies(
            self, self.settings, self.loader, lambda: self.prompt, self._show_status,
            self.controller.embedder, self.compares, self.preview, self.action_safety,
            self.results, lambda: self.tabs.setCurrentWidget(self.find.panel),
            lambda: not (self.controller.running or self.action_task.running), trasher,
        )  # fmt: skip
        self.tabs.addTab(self.find.panel, "Find copies")
        # the Marks and Files menus act on the tab in front
        self.marks = MarkTargets([self.group_marks, self.find.marks], self._front)
        built = menus.build(self, self, self.results.tree, self.set_rule)
        for name, act in built.actions.items():
            setattr(self, name, act)
        self.rule_group = built.rule_group
        self.group_marks.rule_actions = self.find.marks.rule_actions = self.rule_group.actions
        menus.add_context(self.find.results.tree, menus.FIND_CONTEXT, built.actions)
        self.action_safety.add_to_menu(built.menus.get("Files"))
        for act in self.rule_group.actions():
            act.setChecked(act.data() == str(self.settings.keep_rule_value()))
        self._connect()
        self.results.set_rule(self.settings.keep_rule_value())
        self.model.set_rule(self.settings.keep_rule_value(), self.marks.preferred())
        show = self.settings.show_thumbnails
        self.act_thumbs.setChecked(show)
        self.results.set_thumbnails(show)
        window_layout.restore_geometry(self, self.settings, self.splitter, self.results.tree)
        self._update_actions()
        self._update_status()

    # ---------------------------------------------------------------- construction
    def _connect(self) -> None:
        self.scan_button.clicked.connect(self.start_scan)
        self.cancel_button.clicked.connect(self.cancel_scan)
        self.folders.changed.connect(self._update_actions)
        self.controller.progress.connect(self._on_progress)
        self.controller.download.connect(self._on_download)
        self.controller.finished.connect(self._on_scan_finished)
        self.controller.failed.connect(self._on_scan_failed)
        self.controller.running_changed.connect(self._on_running_changed)
        self.file_actions.progress.connect(self.progress_panel.show_action_progress)
        self.file_actions.started.connect(self.progress_panel.show_action_started)
        self.file_actions.message.connect(lambda text: self._show_status(text, 15000))
        self.compares.not_duplicate.connect(lambda x, y: self.hide_pairs([(x, y)]))
        self.action_task.running_changed.connect(self._on_running_changed)
        self.group_marks.rule_changed.connect(self._update_status)
        self.group_marks.rule_changed.connect(self._show_current)
        self.find.progress.connect(self._on_find_progress)
        self.find.started.connect(self.progress_panel.start)
        self.find.running_changed.connect(self._on_running_changed)
        self.find.scan_requested.connect(self.start_scan)
        self.find.model.marks_changed.connect(self._update_actions)
        self.action_task.finished.connect(lambda _r: self.find.forget_library())
        self.find.results.current_changed.connect(self._update_actions)
        self.tabs.currentChanged.connect(lambda _i: (self._view().show(), self._update_actions()))
        self.model.marks_changed.connect(self._update_status)
        self.model.groups_changed.connect(self._update_status)
        self.model.marks_changed.connect(self._update_actions)
        self.model.groups_changed.connect(self._show_current)
        self.results.current_changed.connect(self._show_current)
        self.results.current_changed.connect(self._update_actions)
        self.results.tree.selectionModel().selectionChanged.connect(
            lambda *_: self._update_actions()
        )
        self.results.rule_changed.connect(self.set_rule)
        self.results.mark_requested.connect(self.mark_all_but_keepers)
        self.results.tree.doubleClicked.connect(self.current.on_double_click)
        self.preview.play.connect(self.play_current)
        self.preview.reveal.connect(self.reveal_current)
        self.preview.compare.connect(self.compare_selected)

    # ---------------------------------------------------------------- state
    @property
    def busy(self) -> bool:
        """A scan, a search or a file action is running."""
        return self.controller.running or self.action_task.running or self.find.running

    def _front(self) -> int:
        """0: the duplicates tab is in front, 1: Find copies."""
        return int(self.tabs.currentWidget() is self.find.panel)

    def _view(self) -> CurrentFile:
        return (self.current, self.find.current)[self._front()]

    def _show_status(self, text: str, ms: int) -> None:
        self.statusBar().showMessage(text, ms)

    def _reference_roots(self) -> tuple[Path, ...]:
        return self.scan_options.reference_roots if self.scan_options else ()

    def _update_actions(self) -> None:
        busy = self.busy
        find = self._front() == 1
        model, view = (self.find.model, self.find.results) if find else (self.model, self.results)
        marked = bool(model.marked_paths())
        current = view.current_member() is not None
        self.act_scan.setEnabled(not busy and bool(self.folders.folders()))
        self.scan_button.setEnabled(self.act_scan.isEnabled())
        self.act_cancel.setEnabled(self.controller.running or self.find.running)
        for act in (self.act_trash, self.act_move, self.act_delete):
            act.setEnabled(marked and not busy)
        for act in (self.act_mark, self.act_clear):
            act.setEnabled(model.rowCount() > 0 and not busy)
        for act in (self.act_save, self.act_csv, self.act_json):
            act.setEnabled(self.model.rowCount() > 0 and not busy)
        self.act_open.setEnabled(not busy)
        for act in (self.act_play, self.act_reveal, self.act_toggle, self.act_find_like):
            act.setEnabled(current and not busy)
        for act in (self.act_hide_file, self.act_hide_pair):
            act.setEnabled(current and not busy and not find)
        self.act_find.setEnabled(not busy)
        self.act_compare.setEnabled(current and not self.controller.running)
        self.results.mark_button.setEnabled(self.model.rowCount() > 0 and not busy)
        self.find.results.mark_button.setEnabled(self.find.model.rowCount() > 0 and not busy)
        self.act_problems.setEnabled(
            bool(self.result and (self.result.problems or self.result.notices))
        )

    def _update_status(self) -> None:
        self.status_line.update(self.model)

    # ---------------------------------------------------------------- scanning
    def start_scan(self) -> None:
        """Scan the folders in the list with the current settings."""
        if self.busy:
            return
        folders = self.folders.folders()
        missing = [f.path for f in folders if not f.path.is_dir()]
        roots = [f.path for f in folders if f.path.is_dir()]
        if not roots:
            self.prompt.error("Nothing to scan", "Add a folder that exists to the list first.")
            return
        if missing:
            self.statusBar().showMessage(
                f"Skipping folders that do not exist: {', '.join(map(str, missing))}", 8000
            )
        options = self.settings.scan_options()
        options = options.replace(
            reference_roots=tuple(r for r in options.reference_roots if r.is_dir())
        )
        self.scan_options = options
        # one user of the model at a time
        self.compares.stop_all("a scan started; compare again when it is done")
        self.progress_panel.start("Starting…")
        self.controller.start(roots, options)

    def cancel_scan(self) -> None:
        """Stop the scan (it ends within a second or two)."""
        if self.controller.running:
            self.controller.cancel()
            self.stage_label.setText("Cancelling…")
            self.cancel_button.setEnabled(False)
        elif self.action_task.running:
            self.action_task.cancel()
            self.stage_label.setText("Stopping after the current file…")
        elif self.find.running:
            self.find.cancel()
            self.stage_label.setText("Cancelling…")

    @Slot(bool)
    def _on_running_changed(self, running: bool) -> None:
        if self.controller.running and not self.model.rowCount():
            self.results.set_empty_text(
                "<h3>Scanning…</h3><p>The groups of duplicates appear here when the scan "
                "finishes.<br>Press Esc to cancel.</p>"
            )
        elif not self.controller.running and not self.model.rowCount():
            self.results.set_empty_text(None if self.result is None else _NO_DUPLICATES)
        busy = self.busy
        self.progress_panel.setVisible(busy)
        self.cancel_button.setEnabled(busy)
        self.folders.setEnabled(not self.controller.running)
        self._update_actions()

    @Slot(object)
    def _on_progress(self, ev: ProgressEvent) -> None:
        if not self.controller.running:
            return
        self.progress_panel.show_event(ev)

    @Slot(object)
    def _on_find_progress(self, ev: ProgressEvent) -> None:
        if self.find.running:
            self.progress_panel.show_event(ev)

    @Slot(int, int)
    def _on_download(self, done: int, total: int) -> None:
        self.progress_panel.show_download(done, total)

    @Slot(object)
    def _on_scan_finished(self, result: ScanResult) -> None:
        QTimer.singleShot(0, lambda: self.find.after_scan(result.cancelled))  # once idle
        if result.cancelled:
            self.statusBar().showMessage(
                "Scan cancelled. Everything analysed so far is cached; the next scan resumes.",
                10000,
            )
            return
        opts = self.scan_options or self.settings.scan_options()
        self.show_result(result, options_dict(opts))
        n = len(self.model.groups())
        skipped = sum(1 for p in result.problems if p.skipped)
        videos = result.stats.counts.get("videos", 0)
        msg = f"Scan finished: {n} groups of duplicates in {videos} videos"
        if skipped:
            msg += f"; {skipped} files could not be compared"
        self.statusBar().showMessage(msg, 15000)

    @Slot(str, bool)
    def _on_scan_failed(self, message: str, weights: bool) -> None:
        if weights:
            self.prompt.error(
                "Cannot analyse videos", "The model weights are not available.", message
            )
        else:
            self.prompt.error("The scan failed", message)

    # ---------------------------------------------------------------- results
    def show_result(self, result: ScanResult, options: dict[str, Any] | None = None) -> None:
        """Show a scan result (hidden pairs and files are left out)."""
        self.result = result
        self._options_dict = options or {}
        self.model.set_groups(self.ignores.apply(result.groups))
        self.results.set_empty_text(_NO_DUPLICATES)
        self.results.tree.expandAll()
        self.status_line.show_problems_of(result)
        first = self.results.proxy.index(0, 0)
        if first.isValid():
            self.results.tree.setCurrentIndex(first)
        self._update_actions()
        self._update_status()

    def current_result(self) -> ScanResult | None:
        """The result as currently shown (trashed files and hidden ones left out)."""
        if self.result is None:
            return None
        present = {m.file.path for g in self.model.groups() for m in g.members}
        grouped = {m.file.path for g in self.result.groups for m in g.members}
        files = tuple(f for f in self.result.files if f.path in present or f.path not in grouped)
        return dataclasses.replace(self.result, groups=tuple(self.model.groups()), files=files)

    def save_results(self) -> None:
        """Save the shown result set as JSON (reopen with Open results)."""
        current = self.current_result()
        if current is not None:
            self.result_files.save_json(current, self._options_dict)

    def export_csv(self) -> None:
        """Export one row per file of every group."""
        current = self.current_result()
        if current is not None:
            self.result_files.save_csv(current)

    def open_results(self) -> None:
        """Open a result set saved earlier (files gone since are left out)."""
        if self.busy:
            return
        path = self.result_files.ask_open()
        if path is not None:
            self.load_results(path)

    def load_results(self, path: Path) -> bool:
        """Load a saved result set; files that vanished since are dropped from the groups."""
        read = self.result_files.read(path)
        if read is None:
            return False
        result, gone = read
        self.show_result(result)
        msg = f"Opened {path.name}"
        if gone:
            msg += f"; {gone} files no longer exist and were left out"
        self.statusBar().showMessage(msg, 10000)
        return True

    def _start_dir(self, name: str) -> str:
        return self.result_files.start_dir(name)

    # ---------------------------------------------------------------- marks
    def set_rule(self, rule: selection.KeepRule) -> None:
        """Pick keepers with ``rule`` (the preferred-folder rule asks for the folder once)."""
        self.marks.set_rule(rule)

    def mark_all_but_keepers(self) -> None:
        """Mark all files but each group's suggested keeper."""
        self.marks.mark_all_but_keepers()

    def toggle_selected(self) -> None:
        """Flip the marks of the selected files (reference files stay unmarked)."""
        self.marks.toggle_selected()

    # ---------------------------------------------------------------- not a duplicate
    def hide_selected_files(self) -> None:
        """Hide the selected files from every group, now and in later scans."""
        self.not_duplicates.hide_files(self.results.selected_members())

    def hide_selected_pairs(self) -> None:
        """The selected files are not duplicates of their group's reference."""
        self.not_duplicates.hide_from_reference(self.results.selected_members())

    def hide_pairs(self, pairs: list[tuple[Path, Path]]) -> None:
        """Remember that each pair is not a duplicate and update the groups."""
        self.not_duplicates.hide_pairs(pairs)

    def forget_ignores(self) -> None:
        """Show every hidden pair and file again (after a confirmation)."""
        if self.not_duplicates.forget() and self.result is not None:
            self.show_result(self.result, self._options_dict)

    # ---------------------------------------------------------------- current file
    def _show_current(self) -> None:
        self.current.show()

    def compare_selected(self) -> None:
        """Compare the two selected files, or the current file with its group's reference."""
        self._view().compare()

    def play_current(self) -> None:
        """Open the current file (of the tab in front) in the system player."""
        self._view().play()

    def reveal_current(self) -> None:
        """Show the current file in the file manager."""
        self._view().reveal()

    # ---------------------------------------------------------------- file actions
    def move_marked(self) -> None:
        """Move the marked files to a folder, after confirmation."""
        self.marks.move_marked()

    # ---------------------------------------------------------------- misc
    def edit_preferences(self) -> None:
        """Open the preferences dialog."""
        window_help.edit_preferences(self, self.settings)

    def show_problems(self) -> None:
        """List files the scan skipped or warned about."""
        if self.result is None:
            return
        ProblemsDialog(self.result.problems, self.result.notices, self).exec()

    def toggle_thumbnails(self) -> None:
        """Show or hide frame strips in the list."""
        on = self.act_thumbs.isChecked()
        self.settings.show_thumbnails = on
        self.results.set_thumbnails(on)

    def show_shortcuts(self) -> None:
        """A table of keyboard shortcuts."""
        window_help.show_shortcuts(self, self.actions())

    def show_about(self) -> None:
        """Version and a one-line description."""
        window_help.show_about(self)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: D102
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: D102
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        added = self.folders.add_folders(paths)
        if added:
            self.statusBar().showMessage(f"Added {added} folders; press F5 to scan", 6000)
        event.acceptProposedAction()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: D102
        # stop everything that runs on another thread, then save the layout
        self.controller.shutdown()
        self.find.shutdown()
        self.action_task.shutdown()
        self.compares.close_all()
        self.loader.shutdown()
        window_layout.save_geometry(self, self.settings, self.splitter, self.results.tree)
        super().closeEvent(event)
