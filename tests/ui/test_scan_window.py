"""Drive the real window through scans: end to end, cancel, close mid-scan, missing weights."""

from __future__ import annotations

import shutil
import time

import pytest
from PySide6.QtCore import Qt, QTimer

from dedup_gui.core.review.selection import KeepRule
from dedup_gui.ui.group_model import Col

pytestmark = pytest.mark.gui


def group_names(window) -> set[frozenset[str]]:
    return {frozenset(m.file.path.name for m in g.members) for g in window.model.groups()}


def copy_library(planted, dest):
    shutil.copytree(planted.root, dest)
    return dest


@pytest.mark.timeout(900)
def test_scan_review_mark_and_trash_end_to_end(
    make_window, planted, embedder, tmp_path, qtbot, trash
):
    """Add a folder, scan, see the planted groups, mark by a rule, trash, check the disk."""
    lib = copy_library(planted, tmp_path / "library")
    w = make_window(embedder=embedder)
    assert w.folders.add_folders([lib]) == 1
    assert w.scan_button.isEnabled()

    events, order = [], []  # order: what the GUI thread handled, in turn
    timer = QTimer()
    timer.timeout.connect(lambda: order.append("tick"))
    timer.start(50)
    w.controller.progress.connect(events.append)
    w.controller.progress.connect(lambda e: order.append(e.stage))
    # a hang guard only (a busy machine may take minutes): the test waits for the event
    with qtbot.waitSignal(w.controller.finished, timeout=600_000):
        qtbot.mouseClick(w.scan_button, Qt.MouseButton.LeftButton)
        assert w.progress_panel.isVisible()
        assert not w.scan_button.isEnabled()
    timer.stop()

    # the GUI thread stayed responsive while the engine worked: its timer kept firing between
    # the engine's progress events of the analysis (a blocked GUI thread would show none)
    first = order.index("features")
    last = len(order) - 1 - order[::-1].index("features")
    assert "tick" in order[first:last], "the GUI thread handled nothing while analysing"
    stages = {e.stage for e in events}
    assert {"discover", "features", "match"} <= stages
    assert any(e.item for e in events if e.stage == "features")  # current file was shown
    assert not w.progress_panel.isVisible()
    qtbot.waitUntil(lambda: not w.controller.running)

    assert group_names(w) == set(planted.groups)
    assert w.groups_label.text().startswith(f"{len(planted.groups)} groups")
    assert "reclaimable" in w.reclaim_label.text()

    # keep the largest file of every group; mark the rest
    w.results.rule.setCurrentIndex(w.results.rule.findData(str(KeepRule.LARGEST)))
    assert w.model.rule is KeepRule.LARGEST
    qtbot.mouseClick(w.results.mark_button, Qt.MouseButton.LeftButton)
    marked = w.model.marked_paths()
    keepers = {}
    for g in w.model.groups():
        largest = max(g.members, key=lambda m: m.file.size)
        keepers[g.id] = largest.file.path
        assert largest.file.path not in marked
        assert {m.file.path for m in g.members} - {largest.file.path} <= marked
    assert len(marked) == sum(len(g) - 1 for g in planted.groups)
    assert f"{len(marked)} marked" in w.marked_label.text()

    # trash them into the test's trash folder (the confirmation says how many and how much)
    with qtbot.waitSignal(w.action_task.finished, timeout=30_000):
        w.act_trash.trigger()
    assert w.prompt.confirms and f"Move {len(marked)} files" in w.prompt.confirms[0]
    assert not w.prompt.reports
    for path in marked:
        assert not path.exists()
        assert (trash / path.name).exists() or any(
            p.name.startswith(path.stem) for p in trash.iterdir()
        )
    for path in keepers.values():
        assert path.exists()
    # trashed files left the view: every group is down to its keeper, so no group remains
    assert w.model.rowCount() == 0
    assert w.model.marked_paths() == set()
    assert w.groups_label.text() == "No groups"
    assert w.results.stack.currentWidget() is w.results.empty


