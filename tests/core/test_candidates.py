"""The vectorised candidate search gives exactly what a plain per-frame loop gives."""

from collections import defaultdict

import numpy as np
import pytest

from dedup_gui.core.match import candidates as knn


def _l2(x):
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def clustered_library(seed: int, n_originals: int = 40, dim: int = 32):
    """Videos of clustered frames, with planted copies, excerpts and a shared intro."""
    rng = np.random.default_rng(seed)
    scenes = _l2(rng.standard_normal((n_originals * 3, dim)))
    intro = _l2(rng.standard_normal(dim))
    videos = []
    for i in range(n_originals):
        n = int(rng.integers(6, 30))
        centre = scenes[rng.integers(0, len(scenes), size=n)]
        frames = _l2(centre + 0.35 * rng.standard_normal((n, dim)))
        if i % 5 == 0:  # a channel intro shared by unrelated videos
            frames[0] = _l2(intro + 0.05 * rng.standard_normal(dim))
        videos.append(frames)
        for _ in range(int(rng.integers(0, 3))):  # copies (a family)
            videos.append(_l2(frames + 0.08 * rng.standard_normal(frames.shape)))
        if i % 7 == 0:  # an excerpt
            lo = int(rng.integers(0, n // 2))
            videos.append(_l2(frames[lo : lo + 4] + 0.1 * rng.standard_normal((4, dim))))
    rng.shuffle(videos)
    return videos


def reference_search(vectors, k=24, min_sim=0.3, common_sim=0.55):
    """The straightforward per-frame loop (the implementation before vectorisation)."""
    import faiss

    sizes = [len(v) for v in vectors]
    owner = np.repeat(np.arange(len(vectors)), sizes)
    total = int(sum(sizes))
    allv = np.ascontiguousarray(np.concatenate(vectors).astype(np.float32))
    index = faiss.IndexFlatIP(allv.shape[1])
    index.add(allv)
    kk = min(total, k + max(sizes))
    hits = defaultdict(list)
    close_sets = []
    sims, ids = index.search(allv, kk)
    lims, _, close_ids = index.range_search(allv, common_sim)
    for row in range(total):
        qv = owner[row]
        close = np.unique(owner[close_ids[lims[row] : lims[row + 1]]])
        close_sets.append(close[close != qv])
        valid = ids[row] >= 0
        nv, ns = owner[ids[row][valid]], sims[row][valid]
        other = nv != qv
        nv, ns = nv[other][:k], ns[other][:k]
        keep = ns >= min_sim
        for v, s in zip(nv[keep], ns[keep], strict=True):
            a, b = (qv, v) if qv < v else (v, qv)
            hits[(int(a), int(b))].append(float(s))
    pairs = {key: (len(s), max(s)) for key, s in hits.items()}
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(int)
    share = []
    for v, n in enumerate(sizes):
        counts = defaultdict(int)
        for close in close_sets[starts[v] : starts[v + 1]]:
            for u in close.tolist():
                counts[u] += 1
        share.append({u: c / max(n, 1) for u, c in counts.items()})
    family = list(range(len(sizes)))

    def root(v):
        while family[v] != v:
            v = family[v]
        return v

    for v in range(len(sizes)):
        for u, f in share[v].items():
            if f >= knn.CORE_SHARE or share[u].get(v, 0) >= knn.CORE_SHARE:
                family[root(u)] = root(v)
    fam = [root(v) for v in range(len(sizes))]
    commonness = []
    for v, n in enumerate(sizes):
        out = np.zeros(n, np.int32)
        for i, close in enumerate(close_sets[starts[v] : starts[v] + n]):
            out[i] = len({fam[u] for u in close.tolist()} - {fam[v]})
        commonness.append(out)
    return pairs, commonness


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vectorised_search_matches_the_reference_loop(seed):
    vectors = clustered_library(seed)
    got = knn.search(vectors, min_sim=0.35, batch=97)  # batches that split videos
    pairs, commonness = reference_search(vectors, min_sim=0.35)
    assert len(pairs) > len(vectors)  # the library has real candidates
    assert got.pairs.keys() == pairs.keys()
    for key, (n, best) in pairs.items():
        assert got.pairs[key][0] == n
        assert got.pairs[key][1] == pytest.approx(best, abs=1e-6)
    assert any(c.max() > 0 for c in commonness)  # the shared intro is common
    for a, b in zip(got.commonness, commonness, strict=True):
        np.testing.assert_array_equal(a, b)


def test_empty_and_single_video():
    assert knn.search([]).pairs == {}
    one = knn.search([_l2(np.ones((3, 8)))])
    assert one.pairs == {}
    np.testing.assert_array_equal(one.commonness[0], [0, 0, 0])
    none = knn.search([np.zeros((0, 8), np.float32), _l2(np.ones((2, 8)))])
    assert none.commonness[0].shape == (0,)
