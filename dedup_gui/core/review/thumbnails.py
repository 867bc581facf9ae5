"""Colour thumbnails of a video at chosen moments, with a disk cache (no Qt here).

The review window shows a strip of frames spread over each file's duration and the compare view
shows frames at aligned moments. Frames are decoded with the scan's decoder backend (PyAV by
default), with the file's rotation metadata applied, scaled so the longer side is at most
``side`` pixels, and stored as JPEG files in the user cache folder, keyed by
``(path, size, mtime_ns, timestamp, side)``: a file that changes gets new thumbnails.

Everything here is blocking; the GUI calls it from a thread pool.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dedup_gui.core.scan.sampling import choose_strategy, sample_times

log = logging.getLogger(__name__)

CACHE_VERSION = 1
JPEG_QUALITY = 85


@dataclass(frozen=True, slots=True)
class ThumbSource:
    """The file a thumbnail is taken from, as the scan saw it (the cache identity)."""

    path: Path
    size: int
    mtime_ns: int

    @classmethod
    def of(cls, path: Path) -> ThumbSource:
        """The current identity of ``path`` (raises OSError when it is gone)."""
        st = os.stat(path)
        return cls(Path(path), st.st_size, st.st_mtime_ns)


def strip_times(duration: float, count: int) -> list[float]:
    """``count`` moments spread over ``duration`` (the middle of equal slices), in seconds."""
    return [round(float(t), 3) for t in sample_times(duration, count)]


def default_folder() -> Path:
    """The thumbnail cache folder inside the user cache folder."""
    import platformdirs

    return Path(platformdirs.user_cache_dir("dedup-gui", appauthor=False)) / "thumbnails"


class ThumbnailCache:
    """JPEG thumbnails on disk, one file per (source, timestamp, side).

    Args:
        folder: Where to keep them; the user cache folder by default.
        enabled: False for a cache that never reads nor writes anything.
    """

    def __init__(self, folder: Path | None = None, enabled: bool = True) -> None:
        self.folder: Path | None = None
        if enabled:
            self.folder = Path(folder) if folder is not None else default_folder()

    @staticmethod
    def key(source: ThumbSource, timestamp: float, side: int) -> str:
        """The file name stem of one thumbnail."""
        text = (
            f"v{CACHE_VERSION}|{os.fsencode(source.path)!r}|{source.size}|{source.mtime_ns}|"
            f"{timestamp:.3f}|{side}"
        )
        return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()

    def _file(self, key: str) -> Path | None:
        if self.folder is None:
            return None
        return self.folder / key[:2] / f"{key}.jpg"

    def get(self, source: ThumbSource, timestamp: float, side: int) -> np.ndarray | None:
        """The cached RGB thumbnail, or None."""
        import cv2

        file = self._file(self.key(source, timestamp, side))
        if file is None or not file.is_file():
            return None
        data = np.fromfile(file, np.uint8)
        img = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
        if img is None:
            log.debug("unreadable cached thumbnail %s", file)
            return None
        return np.ascontiguousarray(img[:, :, ::-1])

    def put(self, source: ThumbSource, timestamp: float, side: int, rgb: np.ndarray) -> None:
        """Store a thumbnail (best effort: a full disk only costs a re-decode later)."""
        import cv2

        file = self._file(self.key(source, timestamp, side))
        if file is None:
            return
        ok, buf = cv2.imencode(".jpg", rgb[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            return
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=file.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                fh.write(buf.tobytes())
            os.replace(tmp, file)
        except OSError as exc:
            log.debug("cannot store thumbnail %s: %s", file, exc)

    def size_bytes(self) -> int:
        """Bytes used by the cache."""
        if self.folder is None or not self.folder.is_dir():
            return 0
        return sum(f.stat().st_size for f in self.folder.rglob("*.jpg"))


def decode_frames(
    path: Path, timestamps: Sequence[float], side: int, decoder: str = "pyav"
) -> list[np.ndarray | None]:
    """RGB frames nearest to ``timestamps`` (rotation applied, longer side at most ``side``).

    Returns one entry per timestamp, None where no frame could be had.

    Raises:
        DecodeError: The file cannot be opened or has no video stream.
    """
    from dedup_gui.core.scan.decode.base import get_backend

    if not timestamps:
        return []
    backend = get_backend(decoder)
    info = backend.probe(Path(path))
    order = np.argsort(np.asarray(timestamps, np.float64))
    wanted = np.asarray(timestamps, np.float32)[order]
    probe = info.probe
    strategy = choose_strategy(probe.duration, probe.fps, len(wanted), info.keyframe_interval)
    got: list[tuple[float, np.ndarray]] = list(
        backend.read(Path(path), info, wanted, strategy, side)
    )
    out: list[np.ndarray | None] = [None] * len(timestamps)
    if not got:
        return out
    times = np.array([t for t, _ in got], np.float64)
    for rank, idx in enumerate(order):
        nearest = int(np.argmin(np.abs(times - float(wanted[rank]))))
        out[int(idx)] = got[nearest][1]
    return out


def thumbnails(
    source: ThumbSource,
    timestamps: Sequence[float],
    side: int,
    cache: ThumbnailCache | None = None,
    decoder: str = "pyav",
) -> list[np.ndarray | None]:
    """Thumbnails of ``source`` at ``timestamps``: from the cache, decoding only what is missing.

    Raises:
        DecodeError: Some are missing and the file cannot be decoded.
        OSError: The file is gone or changed since ``source`` was taken (its thumbnails would
            not match what the scan saw).
    """
    cache = cache if cache is not None else ThumbnailCache()
    out: list[np.ndarray | None] = [cache.get(source, t, side) for t in timestamps]
    missing = [i for i, img in enumerate(out) if img is None]
    if not missing:
        return out
    now = ThumbSource.of(source.path)
    if now != source:
        raise OSError(f"{source.path.name} changed since the scan")
    frames = decode_frames(source.path, [timestamps[i] for i in missing], side, decoder)
    for i, frame in zip(missing, frames, strict=True):
        if frame is not None:
            cache.put(source, timestamps[i], side, frame)
            out[i] = frame
    return out
