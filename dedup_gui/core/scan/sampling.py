"""Sampling plan: which timestamps of a video are decoded, and how.

Frames are spread uniformly over the whole duration (each sample sits in the middle of an equal
slice, so a trimmed or re-encoded copy samples nearly the same moments) at about
``fps`` frames per second, clamped to ``[min_frames, max_frames]``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import numpy as np

from dedup_gui.core.options import SamplingOptions


class Strategy(StrEnum):
    """How a decoder reaches the wanted frames."""

    SEQUENTIAL = "sequential"  # decode every frame, keep the wanted ones (short files)
    SEEK = "seek"  # seek to the keyframe before each sample and decode up to it
    KEYFRAME = "keyframe"  # seek and take the nearest keyframe only (very long files)


@dataclass(frozen=True, slots=True)
class SamplePlan:
    """Timestamps to decode and the chosen strategy."""

    timestamps: np.ndarray
    strategy: Strategy


def sample_count(duration: float, options: SamplingOptions) -> int:
    """Number of frames to sample from a video of ``duration`` seconds."""
    if not math.isfinite(duration) or duration <= 0:
        return options.min_frames
    n = int(round(duration * options.fps))
    return max(options.min_frames, min(options.max_frames, n))


def sample_times(duration: float, n: int) -> np.ndarray:
    """``n`` timestamps in the middle of ``n`` equal slices of ``[0, duration)``."""
    if n <= 0:
        return np.zeros(0, dtype=np.float32)
    duration = max(duration, 1e-3)
    return ((np.arange(n, dtype=np.float64) + 0.5) * (duration / n)).astype(np.float32)


# Decoding one frame costs about the same whether it is kept or not; a seek costs about the
# frames from the previous keyframe to the target plus a fixed overhead (demuxer reset,
# decoder flush), expressed in frames. Measured on the shared clips (docs/BENCHMARKS.md).
SEEK_OVERHEAD_FRAMES = 12.0
# Past this many decoded frames per wanted frame, exact seeking is not worth it: take keyframes.
KEYFRAME_RATIO = 400.0


def choose_strategy(
    duration: float, fps: float, n_samples: int, keyframe_interval: float | None
) -> Strategy:
    """Pick the cheapest way to reach ``n_samples`` frames of a video.

    Args:
        duration: Seconds.
        fps: Frames per second (0 when unknown).
        n_samples: Frames wanted.
        keyframe_interval: Mean frames between keyframes when the container index tells, else
            None (assumed 250, x264's default GOP).

    Returns:
        SEQUENTIAL when decoding everything is cheaper than seeking, KEYFRAME for very long
        files with sparse keyframes, SEEK otherwise.
    """
    if fps <= 0 or duration <= 0 or n_samples <= 0:
        return Strategy.SEQUENTIAL
    total = duration * fps
    gop = keyframe_interval if keyframe_interval and keyframe_interval > 0 else 250.0
    seek_cost = n_samples * (min(gop, total) / 2.0 + SEEK_OVERHEAD_FRAMES)
    if total <= seek_cost:
        return Strategy.SEQUENTIAL
    if seek_cost / n_samples > KEYFRAME_RATIO:
        return Strategy.KEYFRAME
    return Strategy.SEEK


# Long files (more frames than this) whose keyframes are known are sampled at the keyframes
# nearest to the wanted moments: one decoded frame each, no full decode of the file (encoders
# also put keyframes at scene cuts, so copies share many of them).
LONG_FRAMES = 3000
# ... provided a keyframe lies this close to most wanted moments (in sample intervals).
SNAP_REACH = 0.75


def snap_to_keyframes(times: np.ndarray, keyframes: np.ndarray, step: float) -> np.ndarray | None:
    """The distinct keyframes nearest to ``times``; None when they are too far from them."""
    if len(keyframes) < 2 or not len(times):
        return None
    pos = np.clip(np.searchsorted(keyframes, times), 1, len(keyframes) - 1)
    left, right = keyframes[pos - 1], keyframes[pos]
    nearest = np.where(np.abs(times - left) <= np.abs(right - times), left, right)
    if np.median(np.abs(nearest - times)) > SNAP_REACH * step:
        return None
    return np.unique(nearest).astype(np.float32)


def plan(
    duration: float,
    fps: float,
    options: SamplingOptions,
    keyframe_interval: float | None = None,
    keyframes: tuple[float, ...] | np.ndarray = (),
) -> SamplePlan:
    """Make the sampling plan of one video.

    A long file whose keyframes are known is sampled at its keyframes (see
    :data:`LONG_FRAMES`): a ten-minute 720p H.264 file with a keyframe every 10 s costs about
    sixty single-frame decodes instead of fifteen thousand frames.
    """
    n = sample_count(duration, options)
    times = sample_times(duration, n)
    if duration * fps > LONG_FRAMES and len(keyframes) > 1 and n > 1:
        snapped = snap_to_keyframes(times, np.asarray(keyframes, np.float64), duration / n)
        if snapped is not None:
            return SamplePlan(snapped, Strategy.KEYFRAME)
    return SamplePlan(times, choose_strategy(duration, fps, n, keyframe_interval))
