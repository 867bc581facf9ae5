"""Rotated copies: a video turned by 90, 180 or 270 degrees (or flipped upside down).

Rotation metadata is honoured by the decoders; this module handles copies whose *pixels* were
turned (a sideways phone video "fixed" and saved again). Embedding every frame in four
orientations would quadruple the cost, so each video carries a few *probes*: frames embedded
turned by 90, 180 and 270 degrees. A probe that lands close to another video's frame makes a
rotated candidate pair; only then is the whole video turned and embedded (once, cached) and the
pair compared like any other. Upside-down copies are found as 180-degree turns, since the
features are mirror-invariant.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from types import TracebackType

import numpy as np

from dedup_gui.core.analyse.embed import ROTATIONS, Embedder
from dedup_gui.core.library.cache import FeatureCache
from dedup_gui.core.progress import NEVER_CANCELLED, CancelToken
from dedup_gui.core.scan.workers import DecodedVideo, DecodePool
from dedup_gui.core.types import VideoFeatures, VideoFile

log = logging.getLogger(__name__)

PROBES = 4
# Probes are embedded without mirror symmetrisation (half the cost); they only find candidates,
# the pair itself is then compared with fully (mirror-invariant) embedded turned frames.
PROBE_MIRROR = False
PROBE_KEY = f"rot={PROBES}{'m' if PROBE_MIRROR else 'p'}"
# A turned probe closer than this (whitened frame vectors) to another video's frame makes a
# rotated candidate pair; stricter than ordinary candidates, turned pictures rarely look alike.
PROBE_SIM = 0.6


def probe_indices(informative: np.ndarray, k: int = PROBES) -> np.ndarray:
    """Indices of ``k`` informative frames spread over the video."""
    idx = np.nonzero(informative)[0]
    if len(idx) <= k:
        return idx
    return idx[np.round(np.linspace(0, len(idx) - 1, k)).astype(int)]


def add_probes(
    feats: VideoFeatures,
    frames: np.ndarray,
    embedder: Embedder,
    token: CancelToken = NEVER_CANCELLED,
) -> VideoFeatures:
    """Embed the rotation probes of a video from its prepared frames."""
    idx = probe_indices(feats.informative)
    probes = embedder.embed_rotations(frames[idx], mirror=PROBE_MIRROR, token=token)
    return replace(feats, probes=probes, probe_index=idx.astype(np.int32))


def probe_candidates(
    probe_vectors: list[np.ndarray | None],
    vectors: list[np.ndarray],
    min_sim: float = PROBE_SIM,
) -> dict[tuple[int, int], tuple[float, int]]:
    """Rotated candidate pairs.

    Args:
        probe_vectors: Per video, (k, 3, d) whitened frame vectors of its turned probes, or None.
        vectors: Per video, (n, d) whitened frame vectors of its informative frames.
        min_sim: Similarity a turned probe needs.

    Returns:
        (turned video, other video) -> (best similarity, quarter turns).
    """
    import faiss

    sizes = [len(v) for v in vectors]
    if not sum(sizes):
        return {}
    owner = np.repeat(np.arange(len(vectors)), sizes)
    index = faiss.IndexFlatIP(vectors[0].shape[1] if vectors[0].ndim == 2 else 1)
    index.add(np.ascontiguousarray(np.concatenate(vectors).astype(np.float32)))
    out: dict[tuple[int, int], tuple[float, int]] = {}
    k = min(index.ntotal, 16)
    for v, probes in enumerate(probe_vectors):
        if probes is None or len(probes) == 0:
            continue
        q = np.ascontiguousarray(probes.reshape(-1, probes.shape[-1]).astype(np.float32))
        sims, ids = index.search(q, k)
        turns = np.tile(np.array(ROTATIONS), len(probes))
        for row in range(len(q)):
            for s, i in zip(sims[row], ids[row], strict=True):
                if i < 0 or s < min_sim or owner[i] == v:
                    continue
                key = (v, int(owner[i]))
                if key not in out or s > out[key][0]:
                    out[key] = (float(s), int(turns[row]))
    return out


def turn(decoded: DecodedVideo, k: int) -> DecodedVideo:
    """The same decoded video with every frame turned by ``k`` quarter turns."""
    return replace(
        decoded,
        frames=np.ascontiguousarray(np.rot90(decoded.frames, k, axes=(1, 2))),
        thumbs=np.ascontiguousarray(np.rot90(decoded.thumbs, k, axes=(1, 2))),
    )


class Rotator:
    """Supplies whole-video features of turned videos, from the cache or computed once.

    Use as a context manager; the decoder process it may start is stopped on exit.
    """

    def __init__(
        self,
        key: str,
        decoder: str,
        sampling,  # SamplingOptions
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

    def __enter__(self) -> Rotator:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._pool.close()

    def features(self, file: VideoFile, k: int) -> VideoFeatures | None:
        """Features of ``file`` turned by ``k`` quarter turns (None if it cannot be read)."""
        key = f"{self._key}|turn={k}"
        hit = self._cache.get(file, key)
        if hit is not None:
            return hit[1]
        for _, result in self._pool.imap([file]):
            if not isinstance(result, DecodedVideo):
                return None
            turned = turn(result, k)
            regions, vectors = self._embedder.embed(
                turned.frames, mirror=self._mirror, token=self._token
            )
            feats = VideoFeatures(
                timestamps=turned.timestamps,
                vectors=vectors,
                regions=regions,
                thumbs=turned.thumbs,
                informative=turned.informative,
                crop=turned.crop,
            )
            self._cache.put(file, key, result.probe, feats)
            self.computed += 1
            return feats
        return None
