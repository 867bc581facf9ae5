"""Write the int8 calibration pictures that ship with the app (dedup_gui/core/data).

NNCF needs a few pictures to measure the range of every activation when it quantises the
backbone to int8 on first use (dedup_gui/core/analyse/runtime.py). They are crops of the sample
pictures that ship inside the scikit-image wheel, at video-like aspect ratios, prepared like
video frames (grey, square, model input size) and stored as PNG bytes: nothing from any
benchmark set.

    .venv/bin/pip install scikit-image
    .venv/bin/python scripts/make_calibration.py [--count 64] [--size 224]
"""

import argparse
from pathlib import Path

import cv2
import numpy as np
from fit_recipe import sample_crops

OUT = Path(__file__).resolve().parents[1] / "dedup_gui" / "core" / "data"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--count", type=int, default=64)
    ap.add_argument("--size", type=int, default=224)
    args = ap.parse_args()
    crops = sample_crops(n_per_image=8, seed=1, size=args.size)
    rng = np.random.default_rng(1)
    pick = crops[np.sort(rng.choice(len(crops), min(args.count, len(crops)), replace=False))]
    blobs = [cv2.imencode(".png", f, [cv2.IMWRITE_PNG_COMPRESSION, 9])[1] for f in pick]
    out = OUT / "calibration-frames.npz"
    np.savez(
        out,
        png=np.concatenate(blobs).astype(np.uint8),
        lengths=np.array([len(b) for b in blobs], np.int64),
    )
    print(f"{out}: {len(pick)} pictures of {args.size} px, {out.stat().st_size // 1024} KiB")


if __name__ == "__main__":
    main()
