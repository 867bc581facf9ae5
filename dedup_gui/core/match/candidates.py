"""faiss nearest neighbours over frame vectors: candidate video pairs and frame commonness.

Every informative frame of every video is searched against all others. Two videos become a
candidate pair when some of their frames are close; each frame also learns how many *other*
videos it resembles, which drives the suppression of logos, intros and title cards that many
unrelated videos share.

The search itself is faiss; everything after it is array work: a (video a, video b) pair is
one int64 code ``a * n + b``, hits are aggregated with ``np.unique`` and
``np.maximum.reduceat``, and commonness counts sorted unique (frame, family) codes. The same
aggregation serves the exact all-against-all :func:`search` here and the incremental library
index (:mod:`dedup_gui.core.index`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dedup_gui.core.progress import NEVER_CANCELLED, CancelToken

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Neighbours:
    """What the kNN search found.

    Attributes:
        pairs: (video_a, video_b) with a < b -> (neighbour hits between the two videos, in
            either direction, and the best frame similarity).
        commonness: Per video, (n_frames,) number of other video *families* each frame
            resembles.
        cover: Per pair, at each of the cover similarities the search was asked for, the
            larger of the two videos' shares of frames that have a frame of the other at
            least that close (a frame counts once whichever of its views is close). Empty
            when none were asked for.
    """

    pairs: dict[tuple[int, int], tuple[int, float]]
    commonness: list[np.ndarray]
    cover: dict[tuple[int, int], tuple[float, ...]] = field(default_factory=dict)


def _index(dim: int, n: int) -> Any:
    import faiss

    index = faiss.IndexFlatIP(dim)
    try:
        if faiss.get_num_gpus() > 0 and n > 10_000:  # pragma: no cover - no GPU in CI
            return faiss.index_cpu_to_all_gpus(index)
    except AttributeError:  # CPU-only build
        pass
    return index


# Two videos are each other's "core" when this share of either one's frames resembles the
# other: copies of one video, which may be many, never make each other's frames common.
CORE_SHARE = 0.8


def knn_hits(
    query_owner: np.ndarray, sims: np.ndarray, nbr_owner: np.ndarray, k: int, min_sim: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The candidate hits of one batch of kNN results, as flat arrays.

    Per query frame, the first ``k`` neighbours owned by another video (in faiss's order) that
    are at least ``min_sim`` close.

    Args:
        query_owner: (q,) video of each query frame.
        sims: (q, kk) neighbour similarities, best first.
        nbr_owner: (q, kk) video of each neighbour, -1 for none.
        k: Neighbours kept per query frame.
        min_sim: Smallest similarity kept.

    Returns:
        (query video, other video, similarity) per hit.
    """
    other = (nbr_owner >= 0) & (nbr_owner != query_owner[:, None])
    rank = np.cumsum(other, axis=1)
    keep = other & (rank <= k) & (sims >= min_sim)
    rows, cols = np.nonzero(keep)
    qa = query_owner[rows].astype(np.int64)
    nb = nbr_owner[rows, cols].astype(np.int64)
    return qa, nb, sims[rows, cols].astype(np.float32)


