"""Score "Find copies" on a scanned benchmark set: query with each file in turn.

    .venv/bin/python scripts/find_eval.py --library /tmp/ndv-dev/library \
        --truth /tmp/ndv-dev/dev_truth.json --cache-dir /tmp/find-cache/dev
    .venv/bin/python scripts/find_eval.py --library /tmp/ndv-dev/library \
        --truth /tmp/ndv-partial/truth.json --queries /tmp/ndv-partial/excerpts \
        --cache-dir /tmp/find-cache/dev

The library must have been scanned into ``--cache-dir`` with the same analysis flags
(``main.py scan LIBRARY --cache-dir DIR``); queries default to every file of the library (each
searched against the others), or the videos under ``--queries``. A query's true copies are the
other files of its truth group (file names, as the shared evaluator matches them).

Prints, over the queries that have at least one true copy: mean average precision (AP over the
ranked copies, a true copy not returned counts as missed), recall@10, and for excerpt queries
(truth ``excerpt`` [start, end] with a ``parent``) the share whose range matched in the parent
is within 1 s of the true cut at both ends. Also the time one query takes excluding its own
analysis (search + refinement). ``--out`` saves the metrics and the per-query rankings.

The library searched is what the window and ``main.py find`` search: the scan's library index
(``--gathered``: the videos gathered from the feature cache into memory instead).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dedup_gui import cli  # noqa: E402
from dedup_gui.core.analyse.embed import Embedder  # noqa: E402
from dedup_gui.core.analyse.features import feature_key  # noqa: E402
from dedup_gui.core.find.copies import FindStatus, find_copies, gather_library  # noqa: E402
from dedup_gui.core.find.library import Library, LibrarySearch  # noqa: E402
from dedup_gui.core.library.cache import FeatureCache  # noqa: E402
from dedup_gui.core.scan.discovery import discover  # noqa: E402

TOP = 50


def average_precision(ranked: list[str], truth: set[str]) -> float:
    hits, total = 0, 0.0
    for i, name in enumerate(ranked, 1):
        if name in truth:
            hits += 1
            total += hits / i
    return total / len(truth) if truth else 0.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--library", type=Path, action="append", required=True, help="repeatable")
    ap.add_argument("--truth", type=Path, required=True)
    ap.add_argument("--queries", type=Path, action="append", help="default: the library files")
    ap.add_argument("--cache-dir", type=Path, required=True)
    ap.add_argument("--threshold", type=float, default=None)
    ap.add_argument("--sample", type=int, default=0, help="this many queries, spread (default all)")
    ap.add_argument(
        "--gathered",
        action="store_true",
        help="search the videos gathered from the feature cache, not the library index",
    )
    ap.add_argument("--out", type=Path)
    args, scan_flags = ap.parse_known_args()
    truth = json.loads(args.truth.read_text())
    group_of: dict[str, str] = {}
    members: dict[str, set[str]] = {}
    for g in truth["groups"]:
        files = g["files"] if isinstance(g, dict) else g
        gid = g["id"] if isinstance(g, dict) else ",".join(files)
        members[gid] = set(files)
        for name in files:
            group_of[name] = gid
    excerpt = {
        f["name"]: (f["parent"], tuple(f["excerpt"]))
        for f in truth["files"]
        if f.get("excerpt") and f.get("parent")
    }

    scan_args = cli.build_parser().parse_args(
        ["scan", *map(str, args.library), "-q", "--cache-dir", str(args.cache_dir), *scan_flags]
    )
    options = cli.options_from_args(scan_args)
    embedder = Embedder(options.model)
    embedder.load(options.sampling.size)
    cache = FeatureCache.open(args.cache_dir)
    t0 = time.perf_counter()
    if args.gathered:
        library: Library = LibrarySearch.from_cache(
            cache,
            feature_key(options, embedder),
            args.library,
            embedder.prior(options.sampling.size),
            options.match.whiten,
            options.min_duration,
            options.match.suppress_common,
            options.discovery.extensions,
        )
    else:
        library = gather_library(options, cache, embedder, args.library)
    build = time.perf_counter() - t0
    kind = type(library).__name__
    print(f"library: {kind}, {len(library)} videos, {library.frames} frames, opened in "
          f"{build:.2f} s", file=sys.stderr)  # fmt: skip
    queries = [f.path for f in discover(args.queries or args.library, options.discovery).files]
    if args.sample and args.sample < len(queries):  # every k-th, the same on every run
        queries = [queries[int(i)] for i in np.linspace(0, len(queries) - 1, args.sample)]
    result = find_copies(
        queries,
        options,
        cache,
        roots=args.library,
        top=TOP,
        threshold=args.threshold,
        embedder=embedder,
        library=library,
    )
    library.close()
    cache.close()
    if result.status is not FindStatus.OK:
        print(f"status: {result.status}: {result.message}", file=sys.stderr)
        return 1
    aps, recalls, times, ranges, rows = [], [], [], [], []
    returned = correct = 0
    for q in result.queries:
        times.append(q.seconds)
        name = q.query.path.name
        gid = group_of.get(name)
        true = (members.get(gid, set()) - {name}) if gid else set()
        ranked = [c.path.name for c in q.copies]
        row: dict[str, object] = {"query": name, "true": sorted(true), "ranked": ranked}
        returned += len(ranked)
        correct += len(true & set(ranked))
        if true:
            aps.append(average_precision(ranked, true))
            recalls.append(len(true & set(ranked[:10])) / len(true))
            row["ap"] = aps[-1]
        if name in excerpt:
            parent, (start, end) = excerpt[name]
            hit = next((c for c in q.copies if c.path.name == parent), None)
            ok = (
                hit is not None
                and abs(hit.match_range[0] - start) <= 1.0
                and (abs(hit.match_range[1] - end) <= 1.0)
            )
            ranges.append(ok)
            row["excerpt"] = [start, end]
            row["matched"] = list(hit.match_range) if hit else None
            row["kind"] = str(hit.kind) if hit else None
        rows.append(row)
    metrics = {
        "library": [str(p) for p in args.library],
        "truth": str(args.truth),
        "queries": len(result.queries),
        "queries_with_copies": len(aps),
        "mAP": round(statistics.fmean(aps), 4) if aps else None,
        "recall@10": round(statistics.fmean(recalls), 4) if recalls else None,
        "precision_of_returned": round(correct / returned, 4) if returned else None,
        "excerpt_range_within_1s": round(sum(ranges) / len(ranges), 4) if ranges else None,
        "excerpts": len(ranges),
        "query_seconds_median": round(statistics.median(times), 4) if times else None,
        "query_seconds_mean": round(statistics.fmean(times), 4) if times else None,
        "query_seconds_first": round(times[0], 4) if times else None,
        "query_seconds_max": round(max(times), 4) if times else None,
        "library_kind": kind,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "library_build_seconds": round(build, 2),
        "library_videos": len(library),
        "seconds": result.seconds,
    }
    print(
        f"queries={metrics['queries']} with-copies={metrics['queries_with_copies']} "
        f"mAP={metrics['mAP']} R@10={metrics['recall@10']} "
        f"P(returned)={metrics['precision_of_returned']} "
        f"excerpt-range<=1s={metrics['excerpt_range_within_1s']} ({len(ranges)}) "
        f"query={metrics['query_seconds_median']}s median, {metrics['query_seconds_max']}s max, "
        f"{metrics['query_seconds_first']}s first ({kind})",
        file=sys.stderr,
    )
    if args.out:
        args.out.write_text(json.dumps({"metrics": metrics, "rows": rows}, indent=1))
    print(json.dumps(metrics, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
