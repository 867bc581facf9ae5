"""Explain one pair: the frame-to-frame similarity matrix and the alignment (the compare view).

Features come from the cache when the files are unchanged, else they are computed on the spot
(two files: a second or two).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from dedup_gui.core.analyse.embed import Embedder
from dedup_gui.core.analyse.features import extract_features
from dedup_gui.core.library.cache import FeatureCache
from dedup_gui.core.match import similarity as sim
from dedup_gui.core.match.matching import prepare_videos
from dedup_gui.core.match.refine import PairMatch, compare
from dedup_gui.core.options import ScanOptions
from dedup_gui.core.progress import NEVER_CANCELLED, NULL_PROGRESS, CancelToken
from dedup_gui.core.types import Probe, VideoFile


class PairUnavailable(Exception):
    """One of the files cannot be analysed (the message says why)."""


@dataclass(frozen=True, eq=False)
class PairDetails:
    """Everything the compare view shows about two files.

    Attributes:
        times_a: (na,) timestamps of A's sampled frames (all of them, blank ones included).
        times_b: (nb,) timestamps of B's sampled frames.
        informative_a: (na,) False for blank frames (never evidence).
        informative_b: (nb,) the same for B.
        matrix: (na, nb) frame similarity (0..1 match confidence); 0 where a frame is blank.
        aligned: (k, 2) frame index pairs (into the full arrays) on the matched time line.
        match: The refined pair (similarity, coverage, evidence, verification).
        probe_a: Stream facts of A.
        probe_b: Stream facts of B.
    """

    times_a: np.ndarray
    times_b: np.ndarray
    informative_a: np.ndarray
    informative_b: np.ndarray
    matrix: np.ndarray
    aligned: np.ndarray
    match: PairMatch
    probe_a: Probe
    probe_b: Probe


def _file(path: Path) -> VideoFile:
    st = path.stat()
    return VideoFile(path, st.st_size, st.st_mtime_ns, path.parent)


def pair_details(
    path_a: Path,
    path_b: Path,
    options: ScanOptions | None = None,
    embedder: Embedder | None = None,
    cache: FeatureCache | None = None,
    token: CancelToken = NEVER_CANCELLED,
) -> PairDetails:
    """Compute the compare-view data of two files.

    Raises:
        PairUnavailable: A file is gone or cannot be decoded.
        WeightsUnavailable: Features must be computed and no weights can be had.
    """
    opts = options or ScanOptions()
    embedder = embedder or Embedder(opts.model)
    own = cache is None
    cache = cache or (
        FeatureCache.open(opts.cache_dir) if opts.use_cache else FeatureCache.disabled()
    )
    try:
        try:
            files = [_file(Path(path_a)), _file(Path(path_b))]
        except OSError as exc:
            raise PairUnavailable(f"{exc.filename}: {exc.strerror}") from exc
        got, problems = extract_features(
            files, opts.replace(decode_workers=1), embedder, cache, NULL_PROGRESS, token, {}
        )
    finally:
        if own:
            cache.close()
    if problems and any(p.skipped for p in problems):
        p = next(p for p in problems if p.skipped)
        raise PairUnavailable(f"{p.path.name}: {p.reason}")
    (probe_a, fa), (probe_b, fb) = got[files[0].path], got[files[1].path]
    whitening = sim.fit_whitening(
        [fa.regions[fa.informative], fb.regions[fb.informative]],
        embedder.prior(opts.sampling.size),
    )
    (pa, pb), _ = prepare_videos([fa, fb], [probe_a.duration, probe_b.duration], whitening)
    match = compare(pa, pb, opts.match)
    raw = sim.frame_similarity(pa.regions, pb.regions)
    conf = sim.confidence(raw)
    full = np.zeros((fa.n_frames, fb.n_frames), np.float32)
    full[np.ix_(pa.frame_index, pb.frame_index)] = conf
    al = sim.align(conf, pa.times, pb.times, raw=raw)
    aligned = (
        np.stack([pa.frame_index[al.pairs[:, 0]], pb.frame_index[al.pairs[:, 1]]], axis=1)
        if len(al.pairs)
        else np.zeros((0, 2), int)
    )
    return PairDetails(
        times_a=fa.timestamps,
        times_b=fb.timestamps,
        informative_a=fa.informative,
        informative_b=fb.informative,
        matrix=full,
        aligned=aligned,
        match=match,
        probe_a=probe_a,
        probe_b=probe_b,
    )
