"""How well the canvas finder finds the picture of a repost, and how often it invents one.

    .venv/bin/python scripts/canvas_eval.py --draw /tmp/ndv-gtune [--draw DIR2] \
        [--sources ../shared/data/videos] [-v]

Each ``--draw`` is a library made by ``scripts/make_general_set.py`` (``DIR/library`` and
``DIR/truth.json``). For every file whose edit put the picture in a canvas (template, flat,
gradient or still-image canvas, frame with caption, vertical or picture-in-picture on a
blurred copy), the picture area the scan would analyse (``workers.picture_area``: bars, then
the canvas finder) is compared with the area the generator drew:

* ``found``: intersection over union at least 0.7 (with the area mirrored too, for mirrored
  copies);
* ``wrong``: some other area;
* ``missed``: the whole frame.

Every other file of the draws, and every clip under ``--sources``, is a negative: ``false``
counts those for which the canvas finder reported a picture (bars alone are not counted: they
are what black-border removal has always done).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dedup_gui.core.options import ScanOptions  # noqa: E402
from dedup_gui.core.scan import sampling  # noqa: E402
from dedup_gui.core.scan.decode.base import DecodeError, get_backend  # noqa: E402
from dedup_gui.core.scan.frames import is_blank  # noqa: E402
from dedup_gui.core.scan.workers import WORK_SIDE, picture_area  # noqa: E402

CANVASES = (
    "template",
    "canvas_image",
    "canvas_flat",
    "canvas_gradient",
    "frame_caption",
    "vertical_blur",
    "pip_blur",
)
Rect = tuple[float, float, float, float]


def iou(a: Rect, b: Rect) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - ix * iy
    return ix * iy / union if union > 0 else 0.0


def analysed(path: Path, options: ScanOptions) -> tuple[Rect, bool] | None:
    """The picture area the scan analyses, relative to the frame, and whether the canvas
    finder (not only bar removal) chose it; None when the file cannot be decoded."""
    backend = get_backend(options.decoder)
    try:
        info = backend.probe(path)
        s = options.sampling
        plan = sampling.plan(
            info.probe.duration, info.probe.fps, s, info.keyframe_interval, info.keyframes
        )
        frames = backend.read(path, info, plan.timestamps, plan.strategy, WORK_SIDE, grey=True)
        raw = [f for _, f in frames]
    except DecodeError:
        return None
    if not raw:
        return None
    informative = np.array([not is_blank(f) for f in raw], dtype=bool)
    crop, picture = picture_area(raw, informative, s)
    h, w = raw[0].shape[:2]
    x0, y0, x1, y1 = picture or crop
    return (x0 / w, y0 / h, x1 / w, y1 / h), picture is not None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--draw", type=Path, action="append", required=True)
    ap.add_argument("--sources", type=Path, help="clips without a canvas (negatives)")
    ap.add_argument("-v", "--verbose", action="store_true", help="list every miss")
    args = ap.parse_args()
    options = ScanOptions()
    items: list[tuple[Path, Rect | None, str]] = []
    for draw in args.draw:
        truth = json.loads((draw / "truth.json").read_text())
        for f in truth["files"]:
            drawn = None
            for kind, p in (f.get("params") or {}).items():
                if kind in CANVASES:
                    cw, ch = p["canvas"]
                    x0, y0, x1, y1 = p["x"], p["y"], p["x"] + p["w"], p["y"] + p["h"]
                    drawn = (x0 / cw, y0 / ch, x1 / cw, y1 / ch)
            label = f"{draw.name}:{f['group']}:{f['kind']}"
            items.append((draw / "library" / f["relpath"], drawn, label))
    if args.sources:
        for p in sorted(args.sources.rglob("*")):
            if p.is_file():
                items.append((p, None, f"sources:{p.relative_to(args.sources)}"))
    counts = {"found": 0, "wrong": 0, "missed": 0, "false": 0, "negatives": 0, "unreadable": 0}
    for path, drawn, label in items:
        got = analysed(path, options)
        if got is None:
            counts["unreadable"] += 1
            continue
        rect, by_finder = got
        if drawn is None:
            counts["negatives"] += 1
            if by_finder:
                counts["false"] += 1
                if args.verbose:
                    print(f"false   {label}: {[round(v, 2) for v in rect]}")
            continue
        mirrored = (1 - drawn[2], drawn[1], 1 - drawn[0], drawn[3])
        if rect == (0.0, 0.0, 1.0, 1.0):
            verdict = "missed"
        else:
            verdict = "found" if max(iou(rect, drawn), iou(rect, mirrored)) >= 0.7 else "wrong"
        counts[verdict] += 1
        if args.verbose and verdict != "found":
            print(
                f"{verdict:7s} {label}: drawn {[round(v, 2) for v in drawn]}, "
                f"analysed {[round(v, 2) for v in rect]}"
            )
    pictures = counts["found"] + counts["wrong"] + counts["missed"]
    print(
        f"pictures in a canvas: {counts['found']}/{pictures} found, {counts['wrong']} wrong, "
        f"{counts['missed']} missed; negatives: {counts['false']}/{counts['negatives']} given a "
        f"picture; unreadable: {counts['unreadable']}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
