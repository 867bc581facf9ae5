"""The real dialogs: safe defaults, problem and failure lists."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from dedup_gui.core.types import ActionKind, ActionResult, Problem, Stage
from dedup_gui.ui.dialogs import ProblemsDialog, Prompter, ReportDialog

pytestmark = pytest.mark.gui


def _answer(qtbot, key=None, button_text=None):
    """Answer the next modal message box by key or by clicking a button."""

    def act():
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox), box
        if button_text is not None:
            (button,) = [b for b in box.buttons() if b.text() == button_text]
            button.click()
        else:
            qtbot.keyClick(box, key)

    QTimer.singleShot(50, act)


def test_confirmation_defaults_to_cancel(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    prompt = Prompter(parent)
    _answer(qtbot, key=Qt.Key.Key_Return)  # Return takes the default button
    assert prompt.confirm("Move to trash", "Move 3 files?", accept="Move to trash") is False
    _answer(qtbot, key=Qt.Key.Key_Escape)
    assert prompt.confirm("Delete", "Delete?", accept="Delete", danger=True) is False
    _answer(qtbot, button_text="Move to trash")
    assert prompt.confirm("Move to trash", "Move 3 files?", accept="Move to trash") is True


def test_problems_dialog_lists_skipped_files_and_notices(qtbot):
    problems = [
        Problem(Path("/v/broken.mp4"), Stage.DECODE, "not a video or damaged"),
        Problem(Path("/v/tail.mp4"), Stage.DECODE, "damaged tail", skipped=False),
    ]
    dialog = ProblemsDialog(problems, ["a damaged cache was set aside"])
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 2
    assert dialog.table.item(0, 0).text() == "/v/broken.mp4"
    assert "skipped" in dialog.table.item(0, 1).text()
    assert "warning" in dialog.table.item(1, 1).text()


def test_report_dialog_lists_only_the_failures(qtbot):
    results = [
        ActionResult(Path("/v/a.mp4"), True, ActionKind.TRASH),
        ActionResult(Path("/v/b.mp4"), False, ActionKind.TRASH, error="Permission denied"),
    ]
    dialog = ReportDialog("Some files were not moved", "1 of 2 failed", results)
    qtbot.addWidget(dialog)
    assert dialog.table.rowCount() == 1
    assert dialog.table.item(0, 1).text() == "Permission denied"


def test_status_bar_points_to_scan_problems(make_window, qtbot):
    import dataclasses

    from tests.ui.conftest import fake_result

    result = dataclasses.replace(
        fake_result(),
        problems=(Problem(Path("/v/broken.mp4"), Stage.DECODE, "not a video"),),
    )
    w = make_window()
    w.show_result(result)
    assert w.problems_button.isVisible()
    assert "1 skipped" in w.problems_button.text()
    assert w.act_problems.isEnabled()
