"""The phase look's offset fit (match.phase.aligned_frames) on vectors with a known answer."""

from __future__ import annotations

import numpy as np
import pytest

from dedup_gui.core.match import phase
from dedup_gui.core.match.refine import Prepared


def _view(times: np.ndarray, vectors: np.ndarray) -> Prepared:
    n = len(times)
    return Prepared(0, float(times[-1]) + 0.5, times.astype(np.float32), vectors[:, None],
                    vectors, np.ones(n, np.float32), np.zeros((n, 4, 4), np.uint8),
                    np.ones(n, bool), np.arange(n))  # fmt: skip


def _unit(rng: np.random.Generator, n: int, d: int = 64) -> np.ndarray:
    v = rng.standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@pytest.mark.parametrize("cut", [3.1, 7.4, 11.9])
def test_the_fitted_offset_is_where_the_query_was_cut(cut):
    """Footage whose every tenth of a second looks different: a source sampled once a
    second, a query sampled ten times a second from ``cut`` on; the fit recovers the cut to
    a dense step and pairs each source frame with the query frame at its moment."""
    rng = np.random.default_rng(int(cut * 100))
    moments = _unit(rng, 200)  # the footage, one picture per 0.1 s over 20 s
    source_t = np.arange(20) + 0.5
    source = _view(source_t, moments[np.round(source_t * 10).astype(int)])
    query_t = np.arange(60) / 10.0  # 6 s from the cut
    query = _view(query_t, moments[np.round((cut + query_t) * 10).astype(int)])

    fit = phase.aligned_frames(query, source)
    assert fit is not None
    offset, frames = fit.offset, fit.frames

    assert abs(offset - cut) <= 0.05
    inside = source_t[(source_t >= cut) & (source_t <= cut + 5.9)]
    assert len(frames) == len(inside)
    np.testing.assert_allclose(query_t[frames] + cut, inside, atol=0.051)


def test_an_offset_that_overlaps_only_a_few_frames_at_an_end_is_not_taken():
    """Three source frames that equal the query's last moments (a small overlap scoring best
    by chance) lose to the offset where the query lies inside the source."""
    rng = np.random.default_rng(5)
    moments = _unit(rng, 300)
    source_t = np.arange(30) + 0.5
    source_v = moments[np.round(source_t * 10).astype(int)].copy()
    query_t = np.arange(80) / 10.0
    noisy = moments[np.round((12.0 + query_t) * 10).astype(int)] + 0.6 * _unit(rng, 80)
    query_v = noisy / np.linalg.norm(noisy, axis=1, keepdims=True)  # cut at 12 s, not exact
    source_v[:3] = query_v[[59, 69, 79]]  # at offset -5.4 the source starts as the query ends

    fit = phase.aligned_frames(_view(query_t, query_v), _view(source_t, source_v))

    assert fit is not None and abs(fit.offset - 12.0) <= 0.05


def test_no_offset_when_the_videos_cannot_overlap_enough_frames():
    rng = np.random.default_rng(1)
    query = _view(np.arange(20) / 10.0, _unit(rng, 20))
    two = _view(np.array([0.5, 1.5]), _unit(rng, 2))
    assert phase.aligned_frames(query, two) is None
