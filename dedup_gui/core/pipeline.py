"""The scan pipeline: composes the stages, does no work of its own.

``scan(roots, options, progress, token) -> ScanResult`` is a plain blocking function: the CLI
calls it with a terminal progress bar, the GUI from a worker thread. The stages:

discover -> identical files -> features (decode + embed, cached) -> match (candidates,
clusters, refinement, groups).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from dedup_gui.core.analyse.embed import Embedder
from dedup_gui.core.analyse.features import extract_features, feature_key
from dedup_gui.core.index.library import Library, open_library
from dedup_gui.core.library.cache import FeatureCache
from dedup_gui.core.match import phase, rotation, zoom
from dedup_gui.core.match.grouping import Unit
from dedup_gui.core.match.matching import match
from dedup_gui.core.options import ScanOptions
from dedup_gui.core.progress import NEVER_CANCELLED, NULL_PROGRESS, Cancelled, CancelToken, Progress
from dedup_gui.core.scan.discovery import discover
from dedup_gui.core.scan.identical import find_identical
from dedup_gui.core.types import (
    DuplicateGroup,
    Probe,
    Problem,
    ScanResult,
    ScanStats,
    VideoFeatures,
    VideoFile,
    VideoInfo,
)

log = logging.getLogger(__name__)


@dataclass
class _Timer:
    seconds: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] = round(self.seconds.get(name, 0.0) + time.perf_counter() - start, 3)


def under_any(path: Path, roots: Iterable[Path]) -> bool:
    """Whether ``path`` lies inside one of ``roots``."""
    for root in roots:
        try:
            path.relative_to(root)
            return True
        except ValueError:
            continue
    return False


def scan(
    roots: Iterable[Path | str],
    options: ScanOptions | None = None,
    progress: Progress = NULL_PROGRESS,
    token: CancelToken = NEVER_CANCELLED,
    embedder: Embedder | None = None,
    cache: FeatureCache | None = None,
) -> ScanResult:
    """Scan ``roots`` for duplicate videos.

    Args:
        roots: Folders (or files) to scan.
        options: Scan options.
        progress: Receives weighted progress over the stages.
        token: Cancellation; a cancelled scan returns ``cancelled=True`` with no groups, and
            everything analysed so far stays in the cache.
        embedder: A loaded embedder to reuse between scans (built from options otherwise).
        cache: An open feature cache (opened from options otherwise, and closed at the end).

    Raises:
        WeightsUnavailable: No model weights can be had (the message says how to fix it).
    """
    opts = options or ScanOptions()
    root_paths = [Path(os.path.abspath(os.fspath(r))) for r in roots]
    ref_roots = [Path(os.path.abspath(os.fspath(r))) for r in opts.reference_roots]
    timer = _Timer()
    counts: dict[str, int] = {}
    problems: list[Problem] = []
    embedder = embedder or Embedder(opts.model)
    own_cache = cache is None
    if cache is None:
        cache = FeatureCache.open(opts.cache_dir) if opts.use_cache else FeatureCache.disabled()
    notices = list(cache.notices)
    library: Library | None = None
    infos: list[VideoInfo] = []
    groups: list[DuplicateGroup] = []
    cancelled = False
    try:
        progress.stage("discover")
        with timer.stage("discover"):
            found = discover(
                [*roots, *[r for r in ref_roots if r not in roots]], opts.discovery, progress, token
            )
        problems += found.problems
        files = list(found.files)
        counts["files"] = len(files)

        progress.stage("hash")
        with timer.stage("hash"):
            ident = find_identical(files, progress, token)
        problems += ident.problems
        copies_of: dict[Path, list[VideoFile]] = {}
        skip: set[Path] = set()
        for s in ident.sets:
            copies_of[s[0].path] = list(s[1:])
            skip.update(f.path for f in s[1:])
        reps = [f for f in files if f.path not in skip]
        counts["identical_sets"] = len(ident.sets)

        progress.stage("features")
        inner: dict[str, float] = {}
        with timer.stage("features"):
            analysed, feat_problems = extract_features(
                reps, opts, embedder, cache, progress, token, counts, inner
            )
        # inside the features stage: model preparation, forward passes, decoder processes
        timer.seconds.update({f"features.{k}": v for k, v in inner.items()})
        problems += feat_problems

        def info(f: VideoFile, probe: Probe | None) -> VideoInfo:
            return VideoInfo(
                f.path, f.size, f.mtime_ns, f.root, probe, under_any(f.path, ref_roots)
            )

        units: list[Unit] = []
        feats: list[VideoFeatures] = []
        for f in reps:
            if f.path not in analysed:
                continue
            probe, vf = analysed[f.path]
            if opts.min_duration and 0 < probe.duration < opts.min_duration:
                continue
            units.append(
                Unit(info(f, probe), tuple(info(c, probe) for c in copies_of.get(f.path, [])))
            )
            feats.append(vf)
        infos = [fi for u in units for fi in u.files]
        counts["videos"] = len(units)
        counts["frames"] = int(sum(f.n_frames for f in feats))

        progress.stage("match")
        # the persistent library index lives beside the feature cache (in memory without one)
        folder = cache.path.parent if cache.enabled and cache.path else None
        library = open_library(folder, feature_key(opts, embedder), opts.index)
        gone = library.prune(root_paths)
        counts["index_pruned"] = len(gone)
        with (
            timer.stage("match"),
            rotation.Rotator(
                feature_key(opts, embedder),
                opts.decoder,
                opts.sampling,
                opts.file_timeout,
                embedder,
                cache,
                opts.match.flip,
                token,
            ) as rotator,
            zoom.Zoomer(
                feature_key(opts, embedder),
                opts.decoder,
                opts.sampling,
                opts.file_timeout,
                embedder,
                cache,
                opts.match.flip,
                token,
            ) as zoomer,
            phase.Resampler(
                feature_key(opts, embedder),
                opts.decoder,
                opts.sampling,
                opts.file_timeout,
                embedder,
                cache,
                opts.match.flip,
                token,
            ) as resampler,
        ):
            if counts.get("decoded"):
                zoomer.prestart()  # new videos may bring near misses that need window views
            _, groups = match(
                units,
                feats,
                opts,
                embedder.prior(opts.sampling.size),
                progress,
                token,
                counts,
                rotator,
                zoomer=zoomer,
                resampler=resampler,
                library=library,
            )
        # inside the match stage: the library index's add, search and answer
        timer.seconds.update({f"match.{k}": round(v, 3) for k, v in library.seconds.items()})
        timer.seconds["match.zoom_views"] = round(zoomer.seconds, 3)
        timer.seconds["match.dense_views"] = round(resampler.seconds, 3)
        counts["groups"] = len(groups)
        counts["duplicates"] = sum(len(g.members) - 1 for g in groups)
    except Cancelled:
        cancelled = True
        groups = []
        log.info("scan cancelled")
    finally:
        if library is not None:
            library.close()
        if own_cache:
            cache.close()
        else:
            cache.commit()
    counts["problems"] = sum(1 for p in problems if p.skipped)
    counts["warnings"] = sum(1 for p in problems if not p.skipped)
    return ScanResult(
        groups=tuple(groups),
        problems=tuple(problems),
        files=tuple(infos),
        stats=ScanStats(counts=counts, seconds=timer.seconds),
        cancelled=cancelled,
        roots=tuple(root_paths),
        notices=tuple(notices),
    )
