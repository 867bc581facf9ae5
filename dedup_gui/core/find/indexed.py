"""The persistent library index as a searched library (the :class:`~.library.Library` protocol).

Scans keep the library index up to date (:mod:`dedup_gui.core.index`): every analysed video's
frame vectors in the fixed space, and in its ledger the videos, what each one's search found
(its close frames, from which frame commonness is counted) and its probe signatures. A query
is searched against that index directly: opening it reads the ledger's video rows only, so a
query costs the same whatever the library's size, apart from the vector search itself. The
features of a library video (for refinement) are read from the feature cache when a query's
candidates need them, and kept for the next queries in a small LRU.
"""

from __future__ import annotations

import bisect
import logging
import os
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from dedup_gui.core.find.library import (
    LibraryVideo,
    VideoHits,
    Views,
    current,
    group_hits,
    under,
)
from dedup_gui.core.index.base import video_of
from dedup_gui.core.index.library import Library as IndexLedger
from dedup_gui.core.library.cache import FeatureCache
from dedup_gui.core.match import similarity
from dedup_gui.core.match.matching import COMMON_SHARE, COMMON_VIDEOS, common_weight
from dedup_gui.core.progress import NEVER_CANCELLED, CancelToken
from dedup_gui.core.types import VideoFile

log = logging.getLogger(__name__)

KEEP_VIDEOS = 512  # library videos whose features are kept between queries
BATCH = 1024  # query frames per backend call
# A search whose neighbours include other libraries' frames (videos outside the searched
# roots) is repeated with room for them, at most this many times and up to this many times k.
WIDEN_TIMES = 3
WIDEN_MAX = 8


class _Videos(Sequence[LibraryVideo]):
    """Library videos by position, their features read from the cache on access."""

    def __init__(self, lib: IndexedLibrary) -> None:
        self._lib = lib
        self._kept: OrderedDict[int, LibraryVideo | None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._lib.files)

    def get(self, i: int) -> LibraryVideo | None:
        """Video ``i``, or None when the cache no longer has its features."""
        if i in self._kept:
            self._kept.move_to_end(i)
            return self._kept[i]
        f = self._lib.files[i]
        hit = self._lib.cache.get(f, self._lib.key)
        v = None if hit is None else LibraryVideo(f, hit[0], hit[1])
        self._kept[i] = v
        if len(self._kept) > KEEP_VIDEOS:
            self._kept.popitem(last=False)
        return v

    def __getitem__(self, i: int) -> LibraryVideo:  # type: ignore[override]
        v = self.get(i)
        if v is None:
            raise KeyError(f"no cached features for {self._lib.files[i].path}")
        return v

    def __iter__(self) -> Iterator[LibraryVideo]:
        for i in range(len(self)):
            v = self.get(i)
            if v is not None:
                yield v


