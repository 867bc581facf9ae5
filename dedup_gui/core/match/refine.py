"""Refinement: the full similarity of one candidate pair, with its evidence."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dedup_gui.core.match import similarity as sim
from dedup_gui.core.match.cluster import durations_compatible
from dedup_gui.core.options import MatchOptions
from dedup_gui.core.types import GroupKind, MatchEvidence, VideoFeatures


@dataclass(frozen=True, eq=False)
class Prepared:
    """One video ready for matching: whitened vectors of its informative frames."""

    index: int
    duration: float
    times: np.ndarray  # (n,) informative frame times
    regions: np.ndarray  # (n, r, d) whitened
    vectors: np.ndarray  # (n, d) whitened frame vectors
    weights: np.ndarray  # (n,) evidence weight of each frame (suppression), 0..1
    thumbs: np.ndarray  # (N, t, t) all frames
    informative: np.ndarray  # (N,) mask
    frame_index: np.ndarray  # (n,) index of each informative frame among all N frames


def prepare_view(
    i: int,
    f: VideoFeatures,
    regions: np.ndarray,
    thumbs: np.ndarray,
    duration: float,
    whitening: sim.Whitening,
    weights: np.ndarray | None = None,
) -> Prepared:
    """Video ``i`` ready for refinement: whitened regions and vectors of informative frames."""
    idx = np.nonzero(f.informative)[0]
    reg = (
        whitening.apply(regions[idx]) if len(idx) else np.zeros((0, *regions.shape[1:]), np.float32)
    )
    vec = sim._l2(reg.mean(axis=1)) if len(idx) else np.zeros((0, regions.shape[-1]))
    return Prepared(
        index=i,
        duration=duration,
        times=f.timestamps[idx].astype(np.float32),
        regions=reg,
        vectors=vec.astype(np.float32),
        weights=np.ones(len(idx), np.float32) if weights is None else weights,
        thumbs=thumbs,
        informative=f.informative,
        frame_index=idx,
    )


# Frames of the longer video that must match for a partial (excerpt) match to count.
PARTIAL_SUPPORT = 2
# Motion evidence counts only where the pictures already agree this much: two long videos
# that share one clip move the same during it, and that alone is not a duplicate.
MOTION_MIN_VISUAL = 0.15
# Two videos of clearly different lengths (beyond the duration tolerance) can only be an
# excerpt and its source: the shorter one must be contained, this share of it found in the
# longer one, or it must move as the longer one does there (motion evidence) with at least the
# threshold's share found. A clip that shares one scene with another compilation is not cut
# from it.
EXCERPT_COVER = 0.7
EXCERPT_MOTION = 0.5
# ... or, found on nearly the threshold's share (EXCERPT_SLACK under it) from its start to its
# end (the matched frames span EXCERPT_SPAN of the clip's time line), its coverage and motion
# evidence add up, as independent signs, to what the threshold's coverage with EXCERPT_MOTION
# gives (``1 - (1 - cover)(1 - motion)``, 0.7 at the default threshold): a heavily edited
# excerpt loses frames all along to its edits. A clip that shares one scene with a longer
# video is found over that scene only (the long-video set's shared clips: spans 0.55-0.67),
# and stays apart.
EXCERPT_SLACK = 0.05
EXCERPT_SPAN = 0.85


@dataclass(frozen=True, slots=True)
class PairMatch:
    """A refined candidate pair (a < b)."""

    a: int
    b: int
    similarity: float  # full-duplicate similarity, 0..1
    coverage_a: float  # share of A's evidence matched in B
    coverage_b: float
    evidence_a: MatchEvidence  # B as seen from A (B is the member, A the reference)
    evidence_b: MatchEvidence  # A as seen from B
    verified: bool
    residual: float
    energy: float
    support_a: int = 0  # frames of B that match along the line (what A's coverage rests on)
    support_b: int = 0  # frames of A that match along the line
    motion_evidence: float | None = None  # set by compare (None: from residual and energy)
    excerpt: bool = False  # lengths too different for whole copies: only containment counts
    span_a: float = 1.0  # share of A's time line between its first and last matched frame
    span_b: float = 1.0

    def evidence_for(self, reference: int) -> MatchEvidence:
        """Evidence of the *other* file when ``reference`` is the group reference."""
        return self.evidence_a if reference == self.a else self.evidence_b

    @property
    def motion(self) -> float:
        """Motion evidence 0..1 (see :func:`dedup_gui.core.match.similarity.motion_score`)."""
        if self.motion_evidence is not None:
            return self.motion_evidence
        return sim.motion_score(self.residual, self.energy)

    def accepted(self, threshold: float, partial: bool) -> bool:
        """The duplicate decision: verified, and the deciding score reaches ``threshold``.

        For videos of clearly different lengths (:attr:`excerpt`) the shorter one must be
        contained: its coverage reaches :data:`EXCERPT_COVER`, or the threshold with motion
        evidence of :data:`EXCERPT_MOTION`; or it is found from its start to its end
        (:data:`EXCERPT_SPAN`) on nearly the threshold's share, and its coverage and motion
        evidence combined reach what the second rule's corner gives.
        """
        if not self.verified:
            return False
        if partial and self.excerpt:
            cover, span = self._containment
            need = _either(threshold, max(threshold, EXCERPT_MOTION))
            return (
                cover >= max(threshold, EXCERPT_COVER)
                or (cover >= threshold and self.motion >= max(threshold, EXCERPT_MOTION))
                or (
                    cover >= threshold - EXCERPT_SLACK
                    and span >= EXCERPT_SPAN
                    and _either(cover, self.motion) >= need - 1e-9
                )
            )
        return self.score(partial) >= threshold

    def score(self, partial: bool) -> float:
        """The deciding score: visual similarity and motion evidence, combined.

        The visual similarity is the full-duplicate one, or in partial mode the coverage of
        the shorter video. The two are independent signs of one copy, combined as either
        being right (``1 - (1 - visual) * (1 - motion)``): motion evidence alone decides for
        heavy visual edits of the same footage, and a picture blinded by a canvas, a zoom
        and heavy recompression (visual 0.2-0.3) whose moving parts still correlate (motion
        0.25) adds up to a copy. Motion evidence is 0 where too little moves to measure it,
        and no pair passes verification with a weak correlation of its moving parts, so an
        accepted pair always has the visual score alone or a real motion match behind it.
        Between an excerpt and its source (:attr:`excerpt`) only the coverage counts.
        """
        if partial and self.excerpt:
            return self.partial_score
        visual = max(self.similarity, self.partial_score) if partial else self.similarity
        return _either(visual, self.motion)

    @property
    def _containment(self) -> tuple[float, float]:
        """The :attr:`partial_score` and the time-line span of the side that gives it."""
        a = self.coverage_a if self.support_a >= PARTIAL_SUPPORT else 0.0
        b = self.coverage_b if self.support_b >= PARTIAL_SUPPORT else 0.0
        return (a, self.span_a) if a >= b else (b, self.span_b)

    @property
    def partial_score(self) -> float:
        """How much of the shorter video is found in the longer one.

        A coverage counts only when it rests on at least :data:`PARTIAL_SUPPORT` frames of
        the other video: a short, nearly still clip is otherwise "covered" by any single
        frame that resembles it.
        """
        return self._containment[0]


def _own_footage(v: Prepared, idx: np.ndarray) -> np.ndarray:
    """Which of the informative frames ``idx`` are not common footage (shared intros)."""
    return v.weights[idx] >= sim.MOTION_MIN_WEIGHT


def _background_mask(v: Prepared) -> np.ndarray:
    """Frames (of all N) that make the video's background: informative, not common."""
    own = v.frame_index[_own_footage(v, np.arange(len(v.frame_index)))]
    mask = np.zeros(len(v.informative), bool)
    mask[own if len(own) else v.frame_index] = True
    return mask


