"""Score distribution of every refined candidate pair of a benchmark scan, split by the truth.

    .venv/bin/python scripts/calibration.py --library DIR --truth TRUTH.json [-- SCAN FLAGS]

Runs the default scan (or the one the flags after ``--`` describe) with ``matching.match``
wrapped to record every refined pair, and prints how true duplicates, wrong pairs that pass
motion verification, and wrong pairs it rejects score: the numbers behind the calibration
paragraph of docs/ACCURACY.md.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dedup_gui import cli  # noqa: E402
from dedup_gui.core import pipeline  # noqa: E402
from dedup_gui.core.match import matching  # noqa: E402


def main() -> int:
    argv = sys.argv[1:]
    flags: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, flags = argv[:i], argv[i + 1 :]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--library", type=Path, action="append", required=True)
    ap.add_argument("--truth", type=Path, required=True)
    args = ap.parse_args(argv)

    recorded: list = []
    seen: dict = {}
    original = matching.match

    def recording_match(units, feats, *a, **k):  # type: ignore[no-untyped-def]
        pairs, groups = original(units, feats, *a, **k)
        seen["units"] = units
        recorded.extend(pairs)
        return pairs, groups

    pipeline.match = recording_match  # type: ignore[assignment]
    scan_args = cli.build_parser().parse_args(["scan", *map(str, args.library), "-q", *flags])
    options = cli.options_from_args(scan_args)
    pipeline.scan(args.library, options)

    truth = json.loads(args.truth.read_text())
    group = {f["name"]: f["group"] for f in truth["files"]}
    hard = {frozenset(p) for e in truth.get("hard_negatives", []) for p in e["pairs"]}
    units = seen.get("units", [])
    partial, threshold = options.match.partial, options.match.threshold
    true, passed, rejected = [], [], []
    for m in recorded:
        a, b = (Path(units[i].rep.path).name for i in (m.a, m.b))
        score = m.score(partial)
        if group.get(a) == group.get(b):
            true.append(score)
        elif m.verified:
            passed.append(score)
        else:
            rejected.append((score, frozenset((a, b)) in hard))

    def stats(xs: list[float]) -> str:
        if not xs:
            return "none"
        v = np.array(xs)
        return (
            f"n={len(v)} median {np.median(v):.3f} p10 {np.percentile(v, 10):.3f} "
            f"min {v.min():.3f} max {v.max():.3f}"
        )

    print(f"refined pairs: {len(recorded)} (threshold {threshold:.2f})")
    print(f"true duplicates:               {stats(true)}")
    print(f"wrong, pass verification:      {stats(passed)}")
    print(f"wrong, rejected by verification: {stats([s for s, _ in rejected])}")
    high = sorted((s, h) for s, h in rejected if s >= threshold)
    print(
        f"  of which at or above the threshold: {len(high)} "
        f"({sum(h for _, h in high)} hard-negative pairs): {[round(s, 3) for s, _ in high]}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
