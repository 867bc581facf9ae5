"""Frame embedding: pretrained CNN feature maps to ViSiL-style region vectors.

The recipe (measured on the dev set, see docs/ACCURACY.md):

1. The frame (borders already cropped, resized to a square) is turned to grey and
   histogram-equalised: invariant to brightness, contrast, gamma, saturation and grayscale
   copies.
2. The frame and its mirror image go through the backbone; the last feature map is max-pooled
   over a 3x3 grid (nine region vectors, each L2-normalised).
3. Each region vector is added to the mirror frame's vector of the mirrored region, which makes
   the set of regions identical for a video and its mirrored copy (region chamfer similarity
   ignores region order).
4. A fixed random orthogonal projection reduces the vectors to 256 dimensions (cache size),
   then they are L2-normalised and stored as float16.

Whitening is *not* applied here: it depends on the library and is done at match time
(:mod:`dedup_gui.core.match.similarity`).
"""

from __future__ import annotations

import hashlib
import logging
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from dedup_gui.core.analyse import models
from dedup_gui.core.options import ModelOptions
from dedup_gui.core.progress import NEVER_CANCELLED, CancelToken

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

RECIPE_VERSION = "grayeq-max3x3-flipsym-proj256-v1"
GRID = 3
DIM = 256
# Region index of the mirror image: (row, col) <-> (row, GRID-1-col).
# Quarter turns (np.rot90's k) embedded for the rotation probes.
ROTATIONS = (1, 2, 3)
MIRROR = np.array([r * GRID + (GRID - 1 - c) for r in range(GRID) for c in range(GRID)])


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


def equalize(frames: np.ndarray) -> np.ndarray:
    """Histogram-equalise grey frames (n, h, w) uint8."""
    import cv2

    return np.stack([cv2.equalizeHist(f) for f in frames]) if len(frames) else frames


def pick_device(name: str) -> str:
    """``auto`` -> ``cuda`` when a GPU is usable, else ``cpu``."""
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        log.warning("CUDA requested but not available; using the CPU")
        return "cpu"
    return name


def _fast_dtype(device: str) -> Any:
    """bfloat16 where the CPU has native support (AMX/AVX512-BF16), float16 on CUDA."""
    import torch

    if device.startswith("cuda"):
        return torch.float16
    try:
        if torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported():
            return torch.bfloat16
    except AttributeError:  # older torch
        pass
    return None


class Embedder:
    """Turns prepared grey frames into region and frame vectors.

    Build with options, call :meth:`load` (slow: builds the network and reads the weights),
    then :meth:`embed` batches.

    Args:
        options: Which model, weights and device.
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
        self._net: torch.nn.Module | None = None
        self._device = "cpu"
        self._dtype: Any = None
        self._proj: np.ndarray | None = None

    @property
    def key(self) -> str:
        """Identity of the features this embedder produces (part of the cache key)."""
        return f"{models.weights_identity(self.spec, self.options.weights)}|{RECIPE_VERSION}"

    @property
    def device(self) -> str:
        """The device the network runs on (after :meth:`load`)."""
        return self._device

    def load(self) -> None:
        """Build the network with its weights (raises WeightsUnavailable with advice)."""
        if self._net is not None:
            return
        import torch

        net = models.build(self.spec, self.options.weights, self._download_progress)
        self._device = pick_device(self.options.device)
        self._dtype = _fast_dtype(self._device)
        self._net = net.to(self._device).to(memory_format=torch.channels_last)
        log.info("model %s on %s (%s)", self.spec.name, self._device, self._dtype or "float32")

    def embed(
        self, grey: np.ndarray, mirror: bool = True, token: CancelToken = NEVER_CANCELLED
    ) -> tuple[np.ndarray, np.ndarray]:
        """Embed frames.

        Args:
            grey: (n, s, s) uint8 grey frames, borders removed.
            mirror: Make the vectors mirror-invariant (embeds each frame twice); without it a
                mirrored copy is not recognised, at half the cost.
            token: Checked between batches (raises Cancelled), so a cancel does not wait for a
                long video to finish.

        Returns:
            ``(regions, vectors)``: (n, 9, 256) float16 region vectors and (n, 256) float32
            frame vectors, all L2-normalised.
        """
        if self._net is None:
            self.load()
        assert self._net is not None
        import torch

        n = len(grey)
        if n == 0:
            return np.zeros((0, GRID * GRID, DIM), np.float16), np.zeros((0, DIM), np.float32)
        eq = equalize(grey)
        mean = torch.tensor(self.spec.mean, device=self._device).view(1, 3, 1, 1)
        std = torch.tensor(self.spec.std, device=self._device).view(1, 3, 1, 1)
        outs = []
        bs = max(1, self.options.batch_size)
        with torch.inference_mode():
            for i in range(0, n, bs):
                token.raise_if_cancelled()
                x = torch.from_numpy(eq[i : i + bs]).to(self._device).float().div_(255.0)
                x = (x.unsqueeze(1).expand(-1, 3, -1, -1) - mean) / std
                if mirror:
                    x = torch.cat([x, x.flip(3)])
                x = x.contiguous(memory_format=torch.channels_last)
                if self._dtype is not None:
                    with torch.autocast(self._device.split(":")[0], dtype=self._dtype):
                        fmap = self._net(x)[-1]
                else:
                    fmap = self._net(x)[-1]
                pooled = torch.nn.functional.adaptive_max_pool2d(fmap.float(), GRID)
                outs.append(pooled.flatten(2).transpose(1, 2).cpu().numpy())  # (2b, 9, C)
        regions = self._symmetrise(outs) if mirror else _l2(np.concatenate(outs))
        if self._proj is None or self._proj.shape[0] != regions.shape[-1]:
            self._proj = projection(regions.shape[-1])
        reg = _l2(regions @ self._proj)
        vec = _l2(reg.mean(axis=1))
        return reg.astype(np.float16), vec.astype(np.float32)

    def embed_rotations(
        self, grey: np.ndarray, mirror: bool = True, token: CancelToken = NEVER_CANCELLED
    ) -> np.ndarray:
        """Region vectors of frames turned by 90, 180 and 270 degrees.

        Args:
            grey: (k, s, s) uint8 prepared frames.
            mirror: As in :meth:`embed`.
            token: As in :meth:`embed`.

        Returns:
            (k, 3, 9, 256) float16 region vectors.
        """
        if len(grey) == 0:
            return np.zeros((0, 3, GRID * GRID, DIM), np.float16)
        turned = np.concatenate([np.rot90(grey, k, axes=(1, 2)) for k in ROTATIONS])
        regions, _ = self.embed(np.ascontiguousarray(turned), mirror=mirror, token=token)
        n = len(grey)
        return np.stack([regions[i * n : (i + 1) * n] for i in range(len(ROTATIONS))], axis=1)

    @staticmethod
    def _symmetrise(outs: list[np.ndarray]) -> np.ndarray:
        parts = []
        for out in outs:
            b = len(out) // 2
            plain, mirror = _l2(out[:b]), _l2(out[b:])
            parts.append(_l2(plain + mirror[:, MIRROR]))
        return np.concatenate(parts)


def _l2(x: np.ndarray, axis: int = -1) -> np.ndarray:
    return x / (np.linalg.norm(x, axis=axis, keepdims=True) + 1e-8)