class IndexedLibrary(Views):
    """The library index of one feature key, searched by queries (see the module docstring).

    Args:
        ledger: The opened library index (closed by :meth:`close`).
        cache: The feature cache the scans filled (features of candidates are read from it).
        key: The feature key.
        whitening: The index's fixed space (queries are whitened alike).
        roots: Only videos under these folders; None: every indexed video.
        suppress_common: Down-weight library frames that many unrelated videos share.
    """

    def __init__(
        self,
        ledger: IndexLedger,
        cache: FeatureCache,
        key: str,
        whitening: similarity.Whitening,
        roots: Sequence[Path] | None = None,
        suppress_common: bool = True,
    ) -> None:
        super().__init__(roots)
        self.ledger = ledger
        self.cache = cache
        self.key = key
        self.whitening = whitening
        self.suppress_common = suppress_common
        self._backend = ledger.open_backend()
        kind = self._backend.describe() if self._backend is not None else "empty"
        self.source = f"the library index ({kind})"
        # paths as the ledger's bytes (sorted as a scan sorts them, os.fsencode), filtered by
        # prefix: Path operations on 100,000 rows would take seconds
        sep = os.fsencode(os.sep)
        wanted = [(os.fsencode(r).rstrip(sep) + sep, r) for r in roots or ()]
        files, ids_, self._raw = [], [], []
        for vid, raw, size, mtime_ns in ledger.rows():
            raw = bytes(raw)
            root: Path | None = None
            if roots is not None:
                root = next(
                    (r for pre, r in wanted if raw.startswith(pre) or raw == pre[:-1]), None
                )
                if root is None:
                    continue
            path = Path(os.fsdecode(raw))
            files.append(VideoFile(path, int(size), int(mtime_ns), root or path.parent))
            self._raw.append(raw)
            ids_.append(int(vid))
        self.files = files
        ids = np.array(ids_, np.int64)
        self._ids = ids
        self._order = np.argsort(ids)
        self._sorted = ids[self._order]
        self._videos = _Videos(self)
        self.videos = self._videos
        self.keep = KEEP_VIDEOS  # views of the candidates of the last queries, not of all
        log.info("library index: %d videos", len(self.files))

    # ------------------------------------------------------------------ positions
    def _positions(self, video_ids: np.ndarray) -> np.ndarray:
        """Positions of ledger video ids (-1: not in this library)."""
        video_ids = np.asarray(video_ids, np.int64)
        if not len(self._sorted):
            return np.full(video_ids.shape, -1, np.int64)
        at = np.clip(np.searchsorted(self._sorted, video_ids), 0, len(self._sorted) - 1)
        return np.where(self._sorted[at] == video_ids, self._order[at], -1)

    def position(self, path: Path) -> int | None:
        """The position of the video of ``path`` (files are sorted by their bytes)."""
        raw = os.fsencode(path)
        at = bisect.bisect_left(self._raw, raw)
        return at if at < len(self._raw) and self._raw[at] == raw else None

    def same_size(self, size: int) -> list[Path]:
        """Indexed files of ``size`` bytes, and the identical copies the scans saw."""
        found = self.ledger.same_size(size)
        return found if self.roots is None else [p for p in found if under(p, self.roots)]

    def usable(self, i: int) -> bool:
        """Whether video ``i``'s file is unchanged and the cache has its features."""
        f = self.files[i]
        return current(f.path, f.size, f.mtime_ns) and self._videos.get(i) is not None

    # ------------------------------------------------------------------ search
    @property
    def frames(self) -> int:
        """Frame vectors in the index."""
        return 0 if self._backend is None else self._backend.count()

    def search(
        self,
        query_vectors: np.ndarray,
        k: int,
        min_sim: float = 0.35,
        token: CancelToken = NEVER_CANCELLED,
    ) -> list[VideoHits]:
        """Library videos close to the query frames, best first (as :class:`LibrarySearch`)."""
        backend = self._backend
        if backend is None or not len(query_vectors) or not backend.count() or not len(self):
            return []
        q = np.ascontiguousarray(query_vectors, np.float32)
        total = backend.count()
        kk = min(total, max(1, k))
        rows, videos, sims = [], [], []
        for lo in range(0, len(q), BATCH):
            token.raise_if_cancelled()
            s, ids = backend.search(q[lo : lo + BATCH], kk)
            pos = self._positions(video_of(ids))
            # frames of videos outside this library (other roots) take neighbour slots: where
            # a frame's neighbours are all still close, search again with room for them, so
            # that its own library's videos keep their k (several copies of a clip outside
            # the searched folders otherwise hide its source inside them)
            wide = kk
            for _ in range(WIDEN_TIMES):
                others = ((pos < 0) & (s >= min_sim)).sum(axis=1)
                full = s[:, -1] >= min_sim
                if wide >= total or not (others[full] > 0).any():
                    break
                wanted = max(wide + 1, kk + int(others[full].max()))
                wide = min(total, wanted, WIDEN_MAX * kk)
                s, ids = backend.search(q[lo : lo + BATCH], wide)
                pos = self._positions(video_of(ids))
            ours = pos >= 0
            ok = ours & (s >= min_sim) & (np.cumsum(ours, axis=1) <= kk)  # k of its own each
            rows.append(np.nonzero(ok)[0] + lo)
            videos.append(pos[ok])
            sims.append(s[ok])
        return group_hits(np.concatenate(rows), np.concatenate(videos), np.concatenate(sims))

    def _probe_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """The ledger's probe signatures, by library position (-1: another library's)."""
        owner, sigs = self.ledger.probes()
        return self._positions(owner), sigs

    # ------------------------------------------------------------------ weights
    def _weights(self, i: int, n: int) -> np.ndarray:
        """Evidence weights of video ``i``'s frames from the commonness its search found."""
        if not self.suppress_common or len(self) < 2:
            return np.ones(n, np.float32)
        vid = int(self._ids[i])
        common = self.ledger.commonness(vid, lambda ids: self._positions(ids) >= 0)
        counts = np.zeros(n, np.int32)
        counts[: min(n, len(common))] = common[:n]
        return common_weight(counts, max(COMMON_VIDEOS, COMMON_SHARE * len(self)))

    def bind(self, cache: FeatureCache) -> None:
        """Read features through ``cache`` from now on (the one open for this search)."""
        self.cache = cache

    def close(self) -> None:
        """Close the ledger and its backend."""
        self.ledger.close()
