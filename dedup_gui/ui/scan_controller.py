"""Runs scans on a worker thread and keeps the model loaded between scans.

The window talks to a :class:`ScanController`: ``start(roots, options)``, ``cancel()``,
``shutdown()``; it hears back through Qt signals delivered on the GUI thread. The engine's
:class:`~dedup_gui.core.progress.Progress` already throttles events to ~10 a second; weight
download progress is throttled here the same way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from dedup_gui.core.analyse.embed import Embedder
from dedup_gui.core.analyse.models import WeightsUnavailable
from dedup_gui.core.errors import ScanError
from dedup_gui.core.options import ScanOptions
from dedup_gui.core.progress import CancelToken, Progress
from dedup_gui.core.types import ScanResult
from dedup_gui.ui.tasks import Task

log = logging.getLogger(__name__)


class ScanController(QObject):
    """Owns the scan thread and the embedder.

    Signals:
        progress(ProgressEvent): Throttled progress of the running scan.
        download(int, int): Bytes done / total while model weights download (first use).
        finished(ScanResult): The scan ended (check ``cancelled``).
        failed(str, bool): A message, and whether it is about missing model weights.
        running_changed(bool): A scan started or stopped.
    """

    progress = Signal(object)
    download = Signal(int, int)
    finished = Signal(object)
    failed = Signal(str, bool)
    running_changed = Signal(bool)

    def __init__(self, parent: QObject | None = None, embedder: Embedder | None = None) -> None:
        super().__init__(parent)
        self._task = Task("dedup-scan", self)
        self._task.finished.connect(self._on_finished)
        self._task.failed.connect(self._on_failed)
        self._task.running_changed.connect(self.running_changed)
        self._embedder = embedder
        self._last_download = 0.0

    @property
    def running(self) -> bool:
        """Whether a scan is running."""
        return self._task.running

    def embedder(self, options: ScanOptions) -> Embedder:
        """The embedder for ``options`` (kept between scans; replaced when the model changes)."""
        emb = self._embedder
        if emb is None or emb.options.name != options.model.name:
            emb = Embedder(options.model, download_progress=self._on_download)
            self._embedder = emb
        return emb

    def start(self, roots: Sequence[Path], options: ScanOptions) -> CancelToken:
        """Start scanning ``roots`` (the window must not start a second scan meanwhile)."""
        embedder = self.embedder(options)
        roots = list(roots)

        def run(token: CancelToken) -> ScanResult:
            from dedup_gui.core.pipeline import scan

            return scan(roots, options, Progress(self.progress.emit), token, embedder=embedder)

        return self._task.start(run)

    def cancel(self) -> None:
        """Stop the scan at its next check (the cache keeps what was analysed)."""
        self._task.cancel()

    def shutdown(self) -> None:
        """Cancel and wait for the thread to end (window closing)."""
        self._task.shutdown()

    def _on_download(self, done: int, total: int) -> None:
        # called on the scan thread; a signal crosses to the GUI thread
        now = time.monotonic()
        if now - self._last_download >= 0.1 or (total and done >= total):
            self._last_download = now
            self.download.emit(done, total)

    @Slot(object)
    def _on_finished(self, result: object) -> None:
        self.finished.emit(result)

    @Slot(object)
    def _on_failed(self, error: object) -> None:
        if isinstance(error, WeightsUnavailable):
            self.failed.emit(str(error), True)
            return
        if isinstance(error, ScanError):  # a clear message already says how to fix it
            self.failed.emit(str(error), False)
            return
        log.error("scan failed: %r", error)
        self.failed.emit(f"{type(error).__name__}: {error}", False)
