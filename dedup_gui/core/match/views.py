"""Views: which pictures of two videos are compared when one shows its picture in a canvas.

A video whose picture sits inside a canvas (:mod:`dedup_gui.core.scan.canvas`) has two views:
the picture (its main view) and the whole frame. Which pairs of views are compared:

* neither video has a canvas: their frames, as always;
* one has: its picture against the other's frame (a repost of the plain video), and its whole
  frame against the other's frame (in case the canvas was only the video's own static
  surroundings);
* both have, at the same place: the pictures only. Two *different* clips in the same template
  or frame have similar whole frames, and must not be judged on them;
* both have, at different places (one clip in two different canvases): the pictures, and each
  picture against the other's whole frame (in case one of the two canvases was the video's own
  surroundings). Two whole frames that are both mostly canvas are never compared.

The best comparison decides (accepted first, then the higher score).
"""

from __future__ import annotations

from dedup_gui.core.match.refine import PairMatch, Prepared, compare
from dedup_gui.core.options import MatchOptions
from dedup_gui.core.types import VideoFeatures

# Two pictures sit "at the same place" when their rectangles, relative to the whole frame,
# overlap by at least this much (intersection over union).
SAME_PLACE = 0.7


def _relative(f: VideoFeatures) -> tuple[float, float, float, float] | None:
    if f.full_crop is None:
        return None
    fx0, fy0, fx1, fy1 = f.full_crop
    w, h = max(fx1 - fx0, 1), max(fy1 - fy0, 1)
    x0, y0, x1, y1 = f.crop
    return ((x0 - fx0) / w, (y0 - fy0) / h, (x1 - fx0) / w, (y1 - fy0) / h)


def same_place(a: VideoFeatures, b: VideoFeatures) -> bool:
    """Whether two videos show their pictures at the same place of their canvases."""
    ra, rb = _relative(a), _relative(b)
    if ra is None or rb is None:
        return False
    ix = max(0.0, min(ra[2], rb[2]) - max(ra[0], rb[0]))
    iy = max(0.0, min(ra[3], rb[3]) - max(ra[1], rb[1]))
    inter = ix * iy
    union = (ra[2] - ra[0]) * (ra[3] - ra[1]) + (rb[2] - rb[0]) * (rb[3] - rb[1]) - inter
    return union > 0 and inter / union >= SAME_PLACE


def compare_views(
    pa: Prepared,
    pb: Prepared,
    fa: Prepared | None,
    fb: Prepared | None,
    feats: list[VideoFeatures],
    options: MatchOptions,
) -> PairMatch:
    """Compare two videos through the views listed in the module docstring."""
    combos = [(pa, pb)]
    if fa is not None and fb is None:
        combos.append((fa, pb))
    elif fb is not None and fa is None:
        combos.append((pa, fb))
    elif fa is not None and fb is not None and not same_place(feats[pa.index], feats[pb.index]):
        combos += [(fa, pb), (pa, fb)]
    results = [compare(x, y, options) for x, y in combos]
    return max(
        results,
        key=lambda m: (m.accepted(options.threshold, options.partial), m.score(options.partial)),
    )
