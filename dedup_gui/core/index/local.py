"""The local faiss backend: exact below a size, IVF-SQ8 above it; a file or memory.

Below :data:`EXACT_MAX_FRAMES` frames the index is exact (``IndexFlatIP`` under an
``IndexIDMap2``), so small libraries get exactly the neighbours of an all-against-all search.
Above it the index becomes ``IndexIVFScalarQuantizer`` (8-bit scalar quantisation: a quarter
of the float32 memory, inner-product metric, ``nlist ~ 4 sqrt(n)`` lists, :data:`NPROBE`
probed) with a hashtable direct map, so removal and reconstruction work. It was chosen over
HNSW because faiss's HNSW indexes support neither ``remove_ids`` nor range search (commonness);
its recall against exact search is measured by ``scripts/benchmark_scale.py``
(docs/BENCHMARKS.md). When an IVF index has grown well past the size it was trained for, it
is trained again from its own (dequantised) vectors.

Persisted with ``faiss.write_index`` to a temporary file and renamed into place, so a crash
leaves the previous file.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from dedup_gui.core.index.base import FRAME_BITS, frame_ids

log = logging.getLogger(__name__)

EXACT_MAX_FRAMES = 50_000
NPROBE = 24
RETRAIN_GROWTH = 8.0  # retrain an IVF index when it holds this many times its training size
TRAIN_PER_LIST = 40
TRAIN_MIN_PER_LIST = 39  # faiss's k-means wants at least this many points a centroid


def _nlist(n: int) -> int:
    return int(np.clip(4 * np.sqrt(max(n, 1)), 64, 65536))


class LocalIndex:
    """A faiss index of frame vectors (see the module docstring).

    Args:
        dim: Vector dimension.
        path: The index file (loaded when it exists), or None for an in-memory index.
        exact_max: Frames above which the index becomes approximate.
        nprobe: Lists probed per query of the approximate index.
    """

    backend = "local"

    def __init__(
        self,
        dim: int,
        path: Path | None = None,
        exact_max: int = EXACT_MAX_FRAMES,
        nprobe: int = NPROBE,
    ) -> None:
        import faiss

        self.dim = dim
        self.path = path
        self.exact_max = exact_max
        self.nprobe = nprobe
        self.location = str(path) if path else "memory"
        self._trained_for = 0
        self._expected = 0  # the size the coming adds will reach (expect())
        self._quantizer: Any = None
        self._index: Any = None
        self._dirty = False  # changed since loaded or persisted
        if path is not None and path.exists():
            try:
                self._index = faiss.read_index(str(path))
                if self._index.d != dim:
                    raise ValueError(f"dimension {self._index.d}, expected {dim}")
                ivf = self._ivf()
                if ivf is not None:
                    ivf.nprobe = nprobe
                    self._trained_for = self._index.ntotal
            except (RuntimeError, ValueError) as exc:
                log.warning("index file %s unusable (%s); starting empty", path, exc)
                self._index = None
        if self._index is None:
            self._index = self._flat()

    # -- building ------------------------------------------------------------------------
    def _flat(self) -> Any:
        import faiss

        return faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))

    def _ivf(self) -> Any:
        import faiss

        inner = faiss.downcast_index(self._index)
        return inner if isinstance(inner, faiss.IndexIVF) else None

    def _all(self) -> tuple[np.ndarray, np.ndarray]:
        """Every (id, vector) of the index."""
        import faiss

        n = self._index.ntotal
        ivf = self._ivf()
        if ivf is None:
            ids = faiss.vector_to_array(self._index.id_map).astype(np.int64)
            flat = faiss.downcast_index(self._index.index)
            return ids, flat.reconstruct_n(0, n) if n else np.zeros((0, self.dim), np.float32)
        parts = []
        inv = ivf.invlists
        for lst in range(ivf.nlist):
            size = inv.list_size(lst)
            if size:
                parts.append(faiss.rev_swig_ptr(inv.get_ids(lst), size).copy())
        ids = np.concatenate(parts).astype(np.int64) if parts else np.zeros(0, np.int64)
        if not len(ids):
            return ids, np.zeros((0, self.dim), np.float32)
        return ids, ivf.reconstruct_batch(ids)

    def _rebuild_ivf(self, ids: np.ndarray, vecs: np.ndarray, size: int = 0) -> None:
        """Train an IVF index for ``size`` frames (at least those given) and add these."""
        import faiss

        size = max(size, len(ids))
        nlist = _nlist(size)
        quantizer = faiss.IndexFlatIP(self.dim)
        ivf = faiss.IndexIVFScalarQuantizer(
            quantizer, self.dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
        )
        self._quantizer = quantizer  # the IVF index does not own it: keep it alive
        rng = np.random.default_rng(0)
        n_train = min(len(vecs), nlist * TRAIN_PER_LIST)
        sample = (
            vecs[rng.choice(len(vecs), n_train, replace=False)] if n_train < len(vecs) else vecs
        )
        ivf.train(np.ascontiguousarray(sample, dtype=np.float32))
        ivf.set_direct_map_type(getattr(faiss, "DirectMap").Hashtable)  # noqa: B009
        ivf.nprobe = self.nprobe
        ivf.add_with_ids(np.ascontiguousarray(vecs, dtype=np.float32), ids)
        self._index = ivf
        self._trained_for = size
        log.info("frame index: IVF-SQ8, %d lists for %d frames, %d now", nlist, size, len(ids))

    # -- the interface -------------------------------------------------------------------
    def add(self, video_ids: list[int], vectors: list[np.ndarray]) -> None:
        """Add each video's frame vectors."""
        keep = [(v, x) for v, x in zip(video_ids, vectors, strict=True) if len(x)]
        if not keep:
            return
        ids = np.concatenate([frame_ids(v, len(x)) for v, x in keep])
        vecs = np.ascontiguousarray(np.concatenate([x for _, x in keep]), dtype=np.float32)
        total = self._index.ntotal + len(ids)
        ivf = self._ivf()
        size = max(total, self._expected)
        if ivf is None:
            # approximate above exact_max; when more frames are expected, once there are
            # enough to train the lists of the final size (a first scan trains once, for it)
            rebuild = total > self.exact_max and total >= min(
                size, TRAIN_MIN_PER_LIST * _nlist(size)
            )
        else:
            rebuild = total > RETRAIN_GROWTH * max(self._trained_for, 1)
        if rebuild:
            old_ids, old_vecs = self._all()
            self._rebuild_ivf(
                np.concatenate([old_ids, ids]), np.concatenate([old_vecs, vecs]), size
            )
        else:
            self._index.add_with_ids(vecs, ids)
        self._dirty = True

    def expect(self, frames: int) -> None:
        """Train for about ``frames`` frames when the index next trains (0: for what it holds).

        Without the hint an index trained at ``exact_max`` frames keeps its lists until it
        holds :data:`RETRAIN_GROWTH` times that, each list ever longer: a 100,000-video first
        scan searched an index of 2,986 lists at 1.64 M frames (docs/BENCHMARKS.md).
        """
        self._expected = max(0, int(frames))
        total = self._index.ntotal
        if self._ivf() is None and total > self.exact_max and self._expected <= total:
            # the adds are done (or fell short of the hint): no more waiting to train
            old_ids, old_vecs = self._all()
            self._rebuild_ivf(old_ids, old_vecs, self._expected)
            self._dirty = True

    def remove(self, video_ids: list[int]) -> None:
        """Remove every frame of these videos."""
        import faiss

        if not video_ids or self._index.ntotal == 0:
            return
        ids = np.concatenate([frame_ids(v, 1 << FRAME_BITS) for v in video_ids])
        # the IVF hashtable direct map removes an explicit array of ids only
        sel = faiss.IDSelectorArray if self._ivf() is not None else faiss.IDSelectorBatch
        self._index.remove_ids(sel(ids))
        self._dirty = True

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest frames of each query."""
        q = np.ascontiguousarray(queries, dtype=np.float32)
        if self._index.ntotal == 0 or len(q) == 0:
            return np.zeros((len(q), k), np.float32), np.full((len(q), k), -1, np.int64)
        sims, ids = self._index.search(q, k)
        return sims, ids.astype(np.int64)

    def range_search(
        self, queries: np.ndarray, threshold: float, max_video: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every frame at least ``threshold`` similar to each query (of videos <= ``max_video``).

        In the IVF index the bound is a faiss ID selector: frames above it are skipped before
        their distance is computed, so a bounded first scan does about half the work (search
        of a 10,000-video library 53 -> 26-32 s, docs/BENCHMARKS.md). The exact index ignores
        it: faiss leaves its BLAS path for a selector (a 1,000-video search took twice as
        long), and unbounded answers are a superset the caller deduplicates.
        """
        import faiss

        q = np.ascontiguousarray(queries, dtype=np.float32)
        if self._index.ntotal == 0 or len(q) == 0:
            return np.zeros(len(q) + 1, np.int64), np.zeros(0, np.float32), np.zeros(0, np.int64)
        ivf = self._ivf()
        if max_video is None or ivf is None:
            lims, sims, ids = self._index.range_search(q, threshold)
        else:
            sel = faiss.IDSelectorRange(0, (int(max_video) + 1) << FRAME_BITS)
            params = faiss.SearchParametersIVF()
            params.sel = sel  # ``sel`` stays referenced here until the search returns
            params.nprobe = ivf.nprobe
            lims, sims, ids = self._index.range_search(q, threshold, params=params)
        return lims.astype(np.int64), sims.astype(np.float32), ids.astype(np.int64)

    def count(self) -> int:
        """Frames indexed."""
        return int(self._index.ntotal)

    def size_bytes(self) -> int:
        """Bytes of the index file (or an estimate of the memory of an in-memory one)."""
        if self.path is not None and self.path.exists():
            return self.path.stat().st_size
        per = self.dim * (1 if self._ivf() is not None else 4) + 16
        return self.count() * per

    def describe(self) -> str:
        """The kind of index, in words."""
        ivf = self._ivf()
        if ivf is None:
            return "exact (faiss IndexFlatIP)"
        return f"approximate (faiss IVF-SQ8, {ivf.nlist} lists, nprobe {ivf.nprobe})"

    def persist(self) -> None:
        """Write the index file (atomically) when it changed.

        A reader (a search of the library) never writes: a scan may have written the file
        since the reader loaded it.
        """
        import faiss

        if self.path is None or not self._dirty:
            return
        tmp = self.path.with_name(self.path.name + ".tmp")
        faiss.write_index(self._index, str(tmp))
        os.replace(tmp, self.path)
        self._dirty = False

    def drop(self) -> None:
        """Delete everything."""
        self._index = self._flat()
        self._trained_for = 0
        self._dirty = True
        if self.path is not None and self.path.exists():
            self.path.unlink()

    def close(self) -> None:
        """Persist."""
        self.persist()
