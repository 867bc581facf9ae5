"""The decoder interface: every backend probes a file and delivers sampled frames.

Backends run inside decoder worker processes (:mod:`dedup_gui.core.scan.workers`), so a decoder
that crashes or hangs on a broken file cannot take the application down.
"""

from __future__ import annotations

import importlib
import struct
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from dedup_gui.core.scan.sampling import Strategy
from dedup_gui.core.types import Probe


class DecodeError(Exception):
    """A file cannot be probed or decoded; the message is shown to the user as the reason."""


@dataclass(frozen=True, slots=True)
class ProbeInfo:
    """A probe plus facts only the sampler needs."""

    probe: Probe
    keyframe_interval: float | None = None  # mean frames between keyframes, if indexed
    keyframes: tuple[float, ...] = ()  # keyframe times (s from the start), if indexed


class DecoderBackend(ABC):
    """Probe a video and read frames at given timestamps.

    Frames are RGB ``uint8`` arrays of shape (h, w, 3), or luma (h, w) with ``grey=True`` (what
    the analysis uses: no colour conversion at all), with the file's rotation metadata applied
    and the longer side scaled down to at most ``max_side`` pixels.
    """

    name: ClassVar[str]

    @abstractmethod
    def probe(self, path: Path) -> ProbeInfo:
        """Read stream facts; raise :class:`DecodeError` with a readable reason on failure."""

    @abstractmethod
    def read(
        self,
        path: Path,
        info: ProbeInfo,
        timestamps: np.ndarray,
        strategy: Strategy,
        max_side: int,
        grey: bool = False,
    ) -> Iterator[tuple[float, np.ndarray]]:
        """Yield ``(time, frame)`` for the wanted timestamps, in time order.

        A damaged file may yield fewer frames than asked for; a file that yields none raises
        :class:`DecodeError`. With ``grey`` the frames are luma only.
        """


def rotate(frame: np.ndarray, rotation: int) -> np.ndarray:
    """Apply display-matrix rotation (degrees counter-clockwise, as FFmpeg reports it)."""
    k = (rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(frame, k)) if k else frame


def scaled_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Size with the longer side at most ``max_side``, keeping the aspect ratio, even numbers."""
    scale = min(1.0, max_side / max(width, height, 1))
    return max(2, int(round(width * scale / 2)) * 2), max(2, int(round(height * scale / 2)) * 2)


# Container signatures, to tell "not a video at all" from "a damaged video".
_SNIFF = 4096
_MP4_TOP_BOXES = {
    b"ftyp", b"moov", b"mdat", b"free", b"skip", b"wide", b"uuid", b"pnot", b"pdin",
    b"moof", b"mfra", b"meta", b"styp", b"sidx", b"prft", b"emsg",
}  # fmt: skip


def _mp4_top_boxes(path: Path, size: int) -> tuple[list[bytes], bool]:
    """Types of the top-level ISO-BMFF boxes, and whether the last one runs past the end."""
    kinds: list[bytes] = []
    pos = 0
    with open(path, "rb") as fh:
        while pos + 8 <= size and len(kinds) < 10_000:
            fh.seek(pos)
            head = fh.read(16)
            box, kind = struct.unpack(">I4s", head[:8])
            if box == 1 and len(head) >= 16:
                box = struct.unpack(">Q", head[8:16])[0]
            elif box == 0:
                box = size - pos
            if kind not in _MP4_TOP_BOXES or box < 8:
                return kinds, False  # not a box structure we know: no verdict
            kinds.append(kind)
            if pos + box > size:
                return kinds, True
            pos += box
    return kinds, False


def _looks_like_text(head: bytes) -> bool:
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            return False
        text = head[: exc.start].decode("utf-8")
    printable = sum(ch.isprintable() or ch in "\r\n\t" for ch in text)
    return printable >= 0.97 * max(1, len(text))


def explain_unopenable(path: Path) -> str | None:
    """A specific reason why a file that FFmpeg cannot open is not a usable video.

    Looks at the bytes only (cheap, no decoding). Returns None when there is nothing more
    specific to say than the decoder's own error.
    """
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF)
    except OSError:
        return None
    if size == 0:
        return "empty file (0 bytes)"
    if head[4:8] == b"ftyp":
        try:
            kinds, cut = _mp4_top_boxes(path, size)
        except (OSError, struct.error):
            return None
        if b"moov" not in kinds and b"moof" not in kinds:
            if cut:
                return (
                    "incomplete MP4/MOV: the file is cut short and its index (moov atom) is "
                    "missing, e.g. an interrupted download, copy or recording"
                )
            return (
                "damaged MP4/MOV: its index (moov atom) is missing, e.g. an unfinished "
                "recording; the video data cannot be located"
            )
        if cut:
            return "truncated MP4/MOV: the file is cut short"
        return None
    if _looks_like_text(head):
        return "a text file, not a video"
    return None


BACKENDS: dict[str, str] = {
    "pyav": "dedup_gui.core.scan.decode.pyav_backend:PyAVBackend",
    "opencv": "dedup_gui.core.scan.decode.opencv_backend:OpenCVBackend",
}


def get_backend(name: str) -> DecoderBackend:
    """Instantiate a backend by name, or by ``module:Class`` (used by tests)."""
    target = BACKENDS.get(name, name)
    if ":" not in target:
        raise ValueError(f"unknown decoder {name!r}; choose from {', '.join(BACKENDS)}")
    module, _, cls = target.partition(":")
    backend = getattr(importlib.import_module(module), cls)()
    if not isinstance(backend, DecoderBackend):
        raise TypeError(f"{target} is not a DecoderBackend")
    return backend
