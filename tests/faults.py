"""A corpus of bad, odd and hostile inputs, and fake decoders that misbehave.

``make_corpus(root)`` writes every fault of issue 5 into one folder tree (next to a pair of good
duplicates and a group of good copies with odd names) and returns what a scan must report for
each of them. The tests in ``tests/reliability`` push it through the engine, the CLI and the GUI.

Everything is generated here with PyAV or raw bytes (no system ffmpeg). The expensive items (the
very long video, the 8K video) are made cheaply: the long video is a few encoded packets muxed
over and over with shifted timestamps, the 8K one is three flat frames.

Permissions: as root, ``chmod 000`` does not stop reads. :func:`permissions_bite` tells whether
they do; when they do not, the unreadable file and folder are still written (so every consumer
sees the same tree) but their expectation is "no crash" only, and the tests that need real
permission errors either simulate them or run the scan as an unprivileged user.
"""

from __future__ import annotations

import os
import re
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from dedup_gui.core.scan.decode.pyav_backend import PyAVBackend
from tests import media as M


class Outcome(StrEnum):
    """What a scan must do with one corpus item."""

    SKIPPED = "skipped"  # a Problem with skipped=True and a matching reason
    ANALYSED = "analysed"  # compared like any video (a warning is allowed)
    WARNED = "warned"  # compared, with a Problem(skipped=False) that explains the damage
    ABSENT = "absent"  # neither analysed nor reported (e.g. an unfollowed folder symlink)
    NO_CRASH = "no-crash"  # anything but a crash (permissions that do not bite as root)


@dataclass(frozen=True)
class Fault:
    """One corpus item and what a scan must say about it.

    Attributes:
        key: Short stable name used by tests and docs/RELIABILITY.md.
        path: Where it is in the corpus.
        outcome: What the scan must do with it.
        reason: Regular expression the problem's reason must match (SKIPPED/WARNED).
        what: One line for the docs.
        mutated: True for files the test changes while the scan runs.
    """

    key: str
    path: Path
    outcome: Outcome
    reason: str = ""
    what: str = ""
    mutated: bool = False


@dataclass
class Corpus:
    """The generated tree and its expectations."""

    root: Path
    faults: list[Fault] = field(default_factory=list)
    groups: list[frozenset[Path]] = field(default_factory=list)  # good duplicates to find
    long_video: Path | None = None
    big_video: Path | None = None
    rotated: Path | None = None
    upright: Path | None = None

    def fault(self, key: str) -> Fault:
        """The item named ``key``."""
        return next(f for f in self.faults if f.key == key)

    def add(self, key: str, path: Path, outcome: Outcome, reason: str = "", what: str = "") -> Path:
        """Record an item's expectation; returns its path."""
        self.faults.append(Fault(key, path, outcome, reason, what))
        return path


def permissions_bite() -> bool:
    """Whether ``chmod 000`` stops this process from reading (False for root)."""
    return hasattr(os, "geteuid") and os.geteuid() != 0


# ----------------------------------------------------------------------------- writers
def write_mp4(path: Path, frames: list[np.ndarray], fps: float = 10, faststart: bool = False,
              rotation: int = 0, gop: int | None = None) -> Path:  # fmt: skip
    """H.264 mp4; ``faststart`` puts the index (moov) before the data."""
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames[0].shape[:2]
    opts = {"movflags": "+faststart"} if faststart else {}
    with av.open(str(path), "w", format="mp4", options=opts) as out:
        rate = Fraction(fps).limit_denominator(1000)
        s = out.add_stream("libx264", rate=rate)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.options = {"preset": "ultrafast", "crf": "23", **({"g": str(gop)} if gop else {})}
        if rotation:
            s.set_display_rotation(rotation)
        for i, img in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            vf.pts, vf.time_base = i, 1 / rate
            for p in s.encode(vf):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return path


def write_vfr(path: Path, frames: list[np.ndarray], times: list[float]) -> Path:
    """A variable-frame-rate mp4: frame ``i`` is shown at ``times[i]`` seconds."""
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames[0].shape[:2]
    tb = Fraction(1, 1000)
    with av.open(str(path), "w", format="mp4") as out:
        s = out.add_stream("libx264", rate=30)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.time_base = tb
        s.codec_context.time_base = tb
        s.options = {"preset": "ultrafast", "crf": "23", "bf": "0"}
        for img, t in zip(frames, times, strict=True):
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(img), format="rgb24")
            vf.pts, vf.time_base = int(round(t * 1000)), tb
            for p in s.encode(vf):
                out.mux(p)
        for p in s.encode():
            out.mux(p)
    return path


