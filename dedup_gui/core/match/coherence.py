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
on the dev and stress sets (fixed space, pairs the cover passed), then relaxed to keep the
copies of the generalisation draws (docs/ACCURACY.md "The time gate relaxed"): on those
sets it drops 42-83% of the look-alike pairs the cover passes, and no copy that a scan without
the gate would find.

Costs one frame product a pair and a few histograms voted for many pairs at once (about
0.2 ms a pair), against about ten milliseconds for a refinement.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence

import numpy as np

from dedup_gui.core.progress import NEVER_CANCELLED, CancelToken

# Speeds a copy may play at relative to its source (t_b = speed * t_a + offset).
SPEEDS = (0.8, 1.0 / 1.1, 1.0, 1.1, 1.25)
# The vote is counted at these frame similarities (fixed space), and a pair goes on when its
# best offset holds at least this share at either (either will do): all the frames of the
# overlap at the candidate threshold (a heavily edited copy, a clip of under a second), or
# half of them at 0.5. The overlap must hold MIN_OVERLAP of one video's frames. The share at
# 0.5 was 0.6 until heavily recompressed, watermarked crops of the generalisation draws were
# seen at 0.5-0.58 there: at 0.5 the gate keeps every copy that no gate at all would find on
# the accuracy sets, for 11-22% more refined pairs in a synthetic library of 1,000-10,000
# videos (relaxing the share at 0.45 to 0.75 as well gains no copy and costs 41-63%;
# docs/BENCHMARKS.md and docs/ACCURACY.md "The time gate relaxed").
ALIGNED_SIMS = (0.45, 0.5)
ALIGNED_SHARE = (1.0, 0.5)
MIN_OVERLAP = 0.8
# aligned_pairs: pairs whose frames are gathered at a time, and pairs voted at once
WINDOW = 1024
BATCH = 128

Frames = tuple[np.ndarray, np.ndarray]  # (views, n, d) unit vectors, (n,) seconds


def _spacing(t: np.ndarray) -> float:
    """The mean time between frames."""
    return float(t[-1] - t[0]) / (len(t) - 1) if len(t) > 1 else 1.0


def _best_offsets(
    ta: np.ndarray,
    tb: np.ndarray,
    close: np.ndarray,
    na: np.ndarray,
    nb: np.ndarray,
    width: np.ndarray,
) -> np.ndarray:
    """The best offset's share of each pair for its close frame pairs, over :data:`SPEEDS`.

    Offsets go in bins ``width`` wide; a close pair votes in its bin and both neighbours. At
    an offset, a video's share is the part of its frames *inside the overlap* (mapped within
    the other's time span, give or take a bin) that voted for it, and the offset's share is
    the smaller of the two videos'; offsets whose overlap holds less than
    :data:`MIN_OVERLAP` of either video's frames count for nothing (a corner of two videos is
    not a copy, an excerpt is the whole of the shorter one). Many pairs at once, every speed
    in its own row of bins: one array per step, not per pair.

    Args:
        ta: (p, na_max) frame times of each pair's A (ascending), NaN after its frames.
        tb: (p, nb_max) the same for B.
        close: (p, na_max, nb_max) the close frame pairs (False in the padding); every pair
            has one at least.
        na: (p,) frames of each A.
        nb: (p,) frames of each B.
        width: (p,) bin width of each pair, in seconds.
    """
    n_pairs = len(na)
    speeds = np.asarray(SPEEDS, np.float64)
    ns = len(speeds)
    hp, hi, hj = np.nonzero(close)  # sorted by pair
    off = tb[hp, hj][None] - speeds[:, None] * ta[hp, hi][None]  # (s, hits)
    starts = np.searchsorted(hp, np.arange(n_pairs))
    lo = np.minimum.reduceat(off, starts, axis=1)  # (s, p)
    k = np.floor((off - lo[:, hp]) / width[hp]).astype(np.int64)
    bins = int(k.max()) + 3
    rows = np.broadcast_to(np.arange(ns)[:, None], k.shape)
    votes_a = np.zeros((n_pairs, ns, bins, ta.shape[1]), bool)
    votes_b = np.zeros((n_pairs, ns, bins, tb.shape[1]), bool)
    votes_a[np.broadcast_to(hp, k.shape), rows, k, np.broadcast_to(hi, k.shape)] = True
    votes_b[np.broadcast_to(hp, k.shape), rows, k, np.broadcast_to(hj, k.shape)] = True
    for votes in (votes_a, votes_b):
        first = votes.copy()
        votes[:, :, 1:] |= first[:, :, :-1]
        votes[:, :, 2:] |= first[:, :, :-2]
    w = width[:, None, None]
    centre = lo.T[:, :, None] + (np.arange(bins)[None, None] - 0.5) * w  # (p, s, bins)
    sp = speeds[None, :, None]
    first_a, last_a = ta[:, :1, None], np.nanmax(ta, axis=1)[:, None, None]
    first_b, last_b = tb[:, :1, None], np.nanmax(tb, axis=1)[:, None, None]
    lo_a, hi_a = (first_b - centre - w) / sp, (last_b - centre + w) / sp
    lo_b, hi_b = sp * first_a + centre - w, sp * last_a + centre + w
    a_in = ((ta[:, None, None] >= lo_a[..., None]) & (ta[:, None, None] <= hi_a[..., None])).sum(-1)
    b_in = ((tb[:, None, None] >= lo_b[..., None]) & (tb[:, None, None] <= hi_b[..., None])).sum(-1)
    share = np.minimum(votes_a.sum(-1) / np.maximum(a_in, 1), votes_b.sum(-1) / np.maximum(b_in, 1))
    overlap = np.maximum(a_in / na[:, None, None], b_in / nb[:, None, None]) >= MIN_OVERLAP
    return np.where(overlap, np.minimum(share, 1.0), 0.0).reshape(n_pairs, -1).max(axis=1)


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


