"""Candidate clustering: duration gating, then DBSCAN over the sparse candidate graph.

DBSCAN (scikit-learn, precomputed sparse distances) groups videos linked by close frames.
Inside a small cluster every pair is refined, which recovers pairs whose frames the kNN search
did not put side by side; inside a large cluster (a library full of similar footage) only the
kNN pairs are, which keeps the work linear.
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
    from sklearn.cluster import DBSCAN

    kept = {
        p: d
        for p, d in candidates.items()
        if tolerance is None or durations_compatible(durations[p[0]], durations[p[1]], tolerance)
    }
    labels = np.full(n_videos, -1, dtype=int)
    if not kept:
        return Clusters(labels, ())
    rows, cols, vals = [], [], []
    for (a, b), d in kept.items():
        # explicit small positive distances: a sparse matrix would drop exact zeros
        rows += [a, b]
        cols += [b, a]
        vals += [max(d, 1e-6)] * 2
    graph = csr_matrix((vals, (rows, cols)), shape=(n_videos, n_videos))
    db = DBSCAN(eps=eps, min_samples=2, metric="precomputed").fit(graph)
    labels = db.labels_.copy()
    linked = {v for p, d in kept.items() if d <= eps for v in p}
    labels[[v for v in range(n_videos) if v not in linked]] = -1
    pairs = set(kept)
    for label in set(labels.tolist()) - {-1}:
        members = np.nonzero(labels == label)[0]
        if len(members) <= FULL_PAIRS_MAX:
            for a, b in combinations(members.tolist(), 2):
                if tolerance is None or durations_compatible(durations[a], durations[b], tolerance):
                    pairs.add((a, b))
    return Clusters(labels, tuple(sorted(pairs)))