def write_long_still(path: Path, hours: float = 3.0, fps: float = 2.0, gop: int = 60) -> Path:
    """An hours-long video made in about a second: one encoded GOP of a still picture, muxed
    over and over with shifted timestamps (every copy starts with a keyframe)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    img = M.Scene(40, 64, 48).frame(0.0)
    rate = Fraction(fps).limit_denominator(1000)
    total = int(hours * 3600 * fps)
    with av.open(str(path), "w", format="mp4") as out:
        s = out.add_stream("libx264", rate=rate)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        s.options = {"preset": "ultrafast", "g": str(gop), "keyint_min": str(gop), "bf": "0",
                     "x264-params": "scenecut=0"}  # fmt: skip
        # encode one GOP (the encoder muxes nothing yet: packets are kept and replayed)
        packets = []
        for i in range(gop):
            vf = av.VideoFrame.from_ndarray(img, format="rgb24")
            vf.pts, vf.time_base = i, 1 / rate
            packets += list(s.encode(vf))
        packets += list(s.encode())
        assert packets[0].is_keyframe and len(packets) == gop
        data = [(bytes(p), p.is_keyframe) for p in packets]
        tb = packets[0].time_base
        step = int(round(1 / (rate * tb)))  # one frame in stream time-base units
        n = 0
        while n < total:
            for payload, key in data:
                if n >= total:
                    break
                p = av.Packet(payload)
                p.stream = s
                p.time_base = tb
                p.pts = p.dts = n * step
                p.duration = step
                p.is_keyframe = key
                out.mux(p)
                n += 1
    return path


def write_audio_only(path: Path, seconds: float = 2.0) -> Path:
    """An mp4 (m4a) with one AAC stream and no video."""
    with av.open(str(path), "w", format="mp4") as out:
        a = out.add_stream("aac", rate=44100)
        n = int(seconds * 44100)
        tone = (np.sin(np.arange(n) * 2 * np.pi * 440 / 44100) * 0.1).astype(np.float32)
        for k in range(0, n, 1024):
            af = av.AudioFrame.from_ndarray(tone[None, k : k + 1024], format="flt", layout="mono")
            af.sample_rate, af.pts = 44100, k
            for p in a.encode(af):
                out.mux(p)
        for p in a.encode():
            out.mux(p)
    return path


def mp4_boxes(data: bytes) -> Iterator[tuple[str, int, int]]:
    """Top-level MP4 boxes as (type, offset, size)."""
    pos = 0
    while pos + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if size == 1:
            size = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
        elif size == 0:
            size = len(data) - pos
        yield kind.decode("latin-1"), pos, size
        pos += size


def without_box(data: bytes, kind: str) -> bytes:
    """``data`` with every top-level box of type ``kind`` removed."""
    return b"".join(data[o : o + n] for k, o, n in mp4_boxes(data) if k != kind)


def upright_picture(w: int = 320, h: int = 180) -> list[np.ndarray]:
    """Frames whose orientation is obvious: a white block in the top-left corner, a scene
    elsewhere (so the frames are also good for matching)."""
    frames = M.Scene(21, w, h).frames(4)
    for f in frames:
        f[: h // 3, : w // 4] = 255
    return frames


def is_upright(frame: np.ndarray, landscape: bool = True) -> bool:
    """True when the white block is in the top-left corner (any size, RGB or grey); with
    ``landscape``, the frame must also be wider than tall (as the upright picture is)."""
    g = frame.astype(np.float32)
    if g.ndim == 3:
        g = g.mean(axis=2)
    h, w = g.shape
    corners = [
        g[: h // 5, : w // 6],
        g[: h // 5, -w // 6 :],
        g[-h // 5 :, : w // 6],
        g[-h // 5 :, -w // 6 :],
    ]
    means = [float(c.mean()) for c in corners]
    return means[0] > 235 and means[0] == max(means) and (w > h or not landscape)


# ----------------------------------------------------------------------------- the corpus
ODD_NAMES = [
    "with spaces  in name.mp4",
    "it's \"quoted\" & 'single'.mp4",
    "new\nline.mp4",
    "emoji 🎬🍿 clip.mp4",
    "ünïcödé – dash.mkv",
]


def make_corpus(root: Path, long_hours: float = 3.0, big: bool = True) -> Corpus:
    """Write the fault corpus under ``root``.

    Args:
        root: An empty folder.
        long_hours: Duration of the very long video.
        big: Include the 7680x4320 video (about 1 s to make).
    """
    root.mkdir(parents=True, exist_ok=True)
    c = Corpus(root)
    rng = np.random.default_rng(5)
    unreadable = (
        r"(cannot read|cannot open|Permission denied)" if permissions_bite() else ""
    )  # fmt: skip

    # --- good duplicates, in the same folder as the faults: still found
    base = M.Scene(11).frames(5)
    a = write_mp4(root / "good original.mp4", base)
    b = root / "good reencoded.mkv"
    M.write_video(b, M.apply(base, M.resize(256, 144)), crf=32)
    c.groups.append(frozenset({a, b}))

    # --- files that are not videos at all
    c.add("zero-byte", root / "empty.mp4", Outcome.SKIPPED, r"empty file \(0 bytes\)",
          "zero-byte file").touch()  # fmt: skip
    c.add("random-bytes", root / "random.mp4", Outcome.SKIPPED, r"not a video",
          "random bytes named .mp4").write_bytes(rng.bytes(200_000))  # fmt: skip
    c.add("text-as-mkv", root / "notes.mkv", Outcome.SKIPPED, r"text file, not a video",
          "a text file named .mkv").write_text("Shopping list\n- milk\n- eggs\n" * 200)  # fmt: skip

    # --- damaged mp4s
    clip = M.Scene(12).frames(6)
    plain = write_mp4(root / "_plain.tmp", clip).read_bytes()  # moov at the end
    # a keyframe every second, like most real files: a 10% cut still holds whole frames
    fast = write_mp4(root / "_fast.tmp", clip, faststart=True, gop=10).read_bytes()  # moov first
    (root / "_plain.tmp").unlink()
    (root / "_fast.tmp").unlink()
    assert [k for k, _, _ in mp4_boxes(plain)][-1] == "moov"
    assert [k for k, _, _ in mp4_boxes(fast)].index("moov") < [
        k for k, _, _ in mp4_boxes(fast)
    ].index("mdat")
    for pct in (10, 50, 90):
        # the index is at the end: any cut loses it, nothing can be decoded
        c.add(f"truncated-{pct}", root / f"truncated {pct}pct.mp4", Outcome.SKIPPED,
              r"incomplete|index|moov", f"mp4 cut at {pct}% (index at the end, lost)",
              ).write_bytes(plain[: len(plain) * pct // 100])  # fmt: skip
    # the index is first: the cut damages the stream data; what is there is still compared,
    # with a warning that the file is truncated (at 90% the warning needs a sample in the lost
    # tail: given at the default frame budget, maybe not at the small one the tests use)
    for pct in (10, 50, 90):
        c.add(f"truncated-faststart-{pct}", root / f"truncated faststart {pct}pct.mp4",
              Outcome.WARNED if pct < 90 else Outcome.ANALYSED, r"truncated|damaged",
              f"faststart mp4 cut at {pct}% (index kept, stream data cut)",
              ).write_bytes(fast[: len(fast) * pct // 100])  # fmt: skip
    c.add("no-moov", root / "no moov.mp4", Outcome.SKIPPED, r"index|moov",
          "mp4 whose moov atom is missing").write_bytes(without_box(plain, "moov"))  # fmt: skip

    # --- valid containers that are not (ordinary) videos
    c.add("audio-only", write_audio_only(root / "song.mp4"), Outcome.SKIPPED,
          r"no video stream \(audio only\)", "valid container with audio only")  # fmt: skip
    c.add("single-frame", write_mp4(root / "single frame.mp4", clip[:1]), Outcome.ANALYSED,
          what="a video with a single frame")  # fmt: skip
    c.add("short-0.2s", write_mp4(root / "short 0.2s.mp4", clip[:2]), Outcome.ANALYSED,
          what="a 0.2 s clip")  # fmt: skip
    c.long_video = c.add(
        "very-long",
        write_long_still(root / "very long.mp4", hours=long_hours),
        Outcome.ANALYSED,
        what=f"a {long_hours:g}-hour video (a tiny still stream)",
    )
    if big:
        flat = np.zeros((4320, 7680, 3), np.uint8)
        flat[:, :3840] = (200, 60, 30)
        flat[:2160, 3840:] = (20, 160, 220)
        c.big_video = c.add(
            "8k",
            write_mp4(root / "huge 8k.mp4", [flat, flat[::-1].copy(), flat[:, ::-1].copy()]),
            Outcome.ANALYSED,
            what="7680x4320, 3 frames",
        )
    # rotation: stored sideways with a 90 degree display matrix; its upright twin must match
    up = upright_picture()
    c.rotated = c.add(
        "rotation-90",
        write_mp4(root / "rotated 90.mp4", [np.rot90(f, -1).copy() for f in up], rotation=90),
        Outcome.ANALYSED,
        what="stored sideways with 90 degree rotation metadata",
    )
    c.upright = write_mp4(root / "upright twin.mp4", up)
    c.groups.append(frozenset({c.rotated, c.upright}))
    vfr_frames = M.Scene(13).frames(6)
    rng_t = np.cumsum(np.random.default_rng(3).choice([0.033, 0.1, 0.25], len(vfr_frames)))
    c.add("vfr", write_vfr(root / "variable rate.mp4", vfr_frames, list(rng_t - rng_t[0])),
          Outcome.ANALYSED, what="variable frame rate")  # fmt: skip

    # --- odd names: all good copies of one video (re-encoded, so each is decoded)
    odd_src = M.Scene(14).frames(4)
    odd: set[Path] = set()
    for i, name in enumerate(ODD_NAMES):
        p = root / name
        M.write_video(p, odd_src, crf=20 + 3 * i)
        odd.add(c.add(f"name-{i}", p, Outcome.ANALYSED, what=f"file name {name!r}"))
    raw = os.fsencode(root) + b"/bad bytes \xff\xfe name.mp4"
    M.write_video(Path(os.fsdecode(raw)), odd_src, crf=36)
    odd.add(c.add("name-non-utf8", Path(os.fsdecode(raw)), Outcome.ANALYSED,
                  what="file name with non-UTF-8 bytes"))  # fmt: skip
    deep = root
    for i in range(5):
        deep = deep / (f"level {i} " + "x" * 200)
    long_path = deep / ("very long name " + "y" * 220 + ".mp4")
    M.write_video(long_path, odd_src, crf=38)
    assert len(os.fsencode(long_path)) > 1200
    odd.add(c.add("long-path", long_path, Outcome.ANALYSED,
                  what=f"a {len(os.fsencode(long_path))}-byte path"))  # fmt: skip
    c.groups.append(frozenset(odd))

    # --- permissions
    locked = root / "locked.mp4"
    write_mp4(locked, M.Scene(15).frames(3))
    os.chmod(locked, 0)
    c.add("unreadable-file", locked, Outcome.SKIPPED if unreadable else Outcome.NO_CRASH,
          unreadable, "file with mode 000")  # fmt: skip
    locked_dir = root / "locked folder"
    write_mp4(locked_dir / "inside.mp4", M.Scene(16).frames(3))
    os.chmod(locked_dir, 0)
    c.add("unreadable-folder", locked_dir, Outcome.SKIPPED if unreadable else Outcome.NO_CRASH,
          r"cannot read folder" if unreadable else "", "folder with mode 000")  # fmt: skip

    # --- links
    os.symlink(".", root / "loop folder")
    c.add("symlink-loop", root / "loop folder", Outcome.SKIPPED, r"symlink loop",
          "folder symlink to its parent (followed: loop; not followed: ignored)")  # fmt: skip
    os.symlink("self loop.mp4", root / "self loop.mp4")
    c.add("symlink-self", root / "self loop.mp4", Outcome.SKIPPED, r"symlink loop",
          "a symlink that points at itself")  # fmt: skip
    os.symlink("missing target.mp4", root / "dangling.mp4")
    c.add("dangling-symlink", root / "dangling.mp4", Outcome.SKIPPED, r"broken symlink",
          "a symlink whose target is gone")  # fmt: skip

    # --- files the test deletes / replaces while the scan runs (see mutate_during_scan)
    c.faults.append(
        Fault("deleted-during-scan", write_mp4(root / "vanishing.mp4", M.Scene(17).frames(3)),
              Outcome.SKIPPED, r"vanished", "deleted while the scan runs", mutated=True)
    )  # fmt: skip
    c.faults.append(
        Fault("replaced-during-scan", write_mp4(root / "replaced.mp4", M.Scene(18).frames(3)),
              Outcome.SKIPPED, r"changed during the scan", "replaced while the scan runs",
              mutated=True)
    )  # fmt: skip

    # --- a file the hanging decoder never finishes
    c.add("hanging-decoder", write_mp4(root / "hang here.mp4", M.Scene(19).frames(3)),
          Outcome.SKIPPED, r"longer than the .* budget",
          "the decoder hangs on it (HangingBackend)")  # fmt: skip
    return c


def mutate_during_scan(corpus: Corpus) -> None:
    """Delete one file and replace another (new content, size and mtime)."""
    corpus.fault("deleted-during-scan").path.unlink()
    target = corpus.fault("replaced-during-scan").path
    tmp = target.with_name(".replacement.tmp")
    write_mp4(tmp, M.Scene(99).frames(4))
    st = target.stat()
    os.replace(tmp, target)
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))


def mutate_on_stage(corpus: Corpus, stage: str = "features"):
    """A progress callback that mutates the corpus once, when ``stage`` starts."""
    done = False

    def callback(ev) -> None:
        nonlocal done
        if ev.stage == stage and not done:
            done = True
            mutate_during_scan(corpus)

    return callback


def unlock(root: Path) -> None:
    """Give back permissions so the tree can be deleted."""
    for dirpath, dirnames, _ in os.walk(root):
        for d in dirnames:
            p = os.path.join(dirpath, d)
            if not os.path.islink(p):
                os.chmod(p, 0o755)
    for p in Path(root).glob("locked*"):
        if not p.is_symlink():
            os.chmod(p, 0o755 if p.is_dir() else 0o644)


def matches(reason: str, pattern: str) -> bool:
    """Whether a problem's reason matches an expectation (case-insensitive)."""
    return bool(re.search(pattern, reason, re.IGNORECASE))


