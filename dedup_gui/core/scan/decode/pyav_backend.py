"""PyAV decoder (FFmpeg in a wheel): the default backend."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import av
import av.error
import numpy as np

from dedup_gui.core.scan.decode.base import (
    DecodeError,
    DecoderBackend,
    ProbeInfo,
    explain_unopenable,
    rotate,
    scaled_size,
)
from dedup_gui.core.scan.sampling import LONG_FRAMES, Strategy
from dedup_gui.core.types import Probe

log = logging.getLogger(__name__)

# Consecutive undecodable packets after which a file is given up as damaged.
MAX_BAD_PACKETS = 50

# Decoder threads per file; 0 lets FFmpeg choose (one per core). The scan's decoder processes
# set 1: they already run one per core beside the embedding, and FFmpeg's frame threads then
# only add synchronisation (a single-threaded decode of the dev set took 16% less CPU).
_SETTINGS = {"threads": 0}


def set_threads(n: int) -> None:
    """Decoder threads per file from now on in this process (0: FFmpeg's choice)."""
    _SETTINGS["threads"] = max(0, int(n))


def _reason(exc: Exception) -> str:
    if isinstance(exc, av.error.InvalidDataError):
        return "not a video or damaged (FFmpeg found invalid data)"
    if isinstance(exc, av.error.FFmpegError):
        msg = getattr(exc, "strerror", None) or str(exc)
        return f"FFmpeg: {msg}"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return f"{type(exc).__name__}: {exc}"


def _open(path: Path) -> av.container.InputContainer:
    try:
        return av.open(str(path), mode="r", metadata_errors="ignore")
    except Exception as exc:  # FFmpeg raises many types; all mean "cannot open"
        if isinstance(exc, FileNotFoundError | PermissionError | IsADirectoryError):
            raise  # a file-system error (gone, permissions): reported as such by the worker
        specific = explain_unopenable(path)
        if specific:
            raise DecodeError(specific) from exc
        if isinstance(exc, av.error.InvalidDataError):
            raise DecodeError(
                "not a video, or damaged beyond reading (format not recognised)"
            ) from exc
        raise DecodeError(f"cannot open: {_reason(exc)}") from exc


def _video_stream(container: av.container.InputContainer) -> av.VideoStream:
    for stream in container.streams.video:
        if stream.disposition & av.stream.Disposition.attached_pic:
            continue  # cover art in an audio file is not a video
        return stream
    if container.streams.audio:
        raise DecodeError("no video stream (audio only)")
    raise DecodeError("no video stream")


def _seconds(value: int | None, time_base: Fraction | None) -> float:
    if value is None or time_base is None:
        return 0.0
    return float(value * time_base)


def _decode_frames(
    container: av.container.InputContainer, stream: av.VideoStream
) -> Iterator[av.VideoFrame]:
    """Decode, skipping damaged packets instead of stopping at the first one."""
    bad = 0
    for packet in container.demux(stream):
        try:
            frames = packet.decode()
        except (MemoryError, BlockingIOError):
            raise  # resources ran out (memory cap): not a damaged packet
        except av.error.FFmpegError:
            bad += 1
            if bad > MAX_BAD_PACKETS:
                return
            continue
        bad = 0
        yield from frames


# Planar YUV formats whose first plane is the luma at full resolution, 8 bits a sample.
_PLANAR_YUV = {"yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12", "nv21"}


_STUDIO_TO_FULL = np.clip((np.arange(256) - 16) * 255.0 / 219.0 + 0.5, 0, 255).astype(np.uint8)


def _luma(frame: av.VideoFrame, w: int, h: int) -> np.ndarray | None:
    """The frame's luma plane, resized to (w, h): no colour conversion at all.

    swscale's conversion to grey took 4.5 ms a frame on 426x240 clips (a third of the decoder's
    time); the plane is already there. Studio-range luma (16-235, most video) is stretched to
    the full range with a lookup table, as swscale's grey output is. None for formats without
    an 8-bit luma plane.
    """
    if frame.format.name not in _PLANAR_YUV:
        return None
    import cv2

    plane = frame.planes[0]
    rows = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)
    y = rows[: frame.height, : frame.width]
    if frame.format.name.startswith("yuvj") or getattr(frame, "color_range", 0) == 2:
        y = y.copy()  # full range (JPEG) already
    else:
        y = np.asarray(cv2.LUT(np.ascontiguousarray(y), _STUDIO_TO_FULL), np.uint8)
    if (frame.width, frame.height) == (w, h):
        return y
    return cv2.resize(y, (w, h), interpolation=cv2.INTER_AREA)


