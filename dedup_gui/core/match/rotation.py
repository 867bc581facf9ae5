"""Rotated copies: a video turned by 90, 180 or 270 degrees (or flipped upside down).

Rotation metadata is honoured by the decoders; this module handles copies whose *pixels* were
turned (a sideways phone video "fixed" and saved again). Embedding every frame in four
orientations would quadruple the cost, so candidates come for free from what every video
already carries: its tiny grey thumbnails (the prepared frames at 32x32). A frame's
*signature* is the low-frequency block of the thumbnail's 2-D DCT (the idea behind pHash and
PDQ); a few *probe* frames of each video are turned by 90, 180 and 270 degrees (and mirrored)
and their signatures are searched against every frame of the other videos. Only when two or
more probes agree on a video and a turn is the whole video turned and embedded (once, cached)
and the pair compared like any other. The prepared frames are squares, so turning a copy's
frame is exactly turning the square. Upside-down copies are found as 180-degree turns, since
the embeddings are mirror-invariant.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from typing import Any

import numpy as np

from dedup_gui.core.analyse.embed import ROTATIONS
from dedup_gui.core.match.looks import SecondLook
from dedup_gui.core.scan.workers import DecodedVideo
from dedup_gui.core.types import VideoFeatures, VideoFile

log = logging.getLogger(__name__)

PROBES = 4
# Low-frequency DCT block of a 32x32 thumbnail (without the DC term): the signature.
DCT_BLOCK = 8
# A turned probe whose signature is this close (cosine) to another video's frame votes for
# a rotated pair; turned pictures of unrelated videos rarely come close.
PROBE_SIM = 0.92
# Votes (probes agreeing on one video and one turn) that make a rotated candidate.
MIN_VOTES = 2
PROBE_DIM = DCT_BLOCK * DCT_BLOCK - 1  # values in a signature
# A query's turned frames searched against the library's stored probes: the informative
# frames at and around the probes' places (a turned copy is a whole copy: its probes sit at
# the same share of its informative frames), this many either side; the probes each may hit.
QUERY_SLACK = 2
QUERY_NEIGHBOURS = 16
EXACT_PROBES = 50_000  # stored probe signatures searched exactly; above, an inverted index
PROBE_LISTS = 16  # lists of that index probed per turned frame


def probe_indices(informative: np.ndarray, k: int = PROBES) -> np.ndarray:
    """Indices of ``k`` informative frames spread over the video."""
    idx = np.nonzero(informative)[0]
    if len(idx) <= k:
        return idx
    return idx[np.round(np.linspace(0, len(idx) - 1, k)).astype(int)]


def signatures(thumbs: np.ndarray) -> np.ndarray:
    """(n, t, t) uint8 thumbnails -> (n, DCT_BLOCK**2 - 1) L2-normalised DCT signatures."""
    import cv2

    n = len(thumbs)
    out = np.zeros((n, DCT_BLOCK * DCT_BLOCK - 1), np.float32)
    for i, t in enumerate(thumbs):
        d = cv2.dct(t.astype(np.float32))[:DCT_BLOCK, :DCT_BLOCK].ravel()[1:]
        out[i] = d / (np.linalg.norm(d) + 1e-6)
    return out


def turned_signatures(thumbs: np.ndarray) -> np.ndarray:
    """(k, t, t) probe thumbnails -> (k, 3, 2, d): turned by ROTATIONS, plain and mirrored."""
    k = len(thumbs)
    out = np.zeros((k, len(ROTATIONS), 2, DCT_BLOCK * DCT_BLOCK - 1), np.float32)
    for r, quarter in enumerate(ROTATIONS):
        turned = np.rot90(thumbs, quarter, axes=(1, 2))
        out[:, r, 0] = signatures(turned)
        out[:, r, 1] = signatures(turned[:, :, ::-1])
    return out


def whole_thumbs(f: VideoFeatures) -> np.ndarray:
    """The thumbnails turned copies are compared on: the whole frame, borders removed.

    A canvas found in one orientation may not be found in the other, and turned copies are
    plain re-saves.
    """
    return f.thumbs if f.full_thumbs is None else f.full_thumbs


def query_frames(informative: np.ndarray, slack: int = QUERY_SLACK) -> np.ndarray:
    """Informative frames at and around the places of a video's probes (ascending)."""
    idx = np.nonzero(informative)[0]
    if len(idx) <= PROBES * (2 * slack + 1):
        return idx
    at = np.round(np.linspace(0, len(idx) - 1, PROBES)).astype(int)
    near = (at[:, None] + np.arange(-slack, slack + 1)[None, :]).ravel()
    return idx[np.unique(np.clip(near, 0, len(idx) - 1))]


