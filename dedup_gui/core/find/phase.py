"""Excerpts matched at the library video's own sampling moments (the phase look of find).

Videos are sampled about once a second, each uniformly over its own duration. A whole copy
samples the same moments as its original, but an excerpt cut at an arbitrary moment samples
moments up to half a step away from its source's. For most footage that does not matter, but
where the picture changes within the step (falling snow, rain, water, crowds, fast action)
the excerpt's frames are no closer to the source frames they belong with than to any other,
and even where the frame vectors still agree, the thumbnails that verify a match (what moves,
:func:`dedup_gui.core.match.similarity.verify`) do not: the alignment or the verification
fails and the excerpt is lost (docs/ACCURACY.md, "Find copies").

The phase look is for candidates that hold most of the query's frames but were not accepted
(:data:`PHASE_SHARE`, :data:`PHASE_BEST`): the query is decoded once more, densely
(:data:`DENSE_FPS`), and for each candidate the one time offset is sought at which the
query's dense frames best match the candidate's sampled frames. The query frames nearest to
the candidate's frames at that offset form a view of the query sampled at the candidate's
moments, which the ordinary matcher then compares and accepts or not. One number is fitted
per pair (the offset, not a frame per frame), so a look-alike gains little: with the rule
forced, every candidate of another length among the best eight of each of the dev set's 168
queries was looked at this way, and none that is not a copy was accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from types import TracebackType

import numpy as np

from dedup_gui.core.analyse.embed import Embedder
from dedup_gui.core.library.cache import FeatureCache
from dedup_gui.core.match.refine import Prepared
from dedup_gui.core.options import SamplingOptions
from dedup_gui.core.progress import NEVER_CANCELLED, CancelToken
from dedup_gui.core.scan.workers import DecodedVideo, DecodePool
from dedup_gui.core.types import VideoFeatures, VideoFile

# The dense sampling of the query: frames a second, and at most this many (a longer query is
# sampled less densely).
DENSE_FPS = 10.0
DENSE_MAX_FRAMES = 150
# Candidates looked at again per query: the best-ranked hits of another length that were not
# accepted, and that look like the same footage misaligned: this share of the query's frames
# has the candidate among its neighbours, one of them at least this close. On the partial-clip
# sets every true candidate left over had all of them, while 3 of the dev set's 168 queries
# have such a candidate (that none of them turns out to be a copy costs a dense decode).
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


class Resampler:
    """Dense features of a query (plain or mirrored), from the cache or computed once.

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
        self._key = f"{key}|dense={DENSE_FPS:g},{DENSE_MAX_FRAMES}"
        self._embedder = embedder
        self._cache = cache
        self._mirror = mirror
        self._token = token
        self._pool = DecodePool(decoder, dense, 1, timeout, token)
        self._last: tuple[VideoFile, DecodedVideo] | None = None

    def __enter__(self) -> Resampler:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._pool.close()

    def features(self, file: VideoFile, mirrored: bool = False) -> VideoFeatures | None:
        """Dense features of ``file`` (of its mirror image if ``mirrored``); None if unreadable."""
        key = self._key + ("|mirrored" if mirrored else "")
        hit = self._cache.get(file, key)
        if hit is not None:
            return hit[1]
        decoded = self._decode(file)
        if decoded is None:
            return None
        frames, thumbs = decoded.frames, decoded.thumbs
        if mirrored:
            frames = np.ascontiguousarray(frames[:, :, ::-1])
            thumbs = np.ascontiguousarray(thumbs[:, :, ::-1])
        regions, vectors = self._embedder.embed(frames, mirror=self._mirror, token=self._token)
        feats = VideoFeatures(
            timestamps=decoded.timestamps,
            vectors=vectors,
            regions=regions,
            thumbs=thumbs,
            informative=decoded.informative,
            crop=decoded.crop,
        )
        self._cache.put(file, key, decoded.probe, feats)
        return feats

    def _decode(self, file: VideoFile) -> DecodedVideo | None:
        if self._last is not None and self._last[0] == file:
            return self._last[1]
        for _, result in self._pool.imap([file]):
            if not isinstance(result, DecodedVideo):
                return None
            self._last = (file, result)
            return result
        return None
