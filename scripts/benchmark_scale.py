"""Library-scale benchmark: the matching stage on synthetic libraries of 1k..100k videos.

    PYTHONPATH=. .venv/bin/python scripts/benchmark_scale.py --cache-dir CACHE \
        [--sizes 1000,10000,100000] [--backend local|milvus] [--incremental 1000]

The synthetic videos follow real feature statistics: the fixed-space frame vectors (the
library index's space: the recipe's prior whitening) of every video in the feature cache
``--cache-dir`` (fill it first: ``python main.py scan ../shared/data/videos --cache-dir
CACHE``). ``--model global`` (default) fits one Gaussian (full covariance, shrunk) to the real
videos' centres and gives every synthetic original its own centre; ``--model clusters`` fits
one per k-means cluster (a denser library of look-alikes). Frames walk around the centre
with the within-video spread measured on the real videos, 1-3 scenes per video, and frame
counts follow the real ones. Each library then gets planted copies (every frame perturbed)
and excerpts (a contiguous part, perturbed). Vectors are generated on demand from a
per-video seed, so only what the index holds stays in memory.

Per size, in its own process (so peak RSS is that size's): index build s (adding the frame
vectors; like the search, without the time the benchmark spends making the synthetic vectors,
printed apart as ``synthetic``), candidate search s (kNN and range search of every frame,
the ledger answer), refine s (the frame-cover gate and the time gate of the matching stage,
the latter without the time spent making the synthetic vectors it votes on, DBSCAN clusters
and chamfer refinement of the pairs, region vectors made on demand for candidate pairs only,
through an LRU; the sample's region vectors are made inside the timed refinement), total s,
peak RSS, and the recall of planted pairs:
``found`` (planted pairs among the candidates) over ``exact`` (planted pairs whose best frame
similarity reaches the candidate threshold, i.e. those an exhaustive search finds).
``--incremental N`` then adds N new videos (a tenth of them copies of indexed ones) to the
indexed library and times that rescan's matching stage.
"""

from __future__ import annotations

import argparse
import functools
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dedup_gui.core.analyse.embed import load_recipe  # noqa: E402
from dedup_gui.core.index.library import open_library  # noqa: E402
from dedup_gui.core.library.cache import CACHE_FILE, decode_features  # noqa: E402
from dedup_gui.core.match import candidates as knn  # noqa: E402
from dedup_gui.core.match import coherence, matching  # noqa: E402
from dedup_gui.core.match.cluster import cluster  # noqa: E402
from dedup_gui.core.match.refine import Prepared, compare  # noqa: E402
from dedup_gui.core.options import MatchOptions  # noqa: E402

REGIONS = 9


@dataclass
class Model:
    means: np.ndarray  # (c, d) scene means (c = 1 for the global model)
    factor: np.ndarray  # (c, d, d) draws: mean + z @ factor (a Cholesky factor)
    within: float  # frame spread around the video's centre, relative to the centres' spread
    frames: np.ndarray  # real frame counts to draw from
    scale: np.ndarray  # (c, d) per-dimension spread of the centres (for the frame walk)


