"""`python main.py [FOLDER | RESULTS.json]` opens the window (dedup_gui.app dispatches to run)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication

from dedup_gui.app import main
from dedup_gui.core.review import export
from dedup_gui.ui.main_window import MainWindow
from tests.ui.conftest import file_result

pytestmark = pytest.mark.gui


def test_main_opens_the_window_with_a_folder_and_a_result_file(qapp, tmp_path, monkeypatch):
    folder = tmp_path / "videos"
    result = file_result(folder)
    saved = tmp_path / "results.json"
    export.write_atomic(saved, export.to_json(result))
    seen = {}

    def fake_exec(self):
        (window,) = [
            w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()
        ]
        seen["folders"] = [f.path for f in window.folders.folders()]
        seen["groups"] = window.model.rowCount()
        seen["title"] = window.windowTitle()
        seen["icon"] = not window.windowIcon().isNull()
        window.close()
        return 0

    monkeypatch.setattr(QApplication, "exec", fake_exec)
    assert main([str(folder), str(saved)]) == 0
    assert seen == {
        "folders": [folder.resolve()],
        "groups": 3,
        "title": "dedup-gui — duplicate videos",
        "icon": True,
    }
