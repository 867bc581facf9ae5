"""Find copies in the window: searches on a worker thread, the tab's results and actions.

:class:`FindCopies` runs :func:`dedup_gui.core.find.copies.find_copies` on a
:class:`~dedup_gui.ui.tasks.Task` (the scan's machinery: progress crosses to the GUI thread as a
signal, Cancel is a direct call on the token), shows the result in a :class:`FindModel`, and
gives that model the groups view's parts: :class:`FileActions` (same confirmations, watched by
the window's :class:`ActionSafety`), :class:`MarkActions` and :class:`CurrentFile` (preview,
compare view). It knows the window only through the arguments it is given.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QModelIndex, QObject, Signal, Slot
from PySide6.QtWidgets import QWidget

from dedup_gui.core.analyse.embed import Embedder
from dedup_gui.core.errors import ScanError
from dedup_gui.core.find.copies import FindResult, FindStatus
from dedup_gui.core.find.library import Library
from dedup_gui.core.options import VIDEO_EXTENSIONS, ScanOptions
from dedup_gui.core.progress import CancelToken, Progress
from dedup_gui.core.review.actions import Trasher
from dedup_gui.ui.action_safety import ActionSafety
from dedup_gui.ui.compare_windows import CompareWindows
from dedup_gui.ui.current_file import CurrentFile
from dedup_gui.ui.dialogs import Prompter
from dedup_gui.ui.file_actions import FileActions
from dedup_gui.ui.find_model import FindModel
from dedup_gui.ui.find_panel import FindPanel
from dedup_gui.ui.mark_actions import MarkActions
from dedup_gui.ui.preview import PreviewPanel
from dedup_gui.ui.results_view import ResultsView
from dedup_gui.ui.settings import Settings
from dedup_gui.ui.tasks import Task
from dedup_gui.ui.thumbnails import ThumbnailLoader

log = logging.getLogger(__name__)

Status = Callable[[str, int], None]
VIDEO_FILTER = (
    "Videos (" + " ".join(f"*.{e}" for e in sorted(VIDEO_EXTENSIONS)) + ");;All files (*)"
)
TOP = 20


class FindCopies(QObject):
    """The Find copies feature of the window.

    Args:
        parent: The window.
        settings: Options, folders (the library searched) and the last folder used.
        loader: Thumbnails.
        prompt: Returns the prompter.
        status: Shows a one-line message in the status bar.
        embedder: The shared embedder for some options (the scan controller's).
        compares: Opens compare windows.
        preview: The side panel.
        safety: Logs and follows up the file actions.
        groups_view: The duplicates list (for *Find everything like this*).
        show_panel: Brings the Find copies tab to the front.
        may_start: False while a scan or a file action runs.
        trasher: Replaces send2trash (tests).

    Signals:
        progress(ProgressEvent): The running search's progress (GUI thread).
        started(str): A search began (for the progress line).
        running_changed(bool): A search started or stopped.
        scan_requested(): The user asked to scan the library first.
    """

    progress = Signal(object)
    started = Signal(str)
    running_changed = Signal(bool)
    scan_requested = Signal()

    def __init__(
        self,
        parent: QWidget,
        settings: Settings,
        loader: ThumbnailLoader,
        prompt: Callable[[], Prompter],
        status: Status,
        embedder: Callable[[ScanOptions], Embedder],
        compares: CompareWindows,
        preview: PreviewPanel,
        safety: ActionSafety,
        groups_view: ResultsView,
        show_panel: Callable[[], None],
        may_start: Callable[[], bool],
        trasher: Trasher | None = None,
    ) -> None:
        super().__init__(parent)
        self._settings, self._prompt, self._status = settings, prompt, status
        self._embedder, self._groups_view = embedder, groups_view
        self._show_panel, self._may_start = show_panel, may_start
        self.model = FindModel(self)
        self.panel = FindPanel(self.model, loader)
        self.results = self.panel.results
        self.task = Task("dedup-find", self)
        self.task.finished.connect(self._on_finished)
        self.task.failed.connect(self._on_failed)
        self.task.running_changed.connect(self._on_running)
        self.file_actions = FileActions(self.model, prompt, trasher, self)
        safety.watch(self.file_actions)
        self.file_actions.message.connect(lambda text: status(text, 15000))
        self.file_actions.task.finished.connect(lambda _r: self.forget_library())
        self.marks = MarkActions(
            parent, self.model, self.results, settings, self.file_actions, prompt, status,
            self._start_dir, lambda: not self.task.running,
        )  # fmt: skip
        self.options: ScanOptions | None = None
        self.current = CurrentFile(
            self, self.model, self.results, preview, compares,
            lambda: self.options or settings.scan_options(), status,
        )  # fmt: skip
        self.queries: list[Path] = []
        self._library: tuple[object, Library] | None = None  # kept between searches
        self.pending_after_scan = False
        self.result: FindResult | None = None
        p = self.panel
        p.find_requested.connect(self.find)
        p.choose_file.connect(self.choose_file)
        p.choose_folder.connect(self.choose_folder)
        p.scan_requested.connect(self._ask_scan)
        p.trash_requested.connect(self.marks.trash_marked)
        self.results.rule_changed.connect(self.marks.set_rule)
        self.results.mark_requested.connect(self.marks.mark_all_but_keepers)
        self.results.current_changed.connect(self.current.show)
        self.results.tree.doubleClicked.connect(self._on_double_click)
        self.model.marks_changed.connect(self._update_buttons)
        self._update_buttons()

    @property
    def running(self) -> bool:
        """Whether a search runs."""
        return self.task.running

    def _start_dir(self) -> str:
        return self._settings.last_dir or str(Path.home())

    def _roots(self) -> list[Path] | None:
        """The library: the folders in the list that exist (None: every analysed file)."""
        roots = [f.path for f in self._settings.folders if f.path.is_dir()]
        return roots or None

    # ---------------------------------------------------------------- starting
    def choose_file(self) -> None:
        """Ask for a video, then search for it."""
        path = self._prompt().open_file("Find the copies of…", self._start_dir(), VIDEO_FILTER)
        if path is not None:
            self.find([path])

    def choose_folder(self) -> None:
        """Ask for a folder of clips, then search for each."""
        path = self._prompt().choose_folder("Find the copies of the clips in…", self._start_dir())
        if path is not None:
            self.find([path])

    def find_like_selected(self) -> None:
        """*Find everything like this*: search for the selected files of the duplicates list."""
        members = self._groups_view.selected_members()
        if not members:
            m = self._groups_view.current_member()
            members = [m] if m is not None else []
        if members:
            self.find([m.file.path for m in members])

    def find(self, paths: list[Path]) -> bool:
        """Search for the copies of ``paths`` (files or folders) in the background."""
        self._show_panel()
        if self.task.running or not self._may_start():
            self._status("Wait for the running scan or search to finish", 6000)
            return False
        self.queries = [Path(p) for p in paths]
        self.pending_after_scan = False
        options = self._settings.scan_options()
        options = options.replace(
            reference_roots=tuple(r for r in options.reference_roots if r.is_dir())
        )
        self.options = options
        embedder = self._embedder(options)
        roots = self._roots()
        queries = list(self.queries)
        emit = self.progress.emit

        want = (tuple(roots or ()), options.replace(reference_roots=()))
        memo = self._library if self._library and self._library[0] == want else None

        def run(token: CancelToken) -> tuple[FindResult, object, Library | None]:
            from dedup_gui.core.find.copies import FIND_WEIGHTS, find_copies, gather_library
            from dedup_gui.core.library.cache import FeatureCache

            progress = Progress(emit, weights=FIND_WEIGHTS)
            cache = (
                FeatureCache.open(options.cache_dir)
                if options.use_cache
                else (FeatureCache.disabled())
            )
            try:
                if memo is not None:
                    library = memo[1]
                    library.bind(cache)  # features are read through this search's cache
                else:
                    progress.stage("library")
                    library = gather_library(options, cache, embedder, roots)
                result = find_copies(
                    queries, options, cache, roots=roots, top=TOP, embedder=embedder,
                    library=library, progress=progress, token=token,
                )  # fmt: skip
            finally:
                cache.close()
            # kept for the next search until a scan or a file action changes the library
            return result, want, library if len(library) else None

        self.model.set_groups([])
        self.panel.summary.setText(f"Searching for {self._what()}…")
        self.started.emit("Searching…")
        self.task.start(run)
        return True

    def _what(self) -> str:
        q = self.queries
        return q[0].name if len(q) == 1 else f"{len(q)} files"

    def cancel(self) -> None:
        """Stop the running search."""
        self.task.cancel()

    def shutdown(self) -> None:
        """Cancel and wait (the window closes)."""
        self.task.shutdown()
        self.file_actions.task.shutdown()

    def forget_library(self) -> None:
        """The library changed (a scan, a file action): gather it again for the next search.

        The old one is not closed here (a search may still be using it): what it holds open
        (the index's ledger connection, its vectors) is released with it.
        """
        self._library = None

    def after_scan(self, cancelled: bool) -> None:
        """A scan ended: search again if the search was waiting for it."""
        self.forget_library()
        if self.pending_after_scan and not cancelled and self.queries:
            self.find(self.queries)

    def _ask_scan(self) -> None:
        self.pending_after_scan = True
        self.scan_requested.emit()

    # ---------------------------------------------------------------- results
    @Slot(bool)
    def _on_running(self, running: bool) -> None:
        self.panel.set_busy(running)
        self.running_changed.emit(running)
        self._update_buttons()

    @Slot(object)
    def _on_finished(self, outcome: tuple[FindResult, object, Library | None]) -> None:
        result, want, library = outcome
        self._library = (want, library) if library is not None else None
        self.result = result
        if result.status is FindStatus.CANCELLED:
            self.panel.summary.setText("Search cancelled")
            return
        self.model.set_result(result)
        self.results.tree.expandAll()
        skipped = [p for p in result.problems if p.skipped]
        if result.status is FindStatus.NOT_SCANNED:
            roots = self._roots()
            where = ", ".join(str(r) for r in roots) if roots else "any folder"
            self.panel.show_not_scanned(where)
            return
        if result.status is FindStatus.NO_QUERY:
            why = f": {skipped[0].reason}" if skipped else ""
            self.panel.show_nothing(result.library_videos, self._what())
            self._prompt().error("Cannot search", f"No video could be analysed{why}")
            return
        found = sum(len(q.copies) for q in result.queries)
        secs = result.seconds.get("search", 0.0)
        self.panel.summary.setText(
            f"{found} cop{'y' if found == 1 else 'ies'} of {self._what()} among "
            f"{result.library_videos} analysed videos ({secs:.1f} s)"
        )
        if not found:
            self.panel.show_nothing(result.library_videos, self._what())
            return
        first = self.results.proxy.index(0, 0)
        if first.isValid():
            child = self.results.proxy.index(1, 0, first)  # the best copy (row 0 is the query)
            self.results.tree.setCurrentIndex(child if child.isValid() else first)
        self._status(f"Found {found} copies of {self._what()}", 10000)

    @Slot(object)
    def _on_failed(self, error: object) -> None:
        self.panel.summary.setText("The search failed")
        if isinstance(error, ScanError):
            self._prompt().error("Cannot search", str(error))
        else:
            log.error("find failed: %r", error)
            self._prompt().error("The search failed", f"{type(error).__name__}: {error}")

    def _on_double_click(self, index: QModelIndex) -> None:
        m = self.model.member_of(self.results.proxy.mapToSource(index))
        if m is not None and index.parent().isValid() and m is not self._query_of(index):
            self.current.compare()

    def _query_of(self, index: QModelIndex) -> object:
        g = self.model.group_of(self.results.proxy.mapToSource(index))
        return g.members[0] if g is not None else None

    def _update_buttons(self) -> None:
        self.panel.trash_button.setEnabled(
            bool(self.model.marked_paths()) and not self.file_actions.task.running
        )
