"""The action history: every trash, move, quarantine and delete, with undo where possible.

A plain view over :class:`dedup_gui.core.review.actionlog.ActionLog`; undo runs the core's
``ActionLog.undo`` (a rename back, verified) and the table refreshes.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dedup_gui.core.review.actionlog import UNDO, ActionLog, LogEntry, restore_hint

COLUMNS = ("When", "Action", "File", "Now at", "Outcome")
LABEL = {
    "trash": "Trashed",
    "move": "Moved",
    "quarantine": "Quarantined",
    "delete": "Deleted",
    UNDO: "Put back",
}


def display_path(path: Path | None) -> str:
    """A path as text Qt can show (undecodable bytes become U+FFFD)."""
    if path is None:
        return ""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


class HistoryDialog(QDialog):
    """The action log as a table, newest first; Undo puts a moved or trashed file back.

    Signals:
        restored(Path): A file was put back at this path.
    """

    restored = Signal(object)

    def __init__(self, log: ActionLog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.log = log
        self.setWindowTitle("Action history")
        self.resize(960, 440)
        layout = QVBoxLayout(self)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        layout.addWidget(self.table)
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        layout.addWidget(self.hint)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.undo_button = QPushButton("&Undo")
        self.undo_button.setToolTip("Put the selected file back where it was")
        buttons.addButton(self.undo_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.undo_button.clicked.connect(self.undo_selected)
        self.table.itemSelectionChanged.connect(self._on_selection)
        layout.addWidget(buttons)
        self.entries: list[LogEntry] = []
        self.refresh()

    def refresh(self) -> None:
        """Reload the log."""
        self.entries = list(reversed(self.log.entries()))
        undone = self.log.undone_ids()
        self.table.setRowCount(len(self.entries))
        for row, e in enumerate(self.entries):
            if e.id in undone:
                outcome = "undone"
            elif e.ok:
                outcome = "done"
            else:
                outcome = f"{e.status}: {e.error}"
            cells = (
                time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(e.time)),
                LABEL.get(e.kind, e.kind),
                display_path(e.source),
                display_path(e.destination),
                outcome,
            )
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                self.table.setItem(row, col, item)
        self.table.resizeColumnToContents(0)
        self.table.resizeColumnToContents(1)
        done = sum(1 for e in self.entries if e.ok and e.kind != UNDO)
        self.summary.setText(
            f"{done} files acted on ({len(self.entries)} entries). Log: "
            f"{display_path(self.log.path)}"
            if self.entries
            else "No file actions recorded yet."
        )
        self._on_selection()

    def selected(self) -> LogEntry | None:
        """The entry of the selected row."""
        rows = self.table.selectionModel().selectedRows()
        return self.entries[rows[0].row()] if rows else None

    def select(self, row: int) -> None:
        """Select a row (newest first)."""
        self.table.selectRow(row)

    @Slot()
    def _on_selection(self) -> None:
        e = self.selected()
        self.undo_button.setEnabled(e is not None and self.log.can_undo(e))
        self.hint.setText(restore_hint(e) if e is not None else "")
        self.hint.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

    @Slot()
    def undo_selected(self) -> bool:
        """Undo the selected entry; True when the file is back."""
        e = self.selected()
        if e is None:
            return False
        result = self.log.undo(e)
        self.refresh()
        if result.ok:
            self.hint.setText(f"Put back: {display_path(result.path)}")
            self.restored.emit(result.path)
        else:
            self.hint.setText(f"Cannot undo: {result.error}")
        return result.ok
