"""Start the desktop application."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from pathlib import Path


def run(argv: Sequence[str] = ()) -> int:
    """Open the main window; ``argv`` may name folders to add or a saved result file to open.

    Returns:
        The application's exit code.
    """
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtWidgets import QApplication

    from dedup_gui.ui import theme
    from dedup_gui.ui.main_window import MainWindow
    from dedup_gui.ui.settings import APPLICATION, ORGANIZATION, Settings

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    app = QApplication.instance()
    if app is None:
        QApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )
        app = QApplication([sys.argv[0], *argv])
    assert isinstance(app, QApplication)
    app.setApplicationDisplayName("dedup-gui")
    app.setDesktopFileName("dedup-gui")
    app.setWindowIcon(theme.app_icon())
    settings = Settings()
    theme.apply_theme(app, settings.theme)
    window = MainWindow(settings)
    results = [Path(a) for a in argv if a.endswith(".json") and Path(a).is_file()]
    folders = [Path(a) for a in argv if Path(a).is_dir()]
    if folders:
        window.folders.add_folders(folders)
    window.show()
    if results:
        window.load_results(results[0])
    return app.exec()
