"""The time gate: a candidate pair is refined only when its close frames line up in time.

A copy's frames match the original's at one offset in time (at one speed, for a sped-up or
slowed copy; an excerpt at the offset where it was cut). Look-alike footage (the same beach,
another cat in the same kitchen) matches frames of the other video here and there, at any
offset. The library index counts how many of a pair's frames have a close frame (the frame
cover of :func:`~dedup_gui.core.match.matching.refinable_pairs`), which look-alikes reach as
easily as copies; this gate asks, for the pairs the cover lets through, how many of those
frames agree on one offset, and refines only pairs where enough do.

It is a Hough vote over the close frame pairs of the two videos: for each speed in
:data:`SPEEDS`, every close pair ``(i, j)`` votes for the offset ``t_b[j] - speed * t_a[i]``
(in bins as wide as the sparser video's frame spacing, each vote also counting in the
neighbouring bins). At an offset each video's share is the part of its frames inside the
overlap of the two that voted for it, and the offset's share the smaller of the two; an
overlap must hold :data:`MIN_OVERLAP` of one video's frames (the whole of an excerpt). Chosen
on the dev and stress sets (fixed space, pairs the cover passed): every true pair that
reaches 0.5 has a share of 0.67 or more there, and 191 of the dev set's 266 look-alike pairs
(29 of the stress set's 32) fall under :data:`ALIGNED_SHARE` (docs/BENCHMARKS.md "Library
scale", fifth pass).

Costs one frame product and a few small histograms a pair (0.2-0.75 ms), against about ten
milliseconds for a refinement.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from dedup_gui.core.progress import NEVER_CANCELLED, CancelToken

# Speeds a copy may play at relative to its source (t_b = speed * t_a + offset).
SPEEDS = (0.8, 1.0 / 1.1, 1.0, 1.1, 1.25)
# The vote is counted at these frame similarities (fixed space), and a pair goes on when its
# best offset holds at least this share at either (either will do): all the frames of the
# overlap at the candidate threshold (a heavily edited copy, a clip of under a second), or
# 60% of them at 0.5. The overlap must hold MIN_OVERLAP of one video's frames.
ALIGNED_SIMS = (0.45, 0.5)
ALIGNED_SHARE = (1.0, 0.6)
MIN_OVERLAP = 0.8

Frames = tuple[np.ndarray, np.ndarray]  # (views, n, d) unit vectors, (n,) seconds


def _spacing(t: np.ndarray) -> float:
    """The mean time between frames."""
    return float(t[-1] - t[0]) / (len(t) - 1) if len(t) > 1 else 1.0


def _best_offset(
    ta: np.ndarray, tb: np.ndarray, i: np.ndarray, j: np.ndarray, width: float
) -> float:
    """The best offset's share for close frame pairs ``(i, j)``, over :data:`SPEEDS`.

    Offsets go in bins ``width`` wide; a pair votes in its bin and both neighbours. At an
    offset, a video's share is the part of its frames *inside the overlap* (mapped within the
    other's time span, give or take a bin) that voted for it, and the offset's share is the
    smaller of the two videos'; offsets whose overlap holds less than :data:`MIN_OVERLAP` of
    either video's frames count for nothing (a corner of two videos is not a copy, an excerpt
    is the whole of the shorter one). All speeds at once: one bin row per speed.
    """
    na, nb = len(ta), len(tb)
    speeds = np.asarray(SPEEDS, np.float64)[:, None]  # (s, 1)
    off = tb[j][None] - speeds * ta[i][None]  # (s, hits)
    lo = off.min(axis=1, keepdims=True)
    k = np.floor((off - lo) / width).astype(np.int64)
    bins = int(k.max()) + 3
    k += np.arange(len(speeds))[:, None] * bins
    # a vote in bin k counts in k, k + 1 and k + 2 (the bin and both neighbours of k + 1; the
    # last two bins of each speed's row are empty, so no vote spills into the next row)
    votes_a = np.zeros((na, len(speeds) * bins), bool)
    votes_b = np.zeros((nb, len(speeds) * bins), bool)
    votes_a[np.tile(i, len(speeds)), k.ravel()] = True
    votes_b[np.tile(j, len(speeds)), k.ravel()] = True
    for votes in (votes_a, votes_b):
        first = votes.copy()
        votes[:, 1:] |= first[:, :-1]
        votes[:, 2:] |= first[:, :-2]
    centre = lo + (np.arange(bins)[None] - 0.5) * width  # (s, bins)
    # A's frames whose mapped time (speed * t) falls in B's span, and B's frames in A's
    a_in = np.searchsorted(ta, (tb[-1] - centre + width) / speeds, "right") - np.searchsorted(
        ta, (tb[0] - centre - width) / speeds, "left"
    )
    b_in = np.searchsorted(tb, speeds * ta[-1] + centre + width, "right") - np.searchsorted(
        tb, speeds * ta[0] + centre - width, "left"
    )
    share = np.minimum(
        votes_a.sum(axis=0).reshape(k.shape[0], bins) / np.maximum(a_in, 1),
        votes_b.sum(axis=0).reshape(k.shape[0], bins) / np.maximum(b_in, 1),
    )
    overlap = np.maximum(a_in / na, b_in / nb) >= MIN_OVERLAP
    return float(np.minimum(share, 1.0)[overlap].max(initial=0.0))


def _similarity(a: Frames, b: Frames) -> np.ndarray:
    """(n_a, n_b): each frame pair's best similarity over the two videos' views."""
    sim = None
    for x in a[0]:
        for y in b[0]:
            s = x @ y.T
            sim = s if sim is None else np.maximum(sim, s, out=sim)
    assert sim is not None
    return sim


def _width(ta: np.ndarray, tb: np.ndarray) -> float:
    return max(1.0, _spacing(ta), _spacing(tb))


def aligned(a: Frames, b: Frames) -> bool:
    """Whether the pair reaches :data:`ALIGNED_SHARE` at one of :data:`ALIGNED_SIMS`.

    The stricter similarity first (fewer close pairs to vote): most copies stop there.
    """
    ta, tb = a[1], b[1]
    if len(ta) == 0 or len(tb) == 0:
        return False
    sim = _similarity(a, b)
    width = _width(ta, tb)
    for level, need in sorted(zip(ALIGNED_SIMS, ALIGNED_SHARE, strict=True), reverse=True):
        close = sim >= level
        # an offset's share counts frames with a close frame only, and its overlap holds
        # MIN_OVERLAP of one video: one video's close frames must reach need * MIN_OVERLAP
        reach = max(close.any(axis=1).mean(), close.any(axis=0).mean())
        if reach < need * MIN_OVERLAP:
            continue
        i, j = np.nonzero(close)
        if _best_offset(ta, tb, i, j, width) >= need:
            return True
    return False


def aligned_shares(a: Frames, b: Frames, sims: Iterable[float] = ALIGNED_SIMS) -> list[float]:
    """At each similarity: the best offset's share (see :func:`_best_offset`).

    A share is the smaller of the two videos' shares of frames inside their overlap that are
    close at that offset; :func:`aligned` compares them with :data:`ALIGNED_SHARE`.

    Args:
        a: Frame vectors of A's views (``(views, n_a, d)``, unit length) and frame times.
        b: The same for B.
        sims: Frame similarities at which a pair of frames counts as close.
    """
    ta, tb = a[1], b[1]
    levels = list(sims)
    if len(ta) == 0 or len(tb) == 0:
        return [0.0] * len(levels)
    sim = _similarity(a, b)
    width = _width(ta, tb)
    out = []
    for level in levels:
        i, j = np.nonzero(sim >= level)
        out.append(_best_offset(ta, tb, i, j, width) if len(i) else 0.0)
    return out


def aligned_pairs(
    pairs: dict[tuple[int, int], tuple[int, float]],
    frames_of: Callable[[int], Frames],
    counts: dict[str, int] | None = None,
    cache: int = 2048,
    token: CancelToken = NEVER_CANCELLED,
) -> dict[tuple[int, int], tuple[int, float]]:
    """The pairs whose close frames line up in time (:data:`ALIGNED_SHARE` at one of its sims).

    ``frames_of(i)`` gives video ``i``'s fixed-space frame vectors and times; the last
    ``cache`` videos asked for are kept (pairs are visited in order, so each video's frames
    are usually made once). ``counts["unaligned_pairs"]`` receives the number left out;
    ``token`` is checked every few hundred pairs.
    """
    from collections import OrderedDict

    made: OrderedDict[int, Frames] = OrderedDict()

    def get(i: int) -> Frames:
        if i in made:
            made.move_to_end(i)
            return made[i]
        v, t = frames_of(i)
        made[i] = (np.asarray(v, np.float32), np.asarray(t, np.float64))
        if len(made) > cache:
            made.popitem(last=False)
        return made[i]

    kept = {}
    for n, p in enumerate(sorted(pairs)):
        if n % 256 == 0:
            token.raise_if_cancelled()
        if aligned(get(p[0]), get(p[1])):
            kept[p] = pairs[p]
    if counts is not None:
        counts["unaligned_pairs"] = len(pairs) - len(kept)
    return kept