def range_hits(
    query_owner: np.ndarray,
    lims: np.ndarray,
    sims: np.ndarray,
    nbr_owner: np.ndarray,
    k: int,
    min_sim: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`knn_hits` of range-search results (all neighbours above a radius, any order).

    A range search at ``min_sim`` or below holds every neighbour a kNN search would keep, so
    one range search answers both the candidate hits and the close frames of commonness.

    Args:
        query_owner: (q,) video of each query frame.
        lims: (q + 1,) offsets of each query's results.
        sims: Similarity of each result.
        nbr_owner: Video of each result.
        k: Neighbours kept per query frame.
        min_sim: Smallest similarity kept.

    Returns:
        (query video, other video, similarity) per hit, as :func:`knn_hits` returns them.
    """
    rows = np.repeat(np.arange(len(query_owner), dtype=np.int64), np.diff(lims))
    keep = (nbr_owner >= 0) & (nbr_owner != query_owner[rows]) & (sims >= min_sim)
    rows, s, other = rows[keep], sims[keep], nbr_owner[keep]
    if min_sim > 0 and len(s):
        # per query frame, best first, in one stable sort of one int64 key: the bits of a
        # positive float32 order as the float does
        desc = 0x7FFFFFFF - s.astype(np.float32).view(np.int32).astype(np.int64)
        order = np.argsort(rows << 31 | desc, kind="stable")
    else:
        order = np.lexsort((-s, rows))
    rows, s, other = rows[order], s[order], other[order]
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows)
    top = rank < k
    return (
        query_owner[rows[top]].astype(np.int64),
        other[top].astype(np.int64),
        s[top].astype(np.float32),
    )


def aggregate_pairs(
    a: np.ndarray, b: np.ndarray, sims: np.ndarray, hits: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Hits -> unique (a, b) pairs with their hit count and best similarity.

    Args:
        a: (h,) first video of each hit (int64, >= 0).
        b: (h,) second video of each hit.
        sims: (h,) similarity of each hit.
        hits: (h,) hits each entry stands for (1 each when None): already aggregated
            pairs can be merged again.

    Returns:
        (a, b, n_hits, best) per unique pair, sorted by (a, b).
    """
    if len(a) == 0:
        e = np.zeros(0, np.int64)
        return e, e, e, np.zeros(0, np.float32)
    span = int(max(a.max(), b.max())) + 1
    codes = a.astype(np.int64) * span + b.astype(np.int64)
    order = np.argsort(codes, kind="stable")
    codes, sims = codes[order], sims[order]
    uniq, starts, counts = np.unique(codes, return_index=True, return_counts=True)
    best = np.maximum.reduceat(sims, starts)
    if hits is not None:
        counts = np.add.reduceat(hits[order].astype(np.int64), starts)
    return uniq // span, uniq % span, counts.astype(np.int64), best


def aggregate_max(a: np.ndarray, b: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per unique (a, b) pair, the row-wise maximum of ``values`` (h, ...) over its entries.

    The pairs come in :func:`aggregate_pairs`'s order (sorted by (a, b)).
    """
    if len(a) == 0:
        return values[:0]
    span = int(max(a.max(), b.max())) + 1
    codes = a.astype(np.int64) * span + b.astype(np.int64)
    order = np.argsort(codes, kind="stable")
    _, starts = np.unique(codes[order], return_index=True)
    return np.maximum.reduceat(values[order], starts, axis=0)


def max_level_rows(x: np.ndarray) -> np.ndarray:
    """Unique (video, frame, other video) rows of a (4, m) array, each with its highest level.

    Row 3 is the level (how many cover similarities a frame pair reaches); the result keeps,
    per (video, frame, other), the highest, sorted by the first three rows.
    """
    if x.shape[1] == 0:
        return x
    vspan = int(max(x[0].max(), x[2].max())) + 1
    fspan = int(x[1].max()) + 1
    lspan = int(x[3].max()) + 1
    if float(vspan) * vspan * fspan * lspan >= 2.0**62:  # too large for one int64 code
        x = x[:, np.lexsort((-x[3], x[2], x[1], x[0]))]
        keep = np.ones(x.shape[1], bool)
        keep[1:] = np.any(x[:3, 1:] != x[:3, :-1], axis=0)
        return x[:, keep]
    # one int64 code per row, the highest level first within a (video, frame, other): one sort
    code = np.sort(((x[0] * fspan + x[1]) * vspan + x[2]) * lspan + (lspan - 1 - x[3]))
    key = code // lspan
    first = np.ones(len(key), bool)
    first[1:] = key[1:] != key[:-1]
    code, key = code[first], key[first]
    rest = key // vspan
    return np.stack([rest // fspan, rest % fspan, key % vspan, lspan - 1 - code % lspan])


def cover_counts(rows: np.ndarray, a: np.ndarray, b: np.ndarray, levels: int) -> np.ndarray:
    """Frames of ``a`` close to ``b`` at each level, per pair, from :func:`max_level_rows`.

    Returns:
        (len(a), levels) int32: column l counts the frames of video ``a[i]`` that have a
        frame of ``b[i]`` reaching level l + 1.
    """
    out = np.zeros((len(a), levels), np.int32)
    if rows.shape[1] == 0 or len(a) == 0:
        return out
    span = int(max(rows[0].max(), rows[2].max(), a.max(), b.max())) + 1
    want = a.astype(np.int64) * span + b.astype(np.int64)
    for level in range(levels):
        at = rows[3] >= level + 1
        codes, counts = np.unique(rows[0][at] * span + rows[2][at], return_counts=True)
        if not len(codes):
            continue
        pos = np.clip(np.searchsorted(codes, want), 0, len(codes) - 1)
        out[:, level] = np.where(codes[pos] == want, counts[pos], 0)
    return out


def pairs_dict(
    a: np.ndarray, b: np.ndarray, n: np.ndarray, best: np.ndarray
) -> dict[tuple[int, int], tuple[int, float]]:
    """The :attr:`Neighbours.pairs` mapping of aggregated pair arrays."""
    return {
        (x, y): (c, s)
        for x, y, c, s in zip(a.tolist(), b.tolist(), n.tolist(), best.tolist(), strict=True)
    }


def unique_close(frames: np.ndarray, videos: np.ndarray, n_videos: int) -> np.ndarray:
    """Sorted unique (frame, other video) codes ``frame * n_videos + video``."""
    return np.unique(frames.astype(np.int64) * n_videos + videos.astype(np.int64))


def family_commonness(close: np.ndarray, owner: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Each frame's count of close *families* outside its own.

    A family is a video and its copies (videos that are each other's core, transitively): ten
    copies of one other video that share this frame are one independent occurrence of it, not
    ten. A channel intro shared by many different videos stays common; footage two different
    videos share (a clip in two compilations) does not become common because each has copies.

    Args:
        close: Sorted unique codes ``frame * n_videos + video`` (:func:`unique_close`): the
            other videos each frame is close to (never the frame's own video).
        owner: (n_frames,) video of each frame.
        sizes: (n_videos,) frames per video that count towards its share (its frame count).

    Returns:
        (n_frames,) int32 counts.
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    n_videos = len(sizes)
    out = np.zeros(len(owner), np.int32)
    if len(close) == 0 or n_videos == 0:
        return out
    frame, other = close // n_videos, close % n_videos
    mine = owner[frame].astype(np.int64)
    # share of v's frames close to u, per (v, u)
    vu, counts = np.unique(mine * n_videos + other, return_counts=True)
    v, u = vu // n_videos, vu % n_videos
    core = counts / np.maximum(sizes[v], 1) >= CORE_SHARE
    graph = csr_matrix(
        (np.ones(int(core.sum()), np.int8), (v[core], u[core])), shape=(n_videos, n_videos)
    )
    _, fam = connected_components(graph, directed=False)
    fam = fam.astype(np.int64)
    theirs = fam[other]
    keep = theirs != fam[mine]
    ff = np.unique(frame[keep] * n_videos + theirs[keep])
    return np.bincount(ff // n_videos, minlength=len(owner)).astype(np.int32)


def split(values: np.ndarray, sizes: list[int]) -> list[np.ndarray]:
    """Cut a flat per-frame array into per-video arrays."""
    return np.split(values, np.cumsum(sizes)[:-1]) if sizes else []


def search(
    vectors: list[np.ndarray],
    k: int = 24,
    min_sim: float = 0.3,
    common_sim: float = 0.55,
    token: CancelToken = NEVER_CANCELLED,
    batch: int = 4096,
) -> Neighbours:
    """Search every frame against every other video's frames (exact, all against all).

    A frame's commonness counts the other video families it resembles, leaving out the video's
    *core* (videos that share most of its frames: its copies). What remains are unrelated
    videos that share this one frame: a channel intro, a logo, a title card.

    Args:
        vectors: Per video, (n_i, d) whitened L2-normalised vectors of informative frames.
        k: Neighbours per frame for candidate pairs.
        min_sim: A neighbour closer than this makes the two videos a candidate pair.
        common_sim: A neighbour closer than this counts towards the frame's commonness.
        token: Checked per batch.
        batch: Query frames per faiss call.
    """
    import faiss

    sizes = [len(v) for v in vectors]
    n_videos = len(vectors)
    owner = np.repeat(np.arange(n_videos, dtype=np.int64), sizes)
    total = int(sum(sizes))
    if total == 0:
        return Neighbours({}, [np.zeros(n, np.int32) for n in sizes])
    allv = np.ascontiguousarray(np.concatenate(vectors).astype(np.float32))
    index = _index(allv.shape[1], total)
    index.add(allv)
    flat = faiss.IndexFlatIP(allv.shape[1])  # range search (commonness) on the CPU index
    flat.add(allv)
    kk = min(total, k + max(sizes))  # room for the query video's own frames
    hit_a, hit_b, hit_s, close_parts = [], [], [], []
    for lo in range(0, total, batch):
        token.raise_if_cancelled()
        hi = min(total, lo + batch)
        sims, ids = index.search(allv[lo:hi], kk)
        q, o, s = knn_hits(owner[lo:hi], sims, np.where(ids >= 0, owner[ids], -1), k, min_sim)
        hit_a.append(np.minimum(q, o))
        hit_b.append(np.maximum(q, o))
        hit_s.append(s)
        lims, _, close_ids = flat.range_search(allv[lo:hi], common_sim)
        n_close = (lims[1:] - lims[:-1]).astype(np.int64)
        rows = np.repeat(np.arange(lo, hi, dtype=np.int64), n_close)
        cv = owner[close_ids]
        other = cv != owner[rows]
        close_parts.append(unique_close(rows[other], cv[other], n_videos))
    pa, pb, pn, pbest = aggregate_pairs(
        np.concatenate(hit_a), np.concatenate(hit_b), np.concatenate(hit_s)
    )
    close = np.concatenate(close_parts)  # batches cover disjoint frames: still sorted, unique
    common = family_commonness(close, owner, np.asarray(sizes, np.int64))
    pairs = pairs_dict(pa, pb, pn, pbest)
    log.info("kNN: %d frames, %d candidate pairs", total, len(pairs))
    return Neighbours(pairs, split(common, sizes))
