"""Thumbnails off the GUI thread: QThreadPool -> QImage, QPixmap on the GUI thread.

A request is a :class:`StripKey` (a file as the scan saw it, moments, size). Work runs newest
first on a private pool; requests that fell out of the recent window, or were cancelled, are
dropped before they decode anything. Decoded frames go through the core's disk cache
(:mod:`dedup_gui.core.review.thumbnails`); converted pixmaps stay in a small memory cache.
"""

from __future__ import annotations

import itertools
import logging
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QRect, QRunnable, QSize, Qt, QThreadPool, Signal, Slot
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap

from dedup_gui.core.review.thumbnails import ThumbnailCache, ThumbSource, thumbnails

log = logging.getLogger(__name__)

POOLS: weakref.WeakSet[QThreadPool] = weakref.WeakSet()  # for the tests' leftover-work check


@dataclass(frozen=True, slots=True)
class StripKey:
    """Frames of one file at given moments, longer side at most ``side`` pixels."""

    source: ThumbSource
    times: tuple[float, ...]
    side: int


def to_qimage(rgb: np.ndarray) -> QImage:
    """An RGB uint8 array as a QImage that owns its pixels (safe on any thread)."""
    rgb = np.ascontiguousarray(rgb)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class _Relay(QObject):
    """Carries results from pool threads to the GUI thread (queued signal)."""

    done = Signal(object, object, str)  # key, list[QImage | None], error


class _Job(QRunnable):
    def __init__(
        self, loader: ThumbnailLoader, key: StripKey, cache: ThumbnailCache, decoder: str
    ) -> None:
        super().__init__()
        self._loader = loader
        self._relay = loader._relay
        self._key = key
        self._cache = cache
        self._decoder = decoder

    def run(self) -> None:
        if not self._loader._still_wanted(self._key):
            self._relay.done.emit(self._key, None, "")  # dropped: stale
            return
        try:
            frames = thumbnails(
                self._key.source, list(self._key.times), self._key.side, self._cache, self._decoder
            )
            images = [to_qimage(f) if f is not None else None for f in frames]
            self._relay.done.emit(self._key, images, "")
        except Exception as exc:  # a broken or vanished file: shown as a message
            log.debug("thumbnails of %s failed: %s", self._key.source.path, exc)
            self._relay.done.emit(self._key, None, _reason(exc))


def _reason(exc: Exception) -> str:
    if isinstance(exc, FileNotFoundError):
        return "the file is gone"
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


class ThumbnailLoader(QObject):
    """Loads frame strips in the background and keeps recent ones in memory.

    Args:
        cache: The disk cache (the user cache folder by default).
        max_pending: Requests beyond this many waiting ones drop the oldest (they were for rows
            that have scrolled away or selections that changed).
        memory: Strips kept as pixmaps.

    Signals:
        ready(StripKey): A strip is available through :meth:`get` (or failed: see
            :meth:`error`).
    """

    ready = Signal(object)

    def __init__(
        self,
        cache: ThumbnailCache | None = None,
        parent: QObject | None = None,
        max_pending: int = 48,
        memory: int = 400,
        decoder: str = "pyav",
    ) -> None:
        super().__init__(parent)
        self._cache = cache if cache is not None else ThumbnailCache()
        self._decoder = decoder
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        POOLS.add(self._pool)
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_done)
        self._lock = threading.Lock()
        self._pending: OrderedDict[StripKey, None] = OrderedDict()  # guarded by _lock
        self._in_flight: set[StripKey] = set()  # GUI thread only
        self._pixmaps: OrderedDict[StripKey, list[QPixmap | None]] = OrderedDict()
        self._errors: dict[StripKey, str] = {}
        self._max_pending = max_pending
        self._memory = memory
        self._priority = itertools.count()
        self._closed = False

    def get(self, key: StripKey) -> list[QPixmap | None] | None:
        """The strip if it is in memory."""
        pix = self._pixmaps.get(key)
        if pix is not None:
            self._pixmaps.move_to_end(key)
        return pix

    def error(self, key: StripKey) -> str | None:
        """Why a strip could not be made, if it failed."""
        return self._errors.get(key)

    def request(self, key: StripKey) -> list[QPixmap | None] | None:
        """The strip if in memory; otherwise schedule it (newest requests first) and return None."""
        pix = self.get(key)
        if pix is not None or key in self._errors or self._closed:
            return pix
        with self._lock:
            if key in self._pending:
                self._pending.move_to_end(key)
                return None
            self._pending[key] = None
            while len(self._pending) > self._max_pending:
                self._pending.popitem(last=False)  # its job finds itself unwanted
        if key in self._in_flight:
            return None
        self._in_flight.add(key)
        self._pool.start(_Job(self, key, self._cache, self._decoder), next(self._priority) % 2**30)
        return None

    def cancel(self, key: StripKey) -> None:
        """Drop a request that is no longer needed (if it has not started)."""
        with self._lock:
            self._pending.pop(key, None)

    def forget_errors(self) -> None:
        """Retry failed strips on their next request."""
        self._errors.clear()

    def _still_wanted(self, key: StripKey) -> bool:
        with self._lock:
            return self._pending.pop(key, False) is None

    @Slot(object, object, str)
    def _on_done(self, key: StripKey, images: list[QImage | None] | None, error: str) -> None:
        self._in_flight.discard(key)
        if self._closed:
            return
        if error:
            self._errors[key] = error
            self.ready.emit(key)
            return
        if images is None:
            return  # dropped as stale; a later request schedules it again
        self._pixmaps[key] = [QPixmap.fromImage(i) if i is not None else None for i in images]
        while len(self._pixmaps) > self._memory:
            self._pixmaps.popitem(last=False)
        self.ready.emit(key)

    def shutdown(self) -> None:
        """Drop queued work and wait for running jobs (window closing)."""
        self._closed = True
        with self._lock:
            self._pending.clear()
        self._pool.clear()
        self._pool.waitForDone()


def paint_strip(
    painter: QPainter,
    rect: QRect,
    pixmaps: list[QPixmap | None] | None,
    count: int,
    placeholder: QColor,
    gap: int = 2,
) -> None:
    """Draw ``count`` frames side by side, scaled to fit ``rect`` (grey boxes while loading)."""
    if count <= 0 or rect.width() <= 0:
        return
    cell_w = (rect.width() - gap * (count - 1)) // count
    if cell_w <= 4:
        return
    for i in range(count):
        cell = QRect(rect.x() + i * (cell_w + gap), rect.y(), cell_w, rect.height())
        pix = pixmaps[i] if pixmaps and i < len(pixmaps) else None
        if pix is None or pix.isNull():
            painter.fillRect(cell.adjusted(0, 2, 0, -2), placeholder)
            continue
        size = pix.size().scaled(cell.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRect(0, 0, size.width(), size.height())
        target.moveCenter(cell.center())
        painter.drawPixmap(target, pix)


def strip_size(count: int, height: int, aspect: float = 16 / 9, gap: int = 2) -> QSize:
    """The size a strip of ``count`` frames of ``height`` pixels needs."""
    return QSize(int(count * height * aspect + gap * (count - 1)), height)
