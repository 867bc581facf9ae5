"""Matching stage: whitening, kNN candidates, DBSCAN clusters, refinement and groups.

Everything here works on analysed videos (features in memory) and touches no file, except the
rotated-copy check, which asks a :class:`~dedup_gui.core.match.rotation.Rotator` for turned
features.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from dedup_gui.core.index.library import Library, open_library
from dedup_gui.core.match import candidates as knn
from dedup_gui.core.match import coherence, phase, rotation, similarity, views, zoom
from dedup_gui.core.match.cluster import cluster, durations_compatible
from dedup_gui.core.match.grouping import Unit, build_groups
from dedup_gui.core.match.refine import PairMatch, Prepared, compare, prepare_view
from dedup_gui.core.options import MatchOptions, ScanOptions
from dedup_gui.core.progress import NEVER_CANCELLED, NULL_PROGRESS, CancelToken, Progress
from dedup_gui.core.types import DuplicateGroup, VideoFeatures, VideoFile

log = logging.getLogger(__name__)

# A frame that resembles more than this many other videos (or this share of the library) is
# common footage (logo, intro, title card): its weight as evidence falls off.
COMMON_VIDEOS = 4
COMMON_SHARE = 0.02
# Candidate pairs: frames closer than this link two videos, and frames closer than
# COMMON_SIM count towards commonness. Both in the library index's fixed space (the recipe's
# prior whitening; docs/BENCHMARKS.md "Library scale"): there unrelated frames score higher
# than under the per-scan whitening (whose thresholds were 0.35 and 0.55), and these keep
# the same margin below the weakest accepted copy and the same share of common frames.
CANDIDATE_SIM = 0.45
COMMON_SIM = 0.6
# A candidate pair is refined only when enough of one video's frames have a close frame in
# the other (same fixed space; counted by the library index, :attr:`Neighbours.cover`): 90%
# at the candidate threshold (a heavily edited copy whose frames all sit just above it: the
# zoom's near misses) or 30% at 0.5. Every accepted pair of the dev, stress, partial, intro
# and canvas-tuning sets has 0.60 or more at 0.5; about 40% of their rejected candidates, and
# 60% of a synthetic library's, have neither (docs/BENCHMARKS.md "Library scale").
COVER_SIMS = (CANDIDATE_SIM, 0.5)
REFINE_COVERS = (0.9, 0.3)  # share of frames needed at each of COVER_SIMS (either will do)


def common_weight(common: np.ndarray, limit: float) -> np.ndarray:
    """Evidence weight of frames that resemble ``common`` other videos (stop-word weighting).

    Full weight up to ``limit`` videos, then a steep fall: a channel intro shared by three times
    the limit counts a ninth.
    """
    return (np.minimum(1.0, limit / np.maximum(common, 1)) ** 2).astype(np.float32)


def prepare_videos(
    feats: list[VideoFeatures], durations: list[float], whitening: similarity.Whitening
) -> tuple[list[Prepared], list[np.ndarray]]:
    """Whiten the informative frames of each video; also return their frame vectors."""
    prepared = [
        prepare_view(i, f, f.regions, f.thumbs, durations[i], whitening)
        for i, f in enumerate(feats)
    ]
    return prepared, [p.vectors for p in prepared]


class LazyViews:
    """Prepared views of a scan's videos, made when a pair needs them, kept in an LRU.

    Whitened float32 regions take about twice the memory of the cached float16 features;
    holding them for every video of a large library does not fit a laptop. Views are made on
    first use and the least recently used are dropped when the views held exceed
    ``budget`` bytes (the last one made is always kept).

    Args:
        feats: The videos' features.
        durations: Seconds per video.
        whitening: The per-scan whitening.
        weights: Per video, the evidence weight of each informative frame (shared with the
            views made, as :func:`prepare_videos` shares them).
        budget: Bytes of views to keep.
        full: Make the whole-frame views of videos shown in a canvas (None for the others).
    """

    def __init__(
        self,
        feats: list[VideoFeatures],
        durations: list[float],
        whitening: similarity.Whitening,
        weights: list[np.ndarray],
        budget: int,
        full: bool = False,
    ) -> None:
        self._feats = feats
        self._durations = durations
        self._whitening = whitening
        self._weights = weights
        self._budget = budget
        self._full = full
        self._held: OrderedDict[int, Prepared | None] = OrderedDict()
        self._bytes = 0
        self.made = 0

    def __len__(self) -> int:
        return len(self._feats)

    def __getitem__(self, i: int) -> Prepared | None:
        if i in self._held:
            self._held.move_to_end(i)
            return self._held[i]
        f = self._feats[i]
        view: Prepared | None
        if not self._full:
            view = prepare_view(i, f, f.regions, f.thumbs, self._durations[i], self._whitening,
                         self._weights[i])  # fmt: skip
        elif f.full_regions is None or f.full_thumbs is None:
            view = None
        else:
            view = prepare_view(i, f, f.full_regions, f.full_thumbs, self._durations[i],
                         self._whitening, self._weights[i])  # fmt: skip
        self.made += 1
        self._held[i] = view
        self._bytes += _nbytes(view)
        while self._bytes > self._budget and len(self._held) > 1:
            _, old = self._held.popitem(last=False)
            self._bytes -= _nbytes(old)
        return view

    def main(self, i: int) -> Prepared:
        """The picture view of video ``i`` (never None)."""
        view = self[i]
        assert view is not None
        return view


def _nbytes(p: Prepared | None) -> int:
    return 0 if p is None else p.regions.nbytes + p.vectors.nbytes + p.thumbs.nbytes + 256


def prepare_full_views(
    feats: list[VideoFeatures], prepared: list[Prepared], whitening: similarity.Whitening
) -> list[Prepared | None]:
    """The whole-frame view of videos whose picture sits in a canvas (None for the others).

    It shares its frames' evidence weights with the picture view (same frames).
    """
    return [
        None
        if f.full_regions is None or f.full_thumbs is None
        else prepare_view(i, f, f.full_regions, f.full_thumbs, p.duration, whitening, p.weights)
        for i, (f, p) in enumerate(zip(feats, prepared, strict=True))
    ]


def index_space(
    prior: tuple[np.ndarray, np.ndarray] | None, feats: list[VideoFeatures]
) -> tuple[str, similarity.Whitening]:
    """The fixed vector space of the library index: the recipe's prior whitening only.

    The per-scan whitening blends in the library's own statistics, which change from scan to
    scan; indexed vectors must not. Returns the space's name (stored in the index ledger: a
    different prior means a rebuild) and its whitening.
    """
    if prior is None:
        dim = feats[0].regions.shape[-1] if feats else 1
        return f"identity-{dim}", similarity.Whitening.identity(dim)
    import hashlib

    h = hashlib.sha1(np.ascontiguousarray(prior[0], np.float32).tobytes())
    h.update(np.ascontiguousarray(prior[1], np.float32).tobytes())
    return f"prior-{h.hexdigest()[:16]}", similarity.fit_whitening([], prior)


def index_views(f: VideoFeatures) -> list[np.ndarray]:
    """The region arrays a video is indexed with (its views).

    The picture, and the whole frame of a video whose picture sits in a canvas.
    """
    if f.full_regions is not None and f.full_thumbs is not None:
        return [f.regions, f.full_regions]
    return [f.regions]


def index_vectors(f: VideoFeatures, fixed: similarity.Whitening) -> np.ndarray:
    """The frame vectors a video is indexed (and searched) with, in the fixed space.

    The informative frames of each of its :func:`index_views` in turn: candidates come from
    both views.
    """
    idx = np.nonzero(f.informative)[0]
    dim = fixed.matrix.shape[1]
    if len(idx) == 0:
        return np.zeros((0, dim), np.float32)
    views = index_views(f)
    return np.concatenate(
        [similarity._l2(fixed.apply(r[idx]).mean(axis=1)).astype(np.float32) for r in views]
    )


def index_frames(f: VideoFeatures, fixed: similarity.Whitening) -> coherence.Frames:
    """:func:`index_vectors` as ``(views, n, d)``, with the times of the informative frames."""
    v = index_vectors(f, fixed)
    n = int(f.informative.sum())
    times = f.timestamps[f.informative].astype(np.float64)
    return (v.reshape(-1, n, v.shape[-1]) if n else v.reshape(1, 0, v.shape[-1])), times


def refinable_pairs(
    neigh: knn.Neighbours,
    durations: Sequence[float],
    tolerance: float | None,
    counts: dict[str, int] | None = None,
) -> dict[tuple[int, int], tuple[int, float]]:
    """The candidate pairs that go on to refinement.

    Pairs of compatible durations (any durations in partial mode, ``tolerance`` None) whose
    frame cover reaches one of :data:`REFINE_COVERS`; a pair without a cover (a search that
    counted none) always goes on. ``counts["thin_pairs"]`` receives the number of pairs of
    compatible durations the cover left out.
    """
    kept = {}
    thin = 0
    for p, v in neigh.pairs.items():
        if tolerance is not None and not durations_compatible(
            durations[p[0]], durations[p[1]], tolerance
        ):
            continue
        cover = neigh.cover.get(p)
        if cover is None or any(c >= need for c, need in zip(cover, REFINE_COVERS, strict=True)):
            kept[p] = v
        else:
            thin += 1
    if counts is not None:
        counts["thin_pairs"] = thin
    return kept


def match(
    units: list[Unit],
    feats: list[VideoFeatures],
    options: ScanOptions,
    prior: tuple[np.ndarray, np.ndarray] | None,
    progress: Progress = NULL_PROGRESS,
    token: CancelToken = NEVER_CANCELLED,
    counts: dict[str, int] | None = None,
    rotator: rotation.Rotator | None = None,
    trace: dict[str, object] | None = None,
    zoomer: zoom.Zoomer | None = None,
    resampler: phase.Resampler | None = None,
    library: Library | None = None,
) -> tuple[list[PairMatch], list[DuplicateGroup]]:
    """Candidate search, clustering and refinement over analysed units.

    Candidates and frame commonness come from the library index (``library``: the persistent
    one of the feature cache; an in-memory one when None), which searches only the videos it
    has not indexed yet; its vectors live in the recipe's fixed prior space, refinement uses
    the per-scan whitening.

    ``prior`` is the generic whitening prior of the recipe (:meth:`Embedder.prior`), blended
    with the library's own statistics. ``rotator`` supplies turned features for rotated
    candidates (rotation matching is skipped without one), ``zoomer`` the window views that
    give near misses a second look (:mod:`.zoom`; skipped without one), ``resampler`` the
    dense features that give excerpt candidates theirs (:mod:`.phase`; skipped without
    one). ``trace``, when
    given, receives the intermediate pair sets (``candidates``: kNN pairs, ``refined``: pairs
    compared), for the per-stage recall of ``scripts/stage_recall.py``.

    Returns:
        The refined pairs and the duplicate groups.
    """
    counts = counts if counts is not None else {}
    mo = options.match
    durations = [u.rep.probe.duration if u.rep.probe else 0.0 for u in units]
    if mo.whiten:
        whitening = similarity.fit_whitening([f.regions[f.informative] for f in feats], prior)
    else:
        whitening = similarity.Whitening.identity(feats[0].regions.shape[-1] if feats else 1)
    token.raise_if_cancelled()
    own_library = library is None
    lib = library if library is not None else open_library(None, "")
    try:
        space, fixed = index_space(prior if mo.whiten else None, feats)
        neigh = lib.neighbours(
            [u.rep for u in units],
            lambda i: index_vectors(feats[i], fixed),
            space,
            fixed.matrix.shape[1],
            min_sim=CANDIDATE_SIM,
            common_sim=COMMON_SIM,
            token=token,
            views_of=lambda i: len(index_views(feats[i])),
            cover_sims=COVER_SIMS,
            probes_of=lambda i: rotation.probe_signatures(feats[i]),
        )
        lib.set_twins((u.rep, u.identical) for u in units)  # for Find copies' identical files
        counts.update(lib.counts)
    finally:
        if own_library:
            lib.close()
    weights = [np.ones(int(f.informative.sum()), np.float32) for f in feats]
    if mo.suppress_common:
        limit = max(COMMON_VIDEOS, COMMON_SHARE * len(units))
        for w, common in zip(weights, neigh.commonness, strict=True):
            w[:] = common_weight(common[: len(w)], limit)
    # views for refinement are made for the videos of candidate pairs only, within the budget
    budget = options.memory_budget // 2
    prepared = LazyViews(feats, durations, whitening, weights, budget)
    full = LazyViews(feats, durations, whitening, weights, budget, full=True)
    tolerance = None if mo.partial else mo.duration_tolerance
    kept = refinable_pairs(neigh, durations, tolerance, counts)
    if trace is not None:
        trace["covered"] = set(kept)
    if mo.time_gate:
        kept = coherence.aligned_pairs(
            kept, lambda i: index_frames(feats[i], fixed), counts, token=token
        )
    candidates = {pair: 1.0 - best for pair, (_, best) in kept.items()}
    clusters = cluster(len(units), candidates, 1.0 - CANDIDATE_SIM, durations, tolerance)
    counts["candidate_pairs"] = len(neigh.pairs)
    counts["refined_pairs"] = len(clusters.pairs)
    if trace is not None:
        trace["candidates"] = set(neigh.pairs)
        trace["aligned"] = set(kept)
        trace["refined"] = set(clusters.pairs)
    matches: list[PairMatch] = []
    for k, (a, b) in enumerate(clusters.pairs):
        if k % 16 == 0:
            token.raise_if_cancelled()
            progress.update(k, len(clusters.pairs))
        matches.append(
            views.compare_views(prepared.main(a), prepared.main(b), full[a], full[b], feats, mo)
        )
    progress.update(len(clusters.pairs), len(clusters.pairs))
    if mo.rotation and rotator is not None:
        matches = _match_rotated(
            units,
            feats,
            prepared,
            full,
            whitening,
            matches,
            durations,
            mo,
            rotator,
            token,
            counts,
            trace,
        )
    if mo.zoom and zoomer is not None:
        matches = _match_zoomed(units, prepared, whitening, matches, durations, mo, zoomer, token)
        counts["zoomed_videos"] = zoomer.computed
    if mo.partial and resampler is not None:
        matches = _match_rephased(
            units, prepared, whitening, matches, durations, neigh, mo, resampler, token, counts
        )
    counts["prepared_views"] = prepared.made + full.made
    groups = build_groups(units, matches, mo.threshold, mo.partial)
    return matches, groups


def _match_zoomed(
    units: list[Unit],
    prepared: LazyViews,
    whitening: similarity.Whitening,
    matches: list[PairMatch],
    durations: list[float],
    mo: MatchOptions,
    zoomer: zoom.Zoomer,
    token: CancelToken,
) -> list[PairMatch]:
    """Give near misses a second look through windows of either video (see :mod:`.zoom`)."""
    out = list(matches)
    for i, m in enumerate(matches):
        # whole copies only (a zoom keeps the duration): the full-duplicate similarity decides
        if m.accepted(mo.threshold, mo.partial) or not m.verified:
            continue
        if not zoom.NEAR_MISS <= m.similarity < mo.threshold:
            continue
        if not durations_compatible(durations[m.a], durations[m.b], mo.duration_tolerance):
            continue
        token.raise_if_cancelled()
        best = m
        for x, y in ((m.a, m.b), (m.b, m.a)):
            rep = units[x].rep
            found = zoomer.views(VideoFile(rep.path, rep.size, rep.mtime_ns, rep.root))
            for view in found or []:
                (p,), _ = prepare_videos([view], [durations[x]], whitening)
                p = replace(p, index=x)
                py = prepared.main(y)
                r = compare(p, py, mo) if x < y else compare(py, p, mo)
                if r.accepted(mo.threshold, mo.partial) and (
                    not best.accepted(mo.threshold, mo.partial)
                    or r.score(mo.partial) > best.score(mo.partial)
                ):
                    best = r
        out[i] = best
    return out


def _match_rephased(
    units: list[Unit],
    prepared: LazyViews,
    whitening: similarity.Whitening,
    matches: list[PairMatch],
    durations: list[float],
    neigh: knn.Neighbours,
    mo: MatchOptions,
    resampler: phase.Resampler,
    token: CancelToken,
    counts: dict[str, int],
) -> list[PairMatch]:
    """Excerpt candidates seen again at the longer video's own sampling moments (:mod:`.phase`).

    A pair of clearly different lengths that was not accepted, though most of one video's
    frames have a close frame in the other (the index's frame cover; find's rule), is compared
    again with the shorter video decoded densely, and its mirror image when the plain one
    does not match.
    """
    out = list(matches)
    tried = 0
    for i, m in enumerate(matches):
        if not m.excerpt or m.accepted(mo.threshold, True):
            continue
        pair = (min(m.a, m.b), max(m.a, m.b))
        cover = neigh.cover.get(pair)
        best = neigh.pairs.get(pair, (0, 0.0))[1]
        if cover is None or cover[0] < phase.PHASE_SHARE or best < phase.PHASE_BEST:
            continue
        token.raise_if_cancelled()
        tried += 1
        short, long_ = (m.a, m.b) if durations[m.a] <= durations[m.b] else (m.b, m.a)
        found = _rephase(units, prepared, whitening, short, long_, durations, mo, resampler)
        if found is not None:
            out[i] = found
    counts["rephased_pairs"] = tried
    counts["rephased_videos"] = resampler.computed
    return out


def _rephase(
    units: list[Unit],
    prepared: LazyViews,
    whitening: similarity.Whitening,
    short: int,
    long_: int,
    durations: list[float],
    mo: MatchOptions,
    resampler: phase.Resampler,
) -> PairMatch | None:
    """The accepted comparison of the dense ``short`` at ``long_``'s moments, or None."""
    other, own = prepared.main(long_), prepared.main(short)
    for mirrored in (False, True) if mo.flip else (False,):
        dense = resampler.features(_file(units[short]), mirrored)
        if dense is None:
            return None
        dp = prepare_view(short, dense, dense.regions, dense.thumbs, durations[short], whitening)
        found = phase.compare_at_moments(dense, dp, other, own, whitening, mo)
        if found is None or not found[0].accepted(mo.threshold, True):
            continue
        m, fit = found
        if fit.margin < phase.AMBIGUOUS:
            fit = phase.refit(
                dp, resampler, _file(units[long_]), durations[long_], whitening, long_, fit
            )
        m = phase.at_offset(m, fit.offset, dense_is_a=short < long_)
        if mirrored:  # the shorter video was mirrored
            m = replace(
                m,
                evidence_a=replace(m.evidence_a, flipped=not m.evidence_a.flipped),
                evidence_b=replace(m.evidence_b, flipped=not m.evidence_b.flipped),
            )
        return m
    return None


