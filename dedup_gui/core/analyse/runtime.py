"""Inference runtimes: where the backbone's forward pass runs.

torch is the source of every model and its pretrained weights (:mod:`.models`). What runs the
forward pass depends on the machine (measured in docs/BENCHMARKS.md):

* **CPU: OpenVINO int8** (default). On first use the torch network is converted to OpenVINO,
  quantised to int8 by NNCF with calibration pictures that ship with the app, and saved in the
  model cache; later scans load the saved model in a fraction of a second, without torch. int8
  runs on every x86 CPU (AVX2, AVX-512 VNNI, AMX) and is the fastest path on the AVX2-only
  CPUs of most laptops and NAS boxes.
* **CUDA: torch float16.**
* **torch on the CPU** (float32, or bfloat16 where the CPU has it natively) when OpenVINO is
  not installed or cannot build the model, and on request (``--runtime torch``).

Every runtime takes a batch of histogram-equalised grey frames, ``(b, s, s)`` uint8, and
returns the backbone's last feature map, ``(b, c, h, w)`` float32. Input normalisation is part
of the runtime's graph.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from dedup_gui.core.analyse import models

if TYPE_CHECKING:
    import torch

log = logging.getLogger(__name__)

RUNTIMES = ("auto", "openvino", "torch")
# Version of the int8 build (calibration pictures, quantisation settings); part of the cached
# model's name, so a change rebuilds it.
INT8_BUILD = "nncf-perf-cal64-v1"
CALIBRATION_FILE = "calibration-frames.npz"

Notify = Callable[[str], None]


class Runtime(Protocol):
    """A loaded network that maps equalised grey frames to feature maps."""

    name: str

    def run(self, grey: np.ndarray) -> np.ndarray:
        """(b, s, s) uint8 -> (b, c, h, w) float32."""
        ...


def max_isa() -> str | None:
    """The instruction-set cap in force (``DEDUP_GUI_MAX_ISA``), e.g. ``avx2``, or None."""
    value = os.environ.get("DEDUP_GUI_MAX_ISA", "").strip().lower()
    return value or None


def apply_max_isa(isa: str | None) -> None:
    """Cap the vector instruction set the numeric libraries may use (benchmarks, support).

    Must run before torch or OpenVINO first compute anything: oneDNN (used by both), ATen and
    fbgemm read these variables once. ``avx2`` makes an AVX-512 machine behave like the AVX2
    laptops most users have (no AVX-512, no VNNI, no native bfloat16).
    """
    if not isa:
        return
    os.environ["DEDUP_GUI_MAX_ISA"] = isa
    upper = isa.upper()
    os.environ["ONEDNN_MAX_CPU_ISA"] = upper
    os.environ["DNNL_MAX_CPU_ISA"] = upper
    os.environ["OV_CPU_MAX_ISA"] = upper
    os.environ["ATEN_CPU_CAPABILITY"] = isa.lower()
    os.environ["FBGEMM_ENABLE_INSTRUCTIONS"] = upper


def cpu_threads() -> int:
    """Threads for one forward pass on the CPU: the cores (at most 8).

    ``DEDUP_GUI_THREADS`` overrides it (the decoder processes run beside these threads).
    """
    override = os.environ.get("DEDUP_GUI_THREADS", "")
    if override.isdigit() and int(override) > 0:
        return int(override)
    return max(1, min(8, os.cpu_count() or 1))


class _Normalised:
    """Build-time helper: a torch module that takes grey 0..255 frames and returns the map."""

    @staticmethod
    def wrap(net: torch.nn.Module, spec: models.ModelSpec) -> torch.nn.Module:
        import torch

        class Net(torch.nn.Module):
            def __init__(self) -> None:
                super().__init__()
                self.net = net
                self.register_buffer("mean", torch.tensor(spec.mean).view(1, 3, 1, 1) * 255.0)
                self.register_buffer("std", torch.tensor(spec.std).view(1, 3, 1, 1) * 255.0)

            def forward(self, x: torch.Tensor) -> torch.Tensor:  # (b, 1, s, s) float 0..255
                x = (x.expand(-1, 3, -1, -1) - self.mean) / self.std  # type: ignore[operator]
                return self.net(x)[-1]

        return Net().eval()


@dataclass
class TorchRuntime:
    """The forward pass in torch (CUDA float16, CPU float32 or native bfloat16)."""

    net: Any
    device: str
    dtype: Any
    name: str = "torch"

    def run(self, grey: np.ndarray) -> np.ndarray:
        """(b, s, s) uint8 -> (b, c, h, w) float32."""
        import torch

        with torch.inference_mode():
            x = torch.from_numpy(np.ascontiguousarray(grey)).to(self.device).float()
            x = x.unsqueeze(1).contiguous(memory_format=torch.channels_last)
            if self.dtype is not None:
                with torch.autocast(self.device.split(":")[0], dtype=self.dtype):
                    out = self.net(x)
            else:
                out = self.net(x)
            return out.float().cpu().numpy()


class OpenVINORuntime:
    """The forward pass in OpenVINO on the CPU (int8 or float32).

    The model is compiled for throughput: one inference *stream* per core (or per few cores on
    big CPUs), each with its own threads, and a batch is split between the streams' requests.
    A stream does not wait for the others layer by layer, so when a decoder process takes a
    core for a moment only that stream slows down; with one multi-threaded request every layer
    waited for its slowest thread (docs/BENCHMARKS.md: about 10-20% more frames a second on two
    busy cores).
    """

    CHUNK = 4  # frames per inference request (measured on the dev set: 2 was slower)

    def __init__(self, compiled: Any, name: str) -> None:
        import openvino as ov

        self._compiled = compiled
        try:
            n = int(compiled.get_property("OPTIMAL_NUMBER_OF_INFER_REQUESTS"))
        except Exception:  # an older OpenVINO or a plugin without the property
            n = 1
        self._requests = max(1, n)
        self._queue = ov.AsyncInferQueue(compiled, self._requests)
        self._outputs: dict[int, np.ndarray] = {}
        self._queue.set_callback(self._done)
        self._lock = threading.Lock()  # one caller at a time owns the queue
        self.name = name

    def _done(self, request: Any, index: int) -> None:
        self._outputs[index] = np.array(request.get_output_tensor(0).data, np.float32, copy=True)

    def run(self, grey: np.ndarray) -> np.ndarray:
        """(b, s, s) uint8 -> (b, c, h, w) float32."""
        x = np.ascontiguousarray(grey, dtype=np.float32)[:, None]
        # chunks of at most CHUNK frames go to whichever request is free (start_async waits
        # for one), so the streams stay busy until the batch's last chunk
        step = max(1, min(self.CHUNK, -(-len(x) // self._requests)))
        with self._lock:
            self._outputs.clear()
            starts = range(0, len(x), step)
            for start in starts:
                self._queue.start_async({0: x[start : start + step]}, start)
            self._queue.wait_all()
            return np.concatenate([self._outputs.pop(start) for start in starts])


def torch_dtype(device: str) -> Any:
    """float16 on CUDA; bfloat16 where the CPU has it natively (AMX/AVX512-BF16); else None.

    Under an instruction-set cap (:func:`max_isa`) the CPU is treated as not having bfloat16.
    """
    import torch

    if device.startswith("cuda"):
        return torch.float16
    if max_isa():
        return None
    try:
        if torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported():
            return torch.bfloat16
    except AttributeError:  # older torch
        pass
    return None


def cuda_driver_present() -> bool:
    """Whether an NVIDIA driver is installed, without importing torch.

    Importing torch takes about 4 s of one core (measured on the AVX2 VM); a cold scan waited
    for it only to learn that there is no GPU. Without the driver library CUDA cannot work, so
    torch is asked only where the driver is present.
    """
    import ctypes
    import sys

    names = {"win32": ("nvcuda.dll",), "darwin": ()}.get(
        sys.platform, ("libcuda.so.1", "libcuda.so")
    )
    for name in names:
        try:
            ctypes.CDLL(name)
            return True
        except OSError:
            continue
    return False


def pick_device(name: str) -> str:
    """``auto`` -> ``cuda`` when a GPU is usable, else ``cpu``."""
    if name == "auto" and not cuda_driver_present():
        return "cpu"
    import torch

    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        log.warning("CUDA requested but not available; using the CPU")
        return "cpu"
    return name


def openvino_available() -> bool:
    """Whether the OpenVINO runtime (and NNCF, to build int8 models) can be imported."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("openvino", "nncf"))


