"""GUI test fixtures: fail on threads left running, fake and real scan results."""

from __future__ import annotations

import os
import shutil
import weakref
from pathlib import Path

import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QThread

from dedup_gui.core.types import (
    DuplicateGroup,
    GroupKind,
    GroupMember,
    MatchEvidence,
    Probe,
    ScanResult,
    ScanStats,
    VideoInfo,
)

_started: weakref.WeakSet[QThread] = weakref.WeakSet()
_original_start = QThread.start


def _recording_start(self: QThread, *args, **kwargs):
    _started.add(self)
    return _original_start(self, *args, **kwargs)


@pytest.fixture(autouse=True)
def _no_threads_left_running(monkeypatch: pytest.MonkeyPatch):
    """A test that leaves a QThread or thumbnail pool work running fails (napari's check)."""
    monkeypatch.setattr(QThread, "start", _recording_start)
    _started.clear()
    yield
    from dedup_gui.ui import thumbnails

    leaks = []
    for t in list(_started):
        try:
            if t.isRunning():
                leaks.append(t.objectName() or repr(t))
        except RuntimeError:  # the C++ thread object is gone: it finished and was deleted
            pass
    busy = []
    for pool in list(thumbnails.POOLS):
        try:
            if pool.activeThreadCount():
                busy.append(pool)
        except RuntimeError:  # deleted with its window: nothing runs
            pass
    assert not leaks, f"QThreads left running: {leaks}"
    assert not busy, "thumbnail pool work left running"


def probe(w: int = 640, h: int = 360, duration: float = 10.0, bitrate: int = 1_000_000) -> Probe:
    return Probe(duration, w, h, 25.0, "h264", bitrate, True, 0, "mp4", int(duration * 25))


def info(path: Path, size: int = 1000, ref: bool = False, **kw) -> VideoInfo:
    return VideoInfo(
        Path(path), size, 1_700_000_000_000_000_000, Path(path).parent, probe(**kw), ref
    )


def fake_result(root: Path = Path("/videos")) -> ScanResult:
    """Three groups of made-up files (paths need not exist)."""
    ev = MatchEvidence(0.9, GroupKind.NEAR_DUPLICATE, 10, 12)
    g1 = DuplicateGroup(
        1,
        GroupKind.NEAR_DUPLICATE,
        (
            GroupMember(info(root / "a.mp4", 5000, w=1920, h=1080), 1.0),
            GroupMember(info(root / "sub/a small.mp4", 2000), 0.93, ev),
            GroupMember(info(root / "a.avi", 9000, w=640, h=360, bitrate=500), 0.88, ev),
        ),
    )
    g2 = DuplicateGroup(
        2,
        GroupKind.IDENTICAL,
        (
            GroupMember(info(root / "ref/b.mp4", 3000, ref=True), 1.0),
            GroupMember(info(root / "b copy.mp4", 3000), 1.0, ev),
        ),
    )
    g3 = DuplicateGroup(
        3,
        GroupKind.PARTIAL,
        (
            GroupMember(info(root / "long.mkv", 8000, duration=60), 1.0),
            GroupMember(
                info(root / "clip.mkv", 1000, duration=10),
                0.8,
                MatchEvidence(0.8, GroupKind.PARTIAL, 8, 10, 20.0, (20.0, 30.0), (0.0, 10.0)),
            ),
        ),
    )
    files = tuple(m.file for g in (g1, g2, g3) for m in g.members)
    return ScanResult((g1, g2, g3), (), files, ScanStats({"files": len(files)}), roots=(root,))


@pytest.fixture(scope="session")
def planted_result(planted, embedder, tmp_path_factory):
    """The real scan of a session copy of two planted groups and a distinct video (runs once).

    The review tests need real files with real probes and features, not the whole library:
    the window's end-to-end test scans all of it.
    """
    from dedup_gui.core.options import ScanOptions
    from dedup_gui.core.pipeline import scan

    base = tmp_path_factory.mktemp("planted-scanned")
    root = base / "library"
    wanted = set(planted.groups[0] | planted.groups[1]) | {planted.distinct[0]}
    for src in planted.root.rglob("*"):
        if src.is_file() and src.name in wanted:
            dest = root / src.relative_to(planted.root)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
    result = scan([root], ScanOptions(cache_dir=base / "cache"), embedder=embedder)
    assert not result.cancelled
    names = {frozenset(m.file.name for m in g.members) for g in result.groups}
    assert names == {planted.groups[0], planted.groups[1]}
    return result


