"""Excerpts matched at the other video's own sampling moments (the phase look).

Videos are sampled about once a second, each uniformly over its own duration. A whole copy
samples the same moments as its original, but an excerpt cut at an arbitrary moment samples
moments up to half a step away from its source's. For most footage that does not matter, but
where the picture changes within the step (falling snow, rain, water, crowds, fast action)
the excerpt's frames are no closer to the source frames they belong with than to any other,
and even where the frame vectors still agree, the thumbnails that verify a match (what moves,
:func:`dedup_gui.core.match.similarity.verify`) do not: the alignment or the verification
fails and the excerpt is lost (docs/ACCURACY.md, "How two videos are compared").

The phase look is for pairs of clearly different lengths that hold most of one video's frames
but were not accepted (:data:`PHASE_SHARE`, :data:`PHASE_BEST`; a scan's pairs in
``matching._match_rephased``, a query's candidates in ``find.search.Searcher._rephased``):
the shorter video (the query, in find) is decoded once more, densely (:data:`DENSE_FPS`), and
the one time offset is sought at which its dense frames best match the other video's sampled
frames (:func:`aligned_frames`). Its frames nearest to the other's frames at that offset form
a view sampled at the other's moments, which the ordinary matcher then compares and accepts
or not (:func:`compare_at_moments`). One number is fitted per pair (the offset, not a frame
per frame), so a look-alike gains little: with find's rule forced, every candidate of another
length among the best eight of each of the dev set's 168 queries was looked at this way, and
none that is not a copy was accepted.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from dedup_gui.core.analyse.embed import Embedder
from dedup_gui.core.library.cache import FeatureCache
from dedup_gui.core.match import similarity
from dedup_gui.core.match.looks import SecondLook
from dedup_gui.core.match.refine import PairMatch, Prepared, compare, prepare_view
from dedup_gui.core.options import MatchOptions, SamplingOptions
from dedup_gui.core.progress import NEVER_CANCELLED, CancelToken
from dedup_gui.core.scan.workers import DecodedVideo
from dedup_gui.core.types import VideoFeatures, VideoFile

# The dense sampling: frames a second, and at most this many (a longer video is sampled less
# densely).
DENSE_FPS = 10.0
DENSE_MAX_FRAMES = 150
# Candidates looked at again (per query in find: the best-ranked hits of another length that
# were not accepted), those that look like the same footage misaligned: this share of the
# shorter video's frames has a close frame in the other (find: has it among its neighbours;
# a scan: the index's frame cover), one of them at least this close. On find's partial-clip
# draws every true candidate left over had both, while 3 of the dev set's 168 queries have
# such a candidate (that none of them turns out to be a copy costs a dense decode).
PHASE_CANDIDATES = 8
PHASE_SHARE = 0.6
PHASE_BEST = 0.65
# Candidate frames the query must span at the chosen offset, and the share of the shorter of
# the two that must overlap the other (an excerpt lies inside its source): without it, an
# offset that overlaps only a few frames at either end can score best by chance.
MIN_ALIGNED = 3
MIN_OVERLAP = 0.8
# Offsets this far apart are distinct places in the other video (see Alignment.margin). A fit
# whose margin is below AMBIGUOUS is fitted again on the other video's own dense frames: on
# the partial-clip sets the right cuts of snow excerpts won by 0.044-0.115, while a mirrored
# excerpt of a still snow scene fitted a place 6.5 s off by 0.014.
DISTINCT_OFFSET = 1.0
AMBIGUOUS = 0.05
# A fitted offset replaces the matcher's alignment when its playback speed is this close to 1.
SPEED_SLACK = 0.05


@dataclass(frozen=True, slots=True)
class Alignment:
    """The offset fitted between a dense view and another video (see :func:`aligned_frames`).

    Attributes:
        offset: Seconds, ``t_other = t_dense + offset``.
        frames: For each paired frame of the other video in order, the index of its dense
            frame (into the dense view's frames).
        score: The mean similarity of the pairs at ``offset``.
        margin: How much better ``offset`` scores than the best offset at least
            :data:`DISTINCT_OFFSET` seconds from it (infinite when there is none). Footage
            that looks the same throughout (a texture, a still scene) fits many offsets
            about equally: a small margin says the cut is not known from these frames.
    """

    offset: float
    frames: np.ndarray
    score: float
    margin: float


def aligned_frames(dense: Prepared, other: Prepared) -> Alignment | None:
    """The offset at which ``dense`` best matches ``other``, and the frames it picks.

    For each offset ``d`` (``t_other = t_dense + d``, in steps of half the dense sampling
    step), each of ``other``'s frames inside the query's span is paired with the dense frame
    nearest to its moment, and the offset scores the mean similarity of those pairs. Only
    offsets at which the shorter video lies (nearly) inside the other are tried
    (:data:`MIN_OVERLAP`). None when no offset pairs :data:`MIN_ALIGNED` frames.
    """
    td, to = dense.times.astype(np.float64), other.times.astype(np.float64)
    if len(td) < 2 or len(to) < MIN_ALIGNED:
        return None
    step = float(np.median(np.diff(td)))
    if step <= 0:
        return None
    sims = dense.vectors @ other.vectors.T  # (dense frames, other frames)
    offsets = np.arange(to[0] - td[-1], to[-1] - td[0] + step, step / 2)
    want = to[None, :] - offsets[:, None]  # (offsets, other frames): query moments wanted
    inside = (want >= td[0] - step / 2) & (want <= td[-1] + step / 2)
    right = np.clip(np.searchsorted(td, want), 0, len(td) - 1)
    left = np.clip(right - 1, 0, len(td) - 1)
    nearest = np.where(np.abs(td[left] - want) < np.abs(td[right] - want), left, right)
    paired = np.where(inside, sims[nearest, np.arange(len(to))[None, :]], 0.0)
    count = inside.sum(axis=1)
    overlap = np.minimum(td[-1] + offsets, to[-1]) - np.maximum(td[0] + offsets, to[0])
    shorter = min(td[-1] - td[0], to[-1] - to[0])
    fits = (count >= MIN_ALIGNED) & (overlap >= MIN_OVERLAP * shorter)
    score = np.where(fits, paired.sum(axis=1) / np.maximum(count, 1), -np.inf)
    best = int(np.argmax(score))
    if not np.isfinite(score[best]):
        return None
    far = np.abs(offsets - offsets[best]) >= DISTINCT_OFFSET
    runner_up = float(score[far].max()) if far.any() else -np.inf
    return Alignment(
        float(offsets[best]),
        nearest[best][inside[best]],
        float(score[best]),
        float(score[best] - runner_up),
    )


def at_offset(m: PairMatch, offset: float, dense_is_a: bool = True) -> PairMatch:
    """``m`` aligned at a fitted ``offset`` (``t_other = t_dense + offset``).

    The offset was fitted on dense frames, a tenth of a second apart; the matcher's own
    alignment sees the few frames of the view, and on footage that barely changes it can land
    a whole sampling step away (a 6 s excerpt of a still scene: 1.05 s late). The dense
    side's matched range stays; the other's follows the offset (a refit may have moved it).
    Not when the matcher found another playback speed, which the fit does not model.
    ``dense_is_a``: whether the dense view is the pair's ``a``.
    """
    ev_d, ev_o = (m.evidence_a, m.evidence_b) if dense_is_a else (m.evidence_b, m.evidence_a)
    # ev_d: the other seen from the dense view (reference: dense); ev_o: the reverse
    if abs(ev_o.speed - 1.0) > SPEED_SLACK:
        return m
    q = ev_d.ref_range
    at = (round(q[0] + offset, 3), round(q[1] + offset, 3))
    ev_d = replace(ev_d, offset=round(-offset, 3), speed=1.0, member_range=at)
    ev_o = replace(ev_o, offset=round(offset, 3), speed=1.0, ref_range=at, member_range=q)
    if dense_is_a:
        return replace(m, evidence_a=ev_d, evidence_b=ev_o)
    return replace(m, evidence_a=ev_o, evidence_b=ev_d)


def subset(f: VideoFeatures, frames: np.ndarray) -> VideoFeatures:
    """The features of ``frames`` (indices into ``f``'s frames, ascending in time)."""
    return VideoFeatures(
        timestamps=f.timestamps[frames],
        vectors=f.vectors[frames],
        regions=f.regions[frames],
        thumbs=f.thumbs[frames],
        informative=f.informative[frames],
        crop=f.crop,
    )


def weights_at(times: np.ndarray, sampled: Prepared) -> np.ndarray:
    """Evidence weights for frames at ``times``: those of the nearest sampled frames.

    The frames of a dense view carry the suppression of common footage (a shared intro) that
    the video's own sampled frames were given.
    """
    st = sampled.times
    if not len(st):
        return np.ones(len(times), np.float32)
    pos = np.searchsorted(st, times)
    left, right = np.clip(pos - 1, 0, len(st) - 1), np.clip(pos, 0, len(st) - 1)
    near = np.where(np.abs(st[left] - times) <= np.abs(st[right] - times), left, right)
    return sampled.weights[near].astype(np.float32)


def compare_at_moments(
    dense: VideoFeatures,
    dp: Prepared,
    other: Prepared,
    sampled: Prepared | None,
    whitening: similarity.Whitening,
    mo: MatchOptions,
) -> tuple[PairMatch, Alignment] | None:
    """The dense video's frames at ``other``'s moments, compared by the matcher.

    The dense video is the comparison's ``a`` when its index is the smaller one (as in a
    scan's pairs), else its ``b``.

    Args:
        dense: The dense features.
        dp: Their prepared view.
        other: The other video's view.
        sampled: The dense video's ordinary view, whose evidence weights (suppressed common
            footage) its frames take; None: full weight.
        whitening: The space both views are prepared in.
        mo: Match options (partial mode decides excerpts).

    Returns:
        The comparison and the fit (see :func:`at_offset` for aligning the first at the
        second); None when no offset fits.
    """
    fit = aligned_frames(dp, other)
    if fit is None:
        return None
    view = subset(dense, np.unique(dp.frame_index[fit.frames]))
    vp = prepare_view(dp.index, view, view.regions, view.thumbs, dp.duration, whitening)
    if sampled is not None:
        vp.weights[:] = weights_at(vp.times, sampled)
    first = vp.index <= other.index
    m = compare(vp, other, mo) if first else compare(other, vp, mo)
    return m, fit


def refit(
    dp: Prepared,
    resampler: Resampler,
    file: VideoFile,
    duration: float,
    whitening: similarity.Whitening,
    index: int,
    fit: Alignment,
) -> Alignment:
    """``fit`` again, on the other video's own dense frames (decoded once, cached).

    For a cut the other video's sampled frames do not pin down (:attr:`Alignment.margin`);
    the better-separated of the two fits is kept.
    """
    dense = resampler.features(file)
    if dense is None:
        return fit
    cp = prepare_view(index, dense, dense.regions, dense.thumbs, duration, whitening)
    again = aligned_frames(dp, cp)
    return again if again is not None and again.margin > fit.margin else fit


class Resampler(SecondLook):
    """Dense features of a video (plain or mirrored), from the cache or computed once.

    The last file decoded is kept, so its mirror image is embedded without decoding it again.
    Use as a context manager; the decoder process it may start is stopped on exit.
    """

    def __init__(
        self,
        key: str,
        decoder: str,
        sampling: SamplingOptions,
        timeout: float,
        embedder: Embedder,
        cache: FeatureCache,
        mirror: bool,
        token: CancelToken = NEVER_CANCELLED,
    ) -> None:
        dense = replace(sampling, fps=DENSE_FPS, max_frames=DENSE_MAX_FRAMES)
        key = f"{key}|dense={DENSE_FPS:g},{DENSE_MAX_FRAMES}"
        super().__init__(key, decoder, dense, timeout, embedder, cache, mirror, token)
        self._last: tuple[VideoFile, DecodedVideo] | None = None

    def features(self, file: VideoFile, mirrored: bool = False) -> VideoFeatures | None:
        """Dense features of ``file`` (of its mirror image if ``mirrored``); None if unreadable."""
        key = self._key + ("|mirrored" if mirrored else "")
        hit = self._cache.get(file, key)
        if hit is not None:
            return hit[1]
        started = time.perf_counter()
        if self._last is None or self._last[0] != file:
            decoded = self._decode(file)
            if decoded is None:
                return None
            self._last = (file, decoded)
        decoded = self._last[1]
        frames, thumbs = decoded.frames, decoded.thumbs
        if mirrored:
            frames = np.ascontiguousarray(frames[:, :, ::-1])
            thumbs = np.ascontiguousarray(thumbs[:, :, ::-1])
        feats = self._embed(decoded, frames, thumbs, decoded.crop)
        self._cache.put(file, key, decoded.probe, feats)
        self.computed += 1
        self.seconds += time.perf_counter() - started
        return feats
