"""Frame preparation: blank-frame detection, border removal and resizing for the model.

Everything here is plain NumPy/OpenCV on RGB ``uint8`` frames and runs inside the decoder
worker processes.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

# A frame whose luma standard deviation (0..255) is below this is near-uniform: black, white,
# a flat colour or a fade. It is never used as evidence for a match.
BLANK_STD = 6.0
# A border row/column is uniform (std below this) in every frame and never changes.
BORDER_STD = 4.0
BORDER_CHANGE = 5.0
# Never crop away more than this share of a side, nor leave less than this share in total.
MAX_BORDER_SIDE = 0.7  # a small picture in a corner of a flat canvas has wide bars
MIN_KEEP = 0.1  # a small picture in a vertical canvas keeps under a fifth of its height


# Side of the tiny grey thumbnails used for pixel-level verification.
THUMB = 32


def luma(frame: np.ndarray) -> np.ndarray:
    """Rec.601 luma of an RGB frame (or a grey frame), as float32."""
    f = frame.astype(np.float32)
    if f.ndim == 2:
        return f
    return 0.299 * f[..., 0] + 0.587 * f[..., 1] + 0.114 * f[..., 2]


def is_blank(frame: np.ndarray) -> bool:
    """True for a near-uniform frame (black, white, flat colour)."""
    return float(luma(frame).std()) < BLANK_STD


def _uniform_run(std: np.ndarray, spread: np.ndarray, limit: int) -> int:
    """Length of the leading run of border lines (uniform and static)."""
    n = 0
    while n < limit and std[n] < BORDER_STD and spread[n] < BORDER_CHANGE:
        n += 1
    return n


def detect_borders(frames: Sequence[np.ndarray]) -> tuple[int, int, int, int]:
    """Find the picture area inside black (or any solid, static) bars.

    A row or column is a border when it is uniform in every informative frame and its colour
    never changes across frames; borders are peeled from each edge inwards. Deciding over the
    whole video (not per frame) keeps dark scenes from being cropped.

    Args:
        frames: Informative frames of one video, all the same size.

    Returns:
        ``(x0, y0, x1, y1)`` of the picture area; the full frame when there are no borders.
    """
    if not frames:
        return (0, 0, 0, 0)
    h, w = frames[0].shape[:2]
    ys = np.stack([luma(f) for f in frames])  # (n, h, w)
    row_std = ys.std(axis=2).max(axis=0)  # worst frame, per row
    row_mean = ys.mean(axis=2)
    row_spread = row_mean.max(axis=0) - row_mean.min(axis=0)
    col_std = ys.std(axis=1).max(axis=0)
    col_mean = ys.mean(axis=1)
    col_spread = col_mean.max(axis=0) - col_mean.min(axis=0)
    lim_h, lim_w = int(h * MAX_BORDER_SIDE), int(w * MAX_BORDER_SIDE)
    top = _uniform_run(row_std, row_spread, lim_h)
    bottom = _uniform_run(row_std[::-1], row_spread[::-1], lim_h)
    left = _uniform_run(col_std, col_spread, lim_w)
    right = _uniform_run(col_std[::-1], col_spread[::-1], lim_w)
    x0, y0, x1, y1 = left, top, w - right, h - bottom
    if (x1 - x0) < MIN_KEEP * w or (y1 - y0) < MIN_KEEP * h:
        return (0, 0, w, h)
    return (x0, y0, x1, y1)


def prepare(frame: np.ndarray, crop: tuple[int, int, int, int], size: int) -> np.ndarray:
    """Crop a frame (RGB or grey) to the picture area; return it grey at the model input size."""
    x0, y0, x1, y1 = crop
    if x1 > x0 and y1 > y0:
        frame = frame[y0:y1, x0:x1]
    frame = np.ascontiguousarray(frame)
    grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (size, size), interpolation=cv2.INTER_AREA)


def thumbnail(grey: np.ndarray) -> np.ndarray:
    """The tiny grey thumbnail of a prepared frame."""
    return cv2.resize(grey, (THUMB, THUMB), interpolation=cv2.INTER_AREA)
