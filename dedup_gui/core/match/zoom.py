"""Zoomed and cropped copies: a second look at near misses through windows of the picture.

A digitally zoomed copy (1.2-1.6x) or a copy cropped by 15-25% shows part of the picture,
enlarged: the network sees its objects bigger than in the original, and frame similarity falls
to where unrelated videos can also be. Embedding every video at several zooms would multiply
the cost of every scan, so only *near misses* get a second look: compared pairs whose score
came close to the threshold without reaching it. For such a pair the video with the wider view
is decoded again and embedded through a few windows (the centre at 80% and 65% of the picture,
the four corners at 80%), once per video and cached, and each window is compared with the
other video like an ordinary pair. A window that matches turns the pair into a duplicate.
Only whole copies get this look (similar durations, full-duplicate similarity near the
threshold): a zoom keeps the length of the video.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace

import cv2
import numpy as np

from dedup_gui.core.analyse.embed import Embedder, embed_many
from dedup_gui.core.library.cache import FeatureCache
from dedup_gui.core.match.looks import SecondLook
from dedup_gui.core.options import SamplingOptions
from dedup_gui.core.progress import NEVER_CANCELLED, CancelToken
from dedup_gui.core.scan.frames import thumbnail
from dedup_gui.core.scan.workers import DecodedVideo
from dedup_gui.core.types import VideoFeatures, VideoFile

log = logging.getLogger(__name__)

# (x anchor, y anchor, share of the picture's side) of each window.
WINDOWS: tuple[tuple[float, float, float], ...] = (
    (0.5, 0.5, 0.8),
    (0.5, 0.5, 0.65),
    (0.0, 0.0, 0.8),
    (1.0, 0.0, 0.8),
    (0.0, 1.0, 0.8),
    (1.0, 1.0, 0.8),
)
# Compared pairs that pass the motion check and score at least this (and under the threshold)
# get the second look: on the dev set, wrong pairs that pass verification score up to ~0.3.
NEAR_MISS = 0.28
# Frames of a video embedded through each window (spread over the video): the second look
# costs len(WINDOWS) * WINDOW_FRAMES forward passes per video at most.
WINDOW_FRAMES = 12
KEY = "zoom=c80c65k80-v1"


def window(frames: np.ndarray, win: tuple[float, float, float], size: int) -> np.ndarray:
    """The window ``win`` of each (n, s, s) frame, resized to ``size``."""
    ax, ay, share = win
    s = frames.shape[1]
    side = round(s * share)
    x0, y0 = round((s - side) * ax), round((s - side) * ay)
    return np.stack(
        [
            cv2.resize(
                f[y0 : y0 + side, x0 : x0 + side], (size, size), interpolation=cv2.INTER_AREA
            )
            for f in frames
        ]
    )


def _spread(decoded: DecodedVideo, n: int) -> DecodedVideo:
    """At most ``n`` of the video's frames, spread over it."""
    if len(decoded.timestamps) <= n:
        return decoded
    idx = np.unique(np.round(np.linspace(0, len(decoded.timestamps) - 1, n)).astype(int))
    return replace(
        decoded,
        timestamps=decoded.timestamps[idx],
        frames=decoded.frames[idx],
        thumbs=decoded.thumbs[idx],
        informative=decoded.informative[idx],
    )


class Zoomer(SecondLook):
    """Supplies the window views of a video, from the cache or computed once.

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
        # decoded larger, so that a window keeps the detail of the model input
        big = replace(sampling, size=round(sampling.size / min(w[2] for w in WINDOWS)))
        super().__init__(f"{key}|{KEY}", decoder, big, timeout, embedder, cache, mirror, token)
        self._size = sampling.size
        self._memo: dict[tuple[str, int, int], list[VideoFeatures] | None] = {}

    def views(self, file: VideoFile) -> list[VideoFeatures] | None:
        """The features of each window of ``file`` (None if it cannot be read)."""
        memo = (str(file.path), file.size, file.mtime_ns)
        if memo in self._memo:
            return self._memo[memo]
        keys = [f"{self._key}|w={i}" for i in range(len(WINDOWS))]
        hits = [self._cache.get(file, k) for k in keys]
        out: list[VideoFeatures] | None = None
        if all(h is not None for h in hits):
            out = [h[1] for h in hits if h is not None]
        else:
            start = time.perf_counter()
            decoded = self._decode(file)
            if decoded is not None:
                result = _spread(decoded, WINDOW_FRAMES)
                # every window's frames in one call: the inference streams stay busy
                shown = [window(result.frames, win, self._size) for win in WINDOWS]
                embedded = embed_many(self._embedder, shown, mirror=self._mirror, token=self._token)
                out = []
                for k, frames, (regions, vectors) in zip(keys, shown, embedded, strict=True):
                    feats = VideoFeatures(
                        timestamps=result.timestamps,
                        vectors=vectors,
                        regions=regions,
                        thumbs=np.stack([thumbnail(f) for f in frames]),
                        informative=result.informative,
                        crop=result.crop,
                    )
                    self._cache.put(file, k, result.probe, feats)
                    out.append(feats)
                self.computed += 1
            self.seconds += time.perf_counter() - start
        self._memo[memo] = out
        return out
