"""The Help menu's two windows (keyboard shortcuts, About) and the preferences dialog."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from dedup_gui import __version__
from dedup_gui.ui import theme
from dedup_gui.ui.dialogs import PreferencesDialog
from dedup_gui.ui.menus import key_text
from dedup_gui.ui.settings import Settings


def edit_preferences(parent: QWidget, settings: Settings) -> None:
    """The preferences dialog; a new theme applies at once."""
    old_theme = settings.theme
    dialog = PreferencesDialog(settings, parent)
    if dialog.exec() and settings.theme != old_theme:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme.apply_theme(app, settings.theme)


def show_shortcuts(parent: QWidget, actions: Iterable[QAction]) -> None:
    """A table of the shortcuts of ``actions``."""
    rows = []
    for act in actions:
        if not act.shortcut().isEmpty() and act.text():
            rows.append(
                f"<tr><td><b>{key_text(act)}</b></td><td>{act.text().replace('&', '')}</td></tr>"
            )
    QMessageBox.information(
        parent, "Keyboard shortcuts", "<table cellspacing=6>" + "".join(rows) + "</table>"
    )


def show_about(parent: QWidget) -> None:
    """Version and a one-line description."""
    QMessageBox.about(
        parent,
        "About dedup-gui",
        f"<h3>dedup-gui {__version__}</h3><p>Finds duplicate and near-duplicate videos — "
        "re-encodes, resized, cropped, mirrored and trimmed copies — and helps you trash the "
        "extras safely.</p>",
    )
