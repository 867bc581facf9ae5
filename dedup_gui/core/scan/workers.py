"""Decoder worker processes with a per-file time budget.

Decoding runs in separate processes so that a file which crashes FFmpeg, hangs it, or asks for
absurd amounts of memory costs one :class:`Problem`, not the scan: a worker that misses its
deadline is killed and replaced, a worker that dies is replaced, and the scan goes on.

The pool is a context manager; leaving it (normally, on error or on cancel) always stops and
joins every worker.
"""

from __future__ import annotations

import collections
import errno
import logging
import multiprocessing as mp
import multiprocessing.connection as mpc
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dedup_gui.core.errors import DecoderUnavailable
from dedup_gui.core.options import SamplingOptions
from dedup_gui.core.progress import NEVER_CANCELLED, CancelToken
from dedup_gui.core.scan import sampling
from dedup_gui.core.types import Probe, Problem, Stage, VideoFile

log = logging.getLogger(__name__)

# Frames are decoded at most this large before border detection and the final resize.
WORK_SIDE = 512
# Address-space cap of one worker (bytes): a file that needs more fails with MemoryError in
# that worker instead of exhausting the machine.
WORKER_MEMORY_LIMIT = 6 << 30
_POLL = 0.1
_TOO_LARGE = (
    f"too large to decode within the decoder's memory budget ({WORKER_MEMORY_LIMIT >> 30} GiB)"
)
# A worker that has not started after this long (seconds) is given up on.
STARTUP_LIMIT = 60.0
# This many decoder processes in a row dying before they are ready is not a bad file but a
# broken installation: the scan stops with DecoderUnavailable instead of failing every file.
STARTUP_FAILURES = 3


@dataclass(frozen=True, eq=False)
class DecodedVideo:
    """What a worker returns for one file: its probe and model-ready frames."""

    probe: Probe
    timestamps: np.ndarray  # (n,) float32 seconds
    frames: np.ndarray  # (n, size, size) uint8 grey: the picture (borders, canvas removed)
    thumbs: np.ndarray  # (n, THUMB, THUMB) uint8 grey
    informative: np.ndarray  # (n,) bool
    crop: tuple[int, int, int, int]  # the picture area in the decoded frames
    warnings: tuple[str, ...] = ()
    # when the picture sits inside a canvas (scan/canvas.py): the whole frame, borders removed
    full_frames: np.ndarray | None = None
    full_thumbs: np.ndarray | None = None
    full_crop: tuple[int, int, int, int] | None = None
    seconds: float = 0.0  # the worker's time for this file (probe, decode, prepare)


def decode_file(path: Path, backend_name: str, options: SamplingOptions) -> DecodedVideo:
    """Probe, sample, decode and prepare one file (runs inside a worker process).

    Raises:
        DecodeError: The file cannot be read; the message is the user-facing reason.
    """
    from dedup_gui.core.scan.decode.base import DecodeError, get_backend
    from dedup_gui.core.scan.frames import is_blank, prepare, thumbnail

    start = time.perf_counter()
    with open(path, "rb") as fh:  # permissions and vanished files, reported as such
        if not fh.read(1):
            raise DecodeError("empty file (0 bytes)")
    backend = get_backend(backend_name)
    info = backend.probe(path)
    probe = info.probe
    plan = sampling.plan(probe.duration, probe.fps, options, info.keyframe_interval, info.keyframes)
    times: list[float] = []
    raw: list[np.ndarray] = []
    for t, frame in backend.read(path, info, plan.timestamps, plan.strategy, WORK_SIDE, grey=True):
        times.append(t)
        raw.append(frame)
    if not raw:
        raise DecodeError("no decodable video frames (damaged or truncated)")
    warnings = _damage_warnings(probe, plan, times, info.keyframe_interval)
    informative = np.array([not is_blank(f) for f in raw], dtype=bool)
    crop, picture = picture_area(raw, informative, options)
    frames = np.stack([prepare(f, picture or crop, options.size) for f in raw])
    # a frame can look informative only because of what was cropped away
    informative &= np.array([not is_blank(f) for f in frames], dtype=bool)
    full = np.stack([prepare(f, crop, options.size) for f in raw]) if picture else None
    return DecodedVideo(
        probe=probe,
        timestamps=np.asarray(times, dtype=np.float32),
        frames=frames,
        thumbs=np.stack([thumbnail(f) for f in frames]),
        informative=informative,
        crop=picture or crop,
        warnings=tuple(warnings),
        full_frames=full,
        full_thumbs=None if full is None else np.stack([thumbnail(f) for f in full]),
        full_crop=crop if picture else None,
        seconds=time.perf_counter() - start,
    )


