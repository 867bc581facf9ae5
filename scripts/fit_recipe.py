"""Fit the generic whitening prior of a model from scikit-image's sample pictures.

The prior (mean and covariance of region vectors) lets small libraries be whitened sensibly;
large libraries lean on their own statistics (see dedup_gui/core/similarity.py). It is fitted on
pictures that have nothing to do with any benchmark: the ~25 sample images that ship inside the
scikit-image wheel, as random crops at video-like aspect ratios.

    .venv/bin/pip install scikit-image
    .venv/bin/python scripts/fit_prior.py [--model resnet50-augnet]
"""

import argparse
import glob
import os
from pathlib import Path

import numpy as np

from dedup_gui.core.analyse.embed import Embedder
from dedup_gui.core.options import ModelOptions
from dedup_gui.core.scan.frames import prepare


def sample_crops(n_per_image: int = 40, seed: int = 0) -> np.ndarray:
    import skimage
    import skimage.io

    folder = os.path.join(os.path.dirname(skimage.__file__), "data")
    rng = np.random.default_rng(seed)
    out = []
    for path in sorted(glob.glob(folder + "/*.png") + glob.glob(folder + "/*.jpg")):
        im = skimage.io.imread(path)
        if im.ndim == 2:
            im = np.repeat(im[..., None], 3, 2)
        im = np.ascontiguousarray(im[..., :3].astype(np.uint8))
        if min(im.shape[:2]) < 100:
            continue
        h_img, w_img = im.shape[:2]
        for _ in range(n_per_image):
            scale = rng.uniform(0.4, 1.0)
            aspect = rng.choice([16 / 9, 4 / 3, 1.0, 9 / 16])
            h = int(min(h_img, scale * h_img))
            w = int(min(w_img, h * aspect))
            if w >= w_img:
                w = w_img
                h = int(min(h_img, w / aspect))
            y = rng.integers(0, h_img - h + 1)
            x = rng.integers(0, w_img - w + 1)
            crop = im[y : y + h, x : x + w]
            out.append(prepare(crop, (0, 0, crop.shape[1], crop.shape[0]), 224))
    return np.stack(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="resnet50-augnet")
    args = ap.parse_args()
    frames = sample_crops()
    emb = Embedder(ModelOptions(name=args.model))
    regions, _ = emb.embed(frames)
    x = regions.reshape(-1, regions.shape[-1]).astype(np.float64)
    mean = x.mean(0)
    cov = np.cov((x - mean).T)
    out = (
        Path(__file__).resolve().parents[1]
        / "dedup_gui"
        / "core"
        / "data"
        / f"prior-{args.model}.npz"
    )
    np.savez_compressed(
        out, mean=mean.astype(np.float32), cov=cov.astype(np.float32), n=len(frames)
    )
    print(f"{out}: {len(frames)} crops, {len(x)} region vectors")


if __name__ == "__main__":
    main()
