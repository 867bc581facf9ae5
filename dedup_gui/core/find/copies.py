"""``find_copies``: the copies of one video (or clip) across the analysed library.

The values it returns are in :mod:`.results`, the search of one query in :mod:`.search`.

Each query file is analysed like any scanned file (through the feature cache, so a file of the
library costs nothing), its frame vectors are searched in the :class:`LibrarySearch`, the
library videos it hits are ranked by how many query frames they hold, and the best candidates
are refined exactly like a scan refines a pair (:func:`~dedup_gui.core.match.views.
compare_views`, partial mode on, mirrored copies included). Copies whose picture is turned are
found from turned probe thumbnails (:mod:`dedup_gui.core.match.rotation`); byte-identical files
that a scan never analysed (it analyses one file of each identical set) by hashing same-sized
files next to the library's.

A library with nothing analysed under the chosen roots is not an empty answer: the result's
status is :attr:`FindStatus.NOT_SCANNED`, and the front ends offer to scan it.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np

from dedup_gui.core.analyse.embed import Embedder
from dedup_gui.core.analyse.features import extract_features, feature_key
from dedup_gui.core.errors import IndexUnavailable
from dedup_gui.core.find.indexed import IndexedLibrary
from dedup_gui.core.find.library import Library, LibrarySearch
from dedup_gui.core.find.results import (
    KIND_HELP,
    NOT_SCANNED_MESSAGE,
    CopyKind,
    FindResult,
    FindStatus,
    FoundCopy,
    QueryCopies,
)
from dedup_gui.core.find.search import Searcher
from dedup_gui.core.index.library import INDEX_VERSION, ledger_path, open_library
from dedup_gui.core.library.cache import FeatureCache
from dedup_gui.core.match.matching import index_space
from dedup_gui.core.options import ScanOptions
from dedup_gui.core.progress import NEVER_CANCELLED, NULL_PROGRESS, Cancelled, CancelToken, Progress
from dedup_gui.core.scan.discovery import discover
from dedup_gui.core.types import Problem

__all__ = [
    "FIND_WEIGHTS",
    "KIND_HELP",
    "NOT_SCANNED_MESSAGE",
    "CopyKind",
    "FindResult",
    "FindStatus",
    "FoundCopy",
    "QueryCopies",
    "find_copies",
    "gather_library",
]

log = logging.getLogger(__name__)

FIND_WEIGHTS = {"discover": 0.02, "library": 0.08, "model": 0.0, "features": 0.6, "search": 0.3}


def gather_library(
    options: ScanOptions,
    cache: FeatureCache,
    embedder: Embedder,
    roots: Iterable[Path] | None = None,
) -> Library:
    """The library :func:`find_copies` searches: what scans analysed under ``roots`` (or all).

    The persistent library index when the scans kept one for these settings (opening it
    reads its ledger's rows only), else the analysed videos gathered from the feature cache
    (:class:`LibrarySearch`). Gathered once, it can be passed to several searches
    (``library=``) until a scan or a file action changes the library; the caller closes it.
    """
    key = feature_key(options, embedder)
    wanted = [Path(os.path.abspath(os.fspath(r))) for r in roots] if roots is not None else None
    prior = embedder.prior(options.sampling.size)
    indexed = _indexed(options, cache, key, prior, wanted)
    if indexed is not None:
        return indexed
    return LibrarySearch.from_cache(
        cache,
        key,
        wanted,
        prior,
        options.match.whiten,
        options.min_duration,
        options.match.suppress_common,
        options.discovery.extensions,
    )


def _indexed(
    options: ScanOptions,
    cache: FeatureCache,
    key: str,
    prior: tuple[np.ndarray, np.ndarray] | None,
    roots: list[Path] | None,
) -> IndexedLibrary | None:
    """The library index of ``key`` when one exists in the vector space of these options."""
    if not (cache.enabled and cache.path and options.match.whiten and prior is not None):
        return None
    folder = cache.path.parent
    if not ledger_path(folder, key, options.index).exists():
        return None
    try:
        ledger = open_library(folder, key, options.index)
    except (IndexUnavailable, sqlite3.Error, OSError) as exc:
        log.warning("library index unusable (%s); gathering from the feature cache", exc)
        return None
    space, fixed = index_space(prior, [])
    meta = ledger.meta()
    if meta.get("space") != space or meta.get("version") != str(INDEX_VERSION):
        ledger.close()
        return None
    try:
        lib = IndexedLibrary(ledger, cache, key, fixed, roots, options.match.suppress_common)
    except (IndexUnavailable, RuntimeError, OSError) as exc:
        ledger.close()
        log.warning("library index unusable (%s); gathering from the feature cache", exc)
        return None
    if not len(lib):  # e.g. scanned without the index's roots: the cache may know more
        lib.close()
        return None
    return lib


def find_copies(
    queries: Iterable[Path | str],
    options: ScanOptions | None = None,
    cache: FeatureCache | None = None,
    *,
    roots: Iterable[Path | str] | None = None,
    top: int = 20,
    threshold: float | None = None,
    embedder: Embedder | None = None,
    library: Library | None = None,
    progress: Progress = NULL_PROGRESS,
    token: CancelToken = NEVER_CANCELLED,
) -> FindResult:
    """Find the copies of ``queries`` (files or folders of clips) in the analysed library.

    Args:
        queries: Video files, or folders whose videos are each a query.
        options: Analysis and matching options (the feature key must match the library's
            scans: same model, sampling and decoder).
        cache: An open feature cache (opened from ``options`` otherwise, closed at the end).
        roots: Library folders to search; None searches every analysed file.
        top: At most this many copies per query.
        threshold: Similarity a copy needs (``options.match.threshold`` by default).
        embedder: A loaded embedder to reuse.
        library: A library already gathered (reused across calls, e.g. by the evaluation).
        progress: Receives weighted progress (stages discover, library, features, search).
        token: Cancellation; a cancelled search returns status CANCELLED.

    Raises:
        WeightsUnavailable: The query needs analysing and no model weights can be had.
    """
    opts = options or ScanOptions()
    mo = replace(
        opts.match,
        partial=True,
        threshold=opts.match.threshold if threshold is None else threshold,
    )
    root_paths = (
        tuple(Path(os.path.abspath(os.fspath(r))) for r in roots) if roots is not None else ()
    )
    ref_roots = [Path(os.path.abspath(os.fspath(r))) for r in opts.reference_roots]
    embedder = embedder or Embedder(opts.model)
    own_cache = cache is None
    if cache is None:
        cache = FeatureCache.open(opts.cache_dir) if opts.use_cache else FeatureCache.disabled()
    seconds: dict[str, float] = {}
    problems: list[Problem] = []
    key = feature_key(opts, embedder)
    own_library: Library | None = None
    try:
        start = time.perf_counter()
        progress.stage("discover")
        found = discover([Path(q) for q in queries], opts.discovery, progress, token)
        problems += found.problems
        files = list(found.files)
        seconds["discover"] = round(time.perf_counter() - start, 3)

        start = time.perf_counter()
        progress.stage("library")
        if library is None:
            library = gather_library(
                opts, cache, embedder, root_paths if roots is not None else None
            )
            own_library = library
        seconds["library"] = round(time.perf_counter() - start, 3)
        base = FindResult(
            FindStatus.OK,
            problems=tuple(problems),
            library_videos=len(library),
            library_source=library.source,
            roots=root_paths,
            seconds=seconds,
            notices=tuple(cache.notices),
        )
        if not len(library):
            return replace(base, status=FindStatus.NOT_SCANNED)
        if not files:
            return replace(base, status=FindStatus.NO_QUERY)

        start = time.perf_counter()
        progress.stage("features")
        counts: dict[str, int] = {}
        analysed, feat_problems = extract_features(
            files, opts, embedder, cache, progress, token, counts
        )
        problems += feat_problems
        seconds["features"] = round(time.perf_counter() - start, 3)

        start = time.perf_counter()
        progress.stage("search")
        searcher = Searcher(library, mo, opts, embedder, cache, token, key, ref_roots)
        results = []
        todo = [f for f in files if f.path in analysed]
        try:
            for n, f in enumerate(todo):
                progress.update(n, len(todo), str(f.path))
                probe, feats = analysed[f.path]
                results.append(searcher.search(f, probe, feats, top))
            progress.update(len(todo), len(todo))
        finally:
            searcher.close()
        # the queries' mirror images are analysed while searching: analysis, not search
        spent = time.perf_counter() - start
        seconds["features"] = round(seconds["features"] + searcher.analysis_seconds, 3)
        seconds["search"] = round(spent - searcher.analysis_seconds, 3)
        status = FindStatus.OK if results else FindStatus.NO_QUERY
        return replace(base, status=status, queries=tuple(results), problems=tuple(problems))
    except Cancelled:
        return FindResult(FindStatus.CANCELLED, problems=tuple(problems), roots=root_paths)
    finally:
        if own_library is not None:
            own_library.close()
        if own_cache:
            cache.close()
        else:
            cache.commit()
