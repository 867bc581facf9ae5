"""The vector-index interface every backend implements, and the frame-id encoding.

A frame is stored under the id ``video_id << FRAME_BITS | frame``: searches return frame ids,
the video is the id shifted back, and removing a video removes one id range.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

FRAME_BITS = 12  # up to 4096 frames per video (picture and whole-frame views together)
MAX_FRAMES = 1 << FRAME_BITS


def frame_ids(video_id: int, n: int) -> np.ndarray:
    """The frame ids of ``n`` frames of one video."""
    if n > MAX_FRAMES:
        raise ValueError(f"{n} frames in one video; at most {MAX_FRAMES} can be indexed")
    return (np.int64(video_id) << FRAME_BITS) | np.arange(n, dtype=np.int64)


def video_of(ids: np.ndarray) -> np.ndarray:
    """Video ids of frame ids (-1 stays -1)."""
    ids = np.asarray(ids, dtype=np.int64)
    return np.where(ids >= 0, ids >> FRAME_BITS, -1)


@runtime_checkable
class VectorIndex(Protocol):
    """Frame vectors under stable video ids, searchable by inner product.

    Vectors are L2-normalised, so the inner product is the cosine similarity.
    """

    backend: str  # "local" or "milvus"
    location: str  # a file, a URI or "memory"

    def add(self, video_ids: list[int], vectors: list[np.ndarray]) -> None:
        """Add each video's (n_i, dim) frame vectors (a video id must not be present)."""
        ...

    def remove(self, video_ids: list[int]) -> None:
        """Remove every frame of these videos (unknown ids are ignored)."""
        ...

    def expect(self, frames: int) -> None:
        """A hint: the index will hold about this many frames when the coming adds are done.

        An index that trains (faiss IVF) trains for that size rather than for what it holds
        when it first must; 0 drops the hint. A backend without training ignores it.
        """
        ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` nearest frames of each query.

        Returns:
            (q, k) float32 similarities, best first, and (q, k) int64 frame ids (-1: none).
        """
        ...

    def range_search(
        self, queries: np.ndarray, threshold: float, max_video: int | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every frame at least ``threshold`` similar to each query.

        With ``max_video``, only frames of videos whose id is at most that (a backend that
        cannot restrict may return more: a superset, which callers deduplicate). The
        library's first scan uses it to look at each pair of frames once: a video's frames
        search the videos indexed before it, and every close pair is stored both ways.

        Returns:
            (q + 1,) int64 offsets, the float32 similarities and the int64 frame ids: query
            i's in ``sims[lims[i]:lims[i+1]]`` and ``ids[lims[i]:lims[i+1]]``, in any order.
        """
        ...

    def count(self) -> int:
        """Frames indexed."""
        ...

    def size_bytes(self) -> int:
        """Bytes on disk (or in memory for an index that is not persisted)."""
        ...

    def describe(self) -> str:
        """The kind of index, in words (e.g. "exact (flat)", "IVF-SQ8, 1024 lists")."""
        ...

    def persist(self) -> None:
        """Make the current contents durable (no-op for in-memory and server indexes)."""
        ...

    def drop(self) -> None:
        """Delete everything (a rebuild starts empty)."""
        ...

    def close(self) -> None:
        """Persist and release resources."""
        ...
