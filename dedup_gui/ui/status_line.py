"""The status bar's permanent part: groups and files, space to reclaim, marks, scan problems."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QPushButton, QStatusBar

from dedup_gui.core.types import ScanResult
from dedup_gui.ui import formatting as fmt
from dedup_gui.ui.group_model import GroupModel


class StatusLine:
    """Labels added to ``bar``; :meth:`update` follows the model, :meth:`show_problems_of` a scan.

    The problems button is clickable; the window connects it.
    """

    def __init__(self, bar: QStatusBar) -> None:
        self.groups_label = QLabel()
        self.groups_label.setObjectName("groupsLabel")
        self.reclaim_label = QLabel()
        self.reclaim_label.setObjectName("reclaimLabel")
        self.marked_label = QLabel()
        self.marked_label.setObjectName("markedLabel")
        self.problems_button = QPushButton()
        self.problems_button.setFlat(True)
        self.problems_button.setObjectName("problemsButton")
        self.problems_button.hide()
        for w in (self.problems_button, self.groups_label, self.reclaim_label, self.marked_label):
            bar.addPermanentWidget(w)

    def update(self, model: GroupModel) -> None:
        """Counts of the groups shown and of the marked files."""
        groups = model.rowCount()
        files = model.file_count()
        self.groups_label.setText(f"{groups} groups · {files} files" if groups else "No groups")
        self.reclaim_label.setText(f"{fmt.size(model.reclaimable())} reclaimable" if groups else "")
        marked = model.marked_paths()
        self.marked_label.setText(
            f"{len(marked)} marked ({fmt.size(model.marked_bytes())})" if marked else ""
        )

    def show_problems_of(self, result: ScanResult) -> None:
        """Show the problems button when the scan skipped files or left notes."""
        skipped = sum(1 for p in result.problems if p.skipped)
        if skipped or result.notices:
            self.problems_button.setText(f"⚠ {skipped} skipped" if skipped else "⚠ notes")
            self.problems_button.setToolTip("Files that could not be compared (click for details)")
            self.problems_button.show()
        else:
            self.problems_button.hide()
