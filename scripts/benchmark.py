"""Speed and memory of a scan: per-stage seconds, videos/s, frames/s, peak memory.

    .venv/bin/python scripts/benchmark.py DIR [--runs cold,warm] [--cache-dir DIR] [-- SCAN FLAGS]

A *cold* run starts from an empty feature cache (everything is decoded and embedded); a *warm*
run repeats the scan with the cache filled (nothing is decoded). Each run is a separate process
so peak memory is that run's own: the maximum resident set size of the scanning process, and
the peak of the whole process tree (scan process plus decoder workers), sampled.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, os, resource, sys, threading, time
sys.path.insert(0, sys.argv[1])

def tree_rss_mb():
    # resident memory of this process and all its descendants (Linux /proc)
    total, todo = 0, [os.getpid()]
    while todo:
        pid = todo.pop()
        try:
            with open(f"/proc/{pid}/status") as fh:
                total += next(int(l.split()[1]) for l in fh if l.startswith("VmRSS"))
            for tid in os.listdir(f"/proc/{pid}/task"):
                with open(f"/proc/{pid}/task/{tid}/children") as fh:
                    todo += [int(c) for c in fh.read().split()]
        except (OSError, StopIteration):
            pass
    return total / 1024

peak = [0.0]
def sample():
    while True:
        peak[0] = max(peak[0], tree_rss_mb())
        time.sleep(0.2)
threading.Thread(target=sample, daemon=True).start()

from dedup_gui import cli
from dedup_gui.core.pipeline import scan
args = cli.build_parser().parse_args(["scan", *json.loads(sys.argv[2])])
opts = cli.options_from_args(args)
t = time.perf_counter()
r = scan(args.roots, opts)
wall = time.perf_counter() - t
print(json.dumps({
    "wall": wall,
    "seconds": r.stats.seconds,
    "counts": r.stats.counts,
    "rss_main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "rss_tree_mb": peak[0],
}))
"""


def run_once(folder: Path, cache: Path, flags: list[str]) -> dict:
    scan_args = [str(folder), "-q", "--cache-dir", str(cache), *flags]
    t = time.perf_counter()
    p = subprocess.run(
        [sys.executable, "-c", CHILD, str(ROOT), json.dumps(scan_args)],
        capture_output=True,
        text=True,
        check=False,
    )
    if p.returncode != 0:
        sys.exit(f"scan failed:\n{p.stderr}")
    out = json.loads(p.stdout.strip().splitlines()[-1])
    out["process_wall"] = time.perf_counter() - t
    return out


def main() -> int:
    argv = sys.argv[1:]
    flags: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, flags = argv[:i], argv[i + 1 :]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("folder", type=Path)
    ap.add_argument("--runs", default="cold,warm")
    ap.add_argument("--json", type=Path, help="also save the numbers as JSON")
    ap.add_argument(
        "--cache-dir",
        type=Path,
        help="use (and keep) this feature cache folder instead of a temporary one; "
        "it must be empty for a cold run",
    )
    args = ap.parse_args(argv)
    print(
        f"# {args.folder}  |  {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}  |  flags: {flags or '-'}"
    )
    results = {}
    cache_in_use = args.cache_dir and args.cache_dir.exists() and any(args.cache_dir.iterdir())
    if cache_in_use and "cold" in args.runs.split(","):
        ap.error(f"{args.cache_dir} is not empty: a cold run needs an empty cache")
    with tempfile.TemporaryDirectory(prefix="dedup-bench-") as tmp:
        cache = args.cache_dir or Path(tmp)
        for run in args.runs.split(","):
            r = run_once(args.folder, cache, flags)
            results[run] = r
            c, s = r["counts"], r["seconds"]
            videos, frames = c.get("videos", 0), c.get("frames_decoded", 0)
            feat = s.get("features", 0.0) or 1e-9
            print(
                f"\n[{run}] {c.get('files', 0)} files, {videos} videos, "
                f"{c.get('groups', 0)} groups, {c.get('cache_hits', 0)} cache hits, "
                f"{c.get('problems', 0)} skipped"
            )
            print("  stage seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in s.items()))
            print(
                f"  scan wall {r['wall']:.1f} s (process incl. start-up {r['process_wall']:.1f} s)"
            )
            print(
                f"  throughput: {videos / r['wall']:.2f} videos/s overall; "
                f"{frames / feat:.1f} frames/s decoded+embedded "
                f"({c.get('decoded', 0)} videos, {frames} frames)"
            )
            print(
                f"  peak memory: scan process {r['rss_main_mb']:.0f} MB; with its decoder "
                f"workers {r['rss_tree_mb']:.0f} MB (sampled every 0.2 s)"
            )
            print(
                f"  matching: {c.get('candidate_pairs', 0)} candidate pairs, "
                f"{c.get('refined_pairs', 0)} refined"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.exit(main())