def picture_area(
    raw: list[np.ndarray], informative: np.ndarray, options: SamplingOptions
) -> tuple[tuple[int, int, int, int], tuple[int, int, int, int] | None]:
    """Where the picture of a video's decoded frames is: (inside its bars, inside its canvas).

    Returns:
        The area inside solid bars (the whole frame when there are none), and the picture
        inside a canvas (scan/canvas.py) or None when the picture fills that area; both
        ``(x0, y0, x1, y1)`` in pixels of the decoded frames.
    """
    from dedup_gui.core.scan.canvas import find_picture
    from dedup_gui.core.scan.frames import detect_borders

    crop = (0, 0, 0, 0)
    if options.crop_borders:
        crop = detect_borders([f for f, ok in zip(raw, informative, strict=True) if ok])
    if crop == (0, 0, 0, 0):
        h, w = raw[0].shape[:2]
        crop = (0, 0, w, h)
    picture = None
    if options.find_picture:
        x0, y0, x1, y1 = crop
        shown = [f[y0:y1, x0:x1] for f, ok in zip(raw, informative, strict=True) if ok]
        h, w = raw[0].shape[:2]
        # wide bars (a small picture on a flat canvas) count as canvas edges
        bars = (crop[0] / w, crop[1] / h, 1 - crop[2] / w, 1 - crop[3] / h)
        bordered = sum(1 for bar in bars if bar >= 0.15)
        inner = find_picture(shown, bordered=bordered)
        if inner is not None:
            picture = (x0 + inner[0], y0 + inner[1], x0 + inner[2], y0 + inner[3])
    return crop, picture


def _damage_warnings(
    probe: Probe, plan: sampling.SamplePlan, times: list[float], keyframe_interval: float | None
) -> list[str]:
    """Explain a file whose frames stop before its stated duration (truncated or damaged).

    A short video that simply has fewer frames than samples asked for is not damaged; a file
    whose last decodable frame comes well before the last wanted moment is.
    """
    if not times or not len(plan.timestamps) or probe.duration <= 0:
        return []
    frame = 1.0 / probe.fps if probe.fps > 0 else 0.1
    slack = max(0.5, 2.5 * frame)
    if plan.strategy is sampling.Strategy.KEYFRAME and keyframe_interval:
        slack = max(slack, 1.5 * keyframe_interval * frame)  # keyframes sit before targets
    last_wanted = float(plan.timestamps[-1])
    last = max(times)
    if last >= last_wanted - slack:
        return []
    return [
        f"damaged or truncated: decoding stopped at {last:.1f} s of {probe.duration:.1f} s; "
        "only the part before was compared"
    ]


def _limit_memory() -> None:
    try:
        import resource

        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = (
            WORKER_MEMORY_LIMIT
            if hard == resource.RLIM_INFINITY
            else min(hard, WORKER_MEMORY_LIMIT)
        )
        if soft == resource.RLIM_INFINITY or soft > cap:
            resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    except (ImportError, ValueError, OSError):  # not on this platform
        pass


def decode_message(path: Path, backend_name: str, options: SamplingOptions) -> tuple[str, Any]:
    """Decode one file; ``("ok", DecodedVideo)`` or ``("error", reason for the user)``."""
    from dedup_gui.core.scan.decode.base import DecodeError

    try:
        msg: tuple[str, Any] = ("ok", decode_file(path, backend_name, options))
    except DecodeError as exc:
        msg = ("error", str(exc))
    except MemoryError:
        msg = ("error", _TOO_LARGE)
    except FileNotFoundError:
        msg = ("error", "file vanished during the scan")
    except OSError as exc:
        if exc.errno in (errno.ENOMEM, errno.EAGAIN):  # allocation or thread start failed
            msg = ("error", _TOO_LARGE)
        else:
            msg = ("error", f"cannot read: {exc.strerror or exc}")
    except Exception as exc:  # a decoder bug must not kill the worker loop
        log.exception("unexpected decoder error on %s", path)
        msg = ("error", f"unexpected decoder error: {type(exc).__name__}: {exc}")
    return msg


