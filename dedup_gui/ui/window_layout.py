"""The window's layout: folders and the Scan button | results and progress | the preview."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QPushButton, QSplitter, QTreeView, QVBoxLayout, QWidget

from dedup_gui.ui.settings import Settings


def scan_button() -> QPushButton:
    """The big Scan button under the folder list."""
    button = QPushButton("Scan")
    button.setObjectName("scanButton")
    button.setDefault(True)
    button.setToolTip("Scan the folders for duplicate videos (F5)")
    button.setMinimumHeight(34)
    return button


def column(*widgets: QWidget, stretch_first: bool = True) -> QWidget:
    """Widgets stacked without margins; the first one takes the spare height."""
    box = QWidget()
    v = QVBoxLayout(box)
    v.setContentsMargins(0, 0, 0, 0)
    for i, w in enumerate(widgets):
        v.addWidget(w, 1 if i == 0 and stretch_first else 0)
    return box


def body(left: QWidget, center: QWidget, right: QWidget) -> tuple[QWidget, QSplitter]:
    """The three panes in a splitter (the middle one stretches), inside a margin."""
    splitter = QSplitter(Qt.Orientation.Horizontal)
    splitter.addWidget(left)
    splitter.addWidget(center)
    splitter.addWidget(right)
    splitter.setStretchFactor(0, 0)
    splitter.setStretchFactor(1, 1)
    splitter.setStretchFactor(2, 0)
    splitter.setSizes([250, 1060, 330])
    splitter.setCollapsible(1, False)
    outer = QWidget()
    bv = QVBoxLayout(outer)
    bv.setContentsMargins(8, 6, 8, 4)
    bv.addWidget(splitter)
    return outer, splitter


def restore_geometry(
    window: QWidget, settings: Settings, splitter: QSplitter, tree: QTreeView
) -> None:
    """The window's size, the panes' widths and the results' columns as the user left them."""
    geo = settings.geometry("geometry")
    if geo is not None:
        window.restoreGeometry(geo)
    else:
        window.resize(1500, 880)
    state = settings.geometry("splitter")
    if state is not None:
        splitter.restoreState(state)
    header = settings.geometry("header")
    if header is not None:
        tree.header().restoreState(header)


def save_geometry(
    window: QWidget, settings: Settings, splitter: QSplitter, tree: QTreeView
) -> None:
    """Remember the layout for the next start."""
    settings.set_geometry("geometry", window.saveGeometry())
    settings.set_geometry("splitter", splitter.saveState())
    settings.set_geometry("header", tree.header().saveState())
    settings.sync()
