"""The second looks' common part: one file decoded with its own sampling, embedded, cached.

The rotation look (turned features, :mod:`.rotation`), the zoom look (window views,
:mod:`.zoom`) and the phase look (dense features, :mod:`.phase`) each decode a candidate or a
query once more, differently from a scan, and keep what they embed in the feature cache under
the scan's key plus their own suffix. They share one decoder process each, started on first
use, and the accounting shown in a scan's stats.
"""

from __future__ import annotations

from types import TracebackType
from typing import Self

import numpy as np

from dedup_gui.core.analyse.embed import Embedder
from dedup_gui.core.library.cache import FeatureCache
from dedup_gui.core.options import SamplingOptions
from dedup_gui.core.progress import NEVER_CANCELLED, CancelToken
from dedup_gui.core.scan.workers import DecodedVideo, DecodePool
from dedup_gui.core.types import VideoFeatures, VideoFile


class SecondLook:
    """Decodes one file at a time with ``sampling`` and embeds frames made from it.

    Use as a context manager; the decoder process it may start is stopped on exit.

    Attributes:
        computed: Videos decoded and embedded (not found in the cache).
        seconds: Time spent computing them (decoder start, decode, forward passes).
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
        self._key = key
        self._embedder = embedder
        self._cache = cache
        self._mirror = mirror
        self._token = token
        self._pool = DecodePool(decoder, sampling, 1, timeout, token)
        self.computed = 0
        self.seconds = 0.0

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._pool.close()

    def prestart(self) -> None:
        """Start the decoder process now, while other work runs (about a second of imports)."""
        self._pool.start()

    def _decode(self, file: VideoFile) -> DecodedVideo | None:
        """``file`` decoded with this look's sampling; None if it cannot be read."""
        for _, result in self._pool.imap([file]):
            return result if isinstance(result, DecodedVideo) else None
        return None

    def _embed(
        self, decoded: DecodedVideo, frames: np.ndarray, thumbs: np.ndarray, crop: tuple
    ) -> VideoFeatures:
        """The features of ``frames`` (made from ``decoded``), with their thumbnails."""
        regions, vectors = self._embedder.embed(frames, mirror=self._mirror, token=self._token)
        return VideoFeatures(
            timestamps=decoded.timestamps,
            vectors=vectors,
            regions=regions,
            thumbs=thumbs,
            informative=decoded.informative,
            crop=crop,
        )
