"""The decoder interface: every backend probes a file and delivers sampled RGB frames.

Backends run inside decoder worker processes (:mod:`dedup_gui.core.workers`), so a decoder that
crashes or hangs on a broken file cannot take the application down.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import numpy as np

from dedup_gui.core.sampling import Strategy
from dedup_gui.core.types import Probe


class DecodeError(Exception):
    """A file cannot be probed or decoded; the message is shown to the user as the reason."""


@dataclass(frozen=True, slots=True)
class ProbeInfo:
    """A probe plus facts only the sampler needs."""

    probe: Probe
    keyframe_interval: float | None = None  # mean frames between keyframes, if indexed


class DecoderBackend(ABC):
    """Probe a video and read frames at given timestamps.

    Frames are RGB ``uint8`` arrays of shape (h, w, 3), with the file's rotation metadata
    applied and the longer side scaled down to at most ``max_side`` pixels.
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
    ) -> Iterator[tuple[float, np.ndarray]]:
        """Yield ``(time, frame)`` for the wanted timestamps, in time order.

        A damaged file may yield fewer frames than asked for; a file that yields none raises
        :class:`DecodeError`.
        """


def rotate(frame: np.ndarray, rotation: int) -> np.ndarray:
    """Apply display-matrix rotation (degrees counter-clockwise, as FFmpeg reports it)."""
    k = (rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(frame, k)) if k else frame


def scaled_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    """Size with the longer side at most ``max_side``, keeping the aspect ratio, even numbers."""
    scale = min(1.0, max_side / max(width, height, 1))
    return max(2, int(round(width * scale / 2)) * 2), max(2, int(round(height * scale / 2)) * 2)


BACKENDS: dict[str, str] = {
    "pyav": "dedup_gui.core.decode.pyav_backend:PyAVBackend",
    "opencv": "dedup_gui.core.decode.opencv_backend:OpenCVBackend",
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
