"""The results model: qtmodeltester, marks, keepers, removals, filter and sort."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QModelIndex, Qt

from dedup_gui.core.review.selection import KeepRule, check_marks
from dedup_gui.ui.group_model import (
    STATUS_ROLE,
    Col,
    GroupFilterProxy,
    GroupModel,
)
from tests.ui.conftest import fake_result

CHECK = Qt.ItemDataRole.CheckStateRole


def names(model, row):
    parent = model.index(row, 0)
    return [model.index(i, 0, parent).data() for i in range(model.rowCount(parent))]


def test_model_passes_qtmodeltester(qtmodeltester):
    model = GroupModel()
    model.set_groups(fake_result().groups)
    qtmodeltester.check(model, force_py=True)
    model.mark_all_but_keepers()
    model.remove_paths([Path("/videos/sub/a small.mp4"), Path("/videos/clip.mkv")])
    qtmodeltester.check(model, force_py=True)


def test_proxy_passes_qtmodeltester(qtmodeltester):
    model = GroupModel()
    model.set_groups(fake_result().groups)
    proxy = GroupFilterProxy()
    proxy.setSourceModel(model)
    proxy.sort(Col.SIZE, Qt.SortOrder.DescendingOrder)
    proxy.set_text("clip")
    qtmodeltester.check(proxy, force_py=True)


def test_groups_then_files_with_columns():
    model = GroupModel()
    model.set_groups(fake_result().groups)
    assert model.rowCount() == 3
    assert names(model, 0) == ["a.mp4", "a small.mp4", "a.avi"]
    child = model.index(1, Col.RESOLUTION, model.index(0, 0))
    assert child.data() == "640×360"
    assert model.index(0, Col.FOLDER, model.index(0, 0)).data() == "/videos"
    assert model.index(0, Col.SIMILARITY, model.index(0, 0)).data() == "reference"
    assert model.index(1, Col.SIMILARITY, model.index(0, 0)).data() == "93%"
    assert "clip" in model.index(1, Col.SIMILARITY, model.index(2, 0)).data()
    assert model.headerData(Col.BITRATE, Qt.Orientation.Horizontal) == "Bitrate"


def test_mark_all_but_keeper_follows_the_rule_and_spares_reference_files():
    model = GroupModel()
    model.set_groups(fake_result().groups)
    model.mark_all_but_keepers()
    # quality rule: the 1080p file is kept
    assert model.marked_paths() >= {Path("/videos/sub/a small.mp4"), Path("/videos/a.avi")}
    assert Path("/videos/a.mp4") not in model.marked_paths()
    # the reference-folder file is kept and cannot be checked
    ref = model.index(0, 0, model.index(1, 0))
    assert not (model.flags(ref) & Qt.ItemFlag.ItemIsUserCheckable)
    assert ref.data(CHECK) is None
    assert not model.setData(ref, Qt.CheckState.Checked, CHECK)
    assert ref.data(STATUS_ROLE) == "reference"

    model.set_rule(KeepRule.LARGEST)
    model.mark_all_but_keepers()
    assert Path("/videos/a.avi") not in model.marked_paths()  # largest is kept now
    assert Path("/videos/a.mp4") in model.marked_paths()


def test_whole_group_marks_are_reported_for_a_second_confirmation():
    model = GroupModel()
    model.set_groups(fake_result().groups)
    for path in ("/videos/long.mkv", "/videos/clip.mkv"):
        assert model.set_marked(Path(path), True)
    check = check_marks(model.groups(), model.marks())
    assert check.whole_groups == (3,)
    assert "ALL MARKED" in model.index(2, 0).data()


def test_removing_files_updates_rows_marks_and_drops_small_groups(qtbot):
    model = GroupModel()
    model.set_groups(fake_result().groups)
    model.mark_all_but_keepers()
    with qtbot.waitSignal(model.rowsRemoved):
        model.remove_paths([Path("/videos/b copy.mp4"), Path("/videos/a.avi")])
    assert model.rowCount() == 2  # group 2 had two files: gone
    assert names(model, 0) == ["a.mp4", "a small.mp4"]
    assert Path("/videos/a.avi") not in model.marked_paths()
    assert model.index_of_path(Path("/videos/b copy.mp4")) == QModelIndex()


def test_filter_keeps_whole_groups_and_sort_uses_raw_values():
    model = GroupModel()
    model.set_groups(fake_result().groups)
    proxy = GroupFilterProxy()
    proxy.setSourceModel(model)
    proxy.set_text("small")
    assert proxy.rowCount() == 1
    assert proxy.rowCount(proxy.index(0, 0)) == 3  # the whole group, in context
    proxy.set_text("")
    assert proxy.rowCount() == 3
    proxy.sort(Col.SIZE, Qt.SortOrder.AscendingOrder)
    first = proxy.index(0, 0)
    sizes = [
        proxy.index(i, Col.SIZE, first).data(Qt.ItemDataRole.UserRole + 1)
        for i in range(proxy.rowCount(first))
    ]
    assert sizes == sorted(sizes)
