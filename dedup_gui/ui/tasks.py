"""Blocking work on a QThread owned by a controller (the STYLE.md threading habit).

A :class:`Task` runs one plain function on its own thread: ``thread.started -> worker.run``,
``worker.done -> thread.quit``, ``thread.finished -> deleteLater``. Cancellation is a direct
call on the thread-safe :class:`~dedup_gui.core.progress.CancelToken` the function checks;
:meth:`Task.shutdown` cancels, quits and waits (never ``terminate()``).
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from dedup_gui.core.progress import CancelToken

log = logging.getLogger(__name__)


class _Worker(QObject):
    """Lives on the task's thread and runs the function once."""

    done = Signal(object, object)  # (result, exception or None)

    def __init__(self, fn: Callable[[], Any]) -> None:
        super().__init__()
        self._fn = fn

    @Slot()
    def run(self) -> None:
        try:
            result = self._fn()
        except BaseException as exc:  # carried back to the GUI thread and shown there
            if not isinstance(exc, Exception):
                log.error("task aborted: %r", exc)
            else:
                log.debug("task failed:\n%s", traceback.format_exc())
            self.done.emit(None, exc)
        else:
            self.done.emit(result, None)


class Task(QObject):
    """One blocking function at a time on a worker thread.

    Signals:
        finished(result): The function returned (delivered on the GUI thread).
        failed(exception): The function raised.
        running_changed(bool): Started or stopped.
    """

    finished = Signal(object)
    failed = Signal(object)
    running_changed = Signal(bool)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._name = name
        self._thread: QThread | None = None
        self._worker: _Worker | None = None
        self._outcome: tuple[object, object] | None = None
        self.token = CancelToken()

    @property
    def running(self) -> bool:
        """Whether a function is running (or its thread is still finishing)."""
        return self._thread is not None

    def start(self, fn: Callable[[CancelToken], Any]) -> CancelToken:
        """Run ``fn(token)`` on a new thread; returns the token that cancels it."""
        if self._thread is not None:
            raise RuntimeError(f"{self._name} is already running")
        token = CancelToken()
        self.token = token
        thread = QThread()
        thread.setObjectName(self._name)
        worker = _Worker(lambda: fn(token))
        worker.moveToThread(thread)
        thread.started.connect(worker.run)
        worker.done.connect(self._on_done)
        worker.done.connect(thread.quit)
        thread.finished.connect(worker.deleteLater)
        thread.finished.connect(self._on_thread_finished)
        self._thread, self._worker = thread, worker
        thread.start()
        self.running_changed.emit(True)
        return token

    def cancel(self) -> None:
        """Ask the running function to stop (a direct, thread-safe call)."""
        self.token.cancel()

    def shutdown(self) -> None:
        """Cancel, quit and wait for the thread (used when the window closes)."""
        thread = self._thread
        if thread is None:
            return
        self.token.cancel()
        thread.quit()
        thread.wait()
        self._outcome = None  # nobody wants the result any more
        self._on_thread_finished()

    @Slot(object, object)
    def _on_done(self, result: object, error: object) -> None:
        if self._thread is not None:
            self._outcome = (result, error)

    @Slot()
    def _on_thread_finished(self) -> None:
        """Deliver the outcome once the thread has stopped, so a new task can start at once."""
        thread = self._thread
        if thread is None:
            return
        thread.wait()  # returns at once: the thread is past its event loop
        self._thread = self._worker = None
        thread.deleteLater()
        outcome, self._outcome = self._outcome, None
        self.running_changed.emit(False)
        if outcome is not None:
            result, error = outcome
            if error is not None:
                self.failed.emit(error)
            else:
                self.finished.emit(result)
