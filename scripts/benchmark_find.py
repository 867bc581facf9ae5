"""Find-copies benchmark: queries against a library index grown with synthetic videos.

    PYTHONPATH=. .venv/bin/python scripts/benchmark_find.py --library /tmp/ndv-dev/library \
        --truth /tmp/ndv-dev/dev_truth.json --cache-dir /tmp/c-dev --synthetic 100000 \
        [--sample 40] [--work DIR]

``--cache-dir`` must hold a scan of ``--library`` (``python main.py scan LIBRARY --cache-dir
DIR``): its feature cache and its library index. The cache folder is copied to a work folder
and ``--synthetic`` videos are added to the copy's index: frame vectors drawn from
``scripts/benchmark_scale.py``'s generator (fitted to the cache's real videos, planted copies
and excerpts among them), probe signatures, and ledger rows, all under the library folder
(the files themselves do not exist: a synthetic candidate is skipped, as a file deleted since
its scan is). The all-pairs search a scan of such a library would run is not repeated (the
library-scale benchmark measures it); the synthetic videos have no stored results.

Then ``scripts/find_eval.py`` runs the same queries (every file of the library, or a sample of
``--sample`` of them) against the plain index and the grown one, in this one run, and this
prints per library: the seconds to open it, per query the search seconds excluding the query's
own analysis (first, median, max; the query's features come from the cache), and the find
accuracy (mAP, recall@10) so that the distractors' cost in accuracy shows too.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from dedup_gui.core.index.library import find_libraries  # noqa: E402
from dedup_gui.core.match.rotation import PROBE_DIM, PROBES  # noqa: E402

CHUNK = 5000  # synthetic videos generated at once


def grow(folder: Path, library: Path, n: int, fit_from: Path) -> dict:
    """Add ``n`` synthetic videos to the (only) library index in ``folder``."""
    import benchmark_scale as bs

    (ledger,) = find_libraries(folder)
    backend = ledger.open_backend()
    assert backend is not None, "the library index is empty: scan the library first"
    model = bs.fit(fit_from)
    synth = bs.Library(model, n, seed=n)
    t0 = time.perf_counter()
    ids: list[int] = []
    vecs: list[np.ndarray] = []
    rng = np.random.default_rng(5)
    conn = ledger._conn  # a benchmark: the rows a scan would write, without its search
    now = time.time()
    for lo in range(0, n, CHUNK):
        chunk = range(lo, min(n, lo + CHUNK))
        v = [synth.vectors(i) for i in chunk]
        probes = rng.standard_normal((len(v), PROBES, PROBE_DIM)).astype(np.float32)
        probes /= np.linalg.norm(probes, axis=-1, keepdims=True)
        with conn:
            for i, x, p in zip(chunk, v, probes, strict=True):
                path = library / "synthetic" / f"{i:07d}.mp4"
                cur = conn.execute(
                    "INSERT INTO videos (path, size, mtime_ns, n_frames, n_views, added) "
                    "VALUES (?, 1, 1, ?, 1, ?)",
                    (str(path).encode(), len(x), now),
                )
                vid = int(cur.lastrowid or 0)
                ids.append(vid)
                conn.execute(
                    "INSERT INTO probes VALUES (?, ?)", (vid, p.astype(np.float16).tobytes())
                )
        vecs.extend(v)
        synth.vectors.cache_clear()
    t1 = time.perf_counter()
    backend.add(ids, vecs)
    frames = backend.count()
    kind = backend.describe()
    ledger.close()  # persists the index
    t2 = time.perf_counter()
    out = {"synthetic": n, "frames": frames, "index": kind,
           "generate_s": round(t1 - t0, 1), "add_s": round(t2 - t1, 1)}  # fmt: skip
    print(f"grown: {json.dumps(out)}", file=sys.stderr)
    return out


def evaluate(args: argparse.Namespace, cache: Path, rest: list[str]) -> dict:
    """``find_eval.py`` on ``cache``; its metrics."""
    out = Path(tempfile.mkstemp(suffix=".json")[1])
    cmd = [sys.executable, str(ROOT / "scripts" / "find_eval.py"), "--library", str(args.library),
           "--truth", str(args.truth), "--cache-dir", str(cache), "--out", str(out)]  # fmt: skip
    if args.sample:
        cmd += ["--sample", str(args.sample)]
    subprocess.run(cmd + rest, check=True)
    metrics = json.loads(out.read_text())["metrics"]
    out.unlink()
    return metrics


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--library", type=Path, required=True)
    ap.add_argument("--truth", type=Path, required=True)
    ap.add_argument("--cache-dir", type=Path, required=True)
    ap.add_argument("--synthetic", type=int, default=100_000)
    ap.add_argument("--sample", type=int, default=0, help="queries (default: every file)")
    ap.add_argument("--work", type=Path, help="where the grown copy goes (a temporary folder)")
    ap.add_argument("--out", type=Path, help="save the results as JSON")
    args, rest = ap.parse_known_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="find-bench-"))
    grown_cache = work / "cache"
    if grown_cache.exists():
        shutil.rmtree(grown_cache)
    shutil.copytree(args.cache_dir, grown_cache)
    results = {"plain": evaluate(args, args.cache_dir, rest)}
    # grown in a process of its own: a child started from a process that held the synthetic
    # vectors would inherit its peak RSS (Linux keeps ru_maxrss across fork and exec)
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(1) as pool:
        results["growth"] = pool.apply(
            grow, (grown_cache, args.library.resolve(), args.synthetic, args.cache_dir)
        )
    results["grown"] = evaluate(args, grown_cache, rest)
    keys = ["library_videos", "library_build_seconds", "query_seconds_first",
            "query_seconds_median", "query_seconds_max", "mAP", "recall@10",
            "excerpt_range_within_1s", "peak_rss_mb"]  # fmt: skip
    print(f"{'':24s} {'plain':>12s} {'grown':>12s}")
    for k in keys:
        print(f"{k:24s} {results['plain'].get(k)!s:>12s} {results['grown'].get(k)!s:>12s}")
    if args.out:
        args.out.write_text(json.dumps(results, indent=1))
    if not args.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
