"""Find the picture inside a canvas: picture-in-picture, vertical reposts, frames, templates.

Reposts often show the video smaller, inside something that is not the video: a blurred,
enlarged copy of itself (picture-in-picture, vertical 9:16 reposts), a flat or gradient
colour, a still image, a decorative frame with a caption, a template with a title and a logo.
Black bars are removed by :func:`dedup_gui.core.scan.frames.detect_borders`; this module finds
the *active picture* in the other cases, per video, from the sampled frames:

1. **Moving detail.** Each frame's fine detail (the frame minus a blurred copy of itself) is
   followed over time; its temporal spread is high where the picture is (its content moves
   and is sharp) and low over every kind of canvas: a flat, gradient or still canvas does not
   change, a blurred copy of the video changes but has no detail, captions and logos are
   static.
2. **A rectangle.** The rows and columns where moving detail dominates give the rectangle
   (maximum-sum runs of the row and column profiles).
3. **Checks that keep ordinary videos whole.** A video whose motion happens in one part of a
   static scene also has a "moving rectangle", but no canvas around it. A picture pasted into
   a canvas has straight, persistent edges: across each inner side of the rectangle the frames
   change abruptly, much more than across the lines a few pixels away. The rectangle is
   accepted when its sides are such edges (or, for canvases without detail of their own, when
   the surroundings carry almost no detail and the sides are fairly sharp), and when it covers
   between 8% and 88% of the frame (3% when all four sides are strong edges: a small picture
   in a vertical canvas).
4. **Or detail-less surroundings.** A picture on a blurred copy of itself often has no edge
   line at all (dark or low-contrast content meets its own blurred colours), and a canvas
   blurred that much has no fine detail anywhere. When the edge lines fail, the rectangle is
   taken where fine detail (moving or not) lies, and accepted when the surroundings carry
   almost none of it and the detail stops abruptly at every inner side: an ordinary video's
   sharp background, or a subject whose outline is not a straight line, fails one or the
   other.

The picture then becomes the video's main view (analysed like a full frame), and the full
frame is kept as a second view (see :mod:`dedup_gui.core.match.views`).
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

# Analysis width in pixels (frames are downscaled to this).
WIDTH = 128
# A cell is active when its smoothed moving detail reaches this share of the video's 98th
# percentile; the rectangle maximises active-minus-this over rows and columns.
ACTIVE = 0.2
# Moving detail this weak (98th percentile, grey levels) means a static video: no decision.
MIN_DETAIL = 1.0
# Accepted rectangles cover this share of the frame.
MIN_AREA, MAX_AREA = 0.08, 0.88
# ... or this little when all four sides are edge lines this strong.
MIN_AREA_ENCLOSED, ENCLOSED_LINE = 0.03, 3.5
# The fourth side of a picture whose other three are such strong lines may be this faint.
FAINT_LINE = 1.5
# The surroundings' mean activity must stay under this share of the inside's.
MAX_OUTSIDE = 0.3
# ... or this share when three or more sides are very sharp edges (a drawn frame, whose
# caption flickers under heavy compression).
MAX_OUTSIDE_FRAMED, FRAMED_LINE = 0.5, 8.0
# An edge line: the frames change across it this many times more than across lines nearby.
LINE = 2.5
# Sides of the picture that must be such edges (the others reach the frame's edge): one
# straight edge alone is too often a horizon, a table or a wall in an ordinary video.
MIN_SIDES = 2
# Inner margin (pixels of the analysis size) taken off each side of the picture.
MARGIN = 1
MIN_FRAMES = 3
# Detail-less surroundings (step 4): the rectangle holds detail above this share of the
# video's 98th percentile; outside it the mean detail stays under DETAIL_OUTSIDE of the
# inside's, and in the band of DETAIL_BAND pixels just outside each inner side under
# DETAIL_SIDE of the band just inside.
DETAIL_LEVEL, DETAIL_OUTSIDE, DETAIL_SIDE, DETAIL_BAND = 0.25, 0.2, 0.42, 3


def _max_run(profile: np.ndarray, level: float) -> tuple[int, int]:
    """[start, end) of the contiguous run maximising sum(profile - level)."""
    best, cur, start, bs, be = -np.inf, 0.0, 0, 0, 0
    for i, v in enumerate((profile - level).tolist()):
        if cur <= 0:
            cur, start = v, i
        else:
            cur += v
        if cur > best:
            best, bs, be = cur, start, i + 1
    return bs, be


class _Lines:
    """Persistent straight edges of a video: how abruptly its frames change across a line."""

    def __init__(self, g: np.ndarray) -> None:
        _, self.h, self.w = g.shape
        # cumulative sums of the absolute differences across each row / column boundary, along
        # the line, so that the mean over any span is two lookups
        dy = np.abs(np.diff(g, axis=1))  # (t, h-1, w): between row y and y+1
        dx = np.abs(np.diff(g, axis=2))  # (t, h, w-1)
        self._cy = np.concatenate([np.zeros((*dy.shape[:2], 1), dy.dtype), dy.cumsum(2)], 2)
        self._cx = np.concatenate(
            [np.zeros((dx.shape[0], 1, dx.shape[2]), dx.dtype), dx.cumsum(1)], 1
        )
        self._memo: dict[tuple[int, int, int], np.ndarray] = {}

    def _strengths(self, axis: int, lo: int, hi: int) -> np.ndarray:
        """Per position, the median over frames of the mean difference across the line.

        The line before position ``p`` (between ``p - 1`` and ``p``), along ``[lo, hi)``;
        position 0 has none (0).
        """
        key = (axis, lo, hi)
        if key not in self._memo:
            if axis == 0:
                d = (self._cy[:, :, hi] - self._cy[:, :, lo]) / max(hi - lo, 1)  # (t, h-1)
            else:
                d = (self._cx[:, hi, :] - self._cx[:, lo, :]) / max(hi - lo, 1)  # (t, w-1)
            self._memo[key] = np.concatenate([[0.0], np.median(d, axis=0)])
        return self._memo[key]

    def score(self, axis: int, pos: int, lo: int, hi: int) -> float:
        """How much stronger the line at ``pos`` is than parallel lines 3-8 pixels away."""
        size = self.h if axis == 0 else self.w
        if not 1 <= pos < size or hi - lo < 2:
            return 0.0
        st = self._strengths(axis, lo, hi)
        near = [
            st[q] for q in (*range(pos - 8, pos - 2), *range(pos + 3, pos + 9)) if 1 <= q < size
        ]
        return float(st[pos]) / (float(np.median(near)) + 0.5) if near else 0.0

    def side(
        self, axis: int, start: int, step: int, lo: int, hi: int, line: float = LINE
    ) -> tuple[int, float]:
        """The first edge line from ``start`` outwards (``step`` -1 or +1), or the frame's edge.

        ``line`` is the score an edge line must reach.

        Returns:
            (position, score); position 0 or the size on the axis when no edge line was found.
        """
        size = self.h if axis == 0 else self.w
        end = 0 if step < 0 else size
        pos = start - 6 * step  # the smoothed activity spills a few pixels past the edge
        while 1 < pos < size - 1:
            s = self.score(axis, pos, lo, hi)
            if s >= line and s >= max(
                self.score(axis, pos - 1, lo, hi), self.score(axis, pos + 1, lo, hi)
            ):
                return pos, s
            pos += step
        return end, 0.0


def find_picture(
    frames: Sequence[np.ndarray], why: dict[str, object] | None = None, bordered: int = 0
) -> tuple[int, int, int, int] | None:
    """The picture area of a video shown inside a canvas, or None when it fills the frame.

    Args:
        frames: Informative grey (or RGB) frames of one video, all the same size.
        why: Receives the measurements behind the decision (for tuning and tests).
        bordered: Sides of the frames that were solid bars already removed (they count as
            edges of a canvas: a picture in a corner of a flat canvas).

    Returns:
        ``(x0, y0, x1, y1)`` in pixels of the given frames, or None.
    """
    if len(frames) < MIN_FRAMES:
        return None
    h0, w0 = frames[0].shape[:2]
    scale = WIDTH / w0
    hs = max(16, round(h0 * scale))
    g = np.stack(
        [
            cv2.resize(
                f if f.ndim == 2 else cv2.cvtColor(f, cv2.COLOR_RGB2GRAY),
                (WIDTH, hs),
                interpolation=cv2.INTER_AREA,
            )
            for f in frames
        ]
    ).astype(np.float32)
    detail = g - np.stack([cv2.GaussianBlur(f, (0, 0), 1.5) for f in g])
    moving = detail.std(axis=0)
    ref = float(np.percentile(moving, 98))
    why = {} if why is None else why
    why["detail"] = ref
    if ref < MIN_DETAIL:
        return None
    act = cv2.blur(moving, (5, 5)) / ref
    # 1. where the detail moves: the picture, or the moving part of it
    x0, y0, x1, y1 = 0, 0, WIDTH, hs
    for _ in range(2):
        x0, x1 = _max_run(act[y0:y1].mean(axis=0), ACTIVE)
        y0, y1 = _max_run(act[:, x0:x1].mean(axis=1), ACTIVE)
    why["moving"] = moving = (x0, y0, x1, y1)
    # 2. out from there to the picture's edges: the first persistent straight edge on each
    # side, or the frame's edge (a video whose motion is local has no such edges around it)
    lines = _Lines(g)
    scores: list[float] = []
    for _ in range(2):
        scores = []
        top, s_top = lines.side(0, y0, -1, x0, x1)
        bottom, s_bottom = lines.side(0, y1, +1, x0, x1)
        left, s_left = lines.side(1, x0, -1, top, bottom)
        right, s_right = lines.side(1, x1, +1, top, bottom)
        x0, y0, x1, y1 = left, top, right, bottom
        scores = [s for s in (s_top, s_bottom, s_left, s_right) if s > 0]
    x0, y0, x1, y1, scores = _fourth_side(lines, act, (x0, y0, x1, y1), moving, scores)
    area = (x1 - x0) * (y1 - y0) / (WIDTH * hs)
    why.update(rect=(x0, y0, x1, y1), area=area, edges=scores)
    enclosed = len(scores) == 4 and min(scores) >= ENCLOSED_LINE
    min_area = MIN_AREA_ENCLOSED if enclosed else MIN_AREA
    if len(scores) + bordered < MIN_SIDES or not min_area <= area <= MAX_AREA:
        return _detailless(detail, bordered, why, (w0, h0))
    # 3. the surroundings must be canvas: little moving detail outside the picture
    inside = np.zeros(act.shape, bool)
    inside[y0:y1, x0:x1] = True
    in_mean, out_mean = float(act[inside].mean()), float(act[~inside].mean())
    why.update(outside=out_mean / max(in_mean, 1e-6))
    framed = len(scores) >= 3 and float(np.median(scores)) >= FRAMED_LINE
    if out_mean > (MAX_OUTSIDE_FRAMED if framed else MAX_OUTSIDE) * in_mean:
        return _detailless(detail, bordered, why, (w0, h0))
    return _scaled((x0, y0, x1, y1), (WIDTH, hs), (w0, h0))


def _fourth_side(
    lines: _Lines,
    act: np.ndarray,
    rect: tuple[int, int, int, int],
    moving: tuple[int, int, int, int],
    scores: list[float],
) -> tuple[int, int, int, int, list[float]]:
    """Look again, for a fainter line, on the one side that ran out to the frame's edge.

    Three strong edge lines are a canvas already; the fourth side of its picture can be faint
    where the picture's content there has the canvas's colour (a white wall beside a light
    grey template). It is searched again from the moving detail outwards, with a lower score,
    and taken when what it cuts off is canvas (as little moving detail as the surroundings of
    an accepted picture).
    """
    x0, y0, x1, y1 = rect
    if len(scores) != 3 or min(scores) < ENCLOSED_LINE:
        return x0, y0, x1, y1, scores
    mx0, my0, mx1, my1 = moving
    w, h = lines.w, lines.h
    pos, found, cut = 0, 0.0, act[0:0]
    if y0 == 0 and my0 > 0:
        pos, found = lines.side(0, my0, -1, x0, x1, FAINT_LINE)
        cut, new = act[:pos, x0:x1], (x0, pos, x1, y1)
    elif y1 == h and my1 < h:
        pos, found = lines.side(0, my1, +1, x0, x1, FAINT_LINE)
        cut, new = act[pos:, x0:x1], (x0, y0, x1, pos)
    elif x0 == 0 and mx0 > 0:
        pos, found = lines.side(1, mx0, -1, y0, y1, FAINT_LINE)
        cut, new = act[y0:y1, :pos], (pos, y0, x1, y1)
    elif x1 == w and mx1 < w:
        pos, found = lines.side(1, mx1, +1, y0, y1, FAINT_LINE)
        cut, new = act[y0:y1, pos:], (x0, y0, pos, y1)
    if found <= 0 or not cut.size:
        return x0, y0, x1, y1, scores
    kept = act[new[1] : new[3], new[0] : new[2]]
    if float(cut.mean()) > MAX_OUTSIDE * float(kept.mean()):
        return x0, y0, x1, y1, scores
    return (*new, [*scores, found])


def _scaled(
    rect: tuple[int, int, int, int], analysed: tuple[int, int], size: tuple[int, int]
) -> tuple[int, int, int, int]:
    """A rectangle of the analysis size, less the inner margin, in pixels of the frames."""
    (x0, y0, x1, y1), (w, h), (w0, h0) = rect, analysed, size
    x0, y0 = x0 + MARGIN if x0 else 0, y0 + MARGIN if y0 else 0
    x1, y1 = x1 - MARGIN if x1 < w else w, y1 - MARGIN if y1 < h else h
    sx, sy = w0 / w, h0 / h
    return (round(x0 * sx), round(y0 * sy), round(x1 * sx), round(y1 * sy))


def _detailless(
    detail: np.ndarray, bordered: int, why: dict[str, object], size: tuple[int, int]
) -> tuple[int, int, int, int] | None:
    """Step 4 of the module docstring: a picture whose surroundings have no fine detail."""
    level = np.abs(detail).mean(axis=0)
    ref = float(np.percentile(level, 98))
    _, h, w = detail.shape
    if ref < MIN_DETAIL:
        return None
    a = level / ref
    x0, y0, x1, y1 = 0, 0, w, h
    for _ in range(2):
        x0, x1 = _max_run(a[y0:y1].mean(axis=0), DETAIL_LEVEL)
        y0, y1 = _max_run(a[:, x0:x1].mean(axis=1), DETAIL_LEVEL)
    area = (x1 - x0) * (y1 - y0) / (w * h)
    why.update(detail_rect=(x0, y0, x1, y1), detail_area=area)
    if not MIN_AREA <= area <= MAX_AREA:
        return None
    inside = np.zeros(a.shape, bool)
    inside[y0:y1, x0:x1] = True
    outside = float(a[~inside].mean()) / max(float(a[inside].mean()), 1e-6)
    b = DETAIL_BAND
    # (band just outside, band just inside) each inner side
    bands = []
    if y0 > 0:
        bands.append((a[max(0, y0 - b) : y0, x0:x1], a[y0 : y0 + b, x0:x1]))
    if y1 < h:
        bands.append((a[y1 : y1 + b, x0:x1], a[y1 - b : y1, x0:x1]))
    if x0 > 0:
        bands.append((a[y0:y1, max(0, x0 - b) : x0], a[y0:y1, x0 : x0 + b]))
    if x1 < w:
        bands.append((a[y0:y1, x1 : x1 + b], a[y0:y1, x1 - b : x1]))
    steps = [float(o.mean()) / max(float(i.mean()), 1e-6) for o, i in bands]
    why.update(detail_outside=outside, detail_steps=steps)
    if len(steps) + bordered < MIN_SIDES or outside > DETAIL_OUTSIDE:
        return None
    if max(steps, default=0.0) > DETAIL_SIDE:
        return None
    return _scaled((x0, y0, x1, y1), (w, h), size)