class FakePrompter:
    """Answers the window's questions and records them (no modal dialog blocks a test)."""

    def __init__(self) -> None:
        self.answers: list[bool] = []  # next confirm() answers; True when empty
        self.confirms: list[str] = []
        self.errors: list[tuple[str, str, str]] = []
        self.reports: list[tuple[str, list]] = []
        self.folder: Path | None = None
        self.file: Path | None = None

    def confirm(self, title, text, informative="", details="", accept="OK", danger=False):
        self.confirms.append(f"{title}: {text} {informative}")
        return self.answers.pop(0) if self.answers else True

    def error(self, title, text, details=""):
        self.errors.append((title, text, details))

    def report(self, title, text, results):
        self.reports.append((text, list(results)))

    def choose_folder(self, title, start):
        return self.folder

    def open_file(self, title, start, filters):
        return self.file

    def save_file(self, title, start, filters):
        return self.file


@pytest.fixture
def trash(tmp_path, monkeypatch):
    """send2trash's home trash redirected into this test's folder; returns Trash/files.

    send2trash reads XDG_DATA_HOME once, at import: patch its module values for this test.
    """
    import send2trash.plat_other as po

    data = tmp_path / "trash-home"
    data.mkdir()
    monkeypatch.setattr(po, "XDG_DATA_HOME", os.fsencode(data))
    monkeypatch.setattr(po, "HOMETRASH_B", os.fsencode(data / "Trash"))
    monkeypatch.setattr(po, "HOMETRASH", str(data / "Trash"))
    import send2trash

    assert send2trash.send2trash is po.send2trash  # the freedesktop implementation is used
    return data / "Trash" / "files"


@pytest.fixture
def make_window(qtbot, tmp_path):
    """Build real main windows with their own settings, ignore list and thumbnail cache."""
    from dedup_gui.core.review.ignores import IgnoreList
    from dedup_gui.core.review.thumbnails import ThumbnailCache
    from dedup_gui.ui.main_window import MainWindow
    from dedup_gui.ui.settings import Settings

    made = []

    def make(embedder=None, trasher=None, settings_file="settings.ini"):
        w = MainWindow(
            Settings.at(tmp_path / settings_file),
            IgnoreList.load(tmp_path / "ignores.json"),
            embedder=embedder,
            thumbnail_cache=ThumbnailCache(tmp_path / "thumbs"),
            trasher=trasher,
        )
        w.prompt = FakePrompter()
        qtbot.addWidget(w)
        w.show()
        w.activateWindow()
        qtbot.waitUntil(w.isActiveWindow, timeout=2000)  # window shortcuts need focus
        made.append(w)
        return w

    yield make
    for w in made:
        w.close()


def file_result(folder: Path) -> ScanResult:
    """A fake result whose files exist on disk (small non-video files), for file actions."""
    folder.mkdir(parents=True, exist_ok=True)
    res = fake_result(folder)
    for f in res.files:
        f.path.parent.mkdir(parents=True, exist_ok=True)
        f.path.write_bytes(b"x" * f.size)
    # refresh identities so the actions see unchanged files
    import dataclasses

    def fresh(vi: VideoInfo) -> VideoInfo:
        st = vi.path.stat()
        return dataclasses.replace(vi, size=st.st_size, mtime_ns=st.st_mtime_ns)

    groups = tuple(
        dataclasses.replace(
            g, members=tuple(dataclasses.replace(m, file=fresh(m.file)) for m in g.members)
        )
        for g in res.groups
    )
    files = tuple(m.file for g in groups for m in g.members)
    return dataclasses.replace(res, groups=groups, files=files)
