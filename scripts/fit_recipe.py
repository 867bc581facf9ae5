"""Fit the shipped recipe of a model at one input size from scikit-image's sample pictures.

Two things ship per (model, input size) in ``dedup_gui/core/data/recipe-<model>-<size>.npz``:

* the **mirror-symmetrising projection** (dedup_gui/core/analyse/embed.py): the linear map F
  that takes a region's feature vector to the feature vector of the same region mirrored is
  fitted by ridge regression on crops and their mirror images; the projection ``(I + F) P``
  (P the fixed random projection) then gives a frame and its mirror image the same region
  vectors from one forward pass;
* the **whitening prior** (mean and covariance of the projected region vectors), which lets
  small libraries be whitened sensibly; large libraries lean on their own statistics
  (dedup_gui/core/match/similarity.py).

Both are fitted on pictures that have nothing to do with any benchmark: the ~25 sample images
that ship inside the scikit-image wheel, as random crops at video-like aspect ratios. The
feature maps come from torch in float32 (the reference the int8 runtime is checked against).

    .venv/bin/pip install scikit-image
    .venv/bin/python scripts/fit_recipe.py [--model resnet50-augnet] [--size 160]
"""

import argparse
import glob
import os
from pathlib import Path

import numpy as np

from dedup_gui.core.analyse import models, runtime
from dedup_gui.core.analyse.embed import MIRROR, equalize, pool_grid, projection, recipe_name
from dedup_gui.core.scan.frames import prepare


def sample_crops(n_per_image: int = 40, seed: int = 0, size: int = 224) -> np.ndarray:
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
            out.append(prepare(crop, (0, 0, crop.shape[1], crop.shape[0]), size))
    return np.stack(out)


def _l2(x: np.ndarray) -> np.ndarray:
    return x / (np.linalg.norm(x, axis=-1, keepdims=True) + 1e-8)


def region_features(rt: runtime.TorchRuntime, grey: np.ndarray) -> np.ndarray:
    """(n, 9, c) max-pooled region vectors (not normalised) of equalised grey frames."""
    return np.concatenate([pool_grid(rt.run(grey[i : i + 16])) for i in range(0, len(grey), 16)])


def fit_flip_map(plain: np.ndarray, flipped: np.ndarray, ridge: float) -> np.ndarray:
    """F (c, c) with ``flipped[mirror(r)] ~ plain[r] @ F``, normalised to keep vector norms."""
    x = _l2(plain).reshape(-1, plain.shape[-1]).astype(np.float64)
    y = _l2(flipped[:, MIRROR]).reshape(-1, plain.shape[-1]).astype(np.float64)
    a = x.T @ x
    f = np.linalg.solve(a + ridge * np.trace(a) / len(a) * np.eye(len(a)), x.T @ y)
    scale = float(np.median(np.linalg.norm(x @ f, axis=1)))
    return f / scale


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="resnet50-augnet")
    ap.add_argument("--size", type=int, default=160)
    ap.add_argument("--ridge", type=float, default=0.1)
    args = ap.parse_args()
    spec = models.get_spec(args.model)
    rt = runtime.build_torch(spec, None, "cpu")
    frames = equalize(sample_crops(size=args.size))
    plain = region_features(rt, frames)
    flipped = region_features(rt, np.ascontiguousarray(frames[:, :, ::-1]))
    f = fit_flip_map(plain, flipped, args.ridge)
    proj = (np.eye(len(f)) + f) @ projection(plain.shape[-1]).astype(np.float64)
    x = _l2(_l2(plain) @ proj).reshape(-1, proj.shape[1])
    mean = x.mean(0)
    cov = np.cov((x - mean).T)
    out = Path(__file__).resolve().parents[1] / "dedup_gui" / "core" / "data"
    out = out / recipe_name(args.model, args.size)
    np.savez_compressed(
        out,
        projection=proj.astype(np.float16),
        mean=mean.astype(np.float32),
        cov=cov.astype(np.float32),
        n=len(frames),
    )
    # how well the map predicts: cosine of predicted and true mirrored region vectors
    pred = _l2(_l2(plain).reshape(-1, len(f)) @ f)
    true = _l2(flipped[:, MIRROR]).reshape(-1, len(f))
    base = _l2(plain).reshape(-1, len(f))
    print(
        f"{out}: {len(frames)} crops at {args.size} px; mirrored features: cosine "
        f"{(pred * true).sum(1).mean():.3f} predicted vs {(base * true).sum(1).mean():.3f} unmapped"
    )


if __name__ == "__main__":
    main()
