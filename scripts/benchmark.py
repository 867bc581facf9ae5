"""Speed and memory of a scan, side by side with a reference matcher and an older checkout.

    .venv/bin/python scripts/benchmark.py DIR [DIR...] [--runs cold,warm] [--reference pdq]
        [--baseline-root OLD_CHECKOUT] [--isa avx2] [--json OUT] [-- SCAN FLAGS]

In one run, each a separate process so that peak memory is its own:

* **model**: making the analysis model ready the first time (the int8 build; later scans
  load it in about a second). Timed once, then reused by every run below.
* **cold**: a scan from an empty feature cache (everything decoded and embedded); **warm**:
  the same scan again (nothing decoded). Per-stage seconds come from the scan's own stats:
  discover, hash, features (inside it: ``decode`` = the decoder processes' own time summed over
  files, which runs in parallel with ``embed`` = forward passes in the scanning thread), match.
* **reference** (``--reference pdq``): the PDQ-per-frame matcher of ``scripts/reference_pdq.py``
  (vPDQ's approach) over the same files, as a speed yardstick.
* **baseline** (``--baseline-root DIR``): the cold scan with the code of another checkout
  (``git worktree add /tmp/base <commit>``), with the same scan flags.

``--isa avx2`` caps the numeric libraries at AVX2 in every process (no AVX-512, VNNI or native
bfloat16; also for the baseline, whose bfloat16 autocast is switched off), so an AVX-512
machine measures the path most laptops and NAS boxes take. Peak memory is the maximum resident
set of the whole process tree (scan process plus decoder workers), sampled every 0.2 s.
Needs the ``bench`` extra for the reference (``pip install -e '.[bench]'``).
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

SAMPLER = r"""
import os, sys, threading, time
def tree_rss_mb():
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
if os.environ.get("DEDUP_GUI_MAX_ISA"):
    import torch.cpu  # the baseline's bfloat16 autocast asks these
    torch.cpu._is_avx512_bf16_supported = lambda: False
    torch.cpu._is_amx_tile_supported = lambda: False
"""

SCAN = (
    SAMPLER
    + r"""
import json, resource
sys.path.insert(0, sys.argv[1])
from dedup_gui import cli
from dedup_gui.core.pipeline import scan
args = cli.build_parser().parse_args(["scan", *json.loads(sys.argv[2])])
opts = cli.options_from_args(args)
t = time.perf_counter()
r = scan(args.roots, opts)
wall = time.perf_counter() - t
print(json.dumps({
    "wall": wall, "seconds": r.stats.seconds, "counts": r.stats.counts,
    "rss_main_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "rss_tree_mb": peak[0],
    "groups": [[str(p) for p in g.paths] for g in r.groups],
}))
"""
)

MODEL = (
    SAMPLER
    + r"""
import json
sys.path.insert(0, sys.argv[1])
from dedup_gui import cli
args = cli.build_parser().parse_args(["scan", ".", *json.loads(sys.argv[2])])
opts = cli.options_from_args(args)
from dedup_gui.core.analyse.embed import Embedder
t = time.perf_counter()
e = Embedder(opts.model)
e.load(opts.sampling.size)
print(json.dumps({"wall": time.perf_counter() - t, "runtime": e.runtime_name, "device": e.device}))
"""
)

REFERENCE = (
    SAMPLER
    + r"""