def _file(u: Unit) -> VideoFile:
    rep = u.rep
    return VideoFile(rep.path, rep.size, rep.mtime_ns, rep.root)


def _match_rotated(
    units: list[Unit],
    feats: list[VideoFeatures],
    prepared: LazyViews,
    whole: LazyViews,
    whitening: similarity.Whitening,
    matches: list[PairMatch],
    durations: list[float],
    mo: MatchOptions,
    rotator: rotation.Rotator,
    token: CancelToken,
    counts: dict[str, int],
    trace: dict[str, object] | None = None,
) -> list[PairMatch]:
    """Refine rotated candidates found by the turned probes; return the updated matches."""
    found = rotation.probe_candidates(feats)
    accepted = {frozenset((m.a, m.b)) for m in matches if m.accepted(mo.threshold, mo.partial)}
    # Turned copies are matched as full duplicates only (duration gate on, no excerpts): a turned
    # picture is unnatural enough that a short static clip could otherwise "cover" itself in
    # any long video.
    full = replace(mo, partial=False)
    tolerance = mo.duration_tolerance
    by_pair = {frozenset((m.a, m.b)): i for i, m in enumerate(matches)}
    tried = 0
    refined: set[tuple[int, int]] = set()
    for (a, b), (_, k) in sorted(found.items(), key=lambda kv: -kv[1][0]):
        pair = frozenset((a, b))
        if pair in accepted or not durations_compatible(durations[a], durations[b], tolerance):
            continue
        token.raise_if_cancelled()
        rep = units[a].rep
        turned = rotator.features(VideoFile(rep.path, rep.size, rep.mtime_ns, rep.root), k)
        tried += 1
        refined.add((min(a, b), max(a, b)))
        if turned is None:
            continue
        (prep,), _ = prepare_videos([turned], [durations[a]], whitening)
        other = whole[b] or prepared.main(b)  # whole frames on both sides
        m = compare(replace(prep, index=a), other, full)
        if not m.accepted(full.threshold, False):
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
    if trace is not None:
        trace["candidates"] |= {(min(a, b), max(a, b)) for a, b in found}  # type: ignore[operator]
        trace["refined"] |= refined  # type: ignore[operator]
    return matches
