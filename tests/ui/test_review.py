"""Review and act: marks, confirmations, per-file failures, move, delete, hide, export, settings."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent

from dedup_gui.core.review.export import load_json
from dedup_gui.core.review.selection import KeepRule
from tests.ui.conftest import file_result

pytestmark = pytest.mark.gui


def run_action(w, qtbot, trigger):
    with qtbot.waitSignal(
        w.action_task.running_changed, timeout=20_000, check_params_cb=lambda r: not r
    ):
        trigger()


@pytest.fixture
def loaded(make_window, tmp_path):
    folder = tmp_path / "videos"
    result = file_result(folder)
    w = make_window()
    w.show_result(result)
    return w, folder, result


def test_trash_asks_first_and_reports_per_file_failures(make_window, tmp_path, qtbot, trash):
    folder = tmp_path / "videos"
    result = file_result(folder)
    bad = folder / "sub" / "a small.mp4"

    def trasher(path: str) -> None:
        if Path(path) == bad:
            raise PermissionError(13, "Permission denied")
        from send2trash import send2trash

        send2trash(path)

    w = make_window(trasher=trasher)
    w.show_result(result)
    qtbot.keyClick(w.results.tree, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    marked = w.model.marked_paths()
    assert marked == {bad, folder / "a.avi", folder / "b copy.mp4", folder / "clip.mkv"}

    # a "no" leaves everything in place
    w.prompt.answers = [False]
    w.act_trash.trigger()
    assert not w.action_task.running
    assert all(p.exists() for p in marked)

    w.results.tree.setFocus()
    run_action(w, qtbot, lambda: qtbot.keyClick(w.results.tree, Qt.Key.Key_Delete))
    assert "Move 4 files (15 KB) to the trash?" in w.prompt.confirms[-1]
    # one failure: reported, still there, still marked; the rest are in the trash
    assert len(w.prompt.reports) == 1
    text, results = w.prompt.reports[0]
    assert "1 of 4" in text
    assert [r.path for r in results if not r.ok] == [bad]
    assert bad.exists() and w.model.is_marked(bad)
    for p in marked - {bad}:
        assert not p.exists()
        assert (trash / p.name).exists()
    assert w.model.index_of_path(bad).isValid()
    assert not w.model.index_of_path(folder / "a.avi").isValid()
    assert w.model.marked_paths() == {bad}


def test_marking_a_whole_group_needs_a_second_confirmation(loaded, qtbot, trash):
    w, folder, _ = loaded
    for name in ("long.mkv", "clip.mkv"):
        assert w.model.set_marked(folder / name, True)
    w.prompt.answers = [True, False]  # yes to the trash, no to "every copy"
    w.act_trash.trigger()
    assert len(w.prompt.confirms) == 2 and "Every copy is marked" in w.prompt.confirms[1]
    assert not w.action_task.running
    assert (folder / "long.mkv").exists() and (folder / "clip.mkv").exists()

    w.prompt.answers = [True, True]
    run_action(w, qtbot, w.act_trash.trigger)
    assert not (folder / "long.mkv").exists() and not (folder / "clip.mkv").exists()
    assert w.model.rowCount() == 2


def test_reference_folder_files_cannot_be_marked(loaded, qtbot):
    w, folder, _ = loaded
    ref = folder / "ref" / "b.mp4"
    assert not w.model.set_marked(ref, True)
    assert w.results.select_path(ref)
    w.toggle_selected()
    assert not w.model.is_marked(ref)
    w.mark_all_but_keepers()
    assert ref not in w.model.marked_paths()


def test_space_toggles_marks_of_the_selected_files(loaded, qtbot):
    w, folder, _ = loaded
    w.results.select_path(folder / "a.avi")
    w.results.tree.setFocus()
    qtbot.keyClick(w.results.tree, Qt.Key.Key_Space)
    assert w.model.is_marked(folder / "a.avi")
    assert "1 marked" in w.marked_label.text()
    qtbot.keyClick(w.results.tree, Qt.Key.Key_Space)
    assert not w.model.is_marked(folder / "a.avi")


def test_move_to_folder(loaded, qtbot, tmp_path):
    w, folder, _ = loaded
    dest = tmp_path / "moved"
    dest.mkdir()
    w.model.set_marked(folder / "a.avi", True)
    w.prompt.folder = dest
    run_action(w, qtbot, w.act_move.trigger)
    assert (dest / "a.avi").exists() and not (folder / "a.avi").exists()
    assert f"to {dest}" in w.prompt.confirms[-1]


def test_permanent_delete_needs_two_explicit_confirmations(loaded, qtbot):
    w, folder, _ = loaded
    target = folder / "a.avi"
    w.model.set_marked(target, True)
    w.prompt.answers = [True, False]
    w.act_delete.trigger()
    assert target.exists() and not w.action_task.running
    assert "permanently" in w.prompt.confirms[0] and "Really" in w.prompt.confirms[1]
    w.prompt.answers = [True, True]
    run_action(w, qtbot, w.act_delete.trigger)
    assert not target.exists()


def test_not_a_duplicate_is_remembered_across_scans(make_window, tmp_path, qtbot):
    folder = tmp_path / "videos"
    result = file_result(folder)
    w = make_window()
    w.show_result(result)
    w.results.select_path(folder / "a.avi")
    w.hide_selected_files()
    assert not w.model.index_of_path(folder / "a.avi").isValid()
    w.results.select_path(folder / "clip.mkv")
    w.hide_selected_pairs()  # clip.mkv is not a copy of long.mkv: the group goes
    assert w.model.rowCount() == 2
    w.close()

    again = make_window(settings_file="other.ini")  # same ignore list file, new window
    again.show_result(result)
    assert not again.model.index_of_path(folder / "a.avi").isValid()
    assert again.model.rowCount() == 2
    again.forget_ignores()
    assert again.model.rowCount() == 3


def test_save_reopen_and_export(loaded, qtbot, tmp_path):
    w, folder, result = loaded
    out = tmp_path / "out" / "results.json"
    out.parent.mkdir()
    w.prompt.file = out
    w.act_save.trigger()
    assert load_json(out).groups == result.groups
    csv = tmp_path / "out" / "dups.csv"
    w.prompt.file = csv
    w.act_csv.trigger()
    lines = csv.read_text().splitlines()
    assert lines[0].startswith("group,kind,path")
    assert len(lines) == 1 + sum(len(g.members) for g in result.groups)

    # reopen in a fresh window; a file deleted since then is left out
    (folder / "b copy.mp4").unlink()
    w2 = w.__class__(w.settings, w.ignores)
    qtbot.addWidget(w2)
    w2.prompt = w.prompt
    w2.prompt.file = out
    w2.act_open.trigger()
    assert w2.model.rowCount() == 2
    assert "no longer exist" in w2.statusBar().currentMessage()
    w2.close()


def test_folders_and_preferences_persist(make_window, tmp_path, qtbot):
    from dedup_gui.ui.dialogs import PreferencesDialog

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    w = make_window()
    w.folders.add_folders([a, b, a])
    w.folders.set_reference(b, True)
    w.folders.recursive.setChecked(False)
    w.folders.exclude.setText("*/.Trash*; *.part")
    w.folders.exclude.editingFinished.emit()
    w.folders.min_size.setValue(5)
    w.folders.min_duration.setValue(30)
    prefs = PreferencesDialog(w.settings, w)
    prefs.threshold.setValue(55)
    prefs.tolerance.setValue(20)
    prefs.partial.setChecked(False)
    prefs.fps.setValue(2.0)
    prefs.cache.setChecked(False)
    prefs.model.setCurrentIndex(prefs.model.findData("efficientnet-lite0"))
    prefs.accept()
    w.set_rule(KeepRule.NEWEST)
    w.close()

    w2 = make_window()
    assert [f.path for f in w2.folders.folders()] == [a.resolve(), b.resolve()]
    assert [f.reference for f in w2.folders.folders()] == [False, True]
    assert not w2.folders.recursive.isChecked()
    assert w2.results.rule.currentData() == "newest"
    o = w2.settings.scan_options()
    assert o.reference_roots == (b.resolve(),)
    assert not o.discovery.recursive
    assert o.discovery.exclude == ("*/.Trash*", "*.part")
    assert o.discovery.min_size == 5 * 1024 * 1024
    assert o.min_duration == 30
    assert (o.match.threshold, o.match.duration_tolerance, o.match.partial) == (0.55, 0.2, False)
    assert (o.sampling.fps, o.use_cache, o.model.name) == (2.0, False, "efficientnet-lite0")


def test_dropping_folders_adds_them(make_window, tmp_path, qtbot):
    folder = tmp_path / "dropped"
    folder.mkdir()
    (folder / "clip.mp4").write_bytes(b"x")
    w = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(folder)), QUrl.fromLocalFile(str(folder / "clip.mp4"))])
    event = QDropEvent(
        QPoint(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    w.dropEvent(event)
    assert [f.path for f in w.folders.folders()] == [folder.resolve()]
    assert w.scan_button.isEnabled()


def test_filter_box_and_status_bar(loaded, qtbot):
    w, _folder, _ = loaded
    assert w.groups_label.text() == "3 groups · 7 files"
    assert w.reclaim_label.text().endswith("reclaimable")
    qtbot.keyClicks(w.results.filter, "clip")
    assert w.results.proxy.rowCount() == 1
    w.results.filter.clear()
    assert w.results.proxy.rowCount() == 3


def test_play_and_reveal_use_the_desktop(loaded, qtbot, monkeypatch):
    from dedup_gui.ui import system

    w, folder, _ = loaded
    opened = []
    monkeypatch.setattr(system.QDesktopServices, "openUrl", lambda url: opened.append(url) or True)
    monkeypatch.setattr(system, "_freedesktop_show", lambda path: False)
    w.results.select_path(folder / "a.avi")
    w.results.tree.setFocus()
    qtbot.keyClick(w.results.tree, Qt.Key.Key_Return)
    w.act_reveal.trigger()
    assert [u.toLocalFile() for u in opened] == [str(folder / "a.avi"), str(folder)]


def test_preferred_folder_rule_keeps_the_copies_in_that_folder(loaded, qtbot):
    w, folder, _ = loaded
    w.prompt.folder = folder / "sub"
    w.act_preferred.trigger()
    assert w.model.rule is KeepRule.FOLDER
    assert w.settings.preferred_folder == str(folder / "sub")
    w.mark_all_but_keepers()
    assert not w.model.is_marked(folder / "sub" / "a small.mp4")
    assert w.model.is_marked(folder / "a.mp4") and w.model.is_marked(folder / "a.avi")
