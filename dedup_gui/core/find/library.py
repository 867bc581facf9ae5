"""The searched library: analysed videos and their frame vectors, searchable.

Two kinds offer the same members (the :class:`Library` protocol, all that
:func:`~dedup_gui.core.find.copies.find_copies` uses):

* :class:`~dedup_gui.core.find.indexed.IndexedLibrary`: the persistent library index that
  scans keep (:mod:`dedup_gui.core.index`); opening it reads the ledger's rows only, and
  features are read from the cache for the candidates a query hits. Used whenever it exists.
* :class:`LibrarySearch`: gathered from the :class:`~dedup_gui.core.library.cache.
  FeatureCache` (every file analysed under the chosen roots whose size and mtime still match)
  into an in-memory faiss index; for a cache without an index (``--no-cache`` scans, an index
  of other settings).

Members:

* ``files``: the :class:`VideoFile` of each video, by position; ``len()``; ``position(path)``;
* ``videos``: the :class:`LibraryVideo` entries (file, probe, features), by position;
  ``usable(i)``: whether video ``i``'s file is unchanged and its features can be had;
* ``whitening``: the transform the frame vectors were indexed in (queries are whitened alike);
* ``search(query_vectors, k) -> list[VideoHits]``: per library video, which query frames hit
  it, best first;
* ``turn_votes(features, skip)``: library videos that show the query turned (from probes);
* ``prepared(i)`` / ``full_view(i)``: a video ready for refinement (whitened regions);
* ``bind(cache)`` (the cache to read features through, when it is kept between searches) and
  ``close()``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from dedup_gui.core.library.cache import FeatureCache
from dedup_gui.core.match import candidates as knn
from dedup_gui.core.match import rotation, similarity
from dedup_gui.core.match.matching import (
    CANDIDATE_SIM,
    COMMON_SHARE,
    COMMON_VIDEOS,
    common_weight,
    prepare_view,
)
from dedup_gui.core.match.refine import Prepared
from dedup_gui.core.progress import NEVER_CANCELLED, CancelToken
from dedup_gui.core.types import Probe, VideoFeatures, VideoFile

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class LibraryVideo:
    """One analysed library file: its identity, probe and features."""

    file: VideoFile
    probe: Probe
    features: VideoFeatures

    @property
    def path(self) -> Path:
        """The file's path."""
        return self.file.path


@dataclass(frozen=True, eq=False)
class VideoHits:
    """What the kNN search found in one library video.

    Attributes:
        video: Position of the video in :attr:`LibrarySearch.videos`.
        score: Sum over the query frames that hit the video of their best similarity.
        frames: Query frames (rows of the query vectors) that hit it, ascending.
        sims: The best similarity of each of those frames in this video.
        best: The best frame similarity.
    """

    video: int
    score: float
    frames: np.ndarray
    sims: np.ndarray
    best: float


def under(path: Path, roots: Sequence[Path]) -> bool:
    """Whether ``path`` is one of ``roots`` or lies under one."""
    return any(path == r or r in path.parents for r in roots)


def current(path: Path, size: int, mtime_ns: int) -> bool:
    """Whether the file still exists unchanged since it was analysed."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return st.st_size == size and st.st_mtime_ns == mtime_ns


class Library(Protocol):
    """What :func:`~dedup_gui.core.find.copies.find_copies` needs of a library."""

    @property
    def files(self) -> Sequence[VideoFile]:
        """The library's files, addressed by position."""
        ...

    @property
    def videos(self) -> Sequence[LibraryVideo]:
        """The library's videos (features read on access), addressed by position."""
        ...

    @property
    def whitening(self) -> similarity.Whitening:
        """The transform the indexed frame vectors are in (queries are whitened alike)."""
        ...

    @property
    def source(self) -> str:
        """Where the videos are searched, in words (for messages)."""
        ...

    def __len__(self) -> int:
        """Videos in the library."""
        ...

    def position(self, path: Path) -> int | None:
        """The position of the video of ``path``, if the library holds it."""
        ...

    def usable(self, i: int) -> bool:
        """Whether video ``i`` is unchanged on disk and its features can be read."""
        ...

    def same_size(self, size: int) -> list[Path]:
        """Library files of ``size`` bytes, and the identical copies of library files."""
        ...

    def root_of(self, path: Path) -> Path:
        """The library folder ``path`` lies under (its own folder outside them)."""
        ...

    def search(
        self,
        query_vectors: np.ndarray,
        k: int,
        min_sim: float = 0.35,
        token: CancelToken = NEVER_CANCELLED,
    ) -> list[VideoHits]:
        """Library videos hit by the query frames (whitened with ``whitening``), best first."""
        ...

    def turn_votes(self, features: VideoFeatures, skip: set[int]) -> dict[int, int]:
        """Library video -> quarter turns of the query that show it (``skip`` left out)."""
        ...

    def prepared(self, i: int) -> Prepared:
        """Video ``i`` ready for refinement (whitened; frame weights set)."""
        ...

    def full_view(self, i: int) -> Prepared | None:
        """Video ``i``'s whole-frame view when its picture sits in a canvas."""
        ...

    def bind(self, cache: FeatureCache) -> None:
        """Read features through ``cache`` from now on (the one open for this search)."""
        ...

    def close(self) -> None:
        """Release what the library holds open."""
        ...


