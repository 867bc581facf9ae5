"""Dialogs: confirmations, per-file reports, scan problems and preferences.

The window asks every question through a :class:`Prompter`, so tests can answer them (and
check what was asked) without a modal dialog blocking the test.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHeaderView,
    QLabel,
    QMessageBox,
    QSlider,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dedup_gui.core.analyse.models import MODELS
from dedup_gui.core.types import ActionResult, Problem
from dedup_gui.ui.settings import Settings


class Prompter:
    """Asks the user; every method returns the answer (tests replace them)."""

    def __init__(self, parent: QWidget) -> None:
        self._parent = parent

    def confirm(
        self,
        title: str,
        text: str,
        informative: str = "",
        details: str = "",
        accept: str = "OK",
        danger: bool = False,
    ) -> bool:
        """A yes/no question; the safe answer (Cancel) is the default."""
        box = QMessageBox(self._parent)
        box.setWindowTitle(title)
        box.setIcon(QMessageBox.Icon.Warning if danger else QMessageBox.Icon.Question)
        box.setText(text)
        box.setInformativeText(informative)
        if details:
            box.setDetailedText(details)
        ok = box.addButton(accept, QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.exec()
        return box.clickedButton() is ok

    def error(self, title: str, text: str, details: str = "") -> None:
        """An error message."""
        box = QMessageBox(QMessageBox.Icon.Critical, title, text, parent=self._parent)
        if details:
            box.setDetailedText(details)
        box.exec()

    def report(self, title: str, text: str, results: Sequence[ActionResult]) -> None:
        """Per-file failures of an action."""
        ReportDialog(title, text, results, self._parent).exec()

    def choose_folder(self, title: str, start: str) -> Path | None:
        """A folder, or None."""
        path = QFileDialog.getExistingDirectory(self._parent, title, start)
        return Path(path) if path else None

    def open_file(self, title: str, start: str, filters: str) -> Path | None:
        """A file to open, or None."""
        path, _ = QFileDialog.getOpenFileName(self._parent, title, start, filters)
        return Path(path) if path else None

    def save_file(self, title: str, start: str, filters: str) -> Path | None:
        """A file to write, or None."""
        path, _ = QFileDialog.getSaveFileName(self._parent, title, start, filters)
        return Path(path) if path else None


def _path_table(rows: Sequence[tuple[str, str]], headers: tuple[str, str]) -> QTableWidget:
    table = QTableWidget(len(rows), 2)
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().setVisible(False)
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    table.setWordWrap(False)
    for r, (a, b) in enumerate(rows):
        for c, text in enumerate((a, b)):
            item = QTableWidgetItem(text)
            item.setToolTip(text)
            table.setItem(r, c, item)
    header = table.horizontalHeader()
    header.setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
    header.setStretchLastSection(True)
    table.resizeColumnToContents(0)
    table.setColumnWidth(0, min(table.columnWidth(0), 520))
    return table


class ReportDialog(QDialog):
    """The files an action could not handle, and why (they stay marked)."""

    def __init__(
        self,
        title: str,
        text: str,
        results: Sequence[ActionResult],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(760, 360)
        failed = [r for r in results if not r.ok]
        layout = QVBoxLayout(self)
        label = QLabel(text)
        label.setWordWrap(True)
        layout.addWidget(label)
        self.table = _path_table([(str(r.path), r.error) for r in failed], ("File", "Problem"))
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout.addWidget(buttons)


class ProblemsDialog(QDialog):
    """Files the scan skipped or warned about, and scan-wide notices."""

    def __init__(
        self, problems: Sequence[Problem], notices: Sequence[str], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Scan problems")
        self.resize(820, 420)
        layout = QVBoxLayout(self)
        skipped = [p for p in problems if p.skipped]
        warned = [p for p in problems if not p.skipped]
        summary = (
            f"{len(skipped)} files could not be compared; {len(warned)} were compared "
            "with a warning."
        )
        label = QLabel(summary)
        label.setWordWrap(True)
        layout.addWidget(label)
        for notice in notices:
            note = QLabel(f"Note: {notice}")
            note.setWordWrap(True)
            layout.addWidget(note)
        rows = [
            (str(p.path), f"{'skipped' if p.skipped else 'warning'} ({p.stage}): {p.reason}")
            for p in [*skipped, *warned]
        ]
        self.table = _path_table(rows, ("File", "Problem"))
        layout.addWidget(self.table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


class PreferencesDialog(QDialog):
    """Matching and analysis settings (the folder options live in the main window)."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self._settings = settings
        layout = QVBoxLayout(self)

        match = QGroupBox("Matching")
        form = QFormLayout(match)
        self.threshold = QSlider(Qt.Orientation.Horizontal)
        self.threshold.setRange(5, 95)
        self.threshold.setValue(round(settings.threshold * 100))
        self.threshold_label = QLabel()
        self.threshold.valueChanged.connect(self._show_threshold)
        self._show_threshold(self.threshold.value())
        form.addRow("Sensitivity", self.threshold)
        form.addRow("", self.threshold_label)
        self.tolerance = QSpinBox()
        self.tolerance.setRange(0, 100)
        self.tolerance.setSuffix(" %")
        self.tolerance.setValue(round(settings.duration_tolerance * 100))
        self.tolerance.setToolTip(
            "How much shorter a copy may be than the original and still be compared"
        )
        form.addRow("Duration tolerance", self.tolerance)
        self.partial = QCheckBox("Find clips cut from longer videos")
        self.partial.setChecked(settings.partial)
        form.addRow(self.partial)
        self.flip = QCheckBox("Match mirrored copies")
        self.flip.setChecked(settings.flip)
        form.addRow(self.flip)
        layout.addWidget(match)

        analysis = QGroupBox("Analysis")
        form = QFormLayout(analysis)
        self.model = QComboBox()
        for name, spec in MODELS.items():
            self.model.addItem(name, name)
            self.model.setItemData(
                self.model.count() - 1, spec.description, Qt.ItemDataRole.ToolTipRole
            )
        self.model.setCurrentIndex(max(0, self.model.findData(settings.model_name())))
        self.model_help = QLabel()
        self.model_help.setWordWrap(True)
        self.model.currentIndexChanged.connect(self._show_model)
        self._show_model()
        form.addRow("Model", self.model)
        form.addRow("", self.model_help)
        self.fps = QDoubleSpinBox()
        self.fps.setRange(0.1, 10.0)
        self.fps.setSingleStep(0.5)
        self.fps.setDecimals(1)
        self.fps.setSuffix(" frames/s")
        self.fps.setValue(settings.fps)
        self.fps.setToolTip("More frames per second: more precise, slower scans")
        form.addRow("Sampling", self.fps)
        self.cache = QCheckBox("Remember analysed videos (much faster re-scans)")
        self.cache.setChecked(settings.use_cache)
        form.addRow(self.cache)
        layout.addWidget(analysis)

        look = QGroupBox("Appearance")
        form = QFormLayout(look)
        self.theme = QComboBox()
        for label, value in (("Follow the system", "system"), ("Light", "light"), ("Dark", "dark")):
            self.theme.addItem(label, value)
        self.theme.setCurrentIndex(max(0, self.theme.findData(settings.theme)))
        form.addRow("Theme", self.theme)
        layout.addWidget(look)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(
            self.restore_defaults
        )
        layout.addWidget(buttons)

    def _show_threshold(self, value: int) -> None:
        hint = (
            "stricter: fewer, surer matches"
            if value >= 55
            else ("looser: finds heavier edits, check results" if value <= 30 else "balanced")
        )
        self.threshold_label.setText(f"{value}% similarity needed ({hint})")

    def _show_model(self) -> None:
        spec = MODELS.get(self.model.currentData())
        self.model_help.setText(spec.description if spec else "")

    def restore_defaults(self) -> None:
        """Put the engine's defaults back in the form."""
        from dedup_gui.core.analyse.models import DEFAULT_MODEL
        from dedup_gui.core.options import ScanOptions

        d = ScanOptions()
        self.threshold.setValue(round(d.match.threshold * 100))
        self.tolerance.setValue(round(d.match.duration_tolerance * 100))
        self.partial.setChecked(d.match.partial)
        self.flip.setChecked(d.match.flip)
        self.model.setCurrentIndex(max(0, self.model.findData(DEFAULT_MODEL)))
        self.fps.setValue(d.sampling.fps)
        self.cache.setChecked(d.use_cache)

    def accept(self) -> None:
        """Write the form to the settings."""
        s = self._settings
        s.threshold = self.threshold.value() / 100
        s.duration_tolerance = self.tolerance.value() / 100
        s.partial = self.partial.isChecked()
        s.flip = self.flip.isChecked()
        s.model = str(self.model.currentData())
        s.fps = self.fps.value()
        s.use_cache = self.cache.isChecked()
        s.theme = str(self.theme.currentData())
        s.sync()
        super().accept()