class _Batch:
    """Pairs padded to common sizes: times, frame similarities, frame counts, bin widths."""

    def __init__(self, items: Sequence[tuple[Frames, Frames]]) -> None:
        self.na = np.array([len(a[1]) for a, _ in items])
        self.nb = np.array([len(b[1]) for _, b in items])
        self.empty = (self.na == 0) | (self.nb == 0)
        n = len(items)
        self.ta = np.full((n, max(1, self.na.max(initial=0))), np.nan)
        self.tb = np.full((n, max(1, self.nb.max(initial=0))), np.nan)
        self.sim = np.full((n, self.ta.shape[1], self.tb.shape[1]), -np.inf, np.float32)
        self.width = np.ones(n)
        for p, (a, b) in enumerate(items):
            if self.empty[p]:
                continue
            self.ta[p, : self.na[p]] = a[1]
            self.tb[p, : self.nb[p]] = b[1]
            self.sim[p, : self.na[p], : self.nb[p]] = _similarity(a, b)
            self.width[p] = _width(a[1], b[1])

    def shares(self, close: np.ndarray, todo: np.ndarray) -> np.ndarray:
        """The best offset's share of the pairs in ``todo`` (0 for the rest).

        ``close`` is ``self.sim >= level`` at the similarity voted at.
        """
        out = np.zeros(len(self.na))
        todo = todo & ~self.empty & close.any(axis=(1, 2))
        if todo.any():
            at = np.nonzero(todo)[0]
            out[at] = _best_offsets(
                self.ta[at], self.tb[at], close[at], self.na[at], self.nb[at], self.width[at]
            )
        return out

    def reach(self, close: np.ndarray) -> np.ndarray:
        """The larger share of one video's frames that have a close frame (``close``)."""
        na, nb = np.maximum(self.na, 1), np.maximum(self.nb, 1)
        return np.maximum(close.any(axis=2).sum(axis=1) / na, close.any(axis=1).sum(axis=1) / nb)


def _aligned(items: Sequence[tuple[Frames, Frames]]) -> np.ndarray:
    """Whether each pair reaches :data:`ALIGNED_SHARE` at one of :data:`ALIGNED_SIMS`.

    The stricter similarity first (fewer close pairs to vote), and at each only the pairs
    still undecided whose close frames can reach the share: an offset's share counts frames
    with a close frame, and its overlap holds MIN_OVERLAP of one video.
    """
    batch = _Batch(items)
    ok = np.zeros(len(items), bool)
    for level, need in sorted(zip(ALIGNED_SIMS, ALIGNED_SHARE, strict=True), reverse=True):
        close = batch.sim >= level
        todo = ~ok & (batch.reach(close) >= need * MIN_OVERLAP)
        ok |= todo & (batch.shares(close, todo) >= need)
    return ok


def aligned(a: Frames, b: Frames) -> bool:
    """Whether the pair reaches :data:`ALIGNED_SHARE` at one of :data:`ALIGNED_SIMS`."""
    return bool(_aligned([(a, b)])[0])


def aligned_shares(a: Frames, b: Frames, sims: Iterable[float] = ALIGNED_SIMS) -> list[float]:
    """At each similarity: the best offset's share (see :func:`_best_offsets`).

    A share is the smaller of the two videos' shares of frames inside their overlap that are
    close at that offset; :func:`aligned` compares them with :data:`ALIGNED_SHARE`.

    Args:
        a: Frame vectors of A's views (``(views, n_a, d)``, unit length) and frame times.
        b: The same for B.
        sims: Frame similarities at which a pair of frames counts as close.
    """
    batch = _Batch([(a, b)])
    return [float(batch.shares(batch.sim >= level, np.ones(1, bool))[0]) for level in sims]


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
    ``token`` is checked every :data:`WINDOW` pairs. Pairs are voted :data:`BATCH` at a time.
    """

    @functools.lru_cache(maxsize=cache)
    def get(i: int) -> Frames:
        v, t = frames_of(i)
        return np.asarray(v, np.float32), np.asarray(t, np.float64)

    kept = {}
    order = sorted(pairs)
    for lo in range(0, len(order), WINDOW):
        token.raise_if_cancelled()
        window = order[lo : lo + WINDOW]
        items = [(get(a), get(b)) for a, b in window]
        # batches of pairs of similar sizes, so that little of a batch is padding
        by_size = np.argsort([max(len(x[1]), len(y[1])) for x, y in items], kind="stable")
        for blo in range(0, len(window), BATCH):
            at = by_size[blo : blo + BATCH]
            for i in at[_aligned([items[i] for i in at])]:
                kept[window[i]] = pairs[window[i]]
    if counts is not None:
        counts["unaligned_pairs"] = len(pairs) - len(kept)
    return kept
