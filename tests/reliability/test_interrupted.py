"""Interrupted work: a killed scan resumes from its cache, a bad cache is set aside and rebuilt,
cancel returns promptly from every stage with nothing half-written."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing
import os
import shutil
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from dedup_gui.core.library.cache import CACHE_FILE, FeatureCache, decode_features
from dedup_gui.core.options import SamplingOptions, ScanOptions
from dedup_gui.core.pipeline import scan
from dedup_gui.core.progress import CancelToken, Progress
from tests import media as M
from tests.faults import fake_features, write_mp4
from tests.reliability.conftest import cli, cli_popen

N_FILES = 5
SMALL = SamplingOptions(min_frames=4, max_frames=6)
PROMPT = 10.0  # seconds: "returns promptly", measured loosely (never a benchmark)


@pytest.fixture(scope="module")
def lib(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("interrupt-lib")
    for i in range(N_FILES):
        write_mp4(root / f"clip{i}.mp4", M.Scene(60 + i).frames(2))
    return root


def _rows(cache_dir: Path) -> int:
    path = cache_dir / CACHE_FILE
    if not path.exists():
        return 0
    try:
        db = sqlite3.connect(path, timeout=1)
        try:
            return int(db.execute("SELECT COUNT(DISTINCT path) FROM features").fetchone()[0])
        finally:
            db.close()
    except sqlite3.Error:
        return 0


def _children(pid: int) -> list[int]:
    """Child processes of ``pid``, started by any of its threads (decoders start in a thread)."""
    out: list[int] = []
    try:
        tasks = list(Path(f"/proc/{pid}/task").iterdir())
    except OSError:
        return out
    for task in tasks:
        try:
            out += [int(x) for x in (task / "children").read_text().split()]
        except OSError:
            continue
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def assert_cache_consistent(cache_dir: Path) -> int:
    """The cache opens without a notice, passes an integrity check, every row is complete and
    matches its file. Returns the number of files with rows."""
    with FeatureCache.open(cache_dir) as cache:
        assert cache.notices == []
    db = sqlite3.connect(cache_dir / CACHE_FILE)
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = db.execute("SELECT path, size, mtime_ns, data FROM features").fetchall()
    finally:
        db.close()
    for path, size, mtime_ns, data in rows:
        st = os.stat(os.fsdecode(path))
        assert (st.st_size, st.st_mtime_ns) == (size, mtime_ns)
        assert decode_features(data).n_frames > 0
    return len({path for path, *_ in rows})


@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs /proc (Linux)")
def test_sigkill_mid_scan_then_the_next_scan_resumes(lib, tmp_path):
    cache_dir = tmp_path / "cache"
    args = [
        "scan", str(lib), "--cache-dir", str(cache_dir), "--workers", "1",
        "--decoder", "tests.faults:SlowBackend",  # 1 s per file: time to kill it mid-way
        "--min-frames", str(SMALL.min_frames), "--max-frames", str(SMALL.max_frames),
        "--no-rotation",  # rotated-copy matching is costly and beside the point here
    ]  # fmt: skip
    proc = cli_popen(*args, "-q")
    workers: set[int] = set()
    try:
        while _rows(cache_dir) < 1:  # the event: a first row stored (a hang: pytest-timeout)
            assert proc.poll() is None, proc.communicate()[1][-2000:]
            workers.update(_children(proc.pid))
            time.sleep(0.05)
        workers.update(_children(proc.pid))
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    # orphaned decoder processes notice their parent is gone and exit by themselves
    deadline = time.monotonic() + 30
    while any(_alive(p) for p in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in workers)

    kept = assert_cache_consistent(cache_dir)
    assert 1 <= kept < N_FILES
    out = tmp_path / "out.json"
    p = cli(*args, "--json", str(out))
    assert p.returncode == 0, p.stderr[-3000:]
    assert "set aside" not in p.stderr
    stats = json.loads(out.read_text())["stats"]
    assert stats["cache_hits"] >= kept
    assert stats["decoded"] == N_FILES - stats["cache_hits"]  # only the rest was decoded
    assert stats["videos"] == N_FILES
    assert assert_cache_consistent(cache_dir) == N_FILES


def _bad_cache(kind: str, folder: Path, lib: Path) -> bytes:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / CACHE_FILE
    if kind == "garbage":
        path.write_bytes(os.urandom(50_000))
    elif kind == "text":
        path.write_text("not a database\n" * 100)
    elif kind in ("foreign-sqlite", "other-version"):
        db = sqlite3.connect(path)
        if kind == "other-version":
            db.execute("PRAGMA application_id=1145328967")  # ours ("DDUG"), another format
            db.execute("PRAGMA user_version=999")
        db.execute("CREATE TABLE notes (x TEXT)")
        db.execute("INSERT INTO notes VALUES ('someone else''s database')")
        db.commit()
        db.close()
    elif kind == "truncated":
        with FeatureCache.open(folder) as cache:  # a real cache with rows, cut in half
            from dedup_gui.core.scan.discovery import discover

            for f in discover([lib]).files:
                cache.put(f, "k", *fake_features())
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    return path.read_bytes()


@pytest.mark.parametrize(
    "kind", ["garbage", "text", "foreign-sqlite", "other-version", "truncated"]
)
def test_bad_cache_is_set_aside_with_a_notice_and_rebuilt(kind, tmp_path, lib, embedder):
    folder = tmp_path / "cache"
    original = _bad_cache(kind, folder, lib)
    empty = tmp_path / "empty"
    empty.mkdir()
    result = scan([empty], ScanOptions(cache_dir=folder), embedder=embedder)
    assert len(result.notices) == 1
    assert "set aside" in result.notices[0] and "new cache" in result.notices[0]
    aside = [
        p for p in folder.iterdir() if ".bad-" in p.name and not p.name.endswith(("-wal", "-shm"))
    ]
    assert len(aside) == 1 and aside[0].read_bytes() == original  # kept, not deleted
    assert assert_cache_consistent(folder) == 0  # a fresh, working cache


def test_cli_prints_the_cache_notice(tmp_path):
    folder = tmp_path / "cache"
    _bad_cache("garbage", folder, tmp_path)
    empty = tmp_path / "empty"
    empty.mkdir()
    p = cli("scan", str(empty), "--cache-dir", str(folder))
    assert p.returncode == 0, p.stderr[-2000:]
    assert "note: The feature cache" in p.stderr and "set aside" in p.stderr


# ----------------------------------------------------------------------------- cancel
def fast_options(cache_dir: Path) -> ScanOptions:
    """Small frame budget; rotated-copy matching (costly, irrelevant here) off if present."""
    opts = ScanOptions(cache_dir=cache_dir, sampling=SMALL, decode_workers=2)
    if hasattr(opts.match, "rotation"):
        opts = opts.replace(match=dataclasses.replace(opts.match, rotation=False))
    return opts


class CancellingEmbedder:
    """The real embedder, cancelling the scan while it embeds the first file."""

    def __init__(self, inner, token: CancelToken) -> None:
        self._inner, self._token = inner, token
        self.cancelled_at: float | None = None

    def __getattr__(self, name):
        return getattr(self._inner, name)

    def embed(self, *args, **kw):
        if self.cancelled_at is None:
            self.cancelled_at = time.monotonic()
            self._token.cancel()
        return self._inner.embed(*args, **kw)


def _deep_tree(root: Path) -> None:
    d = root
    for i in range(40):
        d = d / f"d{i}"
        d.mkdir(parents=True)
        (d / "note.txt").write_text("x")


@pytest.mark.parametrize("stage", ["discover", "hash", "decode", "embed", "match"])
def test_cancel_returns_promptly_from_every_stage(stage, lib, tmp_path, embedder):
    root = tmp_path / "lib"
    shutil.copytree(lib, root)
    if stage == "discover":
        _deep_tree(root)
    if stage == "hash":  # identical copies make the hashing stage read files
        for p in sorted(root.glob("*.mp4"))[:3]:
            shutil.copy2(p, root / f"copy of {p.name}")
    cache_dir = tmp_path / "cache"
    token = CancelToken()
    opts = fast_options(cache_dir)
    when: dict[str, float] = {}
    emb = embedder

    def cancel() -> None:
        when.setdefault("cancel", time.monotonic())
        token.cancel()

    if stage == "decode":
        opts = opts.replace(decoder="tests.faults:VerySlowBackend")

        def on_progress(ev):
            if ev.stage == "features" and "timer" not in when:
                when["timer"] = 0
                threading.Timer(1.5, cancel).start()  # the workers are busy decoding by then

    elif stage == "embed":
        emb = CancellingEmbedder(embedder, token)

        def on_progress(ev):
            pass

    else:
        target = {"discover": "discover", "hash": "hash", "match": "match"}[stage]

        def on_progress(ev):
            if ev.stage == target:
                cancel()

    result = scan([root], opts, Progress(on_progress, min_interval=0), token, embedder=emb)
    done = time.monotonic()
    if stage == "embed":
        when["cancel"] = emb.cancelled_at
    assert result.cancelled
    assert result.groups == ()
    assert "cancel" in when and done - when["cancel"] < PROMPT
    assert not multiprocessing.active_children()  # every decoder process stopped and joined
    rows = assert_cache_consistent(cache_dir)  # nothing half-written
    if stage in ("discover", "hash", "decode"):
        assert rows == 0
    if stage == "embed":
        assert rows <= 1  # the file being embedded when cancel came is complete, or absent
    if stage == "match":
        assert rows == N_FILES  # everything analysed stays cached for the next scan


def test_ctrl_c_in_the_cli_writes_no_result(lib, tmp_path):
    out = tmp_path / "out" / "result.json"
    out.parent.mkdir()
    proc = cli_popen(
        "scan", str(lib), "--json", str(out), "--cache-dir", str(tmp_path / "cache"),
        "--decoder", "tests.faults:VerySlowBackend", "-v",
    )  # fmt: skip
    try:
        # wait for the event (decoder processes started: in the decoding stage); a hang is
        # caught by pytest-timeout, not by a wall-clock deadline that a busy machine can miss
        while not _children(proc.pid):
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            time.sleep(0.05)
        time.sleep(1.0)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err[-2000:]
    assert time.monotonic() - sent < PROMPT + 5
    assert "Scan cancelled" in err and "Traceback" not in err
    assert list(out.parent.iterdir()) == []  # no result, no temporary file
