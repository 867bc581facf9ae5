"""The main window: folders on the left, results in the middle, the selected file on the right."""

from __future__ import annotations

import dataclasses
import logging
import os
from dataclasses import asdict
from pathlib import Path
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Slot
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from dedup_gui import __version__
from dedup_gui.core.analyse.embed import Embedder
from dedup_gui.core.options import ScanOptions
from dedup_gui.core.progress import ProgressEvent
from dedup_gui.core.review import export, selection
from dedup_gui.core.review.actions import Trasher
from dedup_gui.core.review.ignores import IgnoreList
from dedup_gui.core.review.thumbnails import ThumbnailCache
from dedup_gui.core.types import ActionKind, GroupMember, ScanResult
from dedup_gui.ui import action_safety, menus, system, theme
from dedup_gui.ui import formatting as fmt
from dedup_gui.ui.compare import CompareDialog
from dedup_gui.ui.dialogs import PreferencesDialog, ProblemsDialog, Prompter
from dedup_gui.ui.file_actions import FileActions
from dedup_gui.ui.folders import FolderPanel
from dedup_gui.ui.group_model import GroupModel
from dedup_gui.ui.preview import PreviewPanel
from dedup_gui.ui.results_view import ResultsView
from dedup_gui.ui.scan_controller import ScanController
from dedup_gui.ui.settings import Settings
from dedup_gui.ui.thumbnails import ThumbnailLoader

log = logging.getLogger(__name__)

