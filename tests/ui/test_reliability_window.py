"""Reliability in the window: the fault corpus through a GUI scan (problems shown with their
reasons), the action history with undo, the quarantine offered when the trash is unavailable,
changed files asked about again, reference files never acted on."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from dedup_gui.core.review import actions
from dedup_gui.core.review.actionlog import ActionLog
from dedup_gui.ui.dialogs import ProblemsDialog
from dedup_gui.ui.history import HistoryDialog, display_path
from tests.faults import Outcome
from tests.reliability.conftest import corpus_options
from tests.reliability.test_fault_corpus import _fault_keys, check_outcome
from tests.ui.conftest import file_result


def _wait_actions(w, qtbot, trigger) -> None:
    with qtbot.waitSignal(w.action_task.finished, timeout=30_000):
        trigger()
    qtbot.waitUntil(lambda: not w.action_task.running)


def _wait_followup(w, qtbot) -> None:
    qtbot.waitUntil(
        lambda: not w.action_safety.task.running and not w.action_safety._queue, timeout=30_000
    )


# ----------------------------------------------------------------------------- fault corpus
@pytest.mark.gui
def test_fault_corpus_through_the_window(make_window, corpus_scan, embedder, qtbot, monkeypatch):
    c = corpus_scan.corpus
    w = make_window(embedder=embedder)
    assert w.folders.add_folders([c.root]) == 1
    # the corpus options: decoder that hangs on one file (3 s budget here), symlinks followed,
    # the engine scan's cache (unchanged files are cache hits or remembered failures)
    opts = corpus_options(corpus_scan.cache_dir, file_timeout=3.0)
    monkeypatch.setattr(w.settings, "scan_options", lambda: opts)
    with qtbot.waitSignal(w.controller.finished, timeout=240_000):
        w.start_scan()
    qtbot.waitUntil(lambda: not w.controller.running)
    result = w.result
    assert result is not None and not result.cancelled

    for key in _fault_keys():
        fault = c.fault(key)
        problems = [(p.reason, p.skipped) for p in result.problems if p.path == fault.path]
        analysed = any(f.path == fault.path for f in result.files)
        if key == "deleted-during-scan":
            assert not analysed and not problems
        elif key == "replaced-during-scan":
            assert analysed and not problems
        else:
            check_outcome(fault, analysed, problems)

    # the window says files were skipped, and the problems list shows each with its reason
    skipped = sum(1 for p in result.problems if p.skipped)
    assert w.problems_button.isVisible() and f"{skipped} skipped" in w.problems_button.text()
    assert w.act_problems.isEnabled()
    dialog = ProblemsDialog(result.problems, result.notices, w)
    rows = {
        dialog.table.item(r, 0).text(): dialog.table.item(r, 1).text()
        for r in range(dialog.table.rowCount())
    }
    for key in _fault_keys():
        fault = c.fault(key)
        if fault.outcome is not Outcome.SKIPPED or fault.mutated:
            continue
        shown = rows.get(display_path(fault.path)) or rows.get(str(fault.path))
        assert shown is not None, key
        assert (shown.startswith("skipped") and fault.reason == "") or shown, key
        reason = next(p.reason for p in result.problems if p.path == fault.path)
        assert reason in shown, (key, shown)
    dialog.close()
    # the good duplicates of the corpus are in the results
    grouped = {p for g in w.model.groups() for p in g.paths}
    for planted in c.groups:
        assert planted <= grouped


# ----------------------------------------------------------------------------- actions
def test_history_lists_moves_and_undo_puts_a_file_back(make_window, tmp_path, qtbot):
    folder = tmp_path / "videos"
    w = make_window()
    w.show_result(file_result(folder))
    w.mark_all_but_keepers()
    marked = sorted(w.model.marked_paths())
    assert marked
    w.prompt.folder = tmp_path / "moved"
    _wait_actions(w, qtbot, w.move_marked)
    assert not any(p.exists() for p in marked)

    assert w.action_safety.act_history in w.actions()
    dlg = w.action_safety.show_history()
    assert isinstance(dlg, HistoryDialog) and dlg.table.rowCount() == len(marked)
    dlg.select(0)
    entry = dlg.selected()
    assert entry is not None and entry.kind == "move" and dlg.undo_button.isEnabled()
    assert "Undo puts" in dlg.hint.text()
    qtbot.mouseClick(dlg.undo_button, Qt.MouseButton.LeftButton)
    assert entry.source.exists() and not entry.destination.exists()
    assert dlg.table.item(0, 1).text() == "Put back"  # the undo is logged too (newest first)
    undone_row = next(
        r for r in range(dlg.table.rowCount()) if dlg.table.item(r, 2).text() == str(entry.source)
        and dlg.table.item(r, 1).text() == "Moved"
    )  # fmt: skip
    assert dlg.table.item(undone_row, 4).text() == "undone"
    dlg.close()


def test_trashed_files_are_logged_with_where_they_went(make_window, tmp_path, qtbot, trash):
    folder = tmp_path / "videos"
    w = make_window()
    w.show_result(file_result(folder))
    w.mark_all_but_keepers()
    marked = w.model.marked_paths()
    _wait_actions(w, qtbot, w.act_trash.trigger)
    entries = ActionLog().entries()
    assert {e.source for e in entries} == marked
    for e in entries:
        assert e.kind == "trash" and e.ok and e.destination is not None
        assert e.destination.parent == trash and e.destination.exists()
    dlg = w.action_safety.show_history()
    dlg.select(0)
    assert dlg.undo_button.isEnabled() and "Restore from the trash" in dlg.hint.text()
    dlg.close()


def test_quarantine_is_offered_when_the_trash_is_unavailable(
    make_window, tmp_path, qtbot, monkeypatch
):
    folder = tmp_path / "share"
    quarantine = folder / ".dedup-gui-quarantine"
    monkeypatch.setattr(actions, "quarantine_dir_for", lambda path: quarantine)

    def no_trash(path: str) -> None:
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    w = make_window(trasher=no_trash)
    w.show_result(file_result(folder))
    w.mark_all_but_keepers()
    marked = w.model.marked_paths()
    w.prompt.answers = [True, True]  # yes, trash them; yes, quarantine them instead
    _wait_actions(w, qtbot, w.act_trash.trigger)
    _wait_followup(w, qtbot)
    assert any("The trash is not available" in c for c in w.prompt.confirms)
    assert not any("Delete permanently" in c for c in w.prompt.confirms)
    assert sorted(p.name for p in quarantine.iterdir()) == sorted(p.name for p in marked)
    assert not any(p.exists() for p in marked)
    assert w.model.marked_paths() == set()  # they left the view
    kinds = [e.kind for e in ActionLog().entries()]
    assert kinds.count("trash") == len(marked) and kinds.count("quarantine") == len(marked)


def test_declining_the_quarantine_leaves_everything_in_place(make_window, tmp_path, qtbot):
    folder = tmp_path / "share"

    def no_trash(path: str) -> None:
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    w = make_window(trasher=no_trash)
    w.show_result(file_result(folder))
    w.mark_all_but_keepers()
    marked = w.model.marked_paths()
    w.prompt.answers = [True, False]
    _wait_actions(w, qtbot, w.act_trash.trigger)
    assert all(p.exists() for p in marked) and w.model.marked_paths() == marked


def test_a_file_changed_since_the_scan_is_asked_about_again(make_window, tmp_path, qtbot, trash):
    folder = tmp_path / "videos"
    w = make_window()
    w.show_result(file_result(folder))
    w.mark_all_but_keepers()
    marked = sorted(w.model.marked_paths())
    changed = marked[0]
    changed.write_bytes(b"new content written after the scan")
    w.prompt.answers = [True, False]  # trash: yes; the changed file: no
    _wait_actions(w, qtbot, w.act_trash.trigger)
    assert any("changed on disk since the scan" in c for c in w.prompt.confirms)
    assert changed.exists() and w.model.is_marked(changed)
    assert not any(p.exists() for p in marked[1:])
    # asked again, the user says yes this time
    w.prompt.answers = [True, True]
    _wait_actions(w, qtbot, w.act_trash.trigger)
    _wait_followup(w, qtbot)
    assert not changed.exists() and (trash / changed.name).exists()


def test_reference_files_cannot_be_acted_on_from_the_window(make_window, tmp_path, qtbot, trash):
    folder = tmp_path / "videos"
    w = make_window()
    result = file_result(folder)
    w.show_result(result)
    ref = next(f.path for f in result.files if f.is_reference)
    assert not w.model.set_marked(ref, True)  # the window refuses to mark it
    w.model.mark_all_but_keepers()
    assert ref not in w.model.marked_paths()
    # even a plan that names it (a bug elsewhere) leaves it alone
    from dedup_gui.core.review import selection
    from dedup_gui.core.types import PlannedFile, TrashPlan

    plan = selection.plan(w.model.groups(), w.model.marks())
    st = ref.stat()
    sneaky = TrashPlan(
        plan.kind, (*plan.files, PlannedFile(ref, st.st_size, st.st_mtime_ns)),
        protected=plan.protected,
    )  # fmt: skip
    results = actions.execute(sneaky, trasher=lambda p: Path(p).unlink())
    assert results[-1].status == "refused" and ref.exists()


def test_changed_and_trashless_files_are_both_followed_up(
    make_window, tmp_path, qtbot, monkeypatch
):
    folder = tmp_path / "share"
    quarantine = folder / ".dedup-gui-quarantine"
    monkeypatch.setattr(actions, "quarantine_dir_for", lambda path: quarantine)

    def no_trash(path: str) -> None:
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    w = make_window(trasher=no_trash)
    w.show_result(file_result(folder))
    w.mark_all_but_keepers()
    marked = sorted(w.model.marked_paths())
    changed = marked[0]
    changed.write_bytes(b"edited after the scan")
    w.prompt.answers = [True, True, True]  # trash; act on the changed file; quarantine
    _wait_actions(w, qtbot, w.act_trash.trigger)
    _wait_followup(w, qtbot)
    assert any("changed on disk" in c for c in w.prompt.confirms)
    assert any("The trash is not available" in c for c in w.prompt.confirms)
    # the changed file went through the trash again (unavailable: it stays), the others moved
    assert {p.name for p in quarantine.iterdir()} == {p.name for p in marked[1:]}
    assert changed.exists()
