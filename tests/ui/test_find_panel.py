"""Find copies in the window: drop a clip, see its source ranked first, compare, trash."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent

from dedup_gui.core.find.copies import CopyKind, FindStatus
from dedup_gui.core.options import ScanOptions
from tests import media as M

pytestmark = pytest.mark.gui

CUT = (6.0, 12.0)  # the excerpt's place in its source, seconds


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """A library (a 20 s source, a re-encoded copy of it, an unrelated video) and an excerpt."""
    base = tmp_path_factory.mktemp("find-ui")
    lib = base / "library"
    src = M.Scene(71).frames(20)
    M.write_video(lib / "source.mp4", src)
    M.write_video(lib / "copies" / "source small.mp4", M.apply(src, M.resize(192, 108)), crf=30)
    M.write_video(lib / "other.mp4", M.Scene(72).frames(12))
    excerpt = M.write_video(
        base / "query" / "excerpt.mp4", src[int(CUT[0] * M.FPS) : int(CUT[1] * M.FPS)]
    )
    return lib, excerpt


def scanned(lib: Path, embedder) -> None:
    """Scan ``lib`` into the test's (isolated) user cache, as the window's scan would."""
    from dedup_gui.core.pipeline import scan

    result = scan([lib], ScanOptions(), embedder=embedder)
    assert not result.cancelled and result.stats.counts["videos"] == 3


def drop(widget, *paths: Path) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    event = QDropEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    widget.dropEvent(event)


def searched(w, qtbot) -> None:
    qtbot.waitUntil(lambda: w.find.result is not None and not w.find.running, timeout=180_000)


def test_dropped_excerpt_finds_its_source_first_with_the_range_and_opens_compare(
    make_window, clips, embedder, qtbot
):
    from dedup_gui.ui.compare import CompareDialog

    lib, excerpt = clips
    scanned(lib, embedder)
    w = make_window(embedder=embedder)
    w.folders.add_folders([lib])
    drop(w.find.panel, excerpt)
    assert w.tabs.currentWidget() is w.find.panel
    searched(w, qtbot)
    result = w.find.result
    assert result.status is FindStatus.OK
    (q,) = result.queries
    names = [c.path.name for c in q.copies]
    assert names[0] in {"source.mp4", "source small.mp4"}
    assert set(names[:2]) == {"source.mp4", "source small.mp4"}
    assert "other.mp4" not in names
    best = q.copies[0]
    assert best.kind is CopyKind.EXCERPT
    assert abs(best.match_range[0] - CUT[0]) <= 1.0
    assert abs(best.match_range[1] - CUT[1]) <= 1.0
    assert best.query_range[0] <= 1.0
    assert best.query_range[1] >= CUT[1] - CUT[0] - 1.0
    # the list shows it: query row first, then the copies with kind and ranges
    assert "2 found" in w.find.model.index(0, 0).data()
    assert w.find.results.current_member().file.path == best.path
    assert "copies of excerpt.mp4" in w.find.panel.summary.text()
    # double-click the best copy: the compare view opens on query vs copy
    idx = w.find.results.tree.currentIndex()
    w.find.results.tree.doubleClicked.emit(idx)
    qtbot.waitUntil(lambda: w.findChild(CompareDialog) is not None, timeout=5_000)
    dialog = w.findChild(CompareDialog)
    assert {dialog.a.file.path, dialog.b.file.path} == {excerpt, best.path}
    with qtbot.waitSignal(dialog.task.finished, timeout=60_000):
        pass
    assert dialog.details.match.similarity > 0.2
    dialog.close()


def test_never_scanned_library_shows_the_scan_prompt(make_window, clips, embedder, qtbot, tmp_path):
    lib, excerpt = clips
    w = make_window(embedder=embedder)
    w.folders.add_folders([lib])  # in the list, never scanned (the test's cache is empty)
    assert w.find.find([excerpt])
    searched(w, qtbot)
    assert w.find.result.status is FindStatus.NOT_SCANNED
    assert w.find.model.rowCount() == 0
    text = w.find.results.empty.text()
    assert "has not been scanned yet" in text and "scan it first" in text
    assert w.find.results.stack.currentWidget() is w.find.results.empty
    # the prompt's link starts the scan; the search runs again when it is done
    w.find.results.empty.linkActivated.emit("scan")
    assert w.controller.running
    qtbot.waitUntil(lambda: not w.controller.running, timeout=180_000)
    qtbot.waitUntil(lambda: w.find.running, timeout=10_000)
    qtbot.waitUntil(lambda: not w.find.running, timeout=180_000)
    assert w.find.result.status is FindStatus.OK
    assert w.find.result.queries[0].copies


def test_find_like_this_then_trash_a_copy_with_the_usual_confirmation(
    make_window, clips, embedder, qtbot, tmp_path, trash
):
    import shutil

    lib, _ = clips
    own = tmp_path / "lib"
    shutil.copytree(lib, own)
    scanned(own, embedder)
    w = make_window(embedder=embedder)
    w.folders.add_folders([own])
    # right-click a file of the duplicates list: Find everything like this
    from dedup_gui.core.pipeline import scan

    w.show_result(scan([own], ScanOptions(), embedder=embedder))
    assert w.results.select_path(own / "source.mp4")
    assert w.act_find_like.isEnabled()
    w.act_find_like.trigger()
    searched(w, qtbot)
    (q,) = w.find.result.queries
    assert q.query.path == own / "source.mp4"
    copy = q.copies[0]
    assert copy.path == own / "copies" / "source small.mp4"
    assert w.find._library is not None  # the gathered library is kept for the next search
    assert copy.kind is CopyKind.SAME
    # mark the copy and trash it: the same confirmation as the groups view
    assert w.find.model.set_marked(copy.path, True)
    assert w.act_trash.isEnabled()
    with qtbot.waitSignal(w.find.file_actions.task.finished, timeout=30_000):
        w.act_trash.trigger()
    assert any(c.startswith("Move to trash") for c in w.prompt.confirms)
    assert not copy.path.exists()
    assert (trash / copy.path.name).exists()
    assert not w.find.model.index_of_path(copy.path).isValid()
    assert w.find._library is None  # a file action changed the library: gathered again
    assert (own / "source.mp4").exists()


def test_files_in_reference_folders_cannot_be_marked(make_window, clips, embedder, qtbot):
    from dedup_gui.ui.settings import Folder

    lib, excerpt = clips
    scanned(lib, embedder)
    w = make_window(embedder=embedder)
    w.settings.folders = [Folder(lib, reference=True)]
    assert w.find.find([excerpt])
    searched(w, qtbot)
    (q,) = w.find.result.queries
    assert q.copies and all(c.file.is_reference for c in q.copies)
    for c in q.copies:
        assert not w.find.model.set_marked(c.path, True)
    w.find.marks.mark_all_but_keepers()
    assert w.find.model.marked_paths() <= {excerpt}
