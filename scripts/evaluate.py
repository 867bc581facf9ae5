"""Scan a benchmark library and score the result with the shared evaluator.

    .venv/bin/python scripts/evaluate.py --library /tmp/ndv-dev/library \
        --truth /tmp/ndv-dev/dev_truth.json [--ablate regions,temporal,...] [-- SCAN FLAGS]

Everything after ``--`` is passed to ``main.py scan`` (e.g. ``--partial``, ``--model``,
``--threshold``), so the numbers are those of the real command line. ``--ablate`` switches off
parts of the matcher for the ablation table in docs/ACCURACY.md: regions (one vector per frame
instead of region chamfer), temporal (plain chamfer, no alignment), verify (no motion check),
whiten, suppress (no down-weighting of common frames), flip (no mirror invariance), borders (no
black-border removal), timegate (refine every pair the frame cover lets through).

Prints a one-line summary and the metrics as JSON (``--out FILE`` saves them).
"""

from __future__ import annotations

import argparse
import dataclasses
import importlib.util
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dedup_gui import cli  # noqa: E402
from dedup_gui.core.pipeline import scan  # noqa: E402
from dedup_gui.core.review import export  # noqa: E402

ABLATIONS = {"regions", "temporal", "verify", "whiten", "suppress", "flip", "borders", "timegate"}


def load_evaluator(bench: Path):  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("bench_evaluate", bench / "evaluate.py")
    if spec is None or spec.loader is None:
        raise SystemExit(f"no evaluate.py in {bench}")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main() -> int:
    argv = sys.argv[1:]
    scan_flags: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, scan_flags = argv[:i], argv[i + 1 :]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--library", type=Path, action="append", required=True, help="repeatable")
    ap.add_argument("--truth", type=Path, required=True)
    ap.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "bench")
    ap.add_argument("--ablate", default="", help="comma-separated parts to switch off")
    ap.add_argument("--out", type=Path, help="save the metrics JSON here")
    ap.add_argument("--pred", type=Path, help="save the predicted groups here")
    ap.add_argument("--ignore-known-duplicates", action="store_true")
    args = ap.parse_args(argv)
    ablate = {a for a in args.ablate.split(",") if a}
    if ablate - ABLATIONS:
        ap.error(
            f"unknown ablation(s) {sorted(ablate - ABLATIONS)}; choose from {sorted(ABLATIONS)}"
        )
    roots = [str(p) for p in args.library]
    scan_args = cli.build_parser().parse_args(["scan", *roots, "-q", *scan_flags])
    options = cli.options_from_args(scan_args)
    m = options.match
    options = options.replace(
        match=dataclasses.replace(
            m,
            regions="regions" not in ablate,
            temporal="temporal" not in ablate,
            verify="verify" not in ablate,
            whiten="whiten" not in ablate,
            suppress_common="suppress" not in ablate,
            flip="flip" not in ablate,
            time_gate="timegate" not in ablate,
        ),
        sampling=dataclasses.replace(options.sampling, crop_borders="borders" not in ablate),
    )
    t0 = time.perf_counter()
    result = scan(args.library, options)
    wall = time.perf_counter() - t0
    pred = json.loads(export.to_bench_json(result))
    if args.pred:
        args.pred.write_text(json.dumps(pred))
    ev = load_evaluator(args.bench)
    truth = json.loads(args.truth.read_text())
    metrics = ev.evaluate(truth, pred["groups"], None, args.ignore_known_duplicates)
    metrics["scan"] = {
        "wall_seconds": round(wall, 1),
        "stage_seconds": result.stats.seconds,
        "counts": result.stats.counts,
        "ablate": sorted(ablate),
        "flags": scan_flags,
    }
    pw = metrics["pairwise"]
    weak = {k: v["recall"] for k, v in metrics["recall_by_transform"].items() if v["recall"] < 1}
    hn = metrics.get("hard_negatives", {}).get("wrongly_grouped", 0)
    la = metrics.get("natural_lookalikes", {}).get("wrongly_grouped", 0)
    print(
        f"P={pw['precision']:.3f} R={pw['recall']:.3f} F1={pw['f1']:.3f} "
        f"hard-neg={hn} lookalike={la} wall={wall:.0f}s ablate={sorted(ablate) or '-'} "
        f"flags={' '.join(scan_flags) or '-'} below-1.0={weak}",
        file=sys.stderr,
    )
    text = json.dumps(metrics, indent=1)
    if args.out:
        args.out.write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
