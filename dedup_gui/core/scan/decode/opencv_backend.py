"""OpenCV decoder: the alternative backend (``grab()``/``retrieve()`` or position seeks)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from dedup_gui.core.scan.decode.base import (
    DecodeError,
    DecoderBackend,
    ProbeInfo,
    explain_unopenable,
    scaled_size,
)
from dedup_gui.core.scan.sampling import Strategy
from dedup_gui.core.types import Probe


def _fourcc(value: float) -> str:
    code = int(value)
    text = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4))
    return text.strip("\x00 ").lower() if text.isprintable() else ""


class OpenCVBackend(DecoderBackend):
    """Decode with OpenCV's FFmpeg backend. It applies rotation metadata itself."""

    name = "opencv"

    @staticmethod
    def _capture(path: Path) -> cv2.VideoCapture:
        cap = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
        if not cap.isOpened():
            cap.release()
            with open(path, "rb"):  # a file-system error (gone, permissions) is reported as such
                pass
            specific = explain_unopenable(path)
            if specific:
                raise DecodeError(specific)
            raise DecodeError("cannot open: not a video or damaged (OpenCV could not open it)")
        return cap

    def probe(self, path: Path) -> ProbeInfo:
        """Read stream facts through ``VideoCapture`` properties and the first frame."""
        cap = self._capture(path)
        try:
            fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
            frames = int(max(0.0, cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0.0))
            ok, first = cap.read()
            if not ok or first is None:
                raise DecodeError("no decodable video frames (damaged or truncated)")
            height, width = first.shape[:2]
            rotation = int(cap.get(cv2.CAP_PROP_ORIENTATION_META) or 0) % 360
            duration = frames / fps if fps > 0 and frames > 0 else 0.0
            bitrate = int(cap.get(cv2.CAP_PROP_BITRATE) or 0) * 1000
            return ProbeInfo(
                Probe(
                    duration=duration,
                    width=int(width),
                    height=int(height),
                    fps=fps,
                    codec=_fourcc(cap.get(cv2.CAP_PROP_FOURCC)),
                    bitrate=bitrate,
                    has_audio=False,  # OpenCV does not expose audio streams
                    rotation=rotation,
                    container=path.suffix.lstrip(".").lower(),
                    frame_count=frames,
                )
            )
        finally:
            cap.release()

    def read(
        self,
        path: Path,
        info: ProbeInfo,
        timestamps: np.ndarray,
        strategy: Strategy,
        max_side: int,
        grey: bool = False,
    ) -> Iterator[tuple[float, np.ndarray]]:
        """Yield the frames nearest to ``timestamps`` (see :class:`DecoderBackend`)."""
        probe = info.probe
        w, h = scaled_size(probe.width, probe.height, max_side)
        fps = probe.fps if probe.fps > 0 else 25.0
        half = 0.5 / fps

        def convert(bgr: np.ndarray) -> np.ndarray:
            if bgr.shape[1] != w or bgr.shape[0] != h:
                bgr = cv2.resize(bgr, (w, h), interpolation=cv2.INTER_AREA)
            return cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY if grey else cv2.COLOR_BGR2RGB)

        cap = self._capture(path)
        try:
            if strategy is Strategy.SEQUENTIAL:
                i, n, index = 0, len(timestamps), 0
                while i < n:
                    if not cap.grab():
                        break
                    t = index / fps
                    index += 1
                    if t >= timestamps[i] - half:
                        ok, frame = cap.retrieve()
                        if ok:
                            yield t, convert(frame)
                        while i < n and t >= timestamps[i] - half:
                            i += 1
            else:
                for target in timestamps:
                    cap.set(cv2.CAP_PROP_POS_MSEC, float(target) * 1000.0)
                    ok, frame = cap.read()
                    if ok:
                        yield float(target), convert(frame)
        finally:
            cap.release()
