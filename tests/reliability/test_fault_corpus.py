"""Every fault of the corpus through the engine: a problem with a clear reason, never a crash.

One scan of the whole corpus (shared fixture) is checked item by item; the expensive items get
their own focused checks (frame budget, memory, orientation).
"""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys

import numpy as np
import pytest

from dedup_gui.core.library.cache import CACHE_FILE, decode_features
from dedup_gui.core.options import SamplingOptions
from dedup_gui.core.scan import sampling
from dedup_gui.core.scan.decode.base import get_backend
from dedup_gui.core.scan.workers import WORK_SIDE, decode_file
from tests.faults import (
    CountingBackend,
    Outcome,
    is_upright,
    matches,
)


def _fault_keys() -> list[str]:
    # the keys are fixed by make_corpus; listed here so each fault is its own test id
    return [
        "zero-byte", "random-bytes", "text-as-mkv", "truncated-10", "truncated-50",
        "truncated-90", "truncated-faststart-10", "truncated-faststart-50",
        "truncated-faststart-90", "no-moov", "audio-only", "single-frame", "short-0.2s",
        "very-long", "8k", "rotation-90", "vfr", "name-0", "name-1", "name-2", "name-3",
        "name-4", "name-non-utf8", "long-path", "unreadable-file", "unreadable-folder",
        "symlink-loop", "symlink-self", "dangling-symlink", "deleted-during-scan",
        "replaced-during-scan", "hanging-decoder",
    ]  # fmt: skip


def outcome_of(fault, result) -> tuple[str, list]:
    """What the scan did with ``fault``: analysed or not, and the problems about it."""
    problems = [p for p in result.problems if p.path == fault.path]
    analysed = any(f.path == fault.path for f in result.files)
    return ("analysed" if analysed else "not analysed"), problems


def check_outcome(fault, analysed: bool, problems: list) -> None:
    """Assert that a scan (engine, CLI or GUI) did what ``fault`` expects.

    ``problems`` are (reason, skipped) pairs about the fault's path.
    """
    skipped = [r for r, s in problems if s]
    warned = [r for r, s in problems if not s]
    detail = f"{fault.key}: analysed={analysed} problems={problems}"
    if fault.outcome is Outcome.SKIPPED:
        assert not analysed, detail
        assert len(skipped) == 1, detail
        assert matches(skipped[0], fault.reason), detail
    elif fault.outcome is Outcome.WARNED:
        assert analysed and not skipped, detail
        assert any(matches(r, fault.reason) for r in warned), detail
    elif fault.outcome is Outcome.ANALYSED:
        assert analysed and not skipped, detail
    elif fault.outcome is Outcome.ABSENT:
        assert not analysed and not problems, detail
    for reason, _ in problems:  # a reason a person can read: no tracebacks, no repr noise
        assert reason and "Traceback" not in reason and "Error:" not in reason, detail


def test_corpus_keys_are_all_tested(corpus):
    assert sorted(f.key for f in corpus.faults) == sorted(_fault_keys())


@pytest.mark.parametrize("key", _fault_keys())
def test_fault_through_the_engine(corpus_scan, key):
    fault = corpus_scan.corpus.fault(key)
    result = corpus_scan.result
    problems = [(p.reason, p.skipped) for p in result.problems if p.path == fault.path]
    analysed = any(f.path == fault.path for f in result.files)
    check_outcome(fault, analysed, problems)


def test_corpus_scan_completes_and_still_finds_the_good_duplicates(corpus_scan):
    result = corpus_scan.result
    assert not result.cancelled
    found = [frozenset(g.paths) for g in result.groups]
    for planted in corpus_scan.corpus.groups:
        assert any(planted <= g for g in found), (planted, found)
    # no group mixes two planted groups
    for g in found:
        assert sum(bool(g & p) for p in corpus_scan.corpus.groups) <= 1
    # the hanging file cost one time budget, not a stuck scan: it is reported as skipped for
    # its budget and the scan went on to the end (the event, not a wall-clock limit)
    assert any(re.search(r"longer than the .* budget", p.reason) for p in result.problems)


def test_cache_is_consistent_after_the_corpus_scan(corpus_scan):
    """Every cached row belongs to a file as it is now; nothing for vanished/changed files."""
    db = sqlite3.connect(corpus_scan.cache_dir / CACHE_FILE)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = db.execute("SELECT path, size, mtime_ns, data FROM features").fetchall()
        failures = db.execute("SELECT path, reason FROM failures").fetchall()
    finally:
        db.close()
    assert rows
    for path, size, mtime_ns, data in rows:
        st = os.stat(os.fsdecode(path))
        assert (st.st_size, st.st_mtime_ns) == (size, mtime_ns), os.fsdecode(path)
        assert decode_features(data).n_frames > 0
    c = corpus_scan.corpus
    failed = {os.fsdecode(p) for p, _ in failures}
    for key in ("deleted-during-scan", "replaced-during-scan", "hanging-decoder"):
        assert str(c.fault(key).path) not in failed, key  # retried next time
    for key in ("random-bytes", "no-moov", "audio-only"):
        assert str(c.fault(key).path) in failed, key  # not retried while unchanged


