"""The time gate: copies line up in time, look-alikes do not."""

from __future__ import annotations

import numpy as np
import pytest

from dedup_gui.core.match import coherence


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _footage(seconds: float, seed: int = 0, scene: float = 4.0, dim: int = 64):
    """content(t): one random direction per ``scene`` seconds (a clip of cuts), unit vectors."""
    scenes = np.random.default_rng(seed).standard_normal((int(seconds // scene) + 2, dim))

    def at(times: np.ndarray, noise: float = 0.15, seed: int = 1) -> np.ndarray:
        v = scenes[(np.asarray(times) // scene).astype(int)]
        jitter = np.random.default_rng(seed).standard_normal(v.shape) * noise
        return _unit(v / np.sqrt(dim) * 8 + jitter)

    return at


def _frames(vectors: np.ndarray, times: np.ndarray) -> coherence.Frames:
    return vectors[None], np.asarray(times, np.float64)


def test_a_copy_lines_up_and_its_shuffled_frames_do_not():
    at = _footage(60)
    t = np.arange(60.0)
    a = _frames(at(t), t)
    copy = _frames(at(t, seed=2), t)
    assert coherence.aligned_shares(a, copy) == [pytest.approx(1.0), pytest.approx(1.0)]
    # sampled at other moments (another frame rate, a trimmed start): offsets spread over a bin
    jittered = t + np.random.default_rng(7).uniform(-0.45, 0.45, len(t))
    resampled = _frames(at(jittered, seed=2), jittered)
    assert min(coherence.aligned_shares(a, resampled)) >= 0.9
    # the same frames in another order: every frame has its twin, at no common offset
    order = np.random.default_rng(3).permutation(60)
    shuffled = _frames(at(t, seed=2)[order], t)
    assert max(coherence.aligned_shares(a, shuffled)) < 0.3


@pytest.mark.parametrize("speed", [1.0 / 1.1, 1.1, 1.25])
def test_a_faster_or_slower_copy_lines_up(speed: float):
    at = _footage(60)
    t = np.arange(60.0)
    ta = np.arange(0.0, 60.0 / speed)  # the copy plays the same footage in 60 / speed s
    shares = coherence.aligned_shares(_frames(at(t), t), _frames(at(ta * speed, seed=2), ta))
    assert shares[1] >= coherence.ALIGNED_SHARE[1]


def test_an_excerpt_of_a_long_sparsely_sampled_video_lines_up():
    # a 10-minute source sampled at 90 frames (one every 6.7 s), a 30 s excerpt at 1 fps
    at = _footage(600, scene=10.0)
    t_long = np.linspace(0, 600, 90, endpoint=False)
    t_ex = np.arange(30.0)
    long = _frames(at(t_long), t_long)
    excerpt = _frames(at(300.0 + t_ex, seed=2), t_ex)
    assert coherence.aligned_shares(long, excerpt)[1] >= coherence.ALIGNED_SHARE[1]
    assert coherence.aligned_shares(excerpt, long)[1] >= coherence.ALIGNED_SHARE[1]


def test_look_alike_footage_and_a_shared_corner_stay_out():
    at = _footage(60)
    t = np.arange(60.0)
    a = _frames(at(t), t)
    # another clip that cuts between the same scenes in another order (same place, other day)
    other = _footage(60, seed=0)
    order = np.random.default_rng(9).permutation(16)
    remix = _frames(other((order[(t // 4).astype(int)] * 4.0), seed=5), t)
    assert coherence.aligned_shares(a, remix)[1] < coherence.ALIGNED_SHARE[1]
    # the last 8 s of A open B, and B goes on with 52 s of its own: an overlap of a corner
    own = _footage(60, seed=11)(np.arange(52.0))
    corner = _frames(np.concatenate([at(np.arange(52.0, 60.0), seed=2), own]), t)
    assert coherence.aligned_shares(a, corner)[1] < coherence.ALIGNED_SHARE[1]


@pytest.mark.parametrize(("damaged", "goes_on"), [(0.44, True), (0.62, False)])
def test_a_copy_with_many_damaged_frames_goes_on_while_they_stay_under_half(
    damaged: float, goes_on: bool
):
    # heavy recompression under a big watermark: the damaged frames match nothing, the rest
    # still match at the one offset (shares 0.5-0.58 at 0.5 went on only after the relaxation)
    at = _footage(50)
    t = np.arange(50.0)
    copy = at(t, seed=2)
    lost = np.random.default_rng(5).choice(50, round(damaged * 50), replace=False)
    copy[lost] = _unit(np.random.default_rng(6).standard_normal((len(lost), copy.shape[1])))
    a, b = _frames(at(t), t), _frames(copy, t)
    share = coherence.aligned_shares(a, b)[1]
    assert share == pytest.approx(1.0 - damaged, abs=0.03)
    assert coherence.aligned(a, b) is goes_on


def test_a_second_view_counts_and_empty_videos_share_nothing():
    at = _footage(30)
    t = np.arange(30.0)
    noise = _unit(np.random.default_rng(4).standard_normal((30, 64)))
    # the copy's picture sits in a canvas: its first view (the whole frame) matches nothing
    two_views = (np.stack([noise, at(t, seed=2)]), t)
    assert coherence.aligned_shares(_frames(at(t), t), two_views)[1] == pytest.approx(1.0)
    empty = (np.zeros((1, 0, 64), np.float32), np.zeros(0))
    assert coherence.aligned_shares(empty, two_views) == [0.0, 0.0]


def test_aligned_pairs_keeps_the_copies_and_counts_the_rest():
    at = _footage(40)
    t = np.arange(40.0)
    videos = {
        0: _frames(at(t), t),
        1: _frames(at(t, seed=2), t),  # a copy of 0
        2: _frames(at(t, seed=3)[np.random.default_rng(1).permutation(40)], t),  # shuffled
    }
    asked: list[int] = []

    def frames_of(i: int) -> coherence.Frames:
        asked.append(i)
        return videos[i]

    pairs = {(0, 1): (5, 0.9), (0, 2): (5, 0.9), (1, 2): (5, 0.9)}
    counts: dict[str, int] = {}
    kept = coherence.aligned_pairs(pairs, frames_of, counts)
    assert kept == {(0, 1): (5, 0.9)}
    assert counts["unaligned_pairs"] == 2
    assert sorted(asked) == [0, 1, 2]  # each video's frames made once


def test_the_gate_decides_as_its_shares_say():
    at = _footage(40)
    t = np.arange(40.0)
    rng = np.random.default_rng(0)
    a = _frames(at(t), t)
    for trial in range(12):
        n = int(rng.integers(5, 40))
        keep = np.sort(rng.choice(40, n, replace=False))
        start = float(rng.uniform(0, 10))
        b = _frames(at(t[keep] + start * (trial % 2), seed=trial + 2), t[keep])
        shares = coherence.aligned_shares(a, b)
        expected = any(s >= need for s, need in zip(shares, coherence.ALIGNED_SHARE, strict=True))
        assert coherence.aligned(a, b) == expected


def test_a_cancelled_scan_stops_in_the_gate():
    from dedup_gui.core.progress import Cancelled, CancelToken

    at = _footage(10)
    t = np.arange(10.0)
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        coherence.aligned_pairs({(0, 1): (1, 0.9)}, lambda i: _frames(at(t), t), token=token)