class Views:
    """Refinement views and probe votes shared by both kinds of library.

    A subclass sets ``whitening``, ``files`` and ``videos`` and may override
    :meth:`_weights` (the evidence weights of a video's informative frames).
    """

    whitening: similarity.Whitening
    files: Sequence[VideoFile]
    videos: Sequence[LibraryVideo]
    source: str
    # refinement views kept (None: all; a library whose weights are set on its views in place,
    # as LibrarySearch's, keeps all)
    keep: int | None = None

    def __init__(self, roots: Sequence[Path] | None = None) -> None:
        self.roots = list(roots) if roots is not None else None
        self._prepared: dict[int, Prepared] = {}
        self._full: dict[int, Prepared | None] = {}
        self._probes: tuple[Any, np.ndarray] | None = None
        self._where: dict[str, int] | None = None

    def __len__(self) -> int:
        return len(self.files)

    def position(self, path: Path) -> int | None:
        """The position of the video of ``path``, if the library holds it."""
        if self._where is None:  # str keys: hashing 100,000 Paths takes a second
            self._where = {str(f.path): i for i, f in enumerate(self.files)}
        return self._where.get(str(path))

    def usable(self, i: int) -> bool:
        """Whether video ``i`` is unchanged on disk and its features can be read."""
        f = self.files[i]
        return current(f.path, f.size, f.mtime_ns)

    def root_of(self, path: Path) -> Path:
        """The library folder ``path`` lies under (its own folder outside them)."""
        return next((r for r in self.roots or () if under(path, [r])), path.parent)

    def _weights(self, i: int, n: int) -> np.ndarray:
        return np.ones(n, np.float32)

    def prepared(self, i: int) -> Prepared:
        """Video ``i`` whitened for refinement (its picture view)."""
        if i not in self._prepared:
            if self.keep is not None and len(self._prepared) >= self.keep:
                oldest = next(iter(self._prepared))  # made first (weights come from _weights)
                del self._prepared[oldest]
                self._full.pop(oldest, None)
            v = self.videos[i]
            f = v.features
            self._prepared[i] = prepare_view(
                i, f, f.regions, f.thumbs, v.probe.duration, self.whitening,
                self._weights(i, int(f.informative.sum())),
            )  # fmt: skip
        return self._prepared[i]

    def full_view(self, i: int) -> Prepared | None:
        """The whole-frame view of video ``i`` when its picture sits in a canvas, else None."""
        if i not in self._full:
            f = self.videos[i].features
            p = self.prepared(i)
            self._full[i] = (
                None
                if f.full_regions is None or f.full_thumbs is None
                else prepare_view(
                    i, f, f.full_regions, f.full_thumbs, p.duration, self.whitening, p.weights
                )
            )
        return self._full[i]

    def _probe_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """(n,) library position and (n, d) probe signature of every probe."""
        sigs = [rotation.probe_signatures(v.features) for v in self.videos]
        owner = [np.full(len(s), i, np.int64) for i, s in enumerate(sigs)]
        if not sigs:
            return np.zeros(0, np.int64), np.zeros((0, rotation.PROBE_DIM), np.float32)
        return np.concatenate(owner), np.concatenate(sigs)

    def turn_votes(self, features: VideoFeatures, skip: set[int]) -> dict[int, int]:
        """Library videos that show the query turned (see :func:`rotation.query_votes`)."""
        if self._probes is None:
            owner, sigs = self._probe_rows()
            index = rotation.probe_index(sigs)
            self._probes = (index, owner)
        index, owner = self._probes
        mask = np.zeros(len(self), bool)
        mask[[i for i in skip if 0 <= i < len(mask)]] = True
        return rotation.query_votes(index, owner, features, mask)

    def bind(self, cache: FeatureCache) -> None:
        """Read features through ``cache`` from now on (this kind holds them all: no-op)."""

    def close(self) -> None:
        """Nothing to release (see the subclasses)."""


