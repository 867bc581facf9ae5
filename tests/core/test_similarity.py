"""The matching maths on controlled inputs."""

import numpy as np
import pytest

from dedup_gui.core.match import similarity as sim


def _unit(rng, *shape):
    x = rng.standard_normal(shape).astype(np.float32)
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def test_region_chamfer_ignores_region_order_and_is_symmetric():
    rng = np.random.default_rng(0)
    a = _unit(rng, 5, 9, 32)
    b = a[:, rng.permutation(9)]  # the same regions, shuffled
    m = sim.frame_similarity(a, b)
    assert m.shape == (5, 5)
    assert np.allclose(np.diag(m), 1.0, atol=1e-5)
    assert np.allclose(m, sim.frame_similarity(b, a).T, atol=1e-5)
    assert (m - np.eye(5)).max() < 0.9  # other frames are not matches


def _diagonal(ta, tb, speed, offset, width=0.3):
    """A confidence matrix that is 1 along t_b = speed * t_a + offset."""
    return np.exp(-(((tb[None, :] - (speed * ta[:, None] + offset)) / width) ** 2)).astype(
        np.float32
    )


@pytest.mark.parametrize(("speed", "offset"), [(1.0, 0.0), (1.0, 3.0), (1.1, 0.0), (1 / 1.25, 1.0)])
def test_alignment_recovers_speed_and_offset(speed, offset):
    ta = np.arange(0.5, 30, 1.0, dtype=np.float32)
    tb = np.arange(0.5, 30, 1.0, dtype=np.float32)
    al = sim.align(_diagonal(ta, tb, speed, offset), ta, tb)
    assert al.speed == pytest.approx(speed, rel=0.01)
    assert al.offset == pytest.approx(offset, abs=0.6)


def test_alignment_prefers_normal_speed_for_static_footage():
    ta = np.arange(0.5, 20, 1.0, dtype=np.float32)
    al = sim.align(np.ones((len(ta), len(ta)), np.float32), ta, ta.copy())
    assert al.speed == 1.0
    assert al.offset == pytest.approx(0.0, abs=0.6)


def test_excerpt_is_covered_and_located():
    ta = np.arange(0.5, 30, 1.0, dtype=np.float32)  # the long video
    tb = np.arange(0.4, 9, 0.75, dtype=np.float32)  # an excerpt starting at 12 s
    al = sim.align(_diagonal(tb, ta, 1.0, 12.0, width=1.0).T, ta, tb)
    assert al.conf_b.mean() > 0.8  # the excerpt is covered
    assert al.conf_a.mean() < 0.45  # most of the long video is not in it
    assert -al.offset == pytest.approx(12.0, abs=0.8)


def _thumbs(rng, n, moving):
    base = rng.integers(0, 255, (32, 32)).astype(np.float32)
    out = []
    for i in range(n):
        f = base.copy()
        y, x = moving[i]
        f[y : y + 8, x : x + 8] = 255 - f[y : y + 8, x : x + 8]
        out.append(f)
    return np.clip(np.stack(out), 0, 255).astype(np.uint8)


def test_motion_check_tells_copies_from_other_moments():
    rng = np.random.default_rng(1)
    path = [(int(4 + 2 * i) % 24, int(3 * i) % 24) for i in range(20)]
    other = [(int(20 - i) % 24, int(7 + 2 * i) % 24) for i in range(20)]
    a = _thumbs(np.random.default_rng(5), 20, path)
    copy = np.clip(a.astype(int) + rng.integers(-6, 7, a.shape), 0, 255).astype(np.uint8)
    same_scene = _thumbs(np.random.default_rng(5), 20, other)
    inf = np.ones(20, bool)
    pairs = np.stack([np.arange(20), np.arange(20)], 1)
    good = sim.verify(a, copy, inf, inf, pairs)
    bad = sim.verify(a, same_scene, inf, inf, pairs)
    assert good.passed and good.residual > 0.8
    assert not bad.passed and bad.residual < 0.3
    mirrored = sim.verify(a, copy[:, :, ::-1], inf, inf, pairs)
    assert mirrored.passed and mirrored.flipped


def test_static_videos_are_not_held_to_the_motion_check():
    a = np.full((10, 32, 32), 100, np.uint8)
    a[:, 8:16, 8:16] = 200
    inf = np.ones(10, bool)
    pairs = np.stack([np.arange(10), np.arange(10)], 1)
    v = sim.verify(a, a.copy(), inf, inf, pairs)
    assert v.energy < sim.E_LO and v.passed


def test_motion_score_needs_clear_motion():
    assert sim.motion_score(0.9, sim.E_HI - 0.01) == 0.0
    assert sim.motion_score(0.9, sim.E_HI) == pytest.approx(0.8)
    assert sim.motion_score(0.05, 0.5) == 0.0


def test_whitening_leans_on_the_prior_for_small_libraries():
    rng = np.random.default_rng(2)
    d = 16
    prior = (np.zeros(d), np.eye(d))
    lib = [rng.standard_normal((50, 9, d)) * 5 + 3 for _ in range(2)]
    w_small = sim.fit_whitening(lib, prior)
    assert np.abs(w_small.mean).max() < 0.3  # two videos barely move the prior mean
    w_big = sim.fit_whitening(lib * 200, prior)
    assert np.abs(w_big.mean - 3 * 400 / (400 + sim.PRIOR_VIDEOS)).max() < 0.5
    x = w_big.apply(rng.standard_normal((3, 9, d)))
    assert np.allclose(np.linalg.norm(x, axis=-1), 1.0, atol=1e-4)


