"""The scan pipeline: composes the stages, does no work of its own.

``scan(roots, options, progress, token) -> ScanResult`` is a plain blocking function: the CLI
calls it with a terminal progress bar, the GUI from a worker thread.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from dedup_gui.core import index as knn
from dedup_gui.core import rotation, similarity
from dedup_gui.core.cache import FeatureCache
from dedup_gui.core.cluster import cluster, durations_compatible
from dedup_gui.core.discovery import discover
from dedup_gui.core.embed import Embedder
from dedup_gui.core.grouping import Unit, build_groups
from dedup_gui.core.identical import find_identical
from dedup_gui.core.options import MatchOptions, ScanOptions
from dedup_gui.core.progress import (
    NEVER_CANCELLED,
    NULL_PROGRESS,
    Cancelled,
    CancelToken,
    Progress,
)
from dedup_gui.core.refine import PairMatch, Prepared, compare
from dedup_gui.core.types import (
    Probe,
    Problem,
    ScanResult,
    ScanStats,
    Stage,
    VideoFeatures,
    VideoFile,
    VideoInfo,
)
from dedup_gui.core.workers import DecodedVideo, DecodePool

log = logging.getLogger(__name__)

# A frame that resembles more than this many other videos (or this share of the library) is
# common footage (logo, intro, title card): its weight as evidence falls off.
COMMON_VIDEOS = 4
COMMON_SHARE = 0.02
# Candidate pairs: frames closer than this (whitened frame vectors) link two videos.
CANDIDATE_SIM = 0.35


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


def feature_key(options: ScanOptions, embedder: Embedder) -> str:
    """Cache key of the features for these options."""
    mirror = int(options.match.flip)
    rot = f"|{rotation.PROBE_KEY}" if options.match.rotation else ""
    return f"{embedder.key}|mirror={mirror}{rot}|{options.sampling.key}|dec={options.decoder}"


def _still_same(file: VideoFile) -> str | None:
    """None when the file is unchanged since discovery, else the reason it is not."""
    try:
        st = os.stat(file.path)
    except FileNotFoundError:
        return "file vanished during the scan"
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    if st.st_size != file.size or st.st_mtime_ns != file.mtime_ns:
        return "file changed during the scan; scan again to include it"
    return None


def _features(decoded: DecodedVideo, embedder: Embedder, mirror: bool) -> VideoFeatures:
    regions, vectors = embedder.embed(decoded.frames, mirror=mirror)
    return VideoFeatures(
        timestamps=decoded.timestamps,
        vectors=vectors,
        regions=regions,
        thumbs=decoded.thumbs,
        informative=decoded.informative,
        crop=decoded.crop,
    )


def extract_features(
    files: list[VideoFile],
    options: ScanOptions,
    embedder: Embedder,
    cache: FeatureCache,
    progress: Progress,
    token: CancelToken,
    counts: dict[str, int],
) -> tuple[dict[Path, tuple[Probe, VideoFeatures]], list[Problem]]:
    """Probe, decode and embed ``files``, reading and filling the cache."""
    key = feature_key(options, embedder)
    decoder_key = f"{options.decoder}|{options.sampling.key}"
    out: dict[Path, tuple[Probe, VideoFeatures]] = {}
    problems: list[Problem] = []
    todo: list[VideoFile] = []
    for f in files:
        hit = cache.lookup(f, key)
        if hit is not None:
            out[f.path] = (hit.probe, hit.features)
            problems += [Problem(f.path, Stage.DECODE, w, skipped=False) for w in hit.warnings]
            continue
        reason = cache.get_failure(f, decoder_key)
        if reason is not None:
            problems.append(
                Problem(f.path, Stage.DECODE, f"{reason} (remembered from an earlier scan)")
            )
            continue
        todo.append(f)
    counts["cache_hits"] = len(out)
    done = len(out) + len(problems)
    total = len(files)
    progress.update(done, total)
    if not todo:
        return out, problems
    embedder.load()  # fails fast, before any decoding, when no weights can be had
    with DecodePool(
        options.decoder, options.sampling, options.decode_workers, options.file_timeout, token
    ) as pool:
        for f, result in pool.imap(todo):
            done += 1
            progress.update(done, total, str(f.path))
            if isinstance(result, Problem):
                problems.append(result)
                if "budget" not in result.reason and "vanished" not in result.reason:
                    cache.put_failure(f, decoder_key, result.reason)
                continue
            changed = _still_same(f)
            if changed is not None:
                problems.append(Problem(f.path, Stage.DECODE, changed))
                continue
            token.raise_if_cancelled()
            feats = _features(result, embedder, options.match.flip)
            if options.match.rotation:
                feats = rotation.add_probes(feats, result.frames, embedder)
            counts["decoded"] = counts.get("decoded", 0) + 1
            counts["frames_decoded"] = counts.get("frames_decoded", 0) + feats.n_frames
            for w in result.warnings:
                problems.append(Problem(f.path, Stage.DECODE, w, skipped=False))
            out[f.path] = (result.probe, feats)
            cache.put(f, key, result.probe, feats, result.warnings)
    cache.commit()
    return out, problems


def prepare_videos(
    feats: list[VideoFeatures], durations: list[float], whitening: similarity.Whitening
) -> tuple[list[Prepared], list[np.ndarray]]:
    """Whiten the informative frames of each video; also return their frame vectors."""
    prepared, vectors = [], []
    for i, f in enumerate(feats):
        idx = np.nonzero(f.informative)[0]
        reg = (
            whitening.apply(f.regions[idx])
            if len(idx)
            else np.zeros((0, *f.regions.shape[1:]), np.float32)
        )
        vec = (
            similarity._l2(reg.mean(axis=1))
            if len(idx)
            else np.zeros((0, f.regions.shape[-1]), np.float32)
        )
        prepared.append(
            Prepared(
                index=i,
                duration=durations[i],
                times=f.timestamps[idx].astype(np.float32),
                regions=reg,
                vectors=vec.astype(np.float32),
                weights=np.ones(len(idx), np.float32),
                thumbs=f.thumbs,
                informative=f.informative,
                frame_index=idx,
            )
        )
        vectors.append(vec.astype(np.float32))
    return prepared, vectors


def match(
    units: list[Unit],
    feats: list[VideoFeatures],
    options: ScanOptions,
    model: str,
    progress: Progress = NULL_PROGRESS,
    token: CancelToken = NEVER_CANCELLED,
    counts: dict[str, int] | None = None,
    rotator: rotation.Rotator | None = None,
) -> tuple[list[PairMatch], list]:
    """Candidate search, clustering and refinement over analysed units.

    ``rotator`` supplies turned features for rotated candidates (rotation matching is skipped
    without one).

    Returns:
        The refined pairs and the duplicate groups.
    """
    counts = counts if counts is not None else {}
    mo = options.match
    durations = [u.rep.probe.duration if u.rep.probe else 0.0 for u in units]
    if mo.whiten:
        whitening = similarity.fit_whitening(
            [f.regions[f.informative] for f in feats], similarity.load_prior(model)
        )
    else:
        whitening = similarity.Whitening.identity(feats[0].regions.shape[-1] if feats else 1)
    prepared, vectors = prepare_videos(feats, durations, whitening)
    token.raise_if_cancelled()
    neigh = knn.search(vectors, min_sim=CANDIDATE_SIM, token=token)
    if mo.suppress_common:
        limit = max(COMMON_VIDEOS, COMMON_SHARE * len(units))
        for p, common in zip(prepared, neigh.commonness, strict=True):
            p.weights[:] = np.minimum(1.0, limit / np.maximum(common, 1)).astype(np.float32)
    candidates = {pair: 1.0 - best for pair, (_, best) in neigh.pairs.items()}
    tolerance = None if mo.partial else mo.duration_tolerance
    clusters = cluster(len(units), candidates, 1.0 - CANDIDATE_SIM, durations, tolerance)
    counts["candidate_pairs"] = len(neigh.pairs)
    counts["refined_pairs"] = len(clusters.pairs)
    matches: list[PairMatch] = []
    for k, (a, b) in enumerate(clusters.pairs):
        if k % 16 == 0:
            token.raise_if_cancelled()
            progress.update(k, len(clusters.pairs))
        matches.append(compare(prepared[a], prepared[b], mo))
    progress.update(len(clusters.pairs), len(clusters.pairs))
    if mo.rotation and rotator is not None:
        matches = _match_rotated(
            units,
            feats,
            prepared,
            vectors,
            whitening,
            matches,
            durations,
            mo,
            rotator,
            token,
            counts,
        )
    groups = build_groups(units, matches, mo.threshold, mo.partial)
    return matches, groups


def _match_rotated(
    units: list[Unit],
    feats: list[VideoFeatures],
    prepared: list[Prepared],
    vectors: list[np.ndarray],
    whitening: similarity.Whitening,
    matches: list[PairMatch],
    durations: list[float],
    mo: MatchOptions,
    rotator: rotation.Rotator,
    token: CancelToken,
    counts: dict[str, int],
) -> list[PairMatch]:
    """Refine rotated candidates found by the turned probes; return the updated matches."""
    probe_vectors: list[np.ndarray | None] = []
    for f in feats:
        if f.probes is None or len(f.probes) == 0:
            probe_vectors.append(None)
            continue
        probe_vectors.append(similarity._l2(whitening.apply(f.probes).mean(axis=2)))
    found = rotation.probe_candidates(probe_vectors, vectors)
    accepted = {frozenset((m.a, m.b)) for m in matches if m.accepted(mo.threshold, mo.partial)}
    tolerance = None if mo.partial else mo.duration_tolerance
    by_pair = {frozenset((m.a, m.b)): i for i, m in enumerate(matches)}
    tried = 0
    for (a, b), (_, k) in sorted(found.items(), key=lambda kv: -kv[1][0]):
        pair = frozenset((a, b))
        if pair in accepted or (
            tolerance is not None
            and not durations_compatible(durations[a], durations[b], tolerance)
        ):
            continue
        token.raise_if_cancelled()
        rep = units[a].rep
        turned = rotator.features(VideoFile(rep.path, rep.size, rep.mtime_ns, rep.root), k)
        tried += 1
        if turned is None:
            continue
        (prep,), _ = prepare_videos([turned], [durations[a]], whitening)
        m = compare(replace(prep, index=a), prepared[b], mo)
        if not m.accepted(mo.threshold, mo.partial):
            continue
        deg = 90 * k
        m = replace(
            m,
            evidence_a=replace(m.evidence_a, rotation=(360 - deg) % 360),
            evidence_b=replace(m.evidence_b, rotation=deg),
        )
        accepted.add(pair)
        if pair in by_pair:
            matches[by_pair[pair]] = m
        else:
            by_pair[pair] = len(matches)
            matches.append(m)
    counts["rotated_candidates"] = len(found)
    counts["rotated_refined"] = tried
    return matches


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
    infos: list[VideoInfo] = []
    groups: list = []
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
        with timer.stage("features"):
            analysed, feat_problems = extract_features(
                reps, opts, embedder, cache, progress, token, counts
            )
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
        ):
            _, groups = match(
                units, feats, opts, embedder.spec.name, progress, token, counts, rotator
            )
        counts["groups"] = len(groups)
        counts["duplicates"] = sum(len(g.members) - 1 for g in groups)
    except Cancelled:
        cancelled = True
        groups = []
        log.info("scan cancelled")
    finally:
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