def _sparse(timestamps: np.ndarray, fps: float) -> bool:
    """Whether the wanted frames are far apart (several frames between samples)."""
    if fps <= 0 or len(timestamps) < 2:
        return False
    return float(np.median(np.diff(timestamps))) * fps >= 8.0


class PyAVBackend(DecoderBackend):
    """Decode with PyAV; chooses between sequential decoding, seeking and keyframes."""

    name = "pyav"

    def probe(self, path: Path) -> ProbeInfo:
        """Read stream facts and decode the first frame (rotation and decodability)."""
        with _open(path) as container:
            stream = _video_stream(container)
            tb = stream.time_base
            duration = _seconds(stream.duration, tb)
            if duration <= 0 and container.duration:
                duration = container.duration / av.time_base
            rate = stream.average_rate or stream.guessed_rate or stream.base_rate
            fps = float(rate) if rate else 0.0
            frames = int(stream.frames or 0)
            if duration <= 0 and frames and fps:
                duration = frames / fps
            if duration <= 0:
                duration = self._duration_by_demux(container, stream)
            keyframes = [e for e in stream.index_entries if e.is_keyframe]
            kf_interval = (
                (frames or len(stream.index_entries)) / len(keyframes) if keyframes else None
            )
            origin = stream.start_time or 0
            kf_times = tuple(
                sorted(
                    float((e.timestamp - origin) * tb)
                    for e in keyframes
                    if e.timestamp is not None and tb is not None
                )
            )
            if len(kf_times) < 2 and duration * fps > LONG_FRAMES:
                # Matroska/WebM index only some keyframes: read them off the packets (no
                # decoding), so that long files can be sampled at their keyframes
                kf_times = self._keyframes_by_demux(container, stream)
                if kf_times:
                    kf_interval = (duration * fps) / len(kf_times)
            try:
                first = next(_decode_frames(container, stream))
            except StopIteration:
                raise DecodeError("no decodable video frames (damaged or truncated)") from None
            rotation = int(round(first.rotation or 0)) % 360
            cc = stream.codec_context
            width, height = cc.width or first.width, cc.height or first.height
            if rotation in (90, 270):
                width, height = height, width
            bitrate = int(stream.bit_rate or cc.bit_rate or container.bit_rate or 0)
            return ProbeInfo(
                Probe(
                    duration=float(duration),
                    width=int(width),
                    height=int(height),
                    fps=fps,
                    codec=cc.name or "",
                    bitrate=bitrate,
                    has_audio=bool(container.streams.audio),
                    rotation=rotation,
                    container=(container.format.name or "").split(",")[0],
                    frame_count=frames,
                ),
                keyframe_interval=kf_interval,
                keyframes=kf_times,
            )

    @staticmethod
    def _keyframes_by_demux(
        container: av.container.InputContainer, stream: av.VideoStream
    ) -> tuple[float, ...]:
        origin = stream.start_time or 0
        times = []
        try:
            for packet in container.demux(stream):
                if packet.is_keyframe and packet.pts is not None and packet.time_base:
                    times.append(float((packet.pts - origin) * packet.time_base))
        except av.error.FFmpegError:
            pass  # a damaged tail: the keyframes read so far
        container.seek(0)
        return tuple(sorted(times))

    @staticmethod
    def _duration_by_demux(container: av.container.InputContainer, stream: av.VideoStream) -> float:
        last = 0.0
        start = _seconds(stream.start_time, stream.time_base)
        for packet in container.demux(stream):
            if packet.pts is not None and packet.time_base is not None:
                last = max(last, float((packet.pts + (packet.duration or 0)) * packet.time_base))
        container.seek(0)
        return max(0.0, last - start)

    def read(
        self,
        path: Path,
        info: ProbeInfo,
        timestamps: np.ndarray,
        strategy: Strategy,
        max_side: int,
        grey: bool = False,
    ) -> Iterator[tuple[float, np.ndarray]]:
        """Yield the frames nearest to ``timestamps`` (see :class:`DecoderBackend`).

        Sequential reading skips the frames nothing else refers to (B-frames) and the
        deblocking filter (with ``grey``, for analysis): the frames kept are at most a frame or
        two from their target, a fraction of a sample interval, and decoding is about 30%
        cheaper (docs/BENCHMARKS.md).
        """
        with _open(path) as container:
            stream = _video_stream(container)
            # frame threads delay each output by a frame per thread: a seek then decodes that
            # many frames more; slice threads do not
            stream.thread_type = "AUTO" if strategy is Strategy.SEQUENTIAL else "SLICE"
            if _SETTINGS["threads"]:
                stream.codec_context.thread_count = _SETTINGS["threads"]
            if grey and strategy is Strategy.SEQUENTIAL and _sparse(timestamps, info.probe.fps):
                stream.codec_context.options = {"skip_loop_filter": "all"}
                stream.codec_context.skip_frame = "NONREF"
            start = _seconds(stream.start_time, stream.time_base)
            probe = info.probe
            raw_w, raw_h = (
                (probe.height, probe.width)
                if probe.rotation in (90, 270)
                else (probe.width, probe.height)
            )
            w, h = scaled_size(raw_w, raw_h, max_side)
            half = 0.5 / probe.fps if probe.fps > 0 else 0.02

            fmt = "gray" if grey else "rgb24"

            def convert(frame: av.VideoFrame) -> np.ndarray:
                luma = _luma(frame, w, h) if grey else None
                if luma is None:
                    out = frame.reformat(width=w, height=h, format=fmt, interpolation="AREA")
                    luma = out.to_ndarray()
                return rotate(luma, probe.rotation)

            def frame_time(frame: av.VideoFrame, fallback: float) -> float:
                return float(frame.time) - start if frame.time is not None else fallback

            if strategy is Strategy.SEQUENTIAL:
                yield from self._sequential(
                    container, stream, timestamps, half, convert, frame_time
                )
            else:
                yield from self._seek(
                    container,
                    stream,
                    timestamps,
                    half,
                    convert,
                    frame_time,
                    start,
                    keyframes_only=strategy is Strategy.KEYFRAME,
                )

    @staticmethod
    def _sequential(container, stream, timestamps, half, convert, frame_time):
        i, n = 0, len(timestamps)
        prev = None
        index = 0
        for frame in _decode_frames(container, stream):
            t = frame_time(frame, index * 2 * half)
            index += 1
            while i < n and t >= timestamps[i] - half:
                # take whichever of this frame and the previous one is closer to the target
                if prev is not None and abs(prev[0] - timestamps[i]) < abs(t - timestamps[i]):
                    yield prev[0], convert(prev[1])
                else:
                    yield t, convert(frame)
                i += 1
            if i >= n:
                return
            prev = (t, frame)
        if i < n and prev is not None:
            # the stream ended early (truncated file or overstated duration): last frame once
            yield prev[0], convert(prev[1])

    @staticmethod
    def _seek(container, stream, timestamps, half, convert, frame_time, start, keyframes_only):
        tb = stream.time_base
        if keyframes_only:
            stream.codec_context.skip_frame = "NONKEY"
        last_time = None
        for target in timestamps:
            # half a frame past the target: a keyframe planned at the target is not missed by a
            # rounding of its time
            at = float(target) + (half if keyframes_only else 0.0) + start
            try:
                container.seek(int(at / tb), stream=stream, backward=True)
            except av.error.FFmpegError:
                continue
            for frame in _decode_frames(container, stream):
                t = frame_time(frame, float(target))
                if keyframes_only or t >= target - half:
                    if t != last_time:
                        last_time = t
                        yield t, convert(frame)
                    break
