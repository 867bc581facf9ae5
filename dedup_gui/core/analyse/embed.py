"""Frame embedding: pretrained CNN feature maps to ViSiL-style region vectors.

The recipe (measured on the dev set, see docs/ACCURACY.md):

1. The frame (borders already cropped, resized to a square of the model input size) is grey
   and histogram-equalised: invariant to brightness, contrast, gamma, saturation and grayscale
   copies.
2. One forward pass (:mod:`.runtime`: OpenVINO int8 on the CPU, torch float16 on CUDA); the
   last feature map is max-pooled over a 3x3 grid: nine region vectors, each L2-normalised.
3. A fixed projection reduces each region vector to 256 dimensions (cache size) and makes it
   **mirror-invariant in the same step**: the projection is ``(I + F) P``, where P is a fixed
   random orthonormal projection and F the linear map that takes a region's features to the
   features of the same region mirrored (fitted once on unrelated pictures by
   ``scripts/fit_recipe.py`` and shipped per model and input size). A frame and its mirror
   image get the same set of region vectors without embedding the mirror image: one forward
   pass instead of two. Where no map is shipped, the mirror image is embedded (two passes).
4. The vectors are L2-normalised and stored as float16.

Whitening is *not* applied here: it depends on the library and is done at match time
(:mod:`dedup_gui.core.match.similarity`).
"""

from __future__ import annotations

import hashlib
import io
import logging
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from dedup_gui.core.analyse import models, runtime
from dedup_gui.core.options import ModelOptions
from dedup_gui.core.progress import NEVER_CANCELLED, CancelToken

log = logging.getLogger(__name__)

RECIPE = "grayeq-max3x3-flipproj256-v3"
GRID = 3
DIM = 256
# Region index of the mirror image: (row, col) <-> (row, GRID-1-col).
MIRROR = np.array([r * GRID + (GRID - 1 - c) for r in range(GRID) for c in range(GRID)])
# Quarter turns (np.rot90's k) of the rotated-copy analysis.
ROTATIONS = (1, 2, 3)