def _worker_main(conn: mpc.Connection, backend_name: str, options: SamplingOptions) -> None:
    """Worker loop: receive a path, send back ("ok", DecodedVideo) or ("error", reason)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides about Ctrl-C
    _limit_memory()
    try:
        import cv2

        cv2.setNumThreads(1)
    except ImportError:
        pass
    if backend_name == "pyav":
        from dedup_gui.core.scan.decode import pyav_backend

        pyav_backend.set_threads(1)  # one decoder process per core already
    try:
        conn.send(("ready", None))  # a file's time budget starts once the worker is up
    except (BrokenPipeError, OSError):
        return
    while True:
        try:
            task = conn.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        msg = decode_message(Path(task), backend_name, options)
        try:
            conn.send(msg)
        except (BrokenPipeError, OSError):
            return


@dataclass(eq=False)
class _Slot:
    proc: Any
    conn: mpc.Connection
    file: VideoFile | None = None
    deadline: float = 0.0
    ready: bool = False  # the worker finished its imports and waits for files
    started: float = 0.0


class DecodePool:
    """A fixed number of decoder processes fed one file at a time.

    Args:
        backend: Decoder backend name (see :data:`dedup_gui.core.scan.decode.base.BACKENDS`).
        options: Sampling options.
        workers: Number of processes.
        timeout: Seconds one file may take before its worker is killed and the file skipped.
        token: Cancellation; checked about ten times a second while waiting.
    """

    def __init__(
        self,
        backend: str,
        options: SamplingOptions,
        workers: int = 2,
        timeout: float = 120.0,
        token: CancelToken = NEVER_CANCELLED,
    ) -> None:
        self._backend = backend
        self._options = options
        self._n = max(1, workers)
        self._timeout = timeout
        self._token = token
        self._ctx = mp.get_context("spawn")
        self._slots: list[_Slot] = []
        self._startup_failures = 0

    def __enter__(self) -> DecodePool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _spawn(self) -> _Slot:
        parent, child = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(
            target=_worker_main,
            args=(child, self._backend, self._options),
            name="dedup-decoder",
            daemon=True,
        )
        proc.start()
        child.close()
        return _Slot(proc, parent, started=time.monotonic())

    @staticmethod
    def _stop(slot: _Slot, kill: bool) -> None:
        if kill:
            slot.proc.kill()
        else:
            try:
                slot.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        slot.proc.join(timeout=5)
        if slot.proc.is_alive():
            slot.proc.kill()
            slot.proc.join(timeout=5)
        slot.conn.close()

    def start(self) -> None:
        """Start the worker processes now instead of on the first file.

        They import while the caller goes on.
        """
        while len(self._slots) < self._n:
            self._slots.append(self._spawn())

    def close(self) -> None:
        """Stop and join every worker (busy ones are killed)."""
        slots, self._slots = self._slots, []
        for slot in slots:
            self._stop(slot, kill=slot.file is not None)

    def _replace(self, slot: _Slot) -> None:
        self._stop(slot, kill=True)
        self._slots[self._slots.index(slot)] = self._spawn()

    def imap(
        self, files: Iterable[VideoFile]
    ) -> Iterator[tuple[VideoFile, DecodedVideo | Problem]]:
        """Decode ``files``; yield each with its result, in completion order.

        Raises:
            Cancelled: When the token is cancelled (workers are stopped by :meth:`close`).
        """
        pending = collections.deque(files)
        if not pending:
            return
        while len(self._slots) < min(self._n, len(pending)):
            self._slots.append(self._spawn())
        while pending or any(s.file is not None for s in self._slots):
            self._token.raise_if_cancelled()
            for slot in self._slots:
                if slot.file is None and pending:
                    slot.file = pending.popleft()
                    slot.deadline = (
                        time.monotonic() + self._timeout
                        if slot.ready
                        else slot.started + STARTUP_LIMIT + self._timeout
                    )
                    try:
                        slot.conn.send(str(slot.file.path))
                    except (BrokenPipeError, OSError):
                        pass  # noticed below as a dead worker
            busy = [s for s in self._slots if s.file is not None]
            waitables: list[Any] = [s.conn for s in busy] + [s.proc.sentinel for s in busy]
            ready = set(mpc.wait(waitables, timeout=_POLL))
            now = time.monotonic()
            for slot in busy:
                file = slot.file
                assert file is not None
                result: DecodedVideo | Problem | None = None
                if slot.conn in ready:
                    try:
                        status, payload = slot.conn.recv()
                        if status == "ready":
                            slot.ready = True
                            self._startup_failures = 0
                            slot.deadline = now + self._timeout
                            continue
                        result = (
                            payload
                            if status == "ok"
                            else Problem(file.path, Stage.DECODE, str(payload))
                        )
                        slot.file = None
                    except (EOFError, OSError):
                        pass  # the worker died mid-message: handled as a crash below
                if result is None and (slot.proc.sentinel in ready or not slot.proc.is_alive()):
                    slot.proc.join(timeout=1)
                    code = slot.proc.exitcode
                    if not slot.ready:
                        self._startup_failures += 1
                        if self._startup_failures >= STARTUP_FAILURES:
                            raise DecoderUnavailable(
                                f"The video decoder processes exit before they start (exit code "
                                f"{code}, {self._startup_failures} times). The installation "
                                f"looks damaged: reinstall dedup-gui (make install) and retry."
                            )
                    result = Problem(
                        file.path, Stage.DECODE, f"decoder crashed on this file (exit code {code})"
                    )
                    slot.file = None
                    self._replace(slot)
                elif result is None and now > slot.deadline:
                    if slot.ready:
                        log.warning(
                            "decoding %s took longer than %g s; skipped", file.path, self._timeout
                        )
                        reason = (
                            f"decoding took longer than the {self._timeout:g} s budget; skipped"
                        )
                    else:
                        reason = "the decoder process did not start within its time budget; skipped"
                    result = Problem(file.path, Stage.DECODE, reason)
                    self._replace(slot)  # kills the busy worker
                    slot.file = None
                if result is not None:
                    yield file, result