import json, resource
sys.path.insert(0, sys.argv[1])
from reference_pdq import run
t = time.perf_counter()
r = run([__import__("pathlib").Path(p) for p in json.loads(sys.argv[2])], workers=2, verbose=False)
r["wall"] = time.perf_counter() - t
r["rss_tree_mb"] = peak[0]
r.pop("pairs", None)
print(json.dumps(r, default=str))
"""
)


def isa_env(isa: str | None) -> dict[str, str]:
    """The environment variables that cap oneDNN, ATen, fbgemm and OpenVINO at ``isa``."""
    if not isa:
        return {}
    up = isa.upper()
    return {
        "DEDUP_GUI_MAX_ISA": isa.lower(),
        "ONEDNN_MAX_CPU_ISA": up,
        "DNNL_MAX_CPU_ISA": up,
        "OV_CPU_MAX_ISA": up,
        "ATEN_CPU_CAPABILITY": isa.lower(),
        "FBGEMM_ENABLE_INSTRUCTIONS": up,
    }


def child(code: str, root: Path, arg: list[str], env: dict[str, str]) -> dict:
    t = time.perf_counter()
    p = subprocess.run(
        [sys.executable, "-c", code, str(root), json.dumps(arg)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **env},
        cwd=str(root),
    )
    if p.returncode != 0:
        sys.exit(f"benchmark child failed:\n{p.stderr[-4000:]}")
    out = json.loads(p.stdout.strip().splitlines()[-1])
    out["process_wall"] = time.perf_counter() - t
    return out


def cpu_line() -> str:
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    break
    except OSError:
        pass
    isas = [f for f in ("avx2", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_tile")]
    return f"{model}, {os.cpu_count()} cores, {'/'.join(f for f in isas if f in flags) or '-'}"


def show_scan(name: str, r: dict) -> None:
    c, s = r["counts"], r["seconds"]
    videos, frames = c.get("videos", 0), c.get("frames_decoded", 0)
    feat = s.get("features", 0.0) or 1e-9
    stages = ", ".join(f"{k} {v:.1f}" for k, v in s.items())
    print(
        f"\n[{name}] {c.get('files', 0)} files, {videos} videos, {c.get('groups', 0)} groups, "
        f"{c.get('cache_hits', 0)} cache hits, {c.get('problems', 0)} skipped"
    )
    print(f"  stage seconds: {stages}")
    print(f"  scan wall {r['wall']:.1f} s (process incl. start-up {r['process_wall']:.1f} s)")
    if c.get("decoded"):
        print(
            f"  throughput: {frames / feat:.1f} frames/s decoded+embedded "
            f"({c.get('decoded', 0)} videos, {frames} frames, "
            f"{s.get('features', 0) / max(c.get('decoded', 1), 1):.2f} s per video)"
        )
    print(
        f"  peak memory: scan process {r.get('rss_main_mb', 0):.0f} MB; with its decoder "
        f"workers {r['rss_tree_mb']:.0f} MB"
    )
    print(
        f"  matching: {c.get('candidate_pairs', 0)} candidate pairs, "
        f"{c.get('refined_pairs', 0)} refined, {c.get('rotated_refined', 0)} turned re-analyses"
    )


def main() -> int:
    argv = sys.argv[1:]
    flags: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, flags = argv[:i], argv[i + 1 :]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("folders", type=Path, nargs="+")
    ap.add_argument("--runs", default="cold,warm")
    ap.add_argument("--reference", choices=("pdq", "none"), default="pdq")
    ap.add_argument("--baseline-root", type=Path, help="an older checkout to time (cold run)")
    ap.add_argument("--isa", choices=("avx2", "avx512_core"), help="cap the instruction set")
    ap.add_argument("--json", type=Path, help="also save the numbers as JSON")
    ap.add_argument("--cache-dir", type=Path, help="keep the feature cache here (must be empty)")
    ap.add_argument("--model-dir", type=Path, help="keep built models here (default: temporary)")
    args = ap.parse_args(argv)
    folders = [str(f.resolve()) for f in args.folders]
    env = isa_env(args.isa)
    print(
        f"# {' '.join(folders)}\n# {cpu_line()} | Python {platform.python_version()} | "
        f"instruction set: {args.isa or 'native'} | scan flags: {flags or '-'}"
    )
    results: dict[str, dict] = {}
    if args.cache_dir and args.cache_dir.exists() and any(args.cache_dir.iterdir()):
        ap.error(f"{args.cache_dir} is not empty: a cold run needs an empty cache")
    with tempfile.TemporaryDirectory(prefix="dedup-bench-") as tmp:
        env["DEDUP_GUI_MODEL_DIR"] = str(args.model_dir or Path(tmp) / "models")
        r = child(MODEL, ROOT, flags, env)
        results["model"] = r
        print(
            f"\n[model] {r['runtime']} on {r['device']}: ready in {r['wall']:.1f} s "
            "(first use only; later scans load it)"
        )
        cache = args.cache_dir or Path(tmp) / "cache"
        for run in args.runs.split(","):
            r = child(SCAN, ROOT, [*folders, "-q", "--cache-dir", str(cache), *flags], env)
            results[run] = r
            show_scan(run, r)
        if args.baseline_root:
            base_cache = Path(tmp) / "base-cache"
            r = child(
                SCAN,
                args.baseline_root.resolve(),
                [*folders, "-q", "--cache-dir", str(base_cache), *flags],
                env,
            )
            results["baseline"] = r
            show_scan(f"baseline cold: {args.baseline_root}", r)
        if args.reference == "pdq":
            r = child(REFERENCE, ROOT / "scripts", folders, env)
            results["reference"] = r
            s = r["seconds"]
            print(
                f"\n[reference: {r['method']}-per-frame, vPDQ matching] {r['files']} files, "
                f"{r['frames']} frames hashed: decode+hash {s['decode_hash']:.1f} s, "
                f"match {s['match']:.1f} s, wall {r['wall']:.1f} s; peak "
                f"{r['rss_tree_mb']:.0f} MB"
            )
    cold = results.get("cold")
    if cold:
        print("\n# side by side (cold scans, wall seconds)")
        print(f"  this scan:  {cold['wall']:7.1f}")
        if "baseline" in results:
            b = results["baseline"]["wall"]
            print(f"  baseline:   {b:7.1f}   -> this scan is {b / cold['wall']:.1f}x faster")
        if "reference" in results:
            ref = results["reference"]["wall"]
            print(
                f"  reference:  {ref:7.1f}   -> this scan takes {cold['wall'] / ref:.2f}x its time"
            )
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.exit(main())