@lru_cache(maxsize=4)
def projection(in_dim: int, out_dim: int = DIM) -> np.ndarray:
    """A fixed orthonormal (in_dim, out_dim) projection, the same on every machine.

    Signs come from SHAKE-256 of a fixed label (not from a NumPy RNG, whose streams may change
    between versions), then the columns are orthonormalised.
    """
    n = in_dim * out_dim
    bits = np.unpackbits(
        np.frombuffer(hashlib.shake_256(b"dedup-gui/proj/v1").digest(n // 8), np.uint8)
    )
    signs = bits[:n].astype(np.float64).reshape(in_dim, out_dim) * 2.0 - 1.0
    # torch's QR releases the GIL (NumPy's holds it for seconds on a busy machine, which froze
    # the GUI thread at the start of a scan); the result is the same to float32 precision.
    import torch

    qt, rt = torch.linalg.qr(torch.from_numpy(signs))
    q, r = qt.numpy(), rt.numpy()
    q = q * np.sign(np.diag(r))  # make the factorisation unique
    return q.astype(np.float32)


@dataclass(frozen=True, eq=False)
class Recipe:
    """What ships per model and input size (``dedup_gui/core/data/recipe-<model>-<size>.npz``).

    Attributes:
        projection: (c, 256) mirror-symmetrising projection of region vectors.
        prior_mean: (256,) generic mean of region vectors (whitening prior).
        prior_cov: (256, 256) generic covariance of region vectors.
    """

    projection: np.ndarray
    prior_mean: np.ndarray
    prior_cov: np.ndarray


def recipe_name(model: str, size: int) -> str:
    """File name of the shipped recipe of ``model`` at input ``size``."""
    return f"recipe-{model}-{size}.npz"


@lru_cache(maxsize=8)
def load_recipe(model: str, size: int) -> Recipe | None:
    """The shipped recipe of ``model`` at ``size``, or None when none ships."""
    try:
        ref = resources.files("dedup_gui.core.data").joinpath(recipe_name(model, size))
        with ref.open("rb") as fh, np.load(io.BytesIO(fh.read()), allow_pickle=False) as z:
            return Recipe(
                z["projection"].astype(np.float32),
                z["mean"].astype(np.float64),
                z["cov"].astype(np.float64),
            )
    except (FileNotFoundError, ModuleNotFoundError, KeyError, OSError):
        return None


def equalize(frames: np.ndarray) -> np.ndarray:
    """Histogram-equalise grey frames (n, h, w) uint8."""
    import cv2

    return np.stack([cv2.equalizeHist(f) for f in frames]) if len(frames) else frames


def pool_grid(fmap: np.ndarray, grid: int = GRID) -> np.ndarray:
    """Adaptive max pooling of (b, c, h, w) maps into (b, grid*grid, c) region vectors.

    Bins as in torch's ``adaptive_max_pool2d``: bin i spans ``[floor(i*h/g), ceil((i+1)*h/g))``.
    """
    b, c, h, w = fmap.shape
    # channels last first: the maxima then run over contiguous rows (16x faster than
    # reducing the strided spatial axes of (b, c, h, w))
    last = np.ascontiguousarray(fmap.transpose(0, 2, 3, 1))
    out = np.empty((b, grid * grid, c), np.float32)
    for i in range(grid):
        y0, y1 = (i * h) // grid, -((-(i + 1) * h) // grid)
        rows = last[:, y0:y1].max(axis=1)  # (b, w, c)
        for j in range(grid):
            x0, x1 = (j * w) // grid, -((-(j + 1) * w) // grid)
            out[:, i * grid + j] = rows[:, x0:x1].max(axis=1)
    return out


def _l2(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return x / (np.linalg.norm(x, axis=axis, keepdims=True) + 1e-8)


class Embedder:
    """Turns prepared grey frames into region and frame vectors.

    Build with options, call :meth:`load` (slow the first time: builds or reads the runtime
    model), then :meth:`embed` batches.

    Args:
        options: Which model, weights, device and runtime.
        download_progress: Receives (bytes, total) while weights download on first use.
    """

    def __init__(
        self,
        options: ModelOptions | None = None,
        download_progress: models.DownloadProgress | None = None,
    ) -> None:
        self.options = options or ModelOptions()
        self.spec = models.get_spec(self.options.name)
        self._download_progress = download_progress
        self._runtime: runtime.Runtime | None = None
        self._size = 0
        self._device = "cpu"

    @property
    def key(self) -> str:
        """Identity of the features this embedder produces (part of the cache key)."""
        return f"{models.weights_identity(self.spec, self.options.weights)}|{RECIPE}"

    @property
    def device(self) -> str:
        """The device the network runs on (after :meth:`load`)."""
        return self._device

    @property
    def runtime_name(self) -> str:
        """Which runtime runs the forward pass (after :meth:`load`), e.g. ``openvino-int8``."""
        return self._runtime.name if self._runtime is not None else ""

    def prior(self, size: int) -> tuple[np.ndarray, np.ndarray] | None:
        """The generic whitening prior (mean, covariance) of region vectors at ``size``."""
        rec = load_recipe(self.spec.name, size)
        return None if rec is None else (rec.prior_mean, rec.prior_cov)

    def load(
        self,
        size: int = 160,
        notify: runtime.Notify | None = None,
    ) -> None:
        """Make the network ready for frames of ``size`` pixels.

        Args:
            size: Model input side.
            notify: Receives a message when a model must be built first (first use).

        Raises:
            WeightsUnavailable: No weights can be had (the message says how to fix it).
        """
        if self._runtime is not None and self._size == size:
            return
        choice = self.options.runtime
        device = "cpu"
        if choice in ("auto", "torch"):
            device = runtime.pick_device(self.options.device)
        rt: runtime.Runtime | None = None
        if device == "cpu" and choice in ("auto", "openvino") and runtime.openvino_available():
            try:
                rt = runtime.build_openvino(
                    self.spec,
                    self.options.weights,
                    size,
                    models.weights_identity(self.spec, self.options.weights),
                    notify,
                    progress=self._download_progress,
                )
            except models.WeightsUnavailable:
                raise
            except Exception as exc:  # an OpenVINO failure falls back to torch, loudly
                log.warning("OpenVINO could not build the model (%s); using torch", exc)
        if rt is None:
            if choice == "openvino":
                log.warning("OpenVINO is not available; using torch")
            rt = runtime.build_torch(
                self.spec, self.options.weights, device, self._download_progress
            )
        self._runtime, self._size, self._device = rt, size, device
        log.info("model %s at %d px on %s (%s)", self.spec.name, size, device, rt.name)

    def _maps(self, eq: np.ndarray, token: CancelToken) -> np.ndarray:
        assert self._runtime is not None
        bs = max(1, self.options.batch_size)
        outs = []
        for i in range(0, len(eq), bs):
            token.raise_if_cancelled()
            outs.append(pool_grid(self._runtime.run(eq[i : i + bs])))
        return np.concatenate(outs)

    def embed(
        self, grey: np.ndarray, mirror: bool = True, token: CancelToken = NEVER_CANCELLED
    ) -> tuple[np.ndarray, np.ndarray]:
        """Embed frames.

        Args:
            grey: (n, s, s) uint8 grey frames, borders removed.
            mirror: Make the vectors mirror-invariant (the shipped projection does it in the
                same pass; without one, the mirror image is embedded too).
            token: Checked between batches (raises Cancelled), so a cancel does not wait for a
                long video to finish.

        Returns:
            ``(regions, vectors)``: (n, 9, 256) float16 region vectors and (n, 256) float32
            frame vectors, all L2-normalised.
        """
        n = len(grey)
        if n == 0:
            return np.zeros((0, GRID * GRID, DIM), np.float16), np.zeros((0, DIM), np.float32)
        size = int(grey.shape[1])
        if self._runtime is None or self._size != size:
            self.load(size)
        eq = equalize(grey)
        regions = _l2(self._maps(eq, token))  # (n, 9, c)
        recipe = load_recipe(self.spec.name, size) if mirror else None
        if recipe is not None and recipe.projection.shape[0] == regions.shape[-1]:
            proj = recipe.projection
        else:
            proj = projection(regions.shape[-1])
            if mirror:  # no mirror map ships for this model and size: embed the mirror image
                flipped = _l2(self._maps(np.ascontiguousarray(eq[:, :, ::-1]), token))
                regions = _l2(regions + flipped[:, MIRROR])
        n, r, c = regions.shape
        reg = _l2((regions.reshape(n * r, c) @ proj).reshape(n, r, -1))  # one 2-D product
        vec = _l2(reg.mean(axis=1))
        return reg.astype(np.float16), vec.astype(np.float32)


def embed_many(
    embedder: Embedder,
    parts: list[np.ndarray],
    mirror: bool = True,
    token: CancelToken = NEVER_CANCELLED,
) -> list[tuple[np.ndarray, np.ndarray]]:
    """:meth:`Embedder.embed` several frame arrays of one size in one call, each result its own.

    The inference streams then stay busy to the end of the batch instead of idling at the last
    frames of every short array (a short video, one zoom window). A function over
    ``embedder.embed``, so that whatever stands in for the embedder sees the call.
    """
    if not parts:
        return []
    regions, vectors = embedder.embed(np.concatenate(parts), mirror=mirror, token=token)
    out = []
    pos = 0
    for part in parts:
        out.append((regions[pos : pos + len(part)], vectors[pos : pos + len(part)]))
        pos += len(part)
    return out