def _ncc_rows(x, y):
    x = x.reshape(len(x), -1)
    y = y.reshape(len(y), -1)
    x = x - x.mean(1, keepdims=True)
    y = y - y.mean(1, keepdims=True)
    return (x * y).sum(1) / (np.sqrt((x * x).sum(1) * (y * y).sum(1)) + 1e-6)


def _verify_one_view_at_a_time(thumbs_a, thumbs_b, inf_a, inf_b, pairs):
    """The motion check as a plain loop over (flip, side, zoom, anchor), one view per step."""
    ta, tb = sim._standardise(thumbs_a), sim._standardise(thumbs_b)
    bg_a, bg_b = np.median(ta[inf_a], axis=0), np.median(tb[inf_b], axis=0)
    xa, xb = ta[pairs[:, 0]], tb[pairs[:, 1]]
    best = None
    for flip in (False, True):
        yb = xb[:, :, ::-1] if flip else xb
        for side in (0, 1):
            for z in sim.ZOOMS:
                if side == 1 and z == 1.0:
                    continue
                corners = sim.CORNER_ANCHORS if z >= sim.CORNER_MIN_ZOOM else ()
                for at in sim.ANCHORS + corners if z > 1.0 else sim.ANCHORS:
                    x, y = (sim._zoom(xa, z, at), yb) if side == 0 else (xa, sim._zoom(yb, z, at))
                    score = float(np.median(_ncc_rows(x, y)))
                    if best is None or score > best[0]:
                        best = (score, flip, side, z, at)
    ncc, flip, side, z, at = best
    qa = xa - bg_a if side == 1 else sim._zoom(xa - bg_a, z, at)
    qb = (xb - bg_b)[:, :, ::-1] if flip else xb - bg_b
    qb = sim._zoom(qb, z, at) if side == 1 else qb
    resid = float((qa * qb).sum() / (np.sqrt((qa * qa).sum() * (qb * qb).sum()) + 1e-6))
    return resid, flip, ncc


@pytest.mark.parametrize("n", [5, 40, 300])  # 300 aligned pairs: over OpenCV's 128 channels
def test_batched_motion_check_picks_the_view_a_loop_over_views_picks(n):
    rng = np.random.default_rng(n)
    path = [(int(4 + 2 * i) % 24, int(3 * i) % 24) for i in range(n)]
    a = _thumbs(np.random.default_rng(3), n, path)
    zoomed = sim._zoom(sim._standardise(a), 1.25, (0.0, 1.0))  # a corner zoom of A, mirrored
    zoomed = (zoomed - zoomed.min()) / (zoomed.max() - zoomed.min()) * 255
    b = np.clip(zoomed[:, :, ::-1] + rng.integers(-8, 9, a.shape), 0, 255).astype(np.uint8)
    inf = np.ones(n, bool)
    pairs = np.stack([np.arange(n), rng.permutation(n)], 1)  # any order of pairs
    pairs[: n // 2, 1] = pairs[: n // 2, 0]
    got = sim.verify(a, b, inf, inf, pairs)
    resid, flip, ncc = _verify_one_view_at_a_time(a, b, inf, inf, pairs)
    assert got.flipped == flip
    assert got.ncc == pytest.approx(ncc, abs=1e-5)
    assert got.residual == pytest.approx(resid, abs=1e-5)


def _dense_aligned_conf(m, t_dst, pred, window):
    """Every destination frame compared with every predicted time (the plain definition)."""
    d = np.abs(t_dst[None, None, :] - pred[:, :, None])
    vals = np.where(d <= window, m[None], -1.0)
    idx = vals.argmax(axis=2)
    best = np.take_along_axis(vals, idx[..., None], axis=2)[..., 0]
    ok = best > -1.0
    return np.where(ok, best, 0.0), np.where(ok, idx, -1)


@pytest.mark.parametrize("seed", range(4))
def test_windowed_alignment_picks_what_comparing_every_frame_picks(seed):
    rng = np.random.default_rng(seed)
    for trial in range(150):
        na, nb = (int(x) for x in rng.integers(1, 60, 2))
        regular = trial % 3 != 0
        step = float(rng.choice([1.0, 0.5, 2.0, 1 / 29.97]))
        ta = (np.arange(na) * step + rng.uniform(0, 2)).astype(np.float32)
        tb = (
            (np.arange(nb) * step).astype(np.float32)
            if regular  # irregular: keyframe-nearest sampling of a long file
            else np.sort(rng.uniform(0, 60, nb)).astype(np.float32)
        )
        m = rng.uniform(0, 1, (na, nb)).astype(np.float32)
        if trial % 4 == 0:
            m = np.round(m, 1)  # ties: the first in time order wins
        pred = (
            float(rng.choice([0.67, 1.0, 1.25])) * ta[None, :]
            + np.round(rng.uniform(-30, 30, int(rng.integers(1, 40))), 2)[:, None]
        )
        if trial % 5 == 0:
            pred = np.round(pred * 4) / 4  # times exactly at a window's edge
        window = 0.75 * float(np.median(np.diff(tb))) if nb > 1 else 0.75
        got = sim._aligned_conf(m, ta, tb, pred, window)
        want = _dense_aligned_conf(m, tb, pred, window)
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_array_equal(got[1], want[1])
