"""One query against one library: kNN candidates, refinement, zoomed/turned/identical copies.

Used by :func:`dedup_gui.core.find.copies.find_copies`, which analyses the queries and gathers
the library; :class:`Searcher` keeps what several queries share (the turned-probe index, the
zoom and rotation helpers, file hashes).
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import numpy as np

from dedup_gui.core.analyse.embed import Embedder
from dedup_gui.core.find.library import Library, LibraryVideo, VideoHits
from dedup_gui.core.find.results import CopyKind, FoundCopy, QueryCopies
from dedup_gui.core.library.cache import FeatureCache
from dedup_gui.core.match import phase, rotation, views, zoom
from dedup_gui.core.match.cluster import durations_compatible
from dedup_gui.core.match.matching import (
    CANDIDATE_SIM,
    COMMON_SHARE,
    COMMON_VIDEOS,
    common_weight,
    prepare_view,
)
from dedup_gui.core.match.refine import PairMatch, Prepared, compare
from dedup_gui.core.options import MatchOptions, ScanOptions
from dedup_gui.core.progress import CancelToken
from dedup_gui.core.scan.identical import full_hash
from dedup_gui.core.types import (
    GroupKind,
    MatchEvidence,
    Probe,
    VideoFeatures,
    VideoFile,
    VideoInfo,
)

# Library videos refined per query: the best-ranked candidates, at least this many.
MIN_CANDIDATES = 30
# Neighbour frames per query frame: at least this many, and one per PER_NEIGHBOUR library
# videos up to MAX_NEIGHBOURS. In a large library a weak copy's frames (a cropped and
# watermarked 1 s clip at 0.49) rank behind many look-alikes' (64 synthetic frames above 0.65
# among 100,000 videos); a copy hits on most query frames, a look-alike on one or two, so
# more neighbours bring the copy back into the ranked candidates.
NEIGHBOURS = 64
PER_NEIGHBOUR = 100
MAX_NEIGHBOURS = 1024
# A query frame this close to a library video counts towards that frame's commonness.
COMMON_SIM = 0.55
# Near misses given the zoom second look per query (each may decode and embed a video once).
ZOOM_CANDIDATES = 4
# A library video that holds this share of the query's frames is a copy, not common footage.
CORE_SHARE = 0.8
# The whole copies of a found copy (its siblings in the library) are copies of the query too,
# found through it when the query's own comparison missed them (an excerpt whose alignment
# against one copy went astray): the best this many copies are expanded, each to the library
# videos that hold this share of its frames and that a whole-copy comparison accepts.
EXPAND_COPIES = 5
SIBLING_SHARE = 0.5
# The range along the alignment is used when the matched frames lie inside it, give or take
# this many seconds (matched frames are sampled about a second apart and may be few).
RANGE_SLACK = 3.0


def _under(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)


class Searcher:
    """Searches one query after another against one library (shared lazy state)."""

    def __init__(
        self,
        library: Library,
        mo: MatchOptions,
        opts: ScanOptions,
        embedder: Embedder,
        cache: FeatureCache,
        token: CancelToken,
        key: str,
        ref_roots: list[Path],
    ) -> None:
        self.library = library
        self.mo = mo
        self.opts = opts
        self.embedder = embedder
        self.cache = cache
        self.token = token
        self.key = key
        self.ref_roots = ref_roots
        self._rotator: rotation.Rotator | None = None
        self._zoomer: zoom.Zoomer | None = None
        self._resampler: phase.Resampler | None = None
        self.analysis_seconds = 0.0  # the query's own analysis done while searching
        self._hashes: dict[Path, bytes | None] = {}

    def close(self) -> None:
        """Stop the decoder processes the zoom and rotation helpers may have started."""
        for helper in (self._rotator, self._zoomer, self._resampler):
            if helper is not None:
                helper.__exit__(None, None, None)

    # ---------------------------------------------------------------- one query
    def search(self, file: VideoFile, probe: Probe, feats: VideoFeatures, top: int) -> QueryCopies:
        """The ranked copies of one analysed query (at most ``top``)."""
        started, analysed = time.perf_counter(), self.analysis_seconds
        lib = self.library
        query = VideoInfo(file.path, file.size, file.mtime_ns, file.root, probe,
                          _under(file.path, self.ref_roots))  # fmt: skip
        qp = prepare_view(0, feats, feats.regions, feats.thumbs, probe.duration, lib.whitening)
        qfull = (
            None
            if feats.full_regions is None or feats.full_thumbs is None
            else prepare_view(
                0,
                feats,
                feats.full_regions,
                feats.full_thumbs,
                probe.duration,
                lib.whitening,
                qp.weights,
            )
        )
        at = lib.position(file.path)
        own = set() if at is None else {at}
        hits = self._hits(qp, qfull, own)
        n_frames = max(len(qp.vectors), 1)
        if self.mo.suppress_common:
            self._suppress(qp, hits, n_frames)
        wanted = max(MIN_CANDIDATES, 3 * top)
        copies, near, refined = self._refine_hits(query, feats, qp, qfull, hits, wanted)
        if self.mo.flip:
            for i, copy in self._mirrored(file, query, wanted, own | set(copies)).items():
                copies[i] = copy
        for i, copy in self._rephased(file, query, qp, hits, own | set(copies)).items():
            copies[i] = copy
        if self.mo.zoom and near:
            for i, copy in self._zoomed(file, query, qp, near).items():
                copies[i] = copy
        if self.mo.rotation:
            for i, copy in self._turned(file, query, feats, own, set(copies)).items():
                copies[i] = copy
        copies.update(self._siblings(copies, own))
        ranked = sorted(copies.values(), key=lambda c: (-c.similarity, os.fsencode(c.path)))
        ranked = self._identical(query, ranked)
        unique: dict[Path, FoundCopy] = {}
        for c in ranked:
            unique.setdefault(c.path, c)
        return QueryCopies(
            query,
            tuple(list(unique.values())[:top]),
            refined,
            round(time.perf_counter() - started - (self.analysis_seconds - analysed), 4),
        )

    def _hits(self, qp: Prepared, qfull: Prepared | None, own: set[int]) -> list[VideoHits]:
        """Library videos hit by the query's frames (both views; own file left out)."""
        lib = self.library
        k = self._neighbours()
        hits = lib.search(qp.vectors, k, CANDIDATE_SIM, self.token)
        if qfull is not None:
            more = lib.search(qfull.vectors, k, CANDIDATE_SIM, self.token)
            by_video = {h.video: h for h in hits}
            for h in more:  # the whole-frame view's frames are the same frames
                old = by_video.get(h.video)
                if old is None or h.score > old.score:
                    by_video[h.video] = h
            hits = sorted(by_video.values(), key=lambda h: (-h.score, -h.best, h.video))
        return [h for h in hits if h.video not in own]

    def _mirrored(
        self, file: VideoFile, query: VideoInfo, wanted: int, skip: set[int]
    ) -> dict[int, FoundCopy]:
        """Library videos that hold the query's mirror image, searched with its features.

        Frame vectors are mirror-invariant by construction (a fitted map, see
        :mod:`dedup_gui.core.analyse.embed`), but only approximately: a mirrored excerpt's
        frames sit at 0.5 from their source's, no closer than the rest of it, so its
        alignment fails. The query's mirror image, embedded once (cached with the query's
        analysis), matches its source as an unmirrored excerpt does. Whole mirrored copies are
        already found by the first search; this adds mirrored clips only (excerpts and clips
        contained), as a second chance for whole copies brings wrong ones too (a clip in a
        template at 0.41 against an unrelated video).
        """
        lib = self.library
        started = time.perf_counter()
        feats = self._turner().features(file, 0, mirrored=True)
        self.analysis_seconds += time.perf_counter() - started
        if feats is None:
            return {}
        duration = query.probe.duration if query.probe else 0.0
        mp = prepare_view(0, feats, feats.regions, feats.thumbs, duration, lib.whitening)
        hits = self._hits(mp, None, skip)
        if self.mo.suppress_common:
            self._suppress(mp, hits, max(len(mp.vectors), 1))
        found, _, _ = self._refine_hits(query, feats, mp, None, hits, wanted)
        return {
            i: replace(copy, evidence=replace(copy.evidence, flipped=not copy.evidence.flipped))
            for i, copy in found.items()  # the query was mirrored
            # whole copies are the first search's (a second chance adds errors)
            if copy.kind in (CopyKind.EXCERPT, CopyKind.CONTAINS)
        }

    def _rephased(
        self,
        file: VideoFile,
        query: VideoInfo,
        qp: Prepared,
        hits: list[VideoHits],
        skip: set[int],
    ) -> dict[int, FoundCopy]:
        """Excerpts of fast-changing footage, seen at each candidate's sampling moments.

        Only against the best-ranked candidates of another length (whole copies sample the
        same moments) that hold most of the query's frames (:data:`.phase.PHASE_SHARE`), and
        the query is decoded densely only when there is one. The query's mirror image is
        looked at only when the plain one finds nothing. Clips only (excerpts and clips
        contained), as for the mirror image.
        """
        lib = self.library
        n = max(len(qp.vectors), 1)
        qd = query.probe.duration if query.probe else 0.0
        todo: list[int] = []
        for h in hits:
            if len(todo) >= phase.PHASE_CANDIDATES:
                break
            v = lib.videos[h.video]
            if h.video in skip or not lib.usable(h.video):
                continue
            if durations_compatible(qd, v.probe.duration, self.mo.duration_tolerance):
                continue
            if len(h.frames) >= phase.PHASE_SHARE * n and h.best >= phase.PHASE_BEST:
                todo.append(h.video)
        out: dict[int, FoundCopy] = {}
        for mirrored in (False, True) if self.mo.flip else (False,):
            if out or not todo:
                break
            self.token.raise_if_cancelled()
            started = time.perf_counter()
            dense = self._dense().features(file, mirrored)
            self.analysis_seconds += time.perf_counter() - started
            if dense is None:
                break
            dp = prepare_view(0, dense, dense.regions, dense.thumbs, qd, lib.whitening)
            for i in todo:
                lp = replace(lib.prepared(i), index=1)
                # full weights: the query's own (_suppress) count every library video its
                # frames hit, not families, and snow that ten clips and their copies resemble
                # would be suppressed (5 of 82 excerpts lost that way, docs/ACCURACY.md)
                found = phase.compare_at_moments(dense, dp, lp, None, lib.whitening, self.mo)
                if found is None or not found[0].accepted(self.mo.threshold, True):
                    continue
                m, aligned = found
                if aligned.margin < phase.AMBIGUOUS:
                    aligned = self._refit(dp, lib.videos[i], aligned)
                m = phase.at_offset(m, aligned.offset)
                copy = _copy(query, self._info(lib.videos[i]), m, self.mo.temporal)
                if copy.kind not in (CopyKind.EXCERPT, CopyKind.CONTAINS):
                    continue
                if mirrored:  # the query was mirrored
                    ev = copy.evidence
                    copy = replace(copy, evidence=replace(ev, flipped=not ev.flipped))
                out[i] = copy
        return out

    def _refit(self, dp: Prepared, v: LibraryVideo, fit: phase.Alignment) -> phase.Alignment:
        """The fit again on the candidate's dense frames (:func:`.phase.refit`)."""
        started = time.perf_counter()
        duration = v.probe.duration if v.probe else 0.0
        lib = self.library
        fit = phase.refit(dp, self._dense(), v.file, duration, lib.whitening, 1, fit)
        self.analysis_seconds += time.perf_counter() - started
        return fit

    def _dense(self) -> phase.Resampler:
        """The helper that decodes and embeds queries densely (started once)."""
        if self._resampler is None:
            self._resampler = phase.Resampler(
                self.key, self.opts.decoder, self.opts.sampling, self.opts.file_timeout,
                self.embedder, self.cache, self.mo.flip, self.token,
            )  # fmt: skip
        return self._resampler

    def _refine_hits(
        self,
        query: VideoInfo,
        feats: VideoFeatures,
        qp: Prepared,
        qfull: Prepared | None,
        hits: list[VideoHits],
        wanted: int,
    ) -> tuple[dict[int, FoundCopy], list[tuple[int, PairMatch]], int]:
        """Refine the best ``wanted`` usable hits: accepted copies, near misses, refined."""
        lib = self.library
        qd = query.probe.duration if query.probe else 0.0
        copies: dict[int, FoundCopy] = {}
        near: list[tuple[int, PairMatch]] = []
        refined = 0
        for h in hits:
            if refined >= wanted:
                break
            self.token.raise_if_cancelled()
            if not lib.usable(h.video):  # gone or changed since analysed: the next one
                continue
            refined += 1
            m = self._refine(feats, qp, qfull, h.video)
            v = lib.videos[h.video]
            if m.accepted(self.mo.threshold, True):
                copies[h.video] = _copy(query, self._info(v), m, self.mo.temporal)
            elif self._near_miss(m, qd, v.probe.duration):
                near.append((h.video, m))
        return copies, near, refined

    def _neighbours(self) -> int:
        """Neighbour frames searched per query frame (see :data:`NEIGHBOURS`)."""
        return int(min(MAX_NEIGHBOURS, max(NEIGHBOURS, len(self.library) // PER_NEIGHBOUR)))

    def _suppress(self, qp: Prepared, hits: list[VideoHits], n_frames: int) -> None:
        """Down-weight query frames that many unrelated library videos share (intros, logos).

        Library videos that hold most of the query (its copies and sources) do not count.
        """
        common = np.zeros(len(qp.weights), np.int32)
        for h in hits:
            if len(h.frames) >= CORE_SHARE * n_frames:
                continue
            close = h.frames[(h.sims >= COMMON_SIM) & (h.frames < len(common))]
            common[close] += 1
        limit = max(COMMON_VIDEOS, COMMON_SHARE * len(self.library))
        qp.weights[:] = common_weight(common, limit)

    def _info(self, v: LibraryVideo) -> VideoInfo:
        f = v.file
        return VideoInfo(f.path, f.size, f.mtime_ns, f.root, v.probe,
                         _under(f.path, self.ref_roots))  # fmt: skip

    def _refine(
        self, feats: VideoFeatures, qp: Prepared, qfull: Prepared | None, i: int
    ) -> PairMatch:
        """The query (a) against library video ``i`` (b), through their views."""
        lib = self.library
        lp = replace(lib.prepared(i), index=1)
        lf = lib.full_view(i)
        lf = None if lf is None else replace(lf, index=1)
        return views.compare_views(qp, lp, qfull, lf, [feats, lib.videos[i].features], self.mo)

    # ---------------------------------------------------------------- copies of copies
    def _siblings(self, found: dict[int, FoundCopy], own: set[int]) -> dict[int, FoundCopy]:
        """Whole copies of the found copies that the query's own search missed (see above).

        The query's range in a sibling is the found copy's range carried along the copy's
        alignment with the sibling; kind and mirroring compose.
        """
        lib = self.library
        full = replace(self.mo, partial=False)
        out: dict[int, FoundCopy] = {}
        best = sorted(found.items(), key=lambda x: (-x[1].similarity, x[0]))[:EXPAND_COPIES]
        for i, c in best:
            if c.kind is CopyKind.TURNED or c.identical:  # turned frames; twins come later
                continue
            self.token.raise_if_cancelled()
            a = replace(lib.prepared(i), index=0)
            fa = lib.full_view(i)
            fa = None if fa is None else replace(fa, index=0)
            n = max(len(a.vectors), 1)
            for h in lib.search(a.vectors, self._neighbours(), CANDIDATE_SIM, self.token):
                j = h.video
                if (
                    j == i
                    or j in own
                    or j in found
                    or j in out
                    or len(h.frames) < SIBLING_SHARE * n
                ):
                    continue
                if not lib.usable(j):
                    continue
                b = replace(lib.prepared(j), index=1)
                fb = lib.full_view(j)
                m = views.compare_views(
                    a, b, fa, None if fb is None else replace(fb, index=1),
                    [lib.videos[i].features, lib.videos[j].features], full,
                )  # fmt: skip
                if not m.accepted(full.threshold, False):
                    continue
                sibling = self._through(c, m, self._info(lib.videos[j]))
                if sibling is not None:
                    out[j] = sibling
        return out

    @staticmethod
    def _through(c: FoundCopy, m: PairMatch, other: VideoInfo) -> FoundCopy | None:
        """``c`` carried to ``other``, a whole copy of its file (``m``: c's file is a)."""
        back = m.evidence_b  # t_other = speed * t_c + offset
        r0, r1 = c.match_range
        lo, hi = back.offset + back.speed * r0, back.offset + back.speed * r1
        dur = other.probe.duration if other.probe else 0.0
        rng = _clip((lo, hi), dur)
        if rng[1] - rng[0] < 0.5 * back.speed * (r1 - r0):  # most of it is not in the sibling
            return None
        flipped = c.evidence.flipped != m.evidence_a.flipped
        kind = c.kind
        if kind in (CopyKind.SAME, CopyKind.MIRRORED):
            kind = CopyKind.MIRRORED if flipped else CopyKind.SAME
        return replace(
            c,
            file=other,
            similarity=round(min(c.similarity, m.score(False)), 4),
            kind=kind,
            match_range=rng,
            evidence=replace(c.evidence, member_range=rng, flipped=flipped),
        )

    # ---------------------------------------------------------------- zoomed copies
    def _near_miss(self, m: PairMatch, qd: float, ld: float) -> bool:
        """A whole-copy comparison that came close (as a scan's zoom second look picks them)."""
        return (
            m.verified
            and zoom.NEAR_MISS <= m.similarity < self.mo.threshold
            and durations_compatible(qd, ld, self.mo.duration_tolerance)
        )

    def _zoomed(
        self,
        file: VideoFile,
        query: VideoInfo,
        qp: Prepared,
        near: list[tuple[int, PairMatch]],
    ) -> dict[int, FoundCopy]:
        """Near misses seen again through windows of either picture (see :mod:`.zoom`)."""
        lib = self.library
        if self._zoomer is None:
            self._zoomer = zoom.Zoomer(
                self.key, self.opts.decoder, self.opts.sampling, self.opts.file_timeout,
                self.embedder, self.cache, self.mo.flip, self.token,
            )  # fmt: skip
        full = replace(self.mo, partial=False)
        qd = query.probe.duration if query.probe else 0.0
        out: dict[int, FoundCopy] = {}
        own_views: list[Prepared] | None = None
        for i, _ in sorted(near, key=lambda x: -x[1].similarity)[:ZOOM_CANDIDATES]:
            self.token.raise_if_cancelled()
            best: PairMatch | None = None
            if own_views is None:  # the query's windows, once
                found = self._zoomer.views(file) or []
                own_views = [prepare_view(0, f, f.regions, f.thumbs, qd, lib.whitening)
                             for f in found]  # fmt: skip
            lp = replace(lib.prepared(i), index=1)
            tries = [(p, lp) for p in own_views]
            v = lib.videos[i]
            for f in self._zoomer.views(v.file) or []:
                p = prepare_view(1, f, f.regions, f.thumbs, v.probe.duration, lib.whitening)
                tries.append((qp, p))
            for a, b in tries:
                r = compare(a, b, full)
                if r.accepted(full.threshold, False) and (
                    best is None or r.score(False) > best.score(False)
                ):
                    best = r
            if best is not None:
                out[i] = _copy(query, self._info(v), best, self.mo.temporal)
        return out

    # ---------------------------------------------------------------- turned copies
    def _turner(self) -> rotation.Rotator:
        """The helper that decodes and embeds turned or mirrored videos (started once)."""
        if self._rotator is None:
            self._rotator = rotation.Rotator(
                self.key,
                self.opts.decoder,
                self.opts.sampling,
                self.opts.file_timeout,
                self.embedder,
                self.cache,
                self.mo.flip,
                self.token,
            )
        return self._rotator

    def _turned(
        self,
        file: VideoFile,
        query: VideoInfo,
        feats: VideoFeatures,
        own: set[int],
        found: set[int],
    ) -> dict[int, FoundCopy]:
        """Library videos that show the query's picture turned (full copies only, as a scan)."""
        votes = self.library.turn_votes(feats, own | found)
        out: dict[int, FoundCopy] = {}
        if not votes:
            return out
        lib = self.library
        full = replace(self.mo, partial=False)
        duration = query.probe.duration if query.probe else 0.0
        for i, k in sorted(votes.items()):
            if not lib.usable(i):
                continue
            turned = self._turner().features(file, k)
            if turned is None:
                continue
            tp = prepare_view(0, turned, turned.regions, turned.thumbs, duration, lib.whitening)
            other = lib.full_view(i) or lib.prepared(i)
            m = compare(tp, replace(other, index=1), full)
            if not m.accepted(full.threshold, False):
                continue
            deg = 90 * k  # the query turned by k quarters shows the library video
            m = replace(
                m,
                evidence_a=replace(m.evidence_a, rotation=(360 - deg) % 360),
                evidence_b=replace(m.evidence_b, rotation=deg),
            )
            copy = _copy(query, self._info(lib.videos[i]), m, self.mo.temporal)
            out[i] = replace(copy, kind=CopyKind.TURNED)
        return out

    # ---------------------------------------------------------------- identical files
    def _hash(self, path: Path) -> bytes | None:
        if path not in self._hashes:
            try:
                self._hashes[path] = full_hash(path, self.token)
            except OSError:
                self._hashes[path] = None
        return self._hashes[path]

    def _twins(self, path: Path, size: int) -> list[tuple[Path, os.stat_result]]:
        """Files byte-identical to ``path`` among the library's and their identical copies."""
        others = [p for p in self.library.same_size(size) if p != path]
        if not others or self._hash(path) is None:
            return []
        out = []
        for p in others:
            try:
                st = os.stat(p)
            except OSError:
                continue
            if st.st_size == size and self._hash(p) == self._hash(path):
                out.append((p, st))
        return out

    def _identical(self, query: VideoInfo, found: list[FoundCopy]) -> list[FoundCopy]:
        """``found`` with byte-identical files marked as such, first, and twins added.

        A scan analyses one file of each identical set: the others are found here by hashing
        the library's same-sized files (``Library.same_size``: the analysed ones and the
        identical copies the scans saw), both the query's twins (similarity 1) and the twins of
        each copy found (with that copy's match).
        """
        dur = query.probe.duration if query.probe else 0.0
        ev = MatchEvidence(1.0, GroupKind.IDENTICAL, 0, 0, 0.0, (0.0, dur), (0.0, dur))
        known = {c.path: c for c in found}
        same: list[FoundCopy] = []
        for p, st in self._twins(query.path, query.size):
            info = known[p].file if p in known else self._beside(p, st, query.probe)
            same.append(FoundCopy(info, 1.0, CopyKind.SAME, (0.0, dur), (0.0, dur), ev, True))
        taken = {c.path for c in same} | {query.path}
        rest: list[FoundCopy] = []
        for c in found:
            if c.path in taken:
                continue
            rest.append(c)
            taken.add(c.path)
            for p, st in self._twins(c.path, c.file.size):
                if p not in taken and p not in known:
                    rest.append(replace(c, file=self._beside(p, st, c.file.probe)))
                    taken.add(p)
        same.sort(key=lambda c: os.fsencode(c.path))
        return same + rest

    def _beside(self, p: Path, st: os.stat_result, probe: Probe | None) -> VideoInfo:
        """A file found beside the library's (its probe is its twin's)."""
        root = self.library.root_of(p)
        return VideoInfo(p, st.st_size, st.st_mtime_ns, root, probe, _under(p, self.ref_roots))


def _clip(r: tuple[float, float], hi: float) -> tuple[float, float]:
    a, b = max(0.0, r[0]), min(hi, r[1]) if hi > 0 else r[1]
    return (round(a, 2), round(max(a, b), 2))


def _within(frames: tuple[float, float], aligned: tuple[float, float]) -> bool:
    """Whether the matched frames lie inside the aligned range (give or take the slack)."""
    return aligned[0] - RANGE_SLACK <= frames[0] and frames[1] <= aligned[1] + RANGE_SLACK


def _copy(query: VideoInfo, other: VideoInfo, m: PairMatch, temporal: bool) -> FoundCopy:
    """A refined, accepted pair (query = a, library file = b) as a ranked copy."""
    ev = m.evidence_a  # the library file as seen from the query (the reference)
    back = m.evidence_b  # the query as seen from the library file: t_lib = speed*t_q + offset
    if back.kind == GroupKind.PARTIAL:
        kind = CopyKind.EXCERPT
    elif ev.kind == GroupKind.PARTIAL:
        kind = CopyKind.CONTAINS
    elif ev.flipped:
        kind = CopyKind.MIRRORED
    else:
        kind = CopyKind.SAME
    qd = query.probe.duration if query.probe else 0.0
    ld = other.probe.duration if other.probe else 0.0
    q_range, l_range = ev.ref_range, ev.member_range
    speed, offset = back.speed, back.offset
    if temporal and speed > 0 and qd > 0 and ld > 0:
        # the overlap of both files along the alignment: sharper than the sampled frames
        q0, q1 = max(0.0, (0.0 - offset) / speed), min(qd, (ld - offset) / speed)
        if q1 > q0:
            aq = (q0, q1)
            al = (offset + speed * q0, offset + speed * q1)
            if _within(q_range, aq) and _within(l_range, al):
                q_range, l_range = aq, al
    return FoundCopy(
        file=other,
        similarity=round(m.score(True), 4),
        kind=kind,
        query_range=_clip(q_range, qd),
        match_range=_clip(l_range, ld),
        evidence=ev,
    )