def _weighted_mean(values: np.ndarray, weights: np.ndarray) -> float:
    """Mean of ``values`` where common footage counts only by its weight.

    Normalised by the number of frames, not the weights: a video made mostly of footage that
    many unrelated videos share (an intro) cannot reach a high score on that footage alone.
    """
    return float((values * weights).sum() / len(values)) if len(values) else 0.0


def _either(p: float, q: float) -> float:
    """Two independent signs of one thing combined: the chance that either is right."""
    return 1.0 - (1.0 - p) * (1.0 - q)


def _span(times: np.ndarray, mask: np.ndarray) -> float:
    """The share of the time line of ``times`` between its first and last ``mask`` frame."""
    if not mask.any():
        return 0.0
    lo, hi = _range(times, mask)
    whole = float(times.max() - times.min())
    return (hi - lo) / whole if whole > 0 else 1.0


def _range(times: np.ndarray, mask: np.ndarray) -> tuple[float, float]:
    if not mask.any():
        return (0.0, 0.0)
    t = times[mask]
    return (float(t.min()), float(t.max()))


def hopeless_below(options: MatchOptions) -> float:
    """Visual scores below which a pair is rejected whatever its verification says.

    Under :data:`MOTION_MIN_VISUAL` motion evidence is not counted, and under the threshold
    the visual score does not accept: such a pair is neither aligned nor verified.
    """
    return min(options.threshold, MOTION_MIN_VISUAL)


