"""Candidate clustering: duration gating, then density clusters over the candidate graph.

Videos linked by close frames form clusters: DBSCAN over the sparse candidate distances with
``min_samples=2`` (every video with one neighbour within ``eps`` is a core point), which is
exactly the connected components of the graph of links within ``eps``; scipy's
``connected_components`` computes that in linear time and without scikit-learn's second of
import time. Inside a small cluster every pair is refined, which recovers pairs whose frames
the kNN search did not put side by side; inside a large cluster (a library full of similar
footage) only the kNN pairs are, which keeps the work linear.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np

# Slack for intros/outros added to a copy, in seconds, on top of the relative tolerance.
DURATION_SLACK = 4.0
FULL_PAIRS_MAX = 12


def durations_compatible(da: float, db: float, tolerance: float) -> bool:
    """Whether two durations are close enough to be copies of each other.

    ``tolerance`` is relative to the longer duration (0.4 lets a copy lose 40%), plus a few
    seconds for added intros. Unknown durations (0) are always compatible.
    """
    if da <= 0 or db <= 0:
        return True
    lo, hi = sorted((da, db))
    return hi - lo <= tolerance * hi + DURATION_SLACK


@dataclass(frozen=True, slots=True)
class Clusters:
    """Candidate clusters and the pairs to refine."""

    labels: np.ndarray  # (n_videos,) cluster id, -1 for videos without candidates
    pairs: tuple[tuple[int, int], ...]


def cluster(
    n_videos: int,
    candidates: dict[tuple[int, int], float],
    eps: float,
    durations: Sequence[float],
    tolerance: float | None,
) -> Clusters:
    """Cluster candidate pairs and list the pairs to refine.

    Args:
        n_videos: Number of videos.
        candidates: (a, b) -> distance (1 - best frame similarity).
        eps: DBSCAN neighbourhood radius on that distance.
        durations: Seconds per video.
        tolerance: Relative duration tolerance, or None to compare any durations
            (partial-clip mode).
    """
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    kept = {
        p: d
        for p, d in candidates.items()
        if tolerance is None or durations_compatible(durations[p[0]], durations[p[1]], tolerance)
    }
    labels = np.full(n_videos, -1, dtype=int)
    if not kept:
        return Clusters(labels, ())
    close = [p for p, d in kept.items() if d <= eps]
    if close:
        edges = np.array(close, dtype=np.int64)
        graph = csr_matrix(
            (np.ones(len(edges), np.int8), (edges[:, 0], edges[:, 1])), shape=(n_videos, n_videos)
        )
        _, comp = connected_components(graph, directed=False)
        linked = np.zeros(n_videos, bool)
        linked[edges.ravel()] = True
        labels = np.where(linked, comp, -1)
    pairs = set(kept)
    for label in set(labels.tolist()) - {-1}:
        members = np.nonzero(labels == label)[0]
        if len(members) <= FULL_PAIRS_MAX:
            for a, b in combinations(members.tolist(), 2):
                if tolerance is None or durations_compatible(durations[a], durations[b], tolerance):
                    pairs.add((a, b))
    return Clusters(labels, tuple(sorted(pairs)))
