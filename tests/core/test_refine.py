"""Refinement of one pair: early rejection of hopeless pairs gives the full decisions."""

import numpy as np
import pytest

from dedup_gui.core.match import refine
from dedup_gui.core.match.refine import Prepared, compare
from dedup_gui.core.options import MatchOptions


def _video(index, regions, rng, times=None, thumbs=None):
    n = len(regions)
    t = np.arange(n, dtype=np.float32) + 0.5 if times is None else times
    if thumbs is None:
        thumbs = rng.integers(0, 255, (n, 32, 32)).astype(np.uint8)
    vec = regions.mean(axis=1)
    return Prepared(
        index=index,
        duration=float(n),
        times=t,
        regions=regions,
        vectors=vec / np.linalg.norm(vec, axis=1, keepdims=True),
        weights=np.ones(n, np.float32),
        thumbs=thumbs,
        informative=np.ones(n, bool),
        frame_index=np.arange(n),
    )


def _unit(x):
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def _pairs(rng):
    """An unrelated pair, one sharing two frames, a copy, and an excerpt."""
    base = _unit(rng.standard_normal((20, 9, 64)))
    other = _unit(rng.standard_normal((20, 9, 64)))
    sharing = other.copy()
    sharing[5:7] = base[5:7]
    copy = _unit(base + 0.15 * rng.standard_normal(base.shape))
    excerpt = _unit(base[8:14] + 0.1 * rng.standard_normal((6, 9, 64)))
    a = _video(0, base, rng)
    return [
        (a, _video(1, other, rng)),
        (a, _video(2, sharing, rng)),
        (a, _video(3, copy, rng, thumbs=a.thumbs)),  # it moves as A does
        (a, _video(4, excerpt, rng, np.arange(6, dtype=np.float32) + 8.5, a.thumbs[8:14])),
    ]


@pytest.mark.parametrize("partial", [False, True])
def test_early_rejection_gives_the_decisions_of_a_full_comparison(monkeypatch, partial):
    rng = np.random.default_rng(4)
    opts = MatchOptions(partial=partial)
    pairs = _pairs(rng)
    quick = [compare(x, y, opts) for x, y in pairs]
    monkeypatch.setattr(refine, "hopeless_below", lambda options: -1.0)  # never skip
    full = [compare(x, y, opts) for x, y in pairs]
    for q, f in zip(quick, full, strict=True):
        assert q.accepted(opts.threshold, partial) == f.accepted(opts.threshold, partial)
        assert q.score(partial) < opts.threshold or q == f
    # the unrelated pair is rejected before alignment, with upper bounds of its scores
    assert not quick[0].verified
    assert quick[0].similarity >= full[0].similarity
    assert quick[0].similarity < refine.MOTION_MIN_VISUAL
    assert quick[2].accepted(opts.threshold, partial)  # the copy is found
    if partial:
        assert quick[3].accepted(opts.threshold, partial)  # and the excerpt