class LibrarySearch(Views):
    """Analysed library videos in an in-memory index (see the module docstring).

    Args:
        videos: The library's videos.
        prior: The embedder's generic whitening prior (blended with the library's statistics,
            as a scan does).
        whiten: Whiten the vectors (``MatchOptions.whiten``).
        suppress_common: Down-weight library frames that many unrelated library videos share
            (intros, logos), as a scan does (``MatchOptions.suppress_common``).
    """

    def __init__(
        self,
        videos: Sequence[LibraryVideo],
        prior: tuple[np.ndarray, np.ndarray] | None = None,
        whiten: bool = True,
        suppress_common: bool = True,
        roots: Sequence[Path] | None = None,
        extensions: Iterable[str] = (),
    ) -> None:
        super().__init__(roots)
        self.source = "the analysed videos of the feature cache"
        self.extensions = frozenset(extensions)
        self._same_size: dict[int, list[Path]] | None = None
        self.videos = list(videos)
        self.files = [v.file for v in self.videos]
        feats = [v.features for v in self.videos]
        if whiten and feats:
            self.whitening = similarity.fit_whitening(
                [f.regions[f.informative] for f in feats], prior
            )
        elif feats:
            self.whitening = similarity.Whitening.identity(feats[0].regions.shape[-1])
        elif prior is not None:
            self.whitening = similarity.fit_whitening([], prior)
        else:
            self.whitening = similarity.Whitening.identity(1)
        self._index: Any = None
        self._owner = np.zeros(0, np.int64)
        self._frame = np.zeros(0, np.int64)
        self._build()
        if suppress_common:
            self._suppress_common()

    @classmethod
    def from_cache(
        cls,
        cache: FeatureCache,
        key: str,
        roots: Iterable[Path] | None = None,
        prior: tuple[np.ndarray, np.ndarray] | None = None,
        whiten: bool = True,
        min_duration: float = 0.0,
        suppress_common: bool = True,
        extensions: Iterable[str] = (),
    ) -> LibrarySearch:
        """Gather the videos analysed under ``key`` (under ``roots``, or all) that still exist.

        Args:
            cache: The feature cache the scans filled.
            key: The feature key (model, sampling, decoder) the query is analysed with.
            roots: Only files under these folders; None: every cached file.
            prior: See the class.
            whiten: See the class.
            min_duration: Leave out videos shorter than this (as a scan does).
            suppress_common: See the class.
            extensions: Video file extensions (the unanalysed identical copies beside the
                library's files are found among those, see :meth:`same_size`).
        """
        wanted = [Path(os.path.abspath(r)) for r in roots] if roots is not None else None
        videos = []
        for path, size, mtime_ns, hit in cache.entries(key):
            if wanted is not None and not under(path, wanted):
                continue
            if not current(path, size, mtime_ns):
                continue
            if min_duration and 0 < hit.probe.duration < min_duration:
                continue
            root = next((r for r in wanted or () if under(path, [r])), path.parent)
            videos.append(LibraryVideo(VideoFile(path, size, mtime_ns, root), hit.probe,
                                       hit.features))  # fmt: skip
        videos.sort(key=lambda v: os.fsencode(v.path))
        log.info("library: %d analysed videos", len(videos))
        return cls(videos, prior, whiten, suppress_common, wanted, extensions)

    # ------------------------------------------------------------------ search
    def _build(self) -> None:
        import faiss

        vecs, owner, frame = [], [], []
        for i in range(len(self.videos)):
            views = [self.prepared(i), self.full_view(i)]
            for p in views:
                if p is None or not len(p.vectors):
                    continue
                vecs.append(p.vectors)
                owner.append(np.full(len(p.vectors), i, np.int64))
                frame.append(np.arange(len(p.vectors), dtype=np.int64))
        if not vecs:
            return
        allv = np.ascontiguousarray(np.concatenate(vecs).astype(np.float32))
        self._index = faiss.IndexFlatIP(allv.shape[1])
        self._index.add(allv)
        self._owner = np.concatenate(owner)
        self._frame = np.concatenate(frame)

    def _suppress_common(self) -> None:
        """Evidence weights of the library's frames from their commonness (see matching)."""
        if len(self.videos) < 2:
            return
        searched = []
        for i in range(len(self.videos)):
            p, fv = self.prepared(i), self.full_view(i)
            searched.append(p.vectors if fv is None else np.concatenate([p.vectors, fv.vectors]))
        neigh = knn.search(searched, min_sim=CANDIDATE_SIM)
        limit = max(COMMON_VIDEOS, COMMON_SHARE * len(self.videos))
        for i, common in enumerate(neigh.commonness):
            w = self.prepared(i).weights  # shared with the whole-frame view
            w[:] = common_weight(common[: len(w)], limit)

    @property
    def frames(self) -> int:
        """Frame vectors in the index."""
        return 0 if self._index is None else int(self._index.ntotal)

    def same_size(self, size: int) -> list[Path]:
        """Library files of ``size`` bytes, and the unanalysed videos beside them.

        A cache knows nothing of the identical copies a scan did not analyse: the folders of
        the library's files are listed (once) for videos of the ``extensions``.
        """
        if self._same_size is None:
            # str keys throughout: hashing 100,000 Paths takes a second
            by_size: dict[int, list[Path]] = {}
            analysed: set[str] = set()
            folders: set[str] = set()
            for f in self.files:
                by_size.setdefault(f.size, []).append(f.path)
                name = str(f.path)
                analysed.add(name)
                folders.add(os.path.dirname(name))
            for folder in sorted(folders):
                try:
                    entries = list(os.scandir(folder))
                except OSError:
                    continue
                for e in entries:
                    ext = os.path.splitext(e.name)[1].lower().lstrip(".")
                    if e.path in analysed or ext not in self.extensions:
                        continue
                    try:
                        if e.is_file():
                            by_size.setdefault(e.stat().st_size, []).append(Path(e.path))
                    except OSError:
                        continue
            self._same_size = by_size
        return list(self._same_size.get(size, []))

    def search(
        self,
        query_vectors: np.ndarray,
        k: int,
        min_sim: float = 0.35,
        token: CancelToken = NEVER_CANCELLED,
    ) -> list[VideoHits]:
        """Library videos close to the query frames, best first.

        Args:
            query_vectors: (n, d) frame vectors, whitened with :attr:`whitening` and
                L2-normalised (rows: query frames).
            k: Neighbour frames per query frame (a video counts once per query frame).
            min_sim: A neighbour closer than this is a hit.
            token: Checked between batches.
        """
        if self._index is None or not len(query_vectors):
            return []
        q = np.ascontiguousarray(query_vectors.astype(np.float32))
        kk = min(self.frames, max(1, k))
        rows, videos, sims = [], [], []
        for lo in range(0, len(q), 1024):
            token.raise_if_cancelled()
            s, ids = self._index.search(q[lo : lo + 1024], kk)
            ok = (ids >= 0) & (s >= min_sim)
            rows.append(np.nonzero(ok)[0] + lo)
            videos.append(self._owner[ids[ok]])
            sims.append(s[ok])
        return group_hits(np.concatenate(rows), np.concatenate(videos), np.concatenate(sims))


def group_hits(rows: np.ndarray, videos: np.ndarray, sims: np.ndarray) -> list[VideoHits]:
    """Per video, the query frames that hit it and their best similarity, best video first.

    Args:
        rows: Query frame of each hit.
        videos: Library video (position) of each hit.
        sims: Similarity of each hit.
    """
    if not len(rows):
        return []
    n = int(rows.max()) + 1
    key = videos.astype(np.int64) * n + rows.astype(np.int64)
    order = np.lexsort((-sims, key))  # by (video, frame), best first
    key, sims = key[order], sims[order].astype(np.float32)
    first = np.ones(len(key), bool)
    first[1:] = key[1:] != key[:-1]
    key, sims = key[first], sims[first]
    video, frame = key // n, key % n
    starts = np.flatnonzero(np.r_[True, video[1:] != video[:-1]])
    hits = [
        VideoHits(
            video=int(video[a]),
            score=float(sims[a:b].astype(np.float64).sum()),
            frames=frame[a:b],
            sims=sims[a:b],
            best=float(sims[a:b].max()),
        )
        for a, b in zip(starts.tolist(), [*starts[1:].tolist(), len(key)], strict=True)
    ]
    hits.sort(key=lambda h: (-h.score, -h.best, h.video))
    return hits