_NO_DUPLICATES = (
    "<h3>No duplicates found</h3><p>Try a lower sensitivity or the partial-clip mode in "
    "Preferences.</p>"
)
RESULT_FILTER = "dedup-gui results (*.json);;All files (*)"


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
        self._compares: list[CompareDialog] = []
        self._options_dict: dict[str, Any] = {}
        self.setWindowTitle("dedup-gui — duplicate videos")
        self.setWindowIcon(theme.app_icon())
        self.setAcceptDrops(True)

        self.loader = ThumbnailLoader(thumbnail_cache, self)
        self.model = GroupModel(self)
        self.controller = ScanController(self, embedder)
        self.file_actions = FileActions(self.model, lambda: self.prompt, trasher, self)
        self.action_task = self.file_actions.task

        self.folders = FolderPanel(self.settings)
        self.scan_button = QPushButton("Scan")
        self.scan_button.setObjectName("scanButton")
        self.scan_button.setDefault(True)
        self.scan_button.setToolTip("Scan the folders for duplicate videos (F5)")
        self.scan_button.setMinimumHeight(34)
        left = QWidget()
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 0, 0)
        lv.addWidget(self.folders, 1)
        lv.addWidget(self.scan_button)

        self.results = ResultsView(self.model, self.loader)
        self.preview = PreviewPanel(self.loader)
        self._build_progress()
        center = QWidget()
        cv = QVBoxLayout(center)
        cv.setContentsMargins(0, 0, 0, 0)
        cv.addWidget(self.results, 1)
        cv.addWidget(self.progress_panel)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(left)
        self.splitter.addWidget(center)
        self.splitter.addWidget(self.preview)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setStretchFactor(2, 0)
        self.splitter.setSizes([250, 1060, 330])
        self.splitter.setCollapsible(1, False)
        body = QWidget()
        bv = QVBoxLayout(body)
        bv.setContentsMargins(8, 6, 8, 4)
        bv.addWidget(self.splitter)
        self.setCentralWidget(body)

        self._build_status_bar()
        menus.build(self)
        action_safety.install(self)  # action log + history, quarantine fallback, ask again
        for act in self.rule_group.actions():
            act.setChecked(act.data() == str(self.settings.keep_rule_value()))
        self._connect()
        self.results.set_rule(self.settings.keep_rule_value())
        self.model.set_rule(self.settings.keep_rule_value(), self._preferred())
        show = self.settings.show_thumbnails
        self.act_thumbs.setChecked(show)
        self.results.set_thumbnails(show)
        self._restore_geometry()
        self._update_actions()
        self._update_status()

    # ---------------------------------------------------------------- construction
    def _build_progress(self) -> None:
        self.progress_panel = QWidget()
        self.progress_panel.setObjectName("progressPanel")
        self.stage_label = QLabel()
        self.stage_label.setObjectName("stageLabel")
        self.progress_bar = QProgressBar()
        self.progress_bar.setRange(0, 1000)
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setFormat("%p%")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setToolTip("Stop the scan; what was analysed stays cached (Esc)")
        self.item_label = QLabel()
        self.item_label.setObjectName("itemLabel")
        self.item_label.setMinimumWidth(100)
        self.time_label = QLabel()
        self.time_label.setObjectName("timeLabel")
        top = QHBoxLayout()
        top.addWidget(self.stage_label)
        top.addWidget(self.progress_bar, 1)
        top.addWidget(self.cancel_button)
        bottom = QHBoxLayout()
        bottom.addWidget(self.item_label, 1)
        bottom.addWidget(self.time_label)
        v = QVBoxLayout(self.progress_panel)
        v.setContentsMargins(0, 6, 0, 0)
        v.addLayout(top)
        v.addLayout(bottom)
        self.progress_panel.hide()

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.groups_label = QLabel()
        self.groups_label.setObjectName("groupsLabel")
        self.reclaim_label = QLabel()
        self.reclaim_label.setObjectName("reclaimLabel")
        self.marked_label = QLabel()
        self.marked_label.setObjectName("markedLabel")
        self.problems_button = QPushButton()
        self.problems_button.setFlat(True)
        self.problems_button.setObjectName("problemsButton")
        self.problems_button.clicked.connect(self.show_problems)
        self.problems_button.hide()
        for w in (self.problems_button, self.groups_label, self.reclaim_label, self.marked_label):
            bar.addPermanentWidget(w)

    def _connect(self) -> None:
        self.scan_button.clicked.connect(self.start_scan)
        self.cancel_button.clicked.connect(self.cancel_scan)
        self.folders.changed.connect(self._update_actions)
        self.controller.progress.connect(self._on_progress)
        self.controller.download.connect(self._on_download)
        self.controller.finished.connect(self._on_scan_finished)
        self.controller.failed.connect(self._on_scan_failed)
        self.controller.running_changed.connect(self._on_running_changed)
        self.file_actions.progress.connect(self._on_action_progress)
        self.file_actions.started.connect(self._on_action_started)
        self.file_actions.message.connect(lambda text: self.statusBar().showMessage(text, 15000))
        self.action_task.running_changed.connect(self._on_running_changed)
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
        self.results.tree.doubleClicked.connect(self._on_double_click)
        self.preview.play.connect(self.play_current)
        self.preview.reveal.connect(self.reveal_current)
        self.preview.compare.connect(self.compare_selected)

    # ---------------------------------------------------------------- state
    @property
    def busy(self) -> bool:
        """A scan or a file action is running."""
        return self.controller.running or self.action_task.running

    def _preferred(self) -> tuple[Path, ...]:
        pref = self.settings.preferred_folder
        if pref:
            return (Path(pref),)
        return tuple(f.path for f in self.settings.folders if f.reference)

    def _update_actions(self) -> None:
        busy = self.busy
        has_groups = self.model.rowCount() > 0
        marked = bool(self.model.marked_paths())
        current = self.results.current_member() is not None
        for act in (self.act_scan,):
            act.setEnabled(not busy and bool(self.folders.folders()))
        self.scan_button.setEnabled(self.act_scan.isEnabled())
        self.act_cancel.setEnabled(self.controller.running)
        for act in (self.act_trash, self.act_move, self.act_delete):
            act.setEnabled(marked and not busy)
        for act in (self.act_mark, self.act_clear, self.act_save, self.act_csv, self.act_json):
            act.setEnabled(has_groups and not busy)
        self.act_open.setEnabled(not busy)
        for act in (
            self.act_play,
            self.act_reveal,
            self.act_hide_file,
            self.act_hide_pair,
            self.act_toggle,
        ):
            act.setEnabled(current and not busy)
        self.act_compare.setEnabled(current and not self.controller.running)
        self.results.mark_button.setEnabled(self.act_mark.isEnabled())
        self.act_problems.setEnabled(
            bool(self.result and (self.result.problems or self.result.notices))
        )

    def _update_status(self) -> None:
        groups = self.model.rowCount()
        files = self.model.file_count()
        self.groups_label.setText(f"{groups} groups · {files} files" if groups else "No groups")
        self.reclaim_label.setText(
            f"{fmt.size(self.model.reclaimable())} reclaimable" if groups else ""
        )
        marked = self.model.marked_paths()
        self.marked_label.setText(
            f"{len(marked)} marked ({fmt.size(self.model.marked_bytes())})" if marked else ""
        )

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
        for dialog in self._compares:  # one user of the model at a time
            dialog.stop("a scan started; compare again when it is done")
        self.progress_bar.setValue(0)
        self.stage_label.setText("Starting…")
        self.item_label.clear()
        self.time_label.clear()
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
        self.progress_bar.setValue(int(ev.fraction * 1000))
        if ev.total:
            unit = "pairs" if ev.stage == "match" else "files"
            self.stage_label.setText(f"{ev.label}: {ev.done} / {ev.total} {unit}")
        else:
            self.stage_label.setText(ev.label)
        if ev.item:
            name = os.path.basename(ev.item)
            self.item_label.setText(
                self.item_label.fontMetrics().elidedText(
                    name, Qt.TextElideMode.ElideMiddle, max(100, self.item_label.width())
                )
            )
            self.item_label.setToolTip(ev.item)
        self.time_label.setText(
            f"Elapsed {fmt.clock(ev.elapsed)} · "
            + (f"about {fmt.clock(ev.eta)} left" if ev.eta is not None else "estimating time left…")
        )

    @Slot(int, int)
    def _on_download(self, done: int, total: int) -> None:
        if total:
            self.stage_label.setText(
                f"Downloading model weights (first use): {fmt.size(done)} / {fmt.size(total)}"
            )
            self.progress_bar.setValue(int(done / total * 1000))
        else:
            self.stage_label.setText(f"Downloading model weights (first use): {fmt.size(done)}")
        self.item_label.setText("This happens once; later scans start at once.")

    @Slot(object)
    def _on_scan_finished(self, result: ScanResult) -> None:
        if result.cancelled:
            self.statusBar().showMessage(
                "Scan cancelled. Everything analysed so far is cached; the next scan resumes.",
                10000,
            )
            return
        opts = self.scan_options or self.settings.scan_options()
        self.show_result(result, _options_dict(opts))
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
        skipped = sum(1 for p in result.problems if p.skipped)
        if skipped or result.notices:
            self.problems_button.setText(f"⚠ {skipped} skipped" if skipped else "⚠ notes")
            self.problems_button.setToolTip("Files that could not be compared (click for details)")
            self.problems_button.show()
        else:
            self.problems_button.hide()
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
        if current is None:
            return
        path = self.prompt.save_file("Save results", self._start_dir("results.json"), RESULT_FILTER)
        if path is None:
            return
        if not path.suffix:
            path = path.with_suffix(".json")
        self._write(path, export.to_json(current, self._options_dict))

    def export_csv(self) -> None:
        """Export one row per file of every group."""
        current = self.current_result()
        if current is None:
            return
        path = self.prompt.save_file(
            "Export as CSV", self._start_dir("duplicates.csv"), "CSV (*.csv);;All files (*)"
        )
        if path is None:
            return
        if not path.suffix:
            path = path.with_suffix(".csv")
        self._write(path, export.to_csv(current))

    def _write(self, path: Path, text: str) -> None:
        try:
            export.write_atomic(path, text)
        except OSError as exc:
            self.prompt.error("Cannot write the file", f"{path}: {exc.strerror or exc}")
            return
        self.settings.last_dir = str(path.parent)
        self.statusBar().showMessage(f"Wrote {path}", 8000)

    def open_results(self) -> None:
        """Open a result set saved earlier (files gone since are left out)."""
        if self.busy:
            return
        path = self.prompt.open_file("Open results", self._start_dir(""), RESULT_FILTER)
        if path is not None:
            self.load_results(path)

    def load_results(self, path: Path) -> bool:
        """Load a saved result set; files that vanished since are dropped from the groups."""
        try:
            result = export.load_json(path)
        except (OSError, ValueError, KeyError, TypeError) as exc:
            self.prompt.error("Cannot open the results", f"{path}: {exc}")
            return False
        from dedup_gui.core.review.ignores import drop_members

        groups, gone = [], 0
        for g in result.groups:
            missing = {i for i, m in enumerate(g.members) if not m.file.path.exists()}
            gone += len(missing)
            kept = drop_members(g, missing)
            if kept is not None:
                groups.append(kept)
        self.settings.last_dir = str(path.parent)
        self.show_result(dataclasses.replace(result, groups=tuple(groups)))
        msg = f"Opened {path.name}"
        if gone:
            msg += f"; {gone} files no longer exist and were left out"
        self.statusBar().showMessage(msg, 10000)
        return True

    def _start_dir(self, name: str) -> str:
        folder = self.settings.last_dir or str(Path.home())
        return str(Path(folder) / name) if name else folder

    # ---------------------------------------------------------------- marks
    def set_rule(self, rule: selection.KeepRule) -> None:
        """Pick keepers with ``rule`` (the preferred-folder rule asks for the folder once)."""
        if rule == selection.KeepRule.FOLDER and not self._preferred():
            folder = self.prompt.choose_folder(
                "Preferred folder: keep the copies in it", self._start_dir("")
            )
            if folder is None:
                self.results.set_rule(self.model.rule)
                return
            self.settings.preferred_folder = str(folder)
        self.settings.keep_rule = str(rule)
        self.model.set_rule(rule, self._preferred())
        self.results.set_rule(rule)
        for act in self.rule_group.actions():
            act.setChecked(act.data() == str(rule))
        self._update_status()
        self._show_current()

    def choose_preferred_folder(self) -> None:
        """Pick the folder whose copies the "preferred folder" rule keeps, and use that rule."""
        folder = self.prompt.choose_folder(
            "Preferred folder: keep the copies in it", self._start_dir("")
        )
        if folder is not None:
            self.settings.preferred_folder = str(folder)
            self.set_rule(selection.KeepRule.FOLDER)

    def mark_all_but_keepers(self) -> None:
        """Mark all files but each group's suggested keeper."""
        n = self.model.mark_all_but_keepers()
        self.statusBar().showMessage(
            f"Marked {n} files ({fmt.size(self.model.marked_bytes())}); "
            "review, then press Delete to trash them",
            8000,
        )

    def clear_marks(self) -> None:
        """Unmark everything."""
        self.model.clear_marks()

    def toggle_selected(self) -> None:
        """Flip the marks of the selected files (reference files stay unmarked)."""
        members = self.results.selected_members()
        if not members:
            return
        target = not all(
            self.model.is_marked(m.file.path) for m in members if selection.can_mark(m)
        )
        for m in members:
            if selection.can_mark(m):
                self.model.set_marked(m.file.path, target)

    # ---------------------------------------------------------------- not a duplicate
    def hide_selected_files(self) -> None:
        """Hide the selected files from every group, now and in later scans."""
        members = self.results.selected_members()
        if not members:
            return
        for m in members:
            self.ignores.add_file(m.file.path)
        self._save_ignores()
        self._reapply_ignores()
        self.statusBar().showMessage(
            f"Hid {len(members)} files (Edit → Forget “not a duplicate” choices to undo)", 8000
        )

    def hide_selected_pairs(self) -> None:
        """The selected files are not duplicates of their group's reference."""
        pairs = []
        for m in self.results.selected_members():
            g = self._group_of_path(m.file.path)
            if g is None or m is g.reference_member:
                continue
            pairs.append((g.reference_member.file.path, m.file.path))
        if len(self.results.selected_members()) == 2 and not pairs:
            a, b = self.results.selected_members()
            pairs = [(a.file.path, b.file.path)]
        self.hide_pairs(pairs)

    def hide_pairs(self, pairs: list[tuple[Path, Path]]) -> None:
        """Remember that each pair is not a duplicate and update the groups."""
        if not pairs:
            return
        for a, b in pairs:
            self.ignores.add_pair(a, b)
        self._save_ignores()
        self._reapply_ignores()
        self.statusBar().showMessage(f"Marked {len(pairs)} pairs as not duplicates", 8000)

    def _save_ignores(self) -> None:
        try:
            self.ignores.save()
        except OSError as exc:
            self.prompt.error("Cannot remember the choice", f"{self.ignores.path}: {exc}")

    def _reapply_ignores(self) -> None:
        for g in self.model.groups():
            new = self.ignores.apply_one(g)
            if new is not g:
                self.model.replace_group(g.id, new)

    def forget_ignores(self) -> None:
        """Show every hidden pair and file again (after a confirmation)."""
        if not len(self.ignores):
            self.statusBar().showMessage("Nothing is hidden", 5000)
            return
        if not self.prompt.confirm(
            "Forget choices",
            f"Show the {len(self.ignores.files)} hidden files and "
            f"{len(self.ignores.pairs)} hidden pairs again?",
            accept="Forget",
        ):
            return
        self.ignores.clear()
        self._save_ignores()
        if self.result is not None:
            self.show_result(self.result, self._options_dict)

    def _group_of_path(self, path: Path):
        idx = self.model.index_of_path(path)
        return self.model.group_of(idx) if idx.isValid() else None

    # ---------------------------------------------------------------- current file
    def _show_current(self) -> None:
        src = self.results.current_source()
        g = self.model.group_of(src)
        if g is None:
            self.preview.show_nothing()
            return
        m = self.model.member_of(src)
        if m is None:
            self.preview.show_group(
                g,
                sum(
                    x.file.size
                    for i, x in enumerate(g.members)
                    if i != self.model.keeper(g.id) and selection.can_mark(x)
                ),
            )
        else:
            self.preview.show_member(g, m)

    def _on_double_click(self, index: QModelIndex) -> None:
        if self.model.member_of(self.results.proxy.mapToSource(index)) is not None:
            self.play_current()

    def play_current(self) -> None:
        """Open the current file in the system player."""
        m = self.results.current_member()
        if m is not None and not system.open_file(m.file.path):
            self.statusBar().showMessage(f"No application to play {m.file.name}", 8000)

    def reveal_current(self) -> None:
        """Show the current file in the file manager."""
        m = self.results.current_member()
        if m is not None:
            system.reveal(m.file.path)

    def compare_selected(self) -> None:
        """Compare the two selected files, or the current file with its group's reference."""
        members = self.results.selected_members()
        if len(members) >= 2:
            a, b = members[0], members[1]
        else:
            m = self.results.current_member()
            g = self._group_of_path(m.file.path) if m else None
            if m is None or g is None:
                return
            other: GroupMember = g.reference_member
            if other is m:
                others = [x for x in g.members if x is not m]
                if not others:
                    return
                other = others[0]
            a, b = other, m
        options = self.scan_options or self.settings.scan_options()
        dialog = CompareDialog(
            a, b, options, lambda: self.controller.embedder(options), self.loader, self
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.not_duplicate.connect(lambda x, y: self.hide_pairs([(x, y)]))
        dialog.play.connect(system.open_file)
        dialog.destroyed.connect(
            lambda *_: self._compares.remove(dialog) if dialog in self._compares else None
        )
        self._compares.append(dialog)
        dialog.show()

    # ---------------------------------------------------------------- file actions
    def trash_marked(self) -> None:
        """Move the marked files to the system trash, after confirmation."""
        self._act(ActionKind.TRASH)

    def move_marked(self) -> None:
        """Move the marked files to a folder, after confirmation."""
        folder = self.prompt.choose_folder("Move the marked files to…", self._start_dir(""))
        if folder is not None:
            self._act(ActionKind.MOVE, folder)

    def delete_marked(self) -> None:
        """Delete the marked files permanently, after two explicit confirmations."""
        self._act(ActionKind.DELETE)

    def _act(self, kind: ActionKind, destination: Path | None = None) -> None:
        if not self.controller.running:
            self.file_actions.run(kind, destination)

    @Slot(str)
    def _on_action_started(self, what: str) -> None:
        self.stage_label.setText(what)
        self.progress_bar.setValue(0)
        self.item_label.clear()

    @Slot(object)
    def _on_action_progress(self, ev: ProgressEvent) -> None:
        if ev.total:
            self.progress_bar.setValue(int(ev.done / ev.total * 1000))
            self.item_label.setText(os.path.basename(ev.item))

    # ---------------------------------------------------------------- misc
    def edit_preferences(self) -> None:
        """Open the preferences dialog."""
        old_theme = self.settings.theme
        dialog = PreferencesDialog(self.settings, self)
        if dialog.exec() and self.settings.theme != old_theme:
            app = QApplication.instance()
            if isinstance(app, QApplication):
                theme.apply_theme(app, self.settings.theme)

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

    def focus_filter(self) -> None:
        """Put the cursor in the filter box."""
        self.results.filter.setFocus()
        self.results.filter.selectAll()

    def show_shortcuts(self) -> None:
        """A table of keyboard shortcuts."""
        rows = []
        for act in self.actions():
            if not act.shortcut().isEmpty() and act.text():
                rows.append(
                    f"<tr><td><b>{menus.key_text(act)}</b></td>"
                    f"<td>{act.text().replace('&', '')}</td></tr>"
                )
        QMessageBox.information(
            self, "Keyboard shortcuts", "<table cellspacing=6>" + "".join(rows) + "</table>"
        )

    def show_about(self) -> None:
        """Version and a one-line description."""
        QMessageBox.about(
            self,
            "About dedup-gui",
            f"<h3>dedup-gui {__version__}</h3><p>Finds duplicate and near-duplicate videos — "
            "re-encodes, resized, cropped, mirrored and trimmed copies — and helps you trash the "
            "extras safely.</p>",
        )

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: D102
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: D102
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        added = self.folders.add_folders(paths)
        if added:
            self.statusBar().showMessage(f"Added {added} folders; press F5 to scan", 6000)
        event.acceptProposedAction()

    def _restore_geometry(self) -> None:
        geo = self.settings.geometry("geometry")
        if geo is not None:
            self.restoreGeometry(geo)
        else:
            self.resize(1500, 880)
        state = self.settings.geometry("splitter")
        if state is not None:
            self.splitter.restoreState(state)
        header = self.settings.geometry("header")
        if header is not None:
            self.results.tree.header().restoreState(header)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: D102
        # stop everything that runs on another thread, then save the layout
        self.controller.shutdown()
        self.action_task.shutdown()
        for dialog in list(self._compares):
            dialog.close()
        self.loader.shutdown()
        self.settings.set_geometry("geometry", self.saveGeometry())
        self.settings.set_geometry("splitter", self.splitter.saveState())
        self.settings.set_geometry("header", self.results.tree.header().saveState())
        self.settings.sync()
        super().closeEvent(event)


def _options_dict(options: ScanOptions) -> dict[str, Any]:
    return {
        "threshold": options.match.threshold,
        "duration_tolerance": options.match.duration_tolerance,
        "partial": options.match.partial,
        "model": options.model.name,
        "sampling": asdict(options.sampling),
    }