def calibration_frames() -> np.ndarray:
    """The calibration pictures that ship with the app: (n, s, s) uint8 equalised grey.

    Crops of scikit-image's sample pictures (see ``scripts/fit_prior.py``), unrelated to any
    benchmark; stored as PNG bytes.
    """
    import cv2

    ref = resources.files("dedup_gui.core.data").joinpath(CALIBRATION_FILE)
    with ref.open("rb") as fh, np.load(io.BytesIO(fh.read()), allow_pickle=False) as z:
        blobs, lengths = z["png"], z["lengths"]
    out: list[np.ndarray] = []
    pos = 0
    for n in lengths.tolist():
        out.append(np.asarray(cv2.imdecode(blobs[pos : pos + n], cv2.IMREAD_GRAYSCALE)))
        pos += n
    return np.stack(out)


def model_cache_dir() -> Path:
    """Where built runtime models are kept: the user cache folder's ``models`` (once per user).

    ``DEDUP_GUI_MODEL_DIR`` overrides it (tests share one folder per session).
    """
    from dedup_gui.core.library.cache import default_cache_dir

    override = os.environ.get("DEDUP_GUI_MODEL_DIR")
    return Path(override) if override else default_cache_dir() / "models"


# built once per process (tests load several embedders)
_LOADED: dict[tuple[str, int], Runtime] = {}
_LOADED_LOCK = threading.Lock()