def test_cancel_stops_quickly_and_keeps_the_cache(make_window, planted, embedder, tmp_path, qtbot):
    lib = copy_library(planted, tmp_path / "library")
    w = make_window(embedder=embedder)
    w.folders.add_folders([lib])
    w.settings.fps = 2.0  # more frames: the scan lasts long enough to cancel mid-way
    seen = []
    w.controller.progress.connect(seen.append)
    w.start_scan()
    qtbot.waitUntil(
        lambda: any(e.stage == "features" and e.done >= 2 for e in seen), timeout=60_000
    )
    # the engine stops at its next frame batch (about a second on an idle 2-core machine);
    # the timeout is a hang guard, not a limit: what is checked is that the scan stopped
    # mid-way (below) instead of running to its end
    with qtbot.waitSignal(w.controller.finished, timeout=120_000) as blocker:
        qtbot.keyClick(w, Qt.Key.Key_Escape)
    assert blocker.args[0].cancelled
    assert "cancelled" in w.statusBar().currentMessage().lower()
    qtbot.waitUntil(lambda: not w.controller.running)

    # the next scan starts from what the first one analysed
    seen.clear()
    w.start_scan()
    qtbot.waitUntil(lambda: any(e.stage == "features" and e.total for e in seen), timeout=60_000)
    first = next(e for e in seen if e.stage == "features" and e.total)
    with qtbot.waitSignal(w.controller.finished, timeout=120_000):
        w.cancel_scan()
    # every file reported done before the cancel was kept, and the cancel stopped the scan
    assert first.done >= 2, "a file reported done before the cancel was not kept in the cache"
    assert first.done < first.total, "the cancel did not stop the scan"


def test_closing_the_window_mid_scan_cancels_cleanly(
    make_window, planted, embedder, tmp_path, qtbot
):
    lib = copy_library(planted, tmp_path / "library")
    w = make_window(embedder=embedder)
    w.folders.add_folders([lib])
    seen = []
    w.controller.progress.connect(seen.append)
    w.start_scan()
    qtbot.waitUntil(lambda: any(e.stage == "features" for e in seen), timeout=60_000)
    w.close()  # returns once the engine has stopped: nothing is left running
    assert not w.controller.running
    assert not w.isVisible()
    # the leftover-thread check of tests/ui/conftest.py runs after this test


def test_missing_weights_show_download_progress_then_the_engines_message(
    make_window, tmp_path, qtbot, monkeypatch
):
    from dedup_gui.core.analyse import models
    from tests import media as M

    lib = tmp_path / "lib"
    M.write_video(lib / "one.mp4", M.Scene(9).frames(2))
    message = (
        "No weights for resnet50-imagenet: download failed. "
        "Pass --weights FILE to use a local copy."
    )

    def build(spec, weights=None, progress=None):
        if progress is not None:
            for done in (0, 40_000_000, 80_000_000):
                progress(done, 100_000_000)
                time.sleep(0.12)
        raise models.WeightsUnavailable(message)

    monkeypatch.setattr(models, "build", build)
    # no model built earlier in this session or on disk: the weights are needed
    from dedup_gui.core.analyse import runtime

    monkeypatch.setattr(runtime, "_LOADED", {})
    monkeypatch.setenv("DEDUP_GUI_MODEL_DIR", str(tmp_path / "models"))
    w = make_window()  # no shared embedder: the window builds its own
    w.folders.add_folders([lib])
    downloads, labels = [], []
    w.controller.download.connect(lambda d, t: downloads.append((d, t)))
    w.controller.download.connect(lambda *_: labels.append(w.stage_label.text()))
    with qtbot.waitSignal(w.controller.failed, timeout=60_000):
        w.start_scan()
    qtbot.waitUntil(lambda: not w.controller.running)
    assert downloads and downloads[-1] == (80_000_000, 100_000_000)
    assert any("Downloading model weights" in text and "MB" in text for text in labels)
    assert w.prompt.errors
    _title, _text, details = w.prompt.errors[-1]
    assert details == message
    assert not w.progress_panel.isVisible()


def test_results_columns_show_probe_facts(make_window, planted_result, qtbot):
    w = make_window()
    w.show_result(planted_result)
    model = w.model
    g = next(g for g in model.groups() if any(m.file.name == "holiday.mp4" for m in g.members))
    row = model.groups().index(g)
    parent = model.index(row, 0)
    texts = {
        model.index(i, Col.NAME, parent).data(): model.index(i, Col.RESOLUTION, parent).data()
        for i in range(model.rowCount(parent))
    }
    assert texts["holiday.mp4"] == "320×180"
    assert texts["holiday_small.mp4"] == "224×126"
    codec = {
        model.index(i, Col.NAME, parent).data(): model.index(i, Col.CODEC, parent).data()
        for i in range(model.rowCount(parent))
    }
    assert codec["holiday copy.avi"] == "mpeg4"


def test_model_with_a_real_result_passes_qtmodeltester(planted_result, qtmodeltester):
    from dedup_gui.ui.group_model import GroupModel

    model = GroupModel()
    model.set_groups(planted_result.groups)
    qtmodeltester.check(model, force_py=True)
