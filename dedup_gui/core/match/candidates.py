"""faiss nearest neighbours over frame vectors: candidate video pairs and frame commonness.

Every informative frame of every video is searched against all others. Two videos become a
candidate pair when some of their frames are close; each frame also learns how many *other*
videos it resembles, which drives the suppression of logos, intros and title cards that many
unrelated videos share.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import numpy as np

from dedup_gui.core.progress import NEVER_CANCELLED, CancelToken

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Neighbours:
    """What the kNN search found.

    Attributes:
        pairs: (video_a, video_b) with a < b -> (frames of either video that hit the other,
            best frame similarity).
        commonness: Per video, (n_informative,) number of other videos each frame resembles.
    """

    pairs: dict[tuple[int, int], tuple[int, float]]
    commonness: list[np.ndarray]


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


def search(
    vectors: list[np.ndarray],
    k: int = 24,
    min_sim: float = 0.3,
    common_sim: float = 0.55,
    token: CancelToken = NEVER_CANCELLED,
    batch: int = 4096,
) -> Neighbours:
    """Search every frame against every other video's frames.

    A frame's commonness counts the other videos it resembles, leaving out the video's *core*
    (videos that share most of its frames: its copies). What remains are unrelated videos that
    share this one frame: a channel intro, a logo, a title card.

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
    owner = np.repeat(np.arange(len(vectors)), sizes)
    commonness = [np.zeros(n, np.int32) for n in sizes]
    pairs: dict[tuple[int, int], tuple[int, float]] = {}
    total = int(sum(sizes))
    if total == 0:
        return Neighbours(pairs, commonness)
    allv = np.ascontiguousarray(np.concatenate(vectors).astype(np.float32))
    index = _index(allv.shape[1], total)
    index.add(allv)
    flat = faiss.IndexFlatIP(allv.shape[1])  # range search (commonness) on the CPU index
    flat.add(allv)
    kk = min(total, k + max(sizes))  # room for the query video's own frames
    hits: dict[tuple[int, int], list[float]] = defaultdict(list)
    close_sets: list[np.ndarray] = []  # per frame (global order): other videos close to it
    for lo in range(0, total, batch):
        token.raise_if_cancelled()
        hi = min(total, lo + batch)
        sims, ids = index.search(allv[lo:hi], kk)
        lims, _, close_ids = flat.range_search(allv[lo:hi], common_sim)
        for row in range(hi - lo):
            qv = owner[lo + row]
            close = np.unique(owner[close_ids[lims[row] : lims[row + 1]]])
            close_sets.append(close[close != qv])
            valid = ids[row] >= 0
            nv = owner[ids[row][valid]]
            ns = sims[row][valid]
            other = nv != qv
            nv, ns = nv[other][:k], ns[other][:k]
            keep = ns >= min_sim
            for v, s in zip(nv[keep], ns[keep], strict=True):
                a, b = (qv, v) if qv < v else (v, qv)
                hits[(int(a), int(b))].append(float(s))
    for key, sims_list in hits.items():
        pairs[key] = (len(sims_list), max(sims_list))
    _commonness(close_sets, sizes, commonness)
    log.info("kNN: %d frames, %d candidate pairs", total, len(pairs))
    return Neighbours(pairs, commonness)


def _commonness(close_sets: list[np.ndarray], sizes: list[int], out: list[np.ndarray]) -> None:
    """Fill ``out`` with each frame's count of close *families* outside its own.

    A family is a video and its copies (videos that are each other's core, transitively): ten
    copies of one other video that share this frame are one independent occurrence of it, not
    ten. A channel intro shared by many different videos stays common; footage two different
    videos share (a clip in two compilations) does not become common because each has copies.
    """
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    share: list[dict[int, float]] = []
    for v, n in enumerate(sizes):
        counts: dict[int, int] = defaultdict(int)
        for close in close_sets[starts[v] : starts[v + 1]]:
            for u in close.tolist():
                counts[u] += 1
        share.append({u: c / max(n, 1) for u, c in counts.items()})
    family = list(range(len(sizes)))

    def root(v: int) -> int:
        while family[v] != v:
            family[v] = family[family[v]]
            v = family[v]
        return v

    for v in range(len(sizes)):
        for u, f in share[v].items():
            if f >= CORE_SHARE or share[u].get(v, 0) >= CORE_SHARE:
                family[root(u)] = root(v)
    fam = np.array([root(v) for v in range(len(sizes))], dtype=np.int64)
    for v, n in enumerate(sizes):
        for i, close in enumerate(close_sets[starts[v] : starts[v] + n]):
            others = fam[close] if len(close) else close
            out[v][i] = len(set(others.tolist()) - {fam[v]})