def test_very_long_video_keeps_the_frame_budget(tmp_path):
    from tests.faults import write_long_still

    path = write_long_still(tmp_path / "long.mp4", hours=3.0)
    opts = SamplingOptions()
    info = get_backend("pyav").probe(path)
    plan = sampling.plan(info.probe.duration, info.probe.fps, opts, info.keyframe_interval)
    assert plan.strategy is not sampling.Strategy.SEQUENTIAL
    CountingBackend.frames_decoded = 0
    d = decode_file(path, "tests.faults:CountingBackend", opts)
    total = info.probe.frame_count
    assert info.probe.duration == pytest.approx(3 * 3600, rel=0.01)
    assert len(d.timestamps) == opts.max_frames  # the budget, not hours of frames
    assert d.timestamps.max() > 0.9 * info.probe.duration  # spread over the whole video
    assert CountingBackend.frames_decoded < total / 10, (CountingBackend.frames_decoded, total)


def test_8k_video_decodes_under_a_2gib_address_space_cap(corpus):
    """The 7680x4320 file decodes in a process capped at 2 GiB (the worker cap is 6 GiB)."""
    code = (
        "import resource, sys\n"
        "resource.setrlimit(resource.RLIMIT_AS, (2 << 30, resource.RLIM_INFINITY))\n"
        "from pathlib import Path\n"
        "from dedup_gui.core.scan.workers import decode_file\n"
        "from dedup_gui.core.options import SamplingOptions\n"
        "d = decode_file(Path(sys.argv[1]), 'pyav', SamplingOptions())\n"
        "rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024\n"
        "print(d.probe.width, d.probe.height, d.frames.shape[0], rss)\n"
    )
    p = subprocess.run(
        [sys.executable, "-c", code, str(corpus.big_video)],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=os.getcwd(),
    )
    assert p.returncode == 0, p.stderr[-2000:]
    w, h, n, _rss_mb = map(int, p.stdout.split())
    assert (w, h) == (7680, 4320) and n >= 1


def test_memory_cap_turns_a_huge_allocation_into_a_problem(tmp_path):
    from dedup_gui.core.scan.discovery import discover
    from dedup_gui.core.scan.workers import DecodePool
    from dedup_gui.core.types import Problem
    from tests import media as M
    from tests.faults import write_mp4

    write_mp4(tmp_path / "hog.mp4", M.Scene(1).frames(1))
    write_mp4(tmp_path / "fine.mp4", M.Scene(2).frames(1))
    files = discover([tmp_path]).files
    with DecodePool("tests.faults:MemoryHogBackend", SamplingOptions(), workers=1) as pool:
        out = {f.path.name: r for f, r in pool.imap(files)}
    assert isinstance(out["hog.mp4"], Problem)
    assert "memory budget" in out["hog.mp4"].reason
    assert not isinstance(out["fine.mp4"], Problem)


def test_rotation_is_honoured_in_engine_frames_and_thumbnails(corpus):
    d = decode_file(corpus.rotated, "pyav", SamplingOptions())
    assert (d.probe.width, d.probe.height, d.probe.rotation) == (320, 180, 90)
    x0, y0, x1, y1 = d.full_crop or d.crop
    assert x1 - x0 > y1 - y0  # decoded landscape, as displayed
    # model input (square grey), the whole frame (the static white block may read as a canvas
    # around the moving scene): the white block is top-left
    for frame in d.frames if d.full_frames is None else d.full_frames:
        assert is_upright(frame, landscape=False)
    try:
        from dedup_gui.core.review.thumbnails import decode_frames
    except ImportError:  # pragma: no cover - the thumbnails module is optional here
        pytest.skip("dedup_gui.core.review.thumbnails not available")
    for frame in decode_frames(corpus.rotated, [0.5, 2.0, 3.5], 160):
        assert frame is not None and frame.shape[1] == 160
        assert is_upright(frame)


@pytest.mark.parametrize("pct", [10, 50, 90])
def test_truncated_stream_is_compared_with_a_warning_at_the_default_budget(corpus, pct):
    fault = corpus.fault(f"truncated-faststart-{pct}")
    d = decode_file(fault.path, "pyav", SamplingOptions())
    assert len(d.timestamps) >= 1
    assert len(d.warnings) == 1 and matches(d.warnings[0], r"truncated: decoding stopped at")


def test_variable_frame_rate_gives_ordered_timestamps_within_the_video(corpus):
    path = corpus.fault("vfr").path
    d = decode_file(path, "pyav", SamplingOptions())
    t = d.timestamps
    assert len(t) >= 6 and np.all(np.diff(t) >= 0)
    assert t.min() >= 0 and t.max() <= d.probe.duration + 0.01
    assert not d.warnings


def test_good_frames_are_not_reported_as_damaged(planted):
    """The truncation warning never fires on the healthy planted library (no false alarms)."""
    for path in sorted(planted.root.rglob("*.*")):
        d = decode_file(path, "pyav", SamplingOptions())
        assert not d.warnings, (path.name, d.warnings)
    assert WORK_SIDE >= 224


def test_thumbnails_of_grouped_corpus_files_never_raise(corpus_scan, tmp_path):
    """The window decodes thumbnails in-process (not in a worker): every file the scan put in
    a group, damaged ones included, gives frames or None per moment, never an exception."""
    from dedup_gui.core.review.thumbnails import (
        ThumbnailCache,
        ThumbSource,
        strip_times,
        thumbnails,
    )

    cache = ThumbnailCache(tmp_path / "thumbs")
    grouped = [m.file for g in corpus_scan.result.groups for m in g.members]
    assert grouped
    for f in grouped:
        if not f.path.exists():
            continue
        duration = f.probe.duration if f.probe else 1.0
        frames = thumbnails(ThumbSource.of(f.path), strip_times(duration, 4), 96, cache)
        assert len(frames) == 4
        assert any(fr is not None for fr in frames), f.path.name
