"""The matching stage's memory bounds: lazy views under a budget, sampled whitening."""

import numpy as np

from dedup_gui.core.match import similarity
from dedup_gui.core.match.matching import LazyViews, prepare_videos
from dedup_gui.core.types import VideoFeatures


def _feats(rng, n_videos=12, frames=8, dim=16):
    out = []
    for _ in range(n_videos):
        reg = rng.standard_normal((frames, 9, dim)).astype(np.float32)
        reg /= np.linalg.norm(reg, axis=-1, keepdims=True)
        out.append(
            VideoFeatures(
                timestamps=np.arange(frames, dtype=np.float32),
                vectors=reg.mean(1),
                regions=reg.astype(np.float16),
                thumbs=np.zeros((frames, 32, 32), np.uint8),
                informative=np.arange(frames) % 4 != 3,
                crop=(0, 0, 10, 10),
            )
        )
    return out


def test_lazy_views_equal_eager_ones_and_stay_within_the_budget():
    rng = np.random.default_rng(0)
    feats = _feats(rng)
    durations = [8.0] * len(feats)
    wh = similarity.fit_whitening([f.regions[f.informative] for f in feats], None)
    eager, _ = prepare_videos(feats, durations, wh)
    weights = [np.full(len(p.weights), 0.5, np.float32) for p in eager]
    one = eager[0].regions.nbytes + eager[0].vectors.nbytes + eager[0].thumbs.nbytes + 256
    lazy = LazyViews(feats, durations, wh, weights, budget=3 * one)
    for i in [0, 1, 2, 3, 0, 5, 0, 7]:
        p = lazy.main(i)
        np.testing.assert_array_equal(p.regions, eager[i].regions)
        np.testing.assert_array_equal(p.frame_index, eager[i].frame_index)
        assert p.weights is weights[i]  # commonness weights are shared, not copied
        assert len(lazy._held) <= 3
    assert lazy.made == 7  # 0 was kept (recently used), the others made once each
    assert LazyViews(feats, durations, wh, weights, 1 << 20, full=True)[0] is None  # no canvas


def test_sampled_whitening_is_close_to_the_full_one():
    rng = np.random.default_rng(1)
    regions = [rng.standard_normal((30, 9, 16)).astype(np.float32) * np.linspace(0.5, 2, 16)]
    regions = regions * 20
    full = similarity.fit_whitening(regions, None)
    sampled = similarity.fit_whitening(regions, None, max_vectors=2000)
    x = rng.standard_normal((50, 16)).astype(np.float32)
    # whitening is unique up to a rotation: compare the similarities it gives
    a, b = full.apply(x), sampled.apply(x)
    assert np.abs(a @ a.T - b @ b.T).max() < 0.1
