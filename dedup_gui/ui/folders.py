"""The folder list and the "which files" options on the left of the window."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from dedup_gui.ui import theme
from dedup_gui.ui.settings import Folder, Settings

PATH_ROLE = Qt.ItemDataRole.UserRole + 1


class FolderPanel(QWidget):
    """Folders to scan (add, remove, reference flag) and the discovery options.

    Every change is written to the settings at once.

    Signals:
        changed(): The folder list or an option changed.
    """

    changed = Signal()

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self.setAcceptDrops(False)  # the window handles drops anywhere

        self.list = QTreeWidget()
        self.list.setObjectName("folderList")
        self.list.setHeaderLabels(["Folders to scan", "Reference"])
        self.list.setRootIsDecorated(False)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setUniformRowHeights(True)
        self.list.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # keep the folder's own name
        header = self.list.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.list.headerItem().setToolTip(
            1, "Files in a reference folder are compared but never marked for deletion"
        )
        self.list.setToolTip("Drop folders here or anywhere on the window")
        self.list.itemChanged.connect(self._on_item_changed)
        self.list.itemSelectionChanged.connect(self._update_buttons)

        self.add_button = QPushButton("Add folder…")
        self.add_button.setToolTip("Add a folder to scan (Ctrl+Shift+O)")
        self.add_button.clicked.connect(self.choose_folder)
        self.remove_button = QPushButton("Remove")
        self.remove_button.setToolTip("Remove the selected folders from the list (Delete)")
        self.remove_button.clicked.connect(self.remove_selected)
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        buttons.addStretch(1)

        self.recursive = QCheckBox("Include sub-folders")
        self.recursive.setChecked(settings.recursive)
        self.recursive.toggled.connect(self._save_options)
        self.exclude = QLineEdit(settings.exclude)
        self.exclude.setPlaceholderText("e.g. */.Trash*; *.part; */Samples")
        self.exclude.setToolTip(
            "Skip files and folders matching these patterns (separate with ';')"
        )
        self.exclude.setClearButtonEnabled(True)
        self.exclude.editingFinished.connect(self._save_options)
        self.min_size = QDoubleSpinBox()
        self.min_size.setRange(0, 1_000_000)
        self.min_size.setDecimals(1)
        self.min_size.setSuffix(" MB")
        self.min_size.setSpecialValueText("no minimum")
        self.min_size.setValue(settings.min_size_mb)
        self.min_size.valueChanged.connect(self._save_options)
        self.min_duration = QDoubleSpinBox()
        self.min_duration.setRange(0, 36_000)
        self.min_duration.setDecimals(0)
        self.min_duration.setSuffix(" s")
        self.min_duration.setSpecialValueText("no minimum")
        self.min_duration.setValue(settings.min_duration)
        self.min_duration.valueChanged.connect(self._save_options)

        options = QGroupBox("Which files")
        form = QFormLayout(options)
        form.addRow(self.recursive)
        form.addRow("Exclude", self.exclude)
        form.addRow("Min size", self.min_size)
        form.addRow("Min duration", self.min_duration)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        layout.addWidget(options)

        self.list.addAction(self._delete_action())
        for folder in settings.folders:
            self._add_item(folder)
        self._update_buttons()

    def _delete_action(self):  # type: ignore[no-untyped-def]
        from PySide6.QtGui import QAction

        action = QAction("Remove folder", self.list)
        action.setShortcut(QKeySequence.StandardKey.Delete)
        action.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        action.triggered.connect(self.remove_selected)
        return action

    # ---------------------------------------------------------------- folders
    def folders(self) -> list[Folder]:
        """The folders in the list."""
        out = []
        for i in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(i)
            out.append(
                Folder(
                    Path(item.data(0, PATH_ROLE)),
                    item.checkState(1) == Qt.CheckState.Checked,
                )
            )
        return out

    def add_folders(self, paths: list[Path]) -> int:
        """Add folders (files add their folder); returns how many were new."""
        have = {f.path for f in self.folders()}
        added = 0
        for p in paths:
            p = Path(p)
            if p.is_file():
                p = p.parent
            if not p.is_dir():
                continue
            p = p.resolve()
            if p in have:
                continue
            have.add(p)
            self._add_item(Folder(p))
            added += 1
        if added:
            self._save_folders()
        return added

    def remove_selected(self) -> None:
        """Remove the selected folders."""
        for item in self.list.selectedItems():
            self.list.takeTopLevelItem(self.list.indexOfTopLevelItem(item))
        self._save_folders()

    def set_reference(self, path: Path, reference: bool) -> None:
        """Mark a listed folder as a reference folder (or not)."""
        for i in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(i)
            if Path(item.data(0, PATH_ROLE)) == Path(path):
                item.setCheckState(
                    1, Qt.CheckState.Checked if reference else Qt.CheckState.Unchecked
                )

    def choose_folder(self) -> None:
        """Ask for a folder with the system picker and add it."""
        start = self._settings.last_dir or str(Path.home())
        path = QFileDialog.getExistingDirectory(self, "Add a folder to scan", start)
        if path:
            self._settings.last_dir = path
            self.add_folders([Path(path)])

    def _add_item(self, folder: Folder) -> None:
        item = QTreeWidgetItem([str(folder.path), ""])
        item.setData(0, PATH_ROLE, str(folder.path))
        item.setToolTip(0, str(folder.path))
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(
            1, Qt.CheckState.Checked if folder.reference else Qt.CheckState.Unchecked
        )
        item.setToolTip(1, "Reference folder: its files are never marked for deletion")
        if not folder.path.is_dir():
            item.setIcon(0, theme.status_icon("warning"))
            item.setToolTip(0, f"{folder.path}\nThis folder does not exist (any more)")
        self.list.addTopLevelItem(item)

    def _on_item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        if column == 1:
            self._save_folders()

    def _save_folders(self) -> None:
        self._settings.folders = self.folders()
        self._update_buttons()
        self.changed.emit()

    def _save_options(self) -> None:
        s = self._settings
        s.recursive = self.recursive.isChecked()
        s.exclude = self.exclude.text()
        s.min_size_mb = self.min_size.value()
        s.min_duration = self.min_duration.value()
        self.changed.emit()

    def _update_buttons(self) -> None:
        self.remove_button.setEnabled(bool(self.list.selectedItems()))