# ----------------------------------------------------------------------------- fake decoders
class HangingBackend(PyAVBackend):
    """PyAV, except that it never returns for files whose name contains ``hang``."""

    name = "hanging"

    def probe(self, path: Path):
        if "hang" in path.name:
            while True:
                time.sleep(1)
        return super().probe(path)


class SlowBackend(PyAVBackend):
    """PyAV with a pause before each file (keeps a scan in its decoding stage for a while)."""

    name = "slow"
    delay = 1.0

    def probe(self, path: Path):
        time.sleep(self.delay)
        return super().probe(path)


class CrashingBackend(PyAVBackend):
    """Kills its own worker process on files whose name contains ``crash``."""

    name = "crashing"

    def probe(self, path: Path):
        if "crash" in path.name:
            os._exit(3)
        return super().probe(path)


class CountingBackend(PyAVBackend):
    """PyAV that counts decoded frames (in-process use only: the count is a class attribute)."""

    name = "counting"
    frames_decoded = 0

    def read(self, path, info, timestamps, strategy, max_side, grey=False):
        from dedup_gui.core.scan.decode import pyav_backend

        original = pyav_backend._decode_frames

        def counting(container, stream):
            for frame in original(container, stream):
                CountingBackend.frames_decoded += 1
                yield frame

        pyav_backend._decode_frames = counting
        try:
            yield from super().read(path, info, timestamps, strategy, max_side, grey)
        finally:
            pyav_backend._decode_frames = original


