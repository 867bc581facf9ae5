"""Refinement of one pair: early rejection gives the full decisions; how a pair is decided."""

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


def _pair(visual, motion, verified=True, excerpt=False, span=1.0):
    from dedup_gui.core.match.refine import MatchEvidence, PairMatch
    from dedup_gui.core.types import GroupKind

    ev = MatchEvidence(visual, GroupKind.NEAR_DUPLICATE)
    return PairMatch(
        0, 1, visual, visual, visual, ev, ev, verified, 0.0, 0.0,
        support_a=5, support_b=5, motion_evidence=motion, excerpt=excerpt,
        span_a=span, span_b=span,
    )  # fmt: skip


def test_weak_visual_and_motion_evidence_add_up_to_a_copy():
    # a picture blinded by a canvas, a zoom and heavy recompression, whose moving parts
    # still correlate: neither sign reaches the threshold alone, both together do
    threshold = MatchOptions().threshold
    visual, motion = 0.23, 0.27
    assert refine.MOTION_MIN_VISUAL <= visual < threshold and motion < threshold
    assert _pair(visual, motion).accepted(threshold, False)
    assert _pair(visual, motion).accepted(threshold, True)
    # the same pictures with nothing measurable moving, or failing verification: no copy
    assert not _pair(0.23, 0.0).accepted(threshold, False)
    assert not _pair(0.23, 0.27, verified=False).accepted(threshold, False)
    # either sign alone still decides, and combining never lowers a score
    assert _pair(threshold, 0.0).accepted(threshold, False)
    assert _pair(0.0, threshold).accepted(threshold, False)
    for v in np.linspace(0, 1, 11):
        for m in np.linspace(0, 1, 11):
            assert _pair(v, m).score(False) >= max(v, m) - 1e-9


def test_an_excerpt_is_decided_by_its_containment_and_its_motion():
    threshold = MatchOptions().threshold
    # found on under half of its frames with weak motion: a clip that shares a scene with a
    # compilation is not cut from it
    assert not _pair(0.45, 0.45, excerpt=True).accepted(threshold, True)
    assert _pair(refine.EXCERPT_COVER, 0.0, excerpt=True).accepted(threshold, True)
    assert _pair(threshold, refine.EXCERPT_MOTION, excerpt=True, span=0.3).accepted(threshold, True)
    # a heavily edited excerpt: its damaged frames are not found, the rest move along, from
    # its start to its end
    assert _pair(0.6, 0.3, excerpt=True).accepted(threshold, True)
    assert not _pair(0.6, 0.3, verified=False, excerpt=True).accepted(threshold, True)
    assert not _pair(0.6, 0.1, excerpt=True).accepted(threshold, True)
    # an excerpt of one long video that is 64% a clip another long video also holds, found
    # over that clip only and moving along there (the long-video set): not cut from the other
    assert not _pair(0.64, 0.44, excerpt=True, span=0.67).accepted(threshold, True)
    # motion never stands in for containment: too little of the clip found
    low = threshold - 2 * refine.EXCERPT_SLACK
    assert not _pair(low, 0.45, excerpt=True).accepted(threshold, True)
    # a stricter threshold asks for more of both
    assert not _pair(0.6, 0.3, excerpt=True).accepted(0.8, True)
    assert _pair(0.76, 0.85, excerpt=True).accepted(0.8, True)


@pytest.mark.parametrize("span", [0.3, 1.0])
def test_the_excerpt_rule_accepts_all_it_accepted_before_the_combined_evidence(span: float):
    # coverage EXCERPT_COVER, or the threshold's coverage with motion EXCERPT_MOTION
    grid = np.linspace(0, 1, 41)
    for t in (0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 0.9):
        for c in grid:
            for m in grid:
                was = c >= max(t, refine.EXCERPT_COVER) or (
                    c >= t and m >= max(t, refine.EXCERPT_MOTION)
                )
                if was:
                    assert _pair(c, m, excerpt=True, span=span).accepted(t, True), (t, c, m)


def test_the_span_is_the_matched_part_of_the_time_line():
    times = np.arange(10.0)
    assert refine._span(times, times < 6) == pytest.approx(5 / 9)
    assert refine._span(times, np.isin(times, [0.0, 9.0])) == pytest.approx(1.0)
    assert refine._span(times, np.zeros(10, bool)) == 0.0
    assert refine._span(times[:1], np.ones(1, bool)) == 1.0
