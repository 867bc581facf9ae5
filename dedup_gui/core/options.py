"""Scan options: one frozen value shared by the CLI flags, the GUI preferences and the tests."""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path

# Common video containers. Matching is case-insensitive.
VIDEO_EXTENSIONS: frozenset[str] = frozenset(
    {
        "mp4", "m4v", "mkv", "avi", "mov", "qt", "webm", "wmv", "asf", "flv", "f4v", "mpg",
        "mpeg", "mpe", "m2v", "ts", "mts", "m2ts", "vob", "3gp", "3g2", "ogv", "ogm", "divx",
        "rm", "rmvb", "mxf", "dv", "y4m", "h264", "hevc",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class DiscoveryOptions:
    """Which files a scan looks at.

    Attributes:
        recursive: Descend into sub-folders.
        extensions: Allowed file extensions, lower case, without dot.
        exclude: Glob patterns; a folder or file whose name or full path matches is skipped
            (``*/.git``, ``*.part``, ``Trash``).
        min_size: Smallest file size in bytes to consider.
        max_size: Largest file size in bytes, or 0 for no limit.
        follow_symlinks: Follow symlinked files and folders (never looping).
    """

    recursive: bool = True
    extensions: frozenset[str] = VIDEO_EXTENSIONS
    exclude: tuple[str, ...] = ()
    min_size: int = 0
    max_size: int = 0
    follow_symlinks: bool = False


@dataclass(frozen=True, slots=True)
class SamplingOptions:
    """How frames are picked from each video.

    Frames are spread uniformly over the whole duration at about ``fps`` frames a second,
    never fewer than ``min_frames`` (short clips) nor more than ``max_frames`` (long files).
    """

    fps: float = 1.0
    min_frames: int = 12
    max_frames: int = 90
    size: int = 160  # model input side in pixels (docs/BENCHMARKS.md: 160 vs 224)
    crop_borders: bool = True  # remove black (or any solid, static) bars before embedding
    find_picture: bool = True  # analyse the picture inside a canvas (scan/canvas.py)

    @property
    def key(self) -> str:
        """The part of the feature-cache key that depends on sampling."""
        key = f"fps={self.fps:g},min={self.min_frames},max={self.max_frames},size={self.size}"
        # the canvas finder's version: its decisions change what the frames show
        key += ",canvas=2" if self.find_picture else ""
        return key if self.crop_borders else key + ",borders=kept"


@dataclass(frozen=True, slots=True)
class MatchOptions:
    """How videos are compared and grouped.

    Attributes:
        threshold: Minimum calibrated similarity (0..1) for two videos to be duplicates.
        duration_tolerance: Videos are only compared when the shorter one is at least
            ``1 - duration_tolerance`` of the longer one (plus a few seconds of slack for
            intros). Ignored in partial mode.
        partial: Also find clips cut from longer videos (excerpts), comparing videos of any
            duration and scoring by how much of the shorter one is covered. On by default:
            on every benchmark set it added no false group (docs/ACCURACY.md).
        flip: Also match mirrored copies.
        rotation: Also match copies whose picture is turned by 90, 180 or 270 degrees (or
            upside down).
        zoom: Give near misses a second look through windows of the picture (zoomed and
            cropped copies).
        suppress_common: Down-weight frames that match many unrelated videos (logos, intros,
            watermarks, title cards).
        regions: Compare frames region by region (ViSiL chamfer); off compares one vector
            per frame. For measurements (docs/ACCURACY.md ablation).
        temporal: Score frames along the best temporal alignment; off takes each frame's
            best match anywhere (plain chamfer). For measurements.
        verify: Require the motion check for videos that move. For measurements.
        whiten: Whiten region vectors with library and prior statistics. For measurements.
        time_gate: Refine only candidate pairs whose close frames line up in time
            (:mod:`dedup_gui.core.match.coherence`). For measurements.
    """

    threshold: float = 0.4
    duration_tolerance: float = 0.4
    partial: bool = True
    flip: bool = True
    rotation: bool = True
    zoom: bool = True
    suppress_common: bool = True
    regions: bool = True
    temporal: bool = True
    verify: bool = True
    whiten: bool = True
    time_gate: bool = True


@dataclass(frozen=True, slots=True)
class ModelOptions:
    """Which network embeds the frames.

    Attributes:
        name: A model from :data:`dedup_gui.core.analyse.models.MODELS`.
        weights: A local weights file that overrides the model's default weights.
        device: ``auto`` (CUDA when present, else CPU), ``cpu`` or ``cuda``.
        runtime: ``auto`` (OpenVINO int8 on the CPU, torch on CUDA), ``openvino`` or
            ``torch`` (see :mod:`dedup_gui.core.analyse.runtime`).
        batch_size: Frames per call of the runtime (OpenVINO splits it between its inference
            streams). Cancel is checked between batches.
    """

    name: str = "resnet50-augnet"
    weights: Path | None = None
    device: str = "auto"
    runtime: str = "auto"
    batch_size: int = 16


def _default_workers() -> int:
    return max(1, min(4, (os.cpu_count() or 2)))


@dataclass(frozen=True, slots=True)
class ScanOptions:
    """Everything that controls a scan.

    Attributes:
        discovery: Which files are considered.
        sampling: How frames are sampled.
        model: Which model embeds frames.
        match: How videos are compared and grouped.
        reference_roots: Folders whose files are never marked or acted on.
        use_cache: Read and write the feature cache.
        cache_dir: Where the cache lives; ``None`` uses the platform's user cache folder.
        decode_workers: Number of decoder processes.
        file_timeout: Seconds one file may take to decode before it is skipped.
        decoder: Decoder backend name (``pyav`` or ``opencv``).
        min_duration: Videos shorter than this many seconds are left out of the comparison.
        memory_budget: Bytes the matching stage may hold in whitened region vectors for
            refinement (made for candidate pairs only, least recently used dropped first).
            The default fits an 8 GB laptop next to the features of a large library.
        index: The library index: ``local`` (faiss, beside the feature cache; in memory
            with the cache off), ``milvus://HOST:PORT`` or a Milvus Lite file ``./x.db``.
    """

    discovery: DiscoveryOptions = field(default_factory=DiscoveryOptions)
    sampling: SamplingOptions = field(default_factory=SamplingOptions)
    model: ModelOptions = field(default_factory=ModelOptions)
    match: MatchOptions = field(default_factory=MatchOptions)
    reference_roots: tuple[Path, ...] = ()
    use_cache: bool = True
    cache_dir: Path | None = None
    decode_workers: int = field(default_factory=_default_workers)
    file_timeout: float = 120.0
    decoder: str = "pyav"
    min_duration: float = 0.0
    index: str = "local"
    memory_budget: int = 1 << 30

    def replace(self, **changes: object) -> ScanOptions:
        """Return a copy with top-level fields changed."""
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