class MemoryHogBackend(PyAVBackend):
    """Asks for 8 GiB on files whose name contains ``hog`` (beyond the worker's memory cap).

    ``np.empty`` touches no page: without the cap the allocation succeeds harmlessly.
    """

    name = "memory-hog"

    def probe(self, path: Path):
        if "hog" in path.name:
            block = np.empty(8 << 30, np.uint8)
            del block
        return super().probe(path)


class VerySlowBackend(SlowBackend):
    """Takes a minute per file: a scan stays in its decoding stage until cancelled."""

    name = "very-slow"
    delay = 60.0


def fake_features(n: int = 4):
    """A small valid (Probe, VideoFeatures) pair for cache tests (no decoding, no model)."""
    from dedup_gui.core.types import Probe, VideoFeatures

    rng = np.random.default_rng(n)
    probe = Probe(2.0, 320, 180, 10.0, "h264", 100_000, False, 0, "mp4", 20)
    feats = VideoFeatures(
        timestamps=np.linspace(0, 2, n, dtype=np.float32),
        vectors=rng.random((n, 256), dtype=np.float32),
        regions=rng.random((n, 9, 256)).astype(np.float16),
        thumbs=rng.integers(0, 255, (n, 32, 32), dtype=np.uint8),
        informative=np.ones(n, bool),
        crop=(0, 0, 320, 180),
    )
    return probe, feats
