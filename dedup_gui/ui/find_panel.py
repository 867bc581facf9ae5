"""The Find copies tab: a drop zone with buttons above the ranked copies of each query."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from dedup_gui.ui.find_model import FindCol, FindModel
from dedup_gui.ui.group_model import Col
from dedup_gui.ui.results_view import ResultsView
from dedup_gui.ui.thumbnails import ThumbnailLoader

HINT = (
    "<h3>Where else is this?</h3><p>Drop a video (or a folder of clips) here, or choose one "
    "above,<br>to find its copies among the videos your scans analysed:<br>the same video, "
    "mirrored or turned, the longer video a clip was cut from,<br>or the clips cut from it. "
    "You can also right-click a file in the<br>duplicates list and pick <b>Find everything "
    "like this</b>.</p>"
)
NOT_SCANNED = (
    "<h3>This library has not been scanned yet — scan it first?</h3><p>Find copies searches "
    "the videos a scan has analysed, and none was analysed<br>under {where}.</p>"
    '<p><a href="scan">Scan the folders now</a> (F5); the search runs again when the scan '
    "is done.</p>"
)
NOTHING = (
    "<h3>No copies found</h3><p>Nothing among the {n} analysed videos matches {what}.<br>"
    "Try a lower sensitivity in Preferences, or scan more folders.</p>"
)


class FindPanel(QWidget):
    """Drop zone, buttons and the ranked results (a :class:`ResultsView` over a FindModel).

    Signals:
        find_requested(list): Files or folders to search for (dropped or chosen).
        choose_file(): "Choose a video…" was clicked.
        choose_folder(): "Choose a folder of clips…" was clicked.
        scan_requested(): The not-scanned prompt's link was clicked.
        trash_requested(): "Move marked to trash…" was clicked.
    """

    find_requested = Signal(list)
    choose_file = Signal()
    choose_folder = Signal()
    scan_requested = Signal()
    trash_requested = Signal()

    def __init__(
        self, model: FindModel, loader: ThumbnailLoader, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("findPanel")
        self.setAcceptDrops(True)
        self.model = model
        self.file_button = QPushButton("Choose a video…")
        self.file_button.setObjectName("findFileButton")
        self.file_button.setToolTip("Find the copies of one video or clip")
        self.file_button.clicked.connect(self.choose_file)
        self.folder_button = QPushButton("Choose a folder of clips…")
        self.folder_button.setToolTip("Find the copies of every video in a folder")
        self.folder_button.clicked.connect(self.choose_folder)
        self.trash_button = QPushButton("Move marked to trash…")
        self.trash_button.setObjectName("findTrashButton")
        self.trash_button.setToolTip("Move the marked copies to the system trash (asks first)")
        self.trash_button.clicked.connect(self.trash_requested)
        self.summary = QLabel()
        self.summary.setObjectName("findSummary")
        top = QHBoxLayout()
        top.addWidget(self.file_button)
        top.addWidget(self.folder_button)
        top.addWidget(self.summary, 1)
        top.addWidget(self.trash_button)

        self.results = ResultsView(model, loader)
        self.results.filter.setPlaceholderText("Filter the copies by name or folder")
        self.results.tree.setObjectName("findResults")
        self.results.tree.sortByColumn(Col.SIMILARITY, Qt.SortOrder.DescendingOrder)
        self.results.empty.linkActivated.connect(lambda _link: self.scan_requested.emit())
        header = self.results.tree.header()
        for col in (Col.BITRATE, Col.CODEC, Col.FPS, Col.MODIFIED, Col.SIZE):
            self.results.tree.setColumnHidden(col, True)
        widths = {
            Col.NAME: 200,
            Col.SIMILARITY: 84,
            FindCol.KIND: 112,
            FindCol.QUERY_RANGE: 104,
            FindCol.MATCH_RANGE: 104,
        }
        for col, w in widths.items():
            header.resizeSection(col, w)
        # kind and ranges right after the similarity
        for offset, col in enumerate(FindCol):
            header.moveSection(header.visualIndex(col), header.visualIndex(Col.SIMILARITY) + 1
                               + offset)  # fmt: skip
        self.show_hint()

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.results, 1)

    def show_hint(self) -> None:
        """The empty state before any search."""
        self.results.set_empty_text(HINT)
        self.summary.clear()

    def show_not_scanned(self, where: str) -> None:
        """The library has nothing analysed: offer to scan it."""
        self.results.set_empty_text(NOT_SCANNED.format(where=where))
        self.summary.setText("Nothing analysed yet")

    def show_nothing(self, n: int, what: str) -> None:
        """The search ran and found no copy."""
        self.results.set_empty_text(NOTHING.format(n=n, what=what))

    def set_busy(self, busy: bool) -> None:
        """Disable the buttons while a search (or a scan) runs."""
        for b in (self.file_button, self.folder_button):
            b.setEnabled(not busy)
        self.setAcceptDrops(not busy)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: D102
        if event.mimeData().hasUrls() and any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: D102
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.find_requested.emit(paths)
        event.acceptProposedAction()