def probe_signatures(f: VideoFeatures) -> np.ndarray:
    """(p, PROBE_DIM) signatures of a video's probe frames (what a library stores of it)."""
    return signatures(whole_thumbs(f)[probe_indices(f.informative)])


def probe_index(sigs: np.ndarray) -> Any:
    """A faiss inner-product index of stored probe signatures, for :func:`query_votes`.

    Exact up to :data:`EXACT_PROBES`; above, an inverted index. Probes close enough to vote
    (cosine >= 0.92) share a list or a neighbouring one, so a search probes a few lists; and
    few lists, as assigning the signatures is the cost of building it (0.3 s for 400,000 in
    210 lists on the benchmark machine), a search then probing a fifteenth of them.
    """
    import faiss

    sigs = np.ascontiguousarray(sigs, np.float32)
    if len(sigs) <= EXACT_PROBES:
        flat = faiss.IndexFlatIP(PROBE_DIM)
        if len(sigs):
            flat.add(sigs)
        return flat
    nlist = max(16, int(np.sqrt(len(sigs)) / 3))
    index = faiss.IndexIVFFlat(
        faiss.IndexFlatIP(PROBE_DIM), PROBE_DIM, nlist, faiss.METRIC_INNER_PRODUCT
    )
    index.cp.seed = 1
    rng = np.random.default_rng(1)
    index.train(sigs[rng.choice(len(sigs), min(len(sigs), 40 * nlist), replace=False)])
    index.add(sigs)
    index.nprobe = PROBE_LISTS
    return index