def fit(cache_dir: Path, kind: str = "global", clusters: int = 32) -> Model:
    """Fit the generator to the fixed-space frame vectors of the cached videos.

    ``global``: one Gaussian (full covariance, shrunk) over the real videos' centres: every
    synthetic original gets its own centre, so the density of look-alikes does not grow with
    the library beyond what the real spread gives. ``clusters``: a Gaussian per k-means cluster
    of the real videos (a denser library: every synthetic video resembles one of a few dozen
    real ones).
    """
    import sqlite3

    import faiss

    conn = sqlite3.connect(cache_dir / CACHE_FILE)
    # the videos as analysed, not their turned, mirrored or zoomed second looks
    rows = conn.execute(
        "SELECT feature_key, data FROM features WHERE feature_key NOT LIKE '%|turn=%' "
        "AND feature_key NOT LIKE '%|zoom=%'"
    ).fetchall()
    conn.close()
    if not rows:
        raise SystemExit(f"no features in {cache_dir}: scan some videos with --cache-dir first")
    rec = load_recipe("resnet50-augnet", 160)
    assert rec is not None
    _, fixed = matching.index_space((rec.prior_mean, rec.prior_cov), [])
    vids = [matching.index_vectors(decode_features(d), fixed) for _, d in rows]
    vids = [v for v in vids if len(v)]
    allv = np.concatenate(vids).astype(np.float32)
    centres = np.stack([v.mean(0) for v in vids]).astype(np.float64)
    d = centres.shape[1]
    if kind == "global":
        groups = [np.arange(len(vids))]
    else:
        km = faiss.Kmeans(d, min(clusters, len(vids) // 4), niter=20, seed=1)
        km.train(allv)
        _, lab = km.index.search(centres.astype(np.float32), 1)
        groups = [np.nonzero(lab[:, 0] == c)[0] for c in range(km.k)]
        groups = [g for g in groups if len(g) >= 3]
    means, factors, scales = [], [], []
    for g in groups:
        x = centres[g]
        mu = x.mean(0)
        cov = np.cov(x.T) if len(g) > 1 else np.eye(d) * 1e-4
        cov = 0.8 * cov + 0.2 * np.trace(cov) / d * np.eye(d)  # shrunk: few videos, 256 dims
        means.append(mu)
        factors.append(np.linalg.cholesky(cov + 1e-9 * np.eye(d)).T)
        scales.append(np.sqrt(np.diag(cov)))
    spread = float(np.mean([s.mean() for s in scales]))
    within = float(np.mean([(v - v.mean(0)).std() for v in vids])) / spread
    frames = np.array([len(v) for v in vids])
    print(
        f"model ({kind}): {len(vids)} real videos, {len(allv)} frames, {len(groups)} Gaussians, "
        f"within-video spread {within:.2f}, frames/video {frames.mean():.1f}",
        file=sys.stderr,
    )
    return Model(
        np.stack(means).astype(np.float32),
        np.stack(factors).astype(np.float32),
        within,
        frames,
        np.stack(scales).astype(np.float32),
    )


class Made:
    """Seconds a timed step spent making synthetic vectors (the benchmark's, not the engine's)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, make: Callable[[int], coherence.Frames]) -> Callable[[int], coherence.Frames]:
        def timed(i: int) -> coherence.Frames:
            t = time.perf_counter()
            out = make(i)
            self.seconds += time.perf_counter() - t
            return out

        return timed


def peak_mb() -> int:
    """The process's peak resident set so far, MB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def frames(v: np.ndarray) -> coherence.Frames:
    """A synthetic video's frames for the time gate: one view, a frame a second."""
    return v[None], np.arange(len(v), dtype=np.float64)


def _l2(x: np.ndarray) -> np.ndarray:
    return (x / (np.linalg.norm(x, axis=-1, keepdims=True) + 1e-8)).astype(np.float32)


class Library:
    """A synthetic library: video i's vectors from seed i; planted copies and excerpts."""

    def __init__(self, model: Model, n: int, seed: int = 0, first: int = 0) -> None:
        self.model, self.n, self.first = model, n, first
        rng = np.random.default_rng(seed)
        self.source = np.full(n, -1, np.int64)  # copy of which video (-1: an original)
        self.excerpt = np.zeros(n, bool)
        kinds = rng.random(n)
        for i in range(n):
            if kinds[i] < 0.15 and i > 0:  # a copy of an earlier original
                src = int(rng.integers(0, i))
                while self.source[src] >= 0:
                    src = int(self.source[src])
                self.source[i] = src
                self.excerpt[i] = kinds[i] < 0.04

    def planted(self) -> set[tuple[int, int]]:
        """(a, b) pairs that are copies of one original (a < b)."""
        by_src: dict[int, list[int]] = {}
        for i in range(self.n):
            root = i if self.source[i] < 0 else int(self.source[i])
            by_src.setdefault(root, []).append(i)
        out = set()
        for members in by_src.values():
            for x in range(len(members)):
                for y in range(x + 1, len(members)):
                    out.add((members[x], members[y]))
        return out

    def _original(self, i: int) -> np.ndarray:
        m = self.model
        rng = np.random.default_rng(1_000_003 * (self.first + i) + 7)
        n = int(m.frames[rng.integers(0, len(m.frames))])
        scenes = rng.integers(0, len(m.means), size=int(rng.integers(1, 4)))
        cut = np.sort(rng.integers(0, n, size=len(scenes) - 1))
        scene_of = np.searchsorted(cut, np.arange(n), side="right")
        out = np.empty((n, m.means.shape[1]), np.float32)
        for s, c in enumerate(scenes):
            # float32 draws times the float32 factor (float64 @ float32 copied the factor each call)
            z = rng.standard_normal(m.means.shape[1]).astype(np.float32)
            centre = m.means[c] + z @ m.factor[c]
            rows = scene_of == s
            walk = np.cumsum(rng.standard_normal((int(rows.sum()), m.means.shape[1])), 0)
            walk /= np.sqrt(np.arange(1, len(walk) + 1))[:, None]
            out[rows] = centre + m.within * m.scale[c] * walk
        return _l2(out)

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - a benchmark helper, bounded
    def vectors(self, i: int) -> np.ndarray:
        if self.source[i] < 0:
            return self._original(i)
        base = self._original(int(self.source[i]))
        rng = np.random.default_rng(7_000_003 * (self.first + i) + 3)
        if self.excerpt[i]:
            n = max(3, int(len(base) * rng.uniform(0.3, 0.6)))
            lo = int(rng.integers(0, max(1, len(base) - n)))
            base = base[lo : lo + n]
        noise = rng.uniform(0.25, 0.55) / np.sqrt(base.shape[1])
        return _l2(base + noise * rng.standard_normal(base.shape))

    def prepared(self, i: int, index: int) -> Prepared:
        v = self.vectors(i)
        rng = np.random.default_rng(i)
        regions = _l2(v[:, None, :] + 0.6 / np.sqrt(v.shape[1]) * rng.standard_normal(
            (len(v), REGIONS, v.shape[1])
        ).astype(np.float32))  # fmt: skip
        n = len(v)
        return Prepared(
            index=index,
            duration=float(n),
            times=np.arange(n, dtype=np.float32) + 0.5,
            regions=regions,
            vectors=v,
            weights=np.ones(n, np.float32),
            thumbs=np.zeros((n, 32, 32), np.uint8),
            informative=np.ones(n, bool),
            frame_index=np.arange(n),
        )


@dataclass(frozen=True)
class FakeFile:
    path: Path
    size: int
    mtime_ns: int


def refine(
    lib: Library,
    neigh_pairs: dict,
    positions: list[int],
    durations: list[float],
    budget: int,
    limit: int,
) -> tuple[int, int, set[tuple[int, int]], set[tuple[int, int]], float, set[tuple[int, int]]]:
    """Cluster and refine the pairs the gate kept; region vectors for candidate pairs only.

    Views are LRU-bounded. When there are more than ``limit`` pairs, a random sample is
    compared. Returns the pairs refined, the pairs compared, the accepted pairs among those, the
    refined pairs, the seconds the whole refinement takes (clustering as timed, the comparisons
    extrapolated from the sample) and the pairs compared.
    """
    mo = MatchOptions()
    t0 = time.perf_counter()
    candidates = {p: 1.0 - best for p, (_, best) in neigh_pairs.items()}
    clusters = cluster(len(positions), candidates, 1.0 - matching.CANDIDATE_SIM, durations, None)
    t1 = time.perf_counter()
    prep = functools.lru_cache(maxsize=budget)(lambda p: lib.prepared(positions[p], p))
    accepted: set[tuple[int, int]] = set()
    pairs = list(clusters.pairs)
    if len(pairs) > limit:  # time a random sample; the caller extrapolates
        pick = np.random.default_rng(0).choice(len(pairs), limit, replace=False)
        pairs = [pairs[i] for i in sorted(pick)]
    for a, b in pairs:
        m = compare(prep(a), prep(b), mo)
        if m.accepted(mo.threshold, mo.partial):
            accepted.add((a, b))
    per_pair = (time.perf_counter() - t1) / max(len(pairs), 1)
    seconds = t1 - t0 + per_pair * len(clusters.pairs)
    return len(clusters.pairs), len(pairs), accepted, set(clusters.pairs), seconds, set(pairs)


def run_one(args: argparse.Namespace, size: int) -> dict:
    model = fit(args.cache_dir, args.model)
    model.factor *= args.spread
    lib = Library(model, size, seed=size)
    uri = "local" if args.backend == "local" else str(Path(args.work) / f"milvus-{size}.db")
    folder = Path(args.work) / f"lib-{size}-{args.backend}"
    files = [FakeFile(Path(f"/bench/{i:07d}.mp4"), 1, 1) for i in range(size)]
    out: dict = {"size": size, "backend": args.backend}
    # the synthetic vectors are made when the index asks for them (twice a video when the LRU
    # is smaller than the library): that time is the benchmark's, not the index's
    made: list[tuple[float, float]] = []  # (start, seconds) of each call

    def timed_vectors(i: int) -> np.ndarray:
        t = time.perf_counter()
        v = lib.vectors(i)
        made.append((t, time.perf_counter() - t))
        return v

    t0 = time.perf_counter()
    with open_library(folder, "bench", uri) as index:
        neigh = index.neighbours(
            files,
            timed_vectors,
            "bench",
            model.means.shape[1],
            min_sim=matching.CANDIDATE_SIM,
            common_sim=matching.COMMON_SIM,
            cover_sims=matching.COVER_SIMS,
        )
        out["index_kind"] = index.backend.describe() if index.backend else ""
        sec = dict(index.seconds)
    t1 = time.perf_counter()
    phases = out["peak_rss_by_phase_mb"] = {"index and search": peak_mb()}
    out["frames"] = int(index.counts["index_frames"])
    made_in_add = sum(d for t, d in made if t < t0 + sec["index_add"])
    made_in_search = sum(d for _, d in made) - made_in_add
    out["synthetic_s"] = round(made_in_add + made_in_search, 1)
    out["build_s"] = round(sec["index_add"] - made_in_add, 1)
    out["search_s"] = round(sec["index_search"] - made_in_search + sec["index_answer"], 1)
    durations = [float(len(lib.vectors(i))) for i in range(size)]  # known from the probes
    t = time.perf_counter()
    gated = matching.refinable_pairs(neigh, [], None)
    covered = len(gated)
    gate_made = Made()
    if not args.no_time_gate:
        gated = coherence.aligned_pairs(gated, gate_made.wrap(lambda i: frames(lib.vectors(i))))
    gate_s = time.perf_counter() - t - gate_made.seconds
    out["synthetic_gate_s"] = round(gate_made.seconds, 1)
    phases["gates"] = peak_mb()
    n_refined, n_timed, accepted, refined, cluster_refine_s, sampled = refine(
        lib, gated, list(range(size)), durations, args.lru, args.refine_max
    )
    refine_s = gate_s + cluster_refine_s
    out["gate_s"] = round(gate_s, 2)
    out["refine_s"] = round(refine_s, 1)
    out["refine_timed_pairs"] = n_timed
    out["total_s"] = round(t1 - t0 - out["synthetic_s"] + refine_s, 1)
    out["candidate_pairs"] = len(neigh.pairs)
    out["thin_pairs"] = len(neigh.pairs) - covered
    out["unaligned_pairs"] = covered - len(gated)
    out["refined_pairs"] = n_refined
    out["accepted_pairs"] = len(accepted)
    planted = lib.planted()
    exact = {
        p
        for p in planted
        if float((lib.vectors(p[0]) @ lib.vectors(p[1]).T).max()) >= matching.CANDIDATE_SIM
    }
    out["planted_pairs"] = len(planted)
    # the realism check: unrelated synthetic videos the full matcher calls duplicates (on the
    # real sets, none: precision 1.000); a high share means the library is denser than real
    out["unrelated_accepted"] = len(accepted - planted)
    out["unrelated_compared"] = len(sampled - planted)
    out["planted_accepted"] = f"{len(accepted & planted)}/{len(sampled & planted)}"
    # planted pairs an exhaustive search links (best frame similarity over the threshold):
    # how many the index's candidates, and the pairs refined (clusters complete them), hold
    out["candidate_recall"] = round(len(exact & set(neigh.pairs)) / max(len(exact), 1), 4)
    out["recall_vs_exact"] = round(len(exact & refined) / max(len(exact), 1), 4)
    out["recall_of_planted"] = round(len(planted & refined) / max(len(planted), 1), 4)
    if size <= args.exact_upto:
        # the same pipeline on an exact all-against-all search (candidates.search)
        t = time.perf_counter()
        ref = knn.search(
            [lib.vectors(i) for i in range(size)],
            min_sim=matching.CANDIDATE_SIM,
            common_sim=matching.COMMON_SIM,
        )
        out["exact_search_s"] = round(time.perf_counter() - t, 1)
        durations = [float(len(lib.vectors(i))) for i in range(size)]
        ref_pairs = set(
            cluster(
                size,
                {p: 1.0 - b for p, (_, b) in ref.pairs.items()},
                1.0 - matching.CANDIDATE_SIM,
                durations,
                None,
            ).pairs
        )
        out["planted_recall_exact_search"] = round(
            len(planted & ref_pairs) / max(len(planted), 1), 4
        )
        out["planted_recall_vs_exact_search"] = round(
            len(planted & ref_pairs & refined) / max(len(planted & ref_pairs), 1), 4
        )
    phases["refinement sample"] = peak_mb()
    out["peak_rss_mb"] = peak_mb()
    if args.incremental:
        add = args.incremental
        more = Library(model, add, seed=size + 1, first=size)
        # a tenth of the new videos are copies of indexed ones
        rng = np.random.default_rng(5)
        copy_of = {j: int(rng.integers(0, size)) for j in range(add) if rng.random() < 0.1}

        def vectors(i: int) -> np.ndarray:
            if i < size:
                return lib.vectors(i)
            j = i - size
            if j in copy_of:
                v = lib.vectors(copy_of[j])
                noise = 0.4 / np.sqrt(v.shape[1])
                return _l2(v + noise * np.random.default_rng(j).standard_normal(v.shape))
            return more.vectors(j)

        durations = [float(len(vectors(i))) for i in range(size + add)]  # known from the probes
        files2 = files + [FakeFile(Path(f"/bench/new-{j:07d}.mp4"), 1, 1) for j in range(add)]
        t3 = time.perf_counter()
        with open_library(folder, "bench", uri) as index:
            neigh2 = index.neighbours(
                files2,
                vectors,
                "bench",
                model.means.shape[1],
                min_sim=matching.CANDIDATE_SIM,
                common_sim=matching.COMMON_SIM,
                cover_sims=matching.COVER_SIMS,
            )
        t4 = time.perf_counter()
        phases["incremental search"] = peak_mb()
        # refinement of the pairs the new videos brought (the old ones were refined before)
        new_pairs = {p: v for p, v in neigh2.pairs.items() if p[1] >= size}
        new_pairs = matching.refinable_pairs(replace(neigh2, pairs=new_pairs), [], None)
        made2 = Made()
        if not args.no_time_gate:
            new_pairs = coherence.aligned_pairs(new_pairs, made2.wrap(lambda i: frames(vectors(i))))
        candidates = {p: 1.0 - best for p, (_, best) in new_pairs.items()}
        cl = cluster(size + add, candidates, 1.0 - matching.CANDIDATE_SIM, durations, None)
        mo = MatchOptions()

        def prep(i: int) -> Prepared:
            p = lib.prepared(i, i) if i < size else None
            if p is None:
                v = vectors(i)
                p = Prepared(i, float(len(v)), np.arange(len(v), dtype=np.float32),
                             _l2(np.repeat(v[:, None], REGIONS, 1)), v, np.ones(len(v), np.float32),
                             np.zeros((len(v), 32, 32), np.uint8), np.ones(len(v), bool),
                             np.arange(len(v)))  # fmt: skip
            return p

        todo = list(cl.pairs)[: args.refine_max]
        t_loop = time.perf_counter()
        hits = sum(
            compare(prep(a), prep(b), mo).accepted(mo.threshold, mo.partial) for a, b in todo
        )
        per_pair = (time.perf_counter() - t_loop) / max(len(todo), 1)
        t5 = t_loop + per_pair * len(cl.pairs) - made2.seconds
        found_copies = sum(
            1
            for j, src in copy_of.items()
            if (min(src, size + j), max(src, size + j)) in neigh2.pairs
        )
        gated_copies = sum(
            1 for j, src in copy_of.items() if (min(src, size + j), max(src, size + j)) in cl.pairs
        )
        out["incremental"] = {
            "added": add,
            "search_s": round(t4 - t3, 1),
            "refine_s": round(t5 - t4, 1),
            "total_s": round(t5 - t3, 1),
            "new_pairs_refined": len(cl.pairs),
            "accepted": int(hits),
            "copies_planted": len(copy_of),
            "copies_found": found_copies,
            "copies_refined": gated_copies,
        }
        phases["incremental gates and refinement"] = peak_mb()
        out["peak_rss_mb"] = peak_mb()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--cache-dir", type=Path, required=True, help="a feature cache to fit on")
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--backend", choices=["local", "milvus"], default="local")
    ap.add_argument("--incremental", type=int, default=0, metavar="N")
    ap.add_argument("--lru", type=int, default=2048, help="prepared videos kept for refinement")
    ap.add_argument(
        "--refine-max",
        type=int,
        default=2000,
        help="refine at most this many pairs (a random sample) and extrapolate the time",
    )
    ap.add_argument(
        "--spread", type=float, default=1.0, help="scale of the between-video spread (diversity)"
    )
    ap.add_argument(
        "--model",
        choices=["global", "clusters"],
        default="global",
        help="one Gaussian over the real videos (default) or one per k-means cluster",
    )
    ap.add_argument("--work", default="", help="where the indexes go (a temporary folder)")
    ap.add_argument(
        "--exact-upto",
        type=int,
        default=10000,
        help="also run the exact all-against-all search up to this size, for its recall",
    )
    ap.add_argument(
        "--no-time-gate",
        action="store_true",
        help="refine every pair the frame cover lets through (no time gate), for comparison",
    )
    ap.add_argument("--one", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--out", type=Path, help="save the results as JSON")
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args, args.one)))
        return 0
    results = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as work:
        for size in [int(s) for s in args.sizes.split(",") if s]:
            cmd = [sys.executable, __file__, "--one", str(size), "--work", args.work or work]
            cmd += ["--cache-dir", str(args.cache_dir), "--backend", args.backend]
            cmd += ["--incremental", str(args.incremental), "--lru", str(args.lru)]
            cmd += ["--refine-max", str(args.refine_max), "--spread", str(args.spread)]
            cmd += ["--exact-upto", str(args.exact_upto), "--model", args.model]
            cmd += ["--no-time-gate"] if args.no_time_gate else []
            p = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if p.returncode:
                print(p.stderr, file=sys.stderr)
                return p.returncode
            r = json.loads(p.stdout.strip().splitlines()[-1])
            results.append(r)
            inc = r.get("incremental")
            print(
                f"{size:>7} videos {r['frames']:>8} frames [{r['index_kind']}]: build "
                f"{r['build_s']} s, search {r['search_s']} s (synthetic vectors made in "
                f"{r['synthetic_s']} s, not counted), refine {r['refine_s']} s, total "
                f"{r['total_s']} s, peak RSS {r['peak_rss_mb']} MB (by the end of: "
                + ", ".join(f"{k} {v}" for k, v in r["peak_rss_by_phase_mb"].items())
                + f"), recall vs exact "
                f"{r.get('planted_recall_vs_exact_search', r['recall_vs_exact']):.4f} (of planted "
                f"{r['recall_of_planted']:.4f}), "
                f"{r['candidate_pairs']} candidates ({r['thin_pairs']} thin, "
                f"{r['unaligned_pairs']} unaligned, gate {r['gate_s']} s, its synthetic vectors "
                f"{r['synthetic_gate_s']} s not counted), "
                f"{r['refined_pairs']} refined, unrelated accepted {r['unrelated_accepted']}/"
                f"{r['unrelated_compared']} compared"
                + (
                    f" (time from {r['refine_timed_pairs']})"
                    if r["refine_timed_pairs"] < r["refined_pairs"]
                    else ""
                )
                + (
                    f"; +{inc['added']}: {inc['total_s']} s (search {inc['search_s']} s, "
                    f"refine {inc['refine_s']} s), copies found {inc['copies_found']}/"
                    f"{inc['copies_planted']}, refined {inc['copies_refined']}, "
                    f"{inc['new_pairs_refined']} pairs refined"
                    if inc
                    else ""
                ),
                flush=True,
            )
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