def _ov_core() -> Any:
    import openvino as ov

    return ov.Core()


def _compile(core: Any, model: Any, threads: int, int8: bool) -> Any:
    config: dict[str, Any] = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "THROUGHPUT"}
    if not int8:
        config["INFERENCE_PRECISION_HINT"] = "f32"
    return core.compile_model(model, "CPU", config)


def build_openvino(
    spec: models.ModelSpec,
    weights: Path | None,
    size: int,
    identity: str,
    notify: Notify | None = None,
    int8: bool = True,
    progress: models.DownloadProgress | None = None,
) -> Runtime:
    """Load the OpenVINO model of ``spec`` at input ``size``, building and caching it first.

    Args:
        spec: The backbone.
        weights: A weights file overriding the model's own, or None.
        size: Model input side in pixels (the model is built for this size).
        identity: Identity of the weights (:func:`.models.weights_identity`).
        notify: Receives a one-line message when a model has to be built (first use).
        int8: Quantise to int8 (else float32).
        progress: Download progress, if the weights are fetched on first use.

    Raises:
        WeightsUnavailable: No weights can be had.
    """
    kind = f"int8-{INT8_BUILD}" if int8 else "f32"
    digest = hashlib.sha256(f"{identity}|{size}|{kind}".encode()).hexdigest()[:16]
    name = f"{spec.name}-{size}-{kind}-{digest}"
    threads = cpu_threads()
    with _LOADED_LOCK:
        if (name, threads) in _LOADED:
            return _LOADED[(name, threads)]
        core = _ov_core()
        folder = model_cache_dir()
        xml = folder / f"{name}.xml"
        model = None
        if xml.is_file() and xml.with_suffix(".bin").is_file():
            try:
                model = core.read_model(str(xml))
            except Exception as exc:  # a damaged cache file is rebuilt, never fatal
                log.warning("cannot read cached model %s (%s); rebuilding", xml, exc)
        if model is None:
            if notify:
                notify(
                    "Preparing the fast analysis model (first use only, about a minute on a "
                    "slow CPU)"
                )
            model = _convert(spec, weights, size, int8, progress)
            _save(model, xml)
        runtime = OpenVINORuntime(
            _compile(core, model, threads, int8), f"openvino-{'int8' if int8 else 'f32'}"
        )
        _LOADED[(name, threads)] = runtime
        return runtime


def _convert(
    spec: models.ModelSpec,
    weights: Path | None,
    size: int,
    int8: bool,
    progress: models.DownloadProgress | None,
) -> Any:
    import openvino as ov
    import torch

    net = _Normalised.wrap(models.build(spec, weights, progress), spec)
    example = torch.zeros(1, 1, size, size)
    with torch.no_grad():
        model = ov.convert_model(net, example_input=example, input=[(-1, 1, size, size)])
    if not int8:
        return model
    import nncf

    nncf.set_log_level(logging.ERROR)  # no progress bars on the user's terminal
    frames = calibration_frames()
    if frames.shape[1] != size:
        import cv2

        frames = np.stack(
            [cv2.resize(f, (size, size), interpolation=cv2.INTER_AREA) for f in frames]
        )
    from dedup_gui.core.analyse.embed import equalize

    data = [f[None, None].astype(np.float32) for f in equalize(frames)]
    return nncf.quantize(
        model,
        nncf.Dataset(data),
        subset_size=len(data),
        preset=nncf.QuantizationPreset.PERFORMANCE,
    )


def _save(model: Any, xml: Path) -> None:
    """Save atomically: a half-written model is never picked up by the next scan."""
    import openvino as ov

    try:
        xml.parent.mkdir(parents=True, exist_ok=True)
        tmp = xml.with_name(f".{xml.stem}.{os.getpid()}.tmp.xml")
        ov.save_model(model, str(tmp), compress_to_fp16=False)
        os.replace(tmp.with_suffix(".bin"), xml.with_suffix(".bin"))
        os.replace(tmp, xml)
    except OSError as exc:  # read-only cache: the model is rebuilt next time, not fatal
        log.warning("cannot save the built model in %s (%s)", xml.parent, exc)


def build_torch(
    spec: models.ModelSpec,
    weights: Path | None,
    device: str,
    progress: models.DownloadProgress | None = None,
) -> TorchRuntime:
    """The torch runtime on ``device`` (resolved: ``cpu`` or ``cuda``)."""
    import torch

    net = _Normalised.wrap(models.build(spec, weights, progress), spec)
    net = net.to(device).to(memory_format=torch.channels_last)
    dtype = torch_dtype(device)
    precision = str(dtype).replace("torch.", "") if dtype else "f32"
    name = f"torch-{device.split(':', maxsplit=1)[0]}-{precision}"
    return TorchRuntime(net, device, dtype, name)