def query_votes(
    index: Any, owner: np.ndarray, f: VideoFeatures, skip: np.ndarray | None = None
) -> dict[int, int]:
    """Library videos that show the query turned, from the library's stored probes.

    The query's frames around its own probe places (:func:`query_frames`) are turned and
    mirrored and searched against ``index``, which holds the probe signatures of every library
    video (``owner``: the library video of each row, -1 for none). A video needs
    :data:`MIN_VOTES` of its own probes (fewer when it has fewer) hit under one turn.

    Args:
        index: A faiss inner-product index of probe signatures.
        owner: (index.ntotal,) int64 library video of each row.
        f: The query's features.
        skip: (n_videos,) bool: library videos to leave out (the query's own file, copies
            already found), or None.

    Returns:
        Library video -> quarter turns of the query that show it.
    """
    idx = query_frames(f.informative)
    if not len(idx) or not index.ntotal:
        return {}
    turned = turned_signatures(whole_thumbs(f)[idx])  # (m, 3, 2, d)
    per_frame = turned.shape[1] * turned.shape[2]
    q = np.ascontiguousarray(turned.reshape(-1, turned.shape[-1]))
    sims, ids = index.search(q, min(index.ntotal, QUERY_NEIGHBOURS))
    turn = np.asarray(ROTATIONS, np.int64)[(np.arange(len(q)) % per_frame) // 2]
    rows = np.repeat(np.arange(len(q)), sims.shape[1])
    ids, sims = ids.ravel(), sims.ravel()
    ok = ids >= 0
    u = np.full(len(ids), -1, np.int64)
    u[ok] = owner[ids[ok]]
    ok &= (u >= 0) & (sims >= PROBE_SIM)
    if skip is not None and len(skip):
        ok[ok] = ~skip[u[ok]]
    if not ok.any():
        return {}
    u, k, j, s = u[ok], turn[rows[ok]], ids[ok].astype(np.int64), sims[ok]
    counts = np.bincount(owner[owner >= 0], minlength=int(u.max()) + 1)
    key = u * 4 + k
    # distinct probes of each (video, turn); the best similarity of each
    pair = np.unique(np.stack([key, j]), axis=1)
    votes = np.bincount(np.searchsorted(np.unique(key), pair[0]), minlength=len(np.unique(key)))
    keys = np.unique(key)
    best = np.full(len(keys), -1.0)
    np.maximum.at(best, np.searchsorted(keys, key), s)
    out: dict[int, tuple[float, int]] = {}
    for kk, n, b in zip(keys.tolist(), votes.tolist(), best.tolist(), strict=True):
        video, quarters = kk // 4, kk % 4
        if n < min(MIN_VOTES, int(counts[video])):
            continue
        if video not in out or b > out[video][0]:
            out[video] = (b, quarters)
    return {v: q for v, (_, q) in out.items()}


def probe_candidates(
    feats: list[VideoFeatures], min_sim: float = PROBE_SIM, min_votes: int = MIN_VOTES
) -> dict[tuple[int, int], tuple[float, int]]:
    """Rotated candidate pairs from the thumbnails of every video.

    Args:
        feats: Per video, its features (thumbnails and informative mask are used).
        min_sim: Signature similarity a turned probe needs.
        min_votes: Probes that must agree (fewer when a video has fewer probes).

    Returns:
        (turned video, other video) -> (best similarity, quarter turns).
    """
    import faiss

    thumbs = [whole_thumbs(f) for f in feats]
    sigs = [signatures(t[f.informative]) for t, f in zip(thumbs, feats, strict=True)]
    sizes = [len(s) for s in sigs]
    if not sum(sizes):
        return {}
    owner = np.repeat(np.arange(len(sigs)), sizes)
    index = faiss.IndexFlatIP(sigs[0].shape[1] if sigs[0].ndim == 2 else 1)
    index.add(np.ascontiguousarray(np.concatenate(sigs)))
    k = min(index.ntotal, 8)
    votes: dict[tuple[int, int, int], set[int]] = {}
    best: dict[tuple[int, int, int], float] = {}
    need: dict[int, int] = {}
    for v, f in enumerate(feats):
        idx = probe_indices(f.informative)
        if not len(idx):
            continue
        need[v] = min(min_votes, len(idx))
        turned = turned_signatures(thumbs[v][idx])  # (p, 3, 2, d)
        q = np.ascontiguousarray(turned.reshape(-1, turned.shape[-1]))
        sims, ids = index.search(q, k)
        per_probe = turned.shape[1] * turned.shape[2]
        for row in range(len(q)):
            probe, turn = row // per_probe, ROTATIONS[(row % per_probe) // 2]
            for s, i in zip(sims[row], ids[row], strict=True):
                if i < 0 or s < min_sim or owner[i] == v:
                    continue
                key = (v, int(owner[i]), turn)
                votes.setdefault(key, set()).add(probe)
                best[key] = max(best.get(key, -1.0), float(s))
    out: dict[tuple[int, int], tuple[float, int]] = {}
    for (v, u, turn), probes in votes.items():
        if len(probes) < need[v]:
            continue
        if (v, u) not in out or best[(v, u, turn)] > out[(v, u)][0]:
            out[(v, u)] = (best[(v, u, turn)], turn)
    return out


def turn(decoded: DecodedVideo, k: int, mirrored: bool = False) -> DecodedVideo:
    """The whole frames (borders removed) of a decoded video, turned by ``k`` quarter turns.

    ``mirrored``: mirrored left to right first.
    """
    frames = decoded.frames if decoded.full_frames is None else decoded.full_frames
    thumbs = decoded.thumbs if decoded.full_thumbs is None else decoded.full_thumbs
    if mirrored:
        frames, thumbs = frames[:, :, ::-1], thumbs[:, :, ::-1]
    return replace(
        decoded,
        frames=np.ascontiguousarray(np.rot90(frames, k, axes=(1, 2))),
        thumbs=np.ascontiguousarray(np.rot90(thumbs, k, axes=(1, 2))),
        crop=decoded.crop if decoded.full_crop is None else decoded.full_crop,
        full_frames=None,
        full_thumbs=None,
        full_crop=None,
    )


class Rotator(SecondLook):
    """Supplies whole-video features of turned videos, from the cache or computed once.

    Use as a context manager; the decoder process it may start is stopped on exit.
    """

    def features(self, file: VideoFile, k: int, mirrored: bool = False) -> VideoFeatures | None:
        """Features of ``file`` turned by ``k`` quarter turns (None if it cannot be read).

        ``mirrored``: of its mirror image (turned after mirroring).
        """
        key = f"{self._key}|turn={k}" + ("|mirrored" if mirrored else "")
        hit = self._cache.get(file, key)
        if hit is not None:
            return hit[1]
        started = time.perf_counter()
        decoded = self._decode(file)
        if decoded is None:
            return None
        turned = turn(decoded, k, mirrored)
        feats = self._embed(turned, turned.frames, turned.thumbs, turned.crop)
        self._cache.put(file, key, decoded.probe, feats)
        self.computed += 1
        self.seconds += time.perf_counter() - started
        return feats
