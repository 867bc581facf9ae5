"""Frame sampling cost: sequential decoding vs seeking vs keyframes, per file and in total.

    .venv/bin/python scripts/benchmark_decode.py DIR_OR_FILE... [--decoder pyav] [--frames N]

For every video, asks the decoder for the frames the default sampling plan wants (or ``--frames``
of them) with each strategy, and prints the seconds each strategy took, the strategy
:func:`dedup_gui.core.scan.sampling.choose_strategy` picks, and the totals. The numbers behind the
strategy choice in docs/BENCHMARKS.md. Decoding only (no embedding), in this process.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dedup_gui.core.options import DiscoveryOptions, SamplingOptions  # noqa: E402
from dedup_gui.core.scan import sampling  # noqa: E402
from dedup_gui.core.scan.decode.base import DecodeError, get_backend  # noqa: E402
from dedup_gui.core.scan.discovery import discover  # noqa: E402
from dedup_gui.core.scan.sampling import Strategy  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--decoder", default="pyav")
    ap.add_argument("--frames", type=int, help="frames per video (default: the sampling plan)")
    ap.add_argument("--max-side", type=int, default=320)
    args = ap.parse_args()

    backend = get_backend(args.decoder)
    files = [f.path for f in discover(args.paths, DiscoveryOptions()).files]
    strategies = list(Strategy)
    totals = dict.fromkeys(strategies, 0.0)
    chosen_total, frames_total = 0.0, 0
    print(f"{'file':40} {'dur s':>7} {'n':>3}  " + "  ".join(f"{s.value:>10}" for s in strategies))
    for path in sorted(files):
        try:
            info = backend.probe(path)
        except DecodeError as exc:
            print(f"{path.name[:40]:40} skipped: {exc}")
            continue
        p = info.probe
        n = args.frames or sampling.sample_count(p.duration, SamplingOptions())
        times = sampling.sample_times(p.duration, n)
        pick = sampling.choose_strategy(p.duration, p.fps, n, info.keyframe_interval)
        row = {}
        for s in strategies:
            t = time.perf_counter()
            try:
                got = sum(1 for _ in backend.read(path, info, times, s, args.max_side))
            except DecodeError:
                got = 0
            row[s] = time.perf_counter() - t
            totals[s] += row[s]
            if s is pick:
                chosen_total += row[s]
                frames_total += got
        print(
            f"{path.name[:40]:40} {p.duration:7.1f} {n:3d}  "
            + "  ".join(f"{row[s]:9.3f}{'*' if s is pick else ' '}" for s in strategies)
        )
    print(
        "\ntotal seconds: "
        + ", ".join(f"{s.value} {totals[s]:.1f}" for s in strategies)
        + f"; as chosen per file (*) {chosen_total:.1f} for {frames_total} frames"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