def _rejected_early(va: Prepared, vb: Prepared, bound_a: float, bound_b: float) -> PairMatch:
    """A pair whose best possible coverages (``bound_*``) cannot reach :func:`hopeless_below`.

    Its similarity and coverages are those upper bounds, it is not verified and nothing of
    it matched.
    """

    def evidence(score: float, compared: int) -> MatchEvidence:
        return MatchEvidence(score=round(score, 4), kind=GroupKind.NEAR_DUPLICATE,
                             compared_frames=compared)  # fmt: skip

    similarity = 0.5 * (bound_a + bound_b)
    return PairMatch(
        a=va.index,
        b=vb.index,
        similarity=round(similarity, 4),
        coverage_a=round(bound_a, 4),
        coverage_b=round(bound_b, 4),
        evidence_a=evidence(similarity, len(vb.times)),
        evidence_b=evidence(similarity, len(va.times)),
        verified=False,
        residual=0.0,
        energy=0.0,
        motion_evidence=0.0,
        excerpt=False,
    )


def compare(va: Prepared, vb: Prepared, options: MatchOptions) -> PairMatch:
    """Score the pair (va, vb): chamfer matrix, alignment, coverage and verification.

    Most candidate pairs of a library are unrelated videos that share a frame or two. Every
    frame's aligned confidence is at most its best confidence anywhere, so the row and column
    maxima of the confidence matrix bound both coverages: a pair whose bounds stay under
    :func:`hopeless_below` is rejected at once, and one whose aligned coverages do is not
    verified. Both give the decisions a full comparison gives.
    """
    partial = options.partial
    if options.regions:
        m = sim.frame_similarity(va.regions, vb.regions)
    else:
        m = (va.vectors @ vb.vectors.T).astype(np.float32)
    conf = sim.confidence(m)
    cut = hopeless_below(options)
    if conf.size:
        bound_a = _weighted_mean(conf.max(axis=1), va.weights)
        bound_b = _weighted_mean(conf.max(axis=0), vb.weights)
    else:
        bound_a = bound_b = 0.0
    if max(bound_a, bound_b) < cut:
        return _rejected_early(va, vb, bound_a, bound_b)
    if options.temporal:
        al = sim.align(conf, va.times, vb.times, raw=m)
    else:
        al = sim.best_matches(conf)
    cov_a = _weighted_mean(al.conf_a, va.weights)
    cov_b = _weighted_mean(al.conf_b, vb.weights)
    similarity = 0.5 * (cov_a + cov_b)
    pairs_full = (
        np.stack([va.frame_index[al.pairs[:, 0]], vb.frame_index[al.pairs[:, 1]]], axis=1)
        if len(al.pairs)
        else np.zeros((0, 2), int)
    )
    checked = max(similarity, cov_a, cov_b) >= cut
    ver = (
        sim.verify(
            va.thumbs,
            vb.thumbs,
            _background_mask(va),
            _background_mask(vb),
            pairs_full[_own_footage(va, al.pairs[:, 0]) & _own_footage(vb, al.pairs[:, 1])]
            if len(al.pairs)
            else pairs_full,
        )
        if checked
        else sim.Verification(0.0, 0.0, 0.0, False, 0.0)
    )
    if not options.verify:
        ver = sim.Verification(ver.residual, ver.energy, -1.0, ver.flipped, ver.ncc)
    matched_a = al.conf_a >= sim.MATCHED
    matched_b = al.conf_b >= sim.MATCHED
    support_a, support_b = int(matched_b.sum()), int(matched_a.sum())
    # B is an excerpt of A (or A of B): its coverage clearly beats the overall similarity and
    # rests on more than one frame of the other video
    is_partial_ab = partial and cov_b > similarity + 0.15 and support_b >= PARTIAL_SUPPORT
    is_partial_ba = partial and cov_a > similarity + 0.15 and support_a >= PARTIAL_SUPPORT

    motion = sim.motion_score(ver.residual, ver.energy)
    if max(similarity, cov_a if is_partial_ba else 0.0, cov_b if is_partial_ab else 0.0) < (
        MOTION_MIN_VISUAL
    ):
        motion = 0.0  # motion confirms weak visual evidence, it never stands in for it

    def evidence(
        member_cov: float,
        member_matched: np.ndarray,
        member_times: np.ndarray,
        ref_matched: np.ndarray,
        ref_times: np.ndarray,
        offset: float,
        speed: float,
        member_partial: bool,
    ) -> MatchEvidence:
        score = max(member_cov if member_partial else similarity, motion)
        return MatchEvidence(
            score=round(float(score), 4),
            kind=GroupKind.PARTIAL if member_partial else GroupKind.NEAR_DUPLICATE,
            matched_frames=int(member_matched.sum()),
            compared_frames=len(member_matched),
            offset=round(offset, 3),
            ref_range=_range(ref_times, ref_matched),
            member_range=_range(member_times, member_matched),
            flipped=ver.flipped,
            speed=round(speed, 3),
        )

    # t_b = speed * t_a + offset: offset of B relative to A is `offset`; of A relative to B,
    # -offset / speed.
    ev_a = evidence(
        cov_b,
        matched_b,
        vb.times,
        matched_a,
        va.times,
        -al.offset / al.speed,
        1.0 / al.speed,
        is_partial_ab,
    )
    ev_b = evidence(
        cov_a, matched_a, va.times, matched_b, vb.times, al.offset, al.speed, is_partial_ba
    )
    return PairMatch(
        a=va.index,
        b=vb.index,
        similarity=round(similarity, 4),
        coverage_a=round(cov_a, 4),
        coverage_b=round(cov_b, 4),
        evidence_a=ev_a,
        evidence_b=ev_b,
        verified=checked and ver.passed,
        residual=round(ver.residual, 4),
        energy=round(ver.energy, 4),
        support_a=support_a,
        support_b=support_b,
        motion_evidence=round(motion, 4),
        excerpt=not durations_compatible(va.duration, vb.duration, options.duration_tolerance),
        span_a=round(_span(va.times, matched_a), 4),
        span_b=round(_span(vb.times, matched_b), 4),
    )
