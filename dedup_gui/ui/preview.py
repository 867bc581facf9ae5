"""The larger preview of the selected file: frames across its duration and its details."""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QPainter, QPalette, QPixmap
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from dedup_gui.core.review.thumbnails import ThumbSource, strip_times
from dedup_gui.core.types import DuplicateGroup, GroupMember
from dedup_gui.ui import formatting as fmt
from dedup_gui.ui.group_model import KIND_LABELS
from dedup_gui.ui.thumbnails import StripKey, ThumbnailLoader

PREVIEW_FRAMES = 8
PREVIEW_SIDE = 360


class FrameGrid(QWidget):
    """Frames in a two-column grid with their time stamps, scaled to the width."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pixmaps: list[QPixmap | None] = []
        self.times: tuple[float, ...] = ()
        self.message = ""
        self.columns = 2
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def set_frames(
        self, pixmaps: list[QPixmap | None] | None, times: tuple[float, ...], message: str = ""
    ) -> None:
        """Show frames (None entries as placeholders) or a message."""
        self.pixmaps = list(pixmaps or [])
        self.times = times
        self.message = message
        self.updateGeometry()
        self.update()

    def _cell(self) -> QSize:
        w = (self.width() - 6 * (self.columns - 1)) // self.columns
        return QSize(max(w, 10), max(int(w * 9 / 16), 6))

    def hasHeightForWidth(self) -> bool:  # noqa: D102
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: D102
        rows = max(1, (len(self.times) + self.columns - 1) // self.columns)
        cell_h = int((width - 6) / self.columns * 9 / 16)
        return rows * (cell_h + 6)

    def sizeHint(self) -> QSize:  # noqa: D102
        return QSize(320, self.heightForWidth(320))

    def paintEvent(self, event) -> None:  # noqa: D102
        p = QPainter(self)
        pal = self.palette()
        if self.message:
            p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            p.drawText(
                self.rect(), Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap, self.message
            )
            return
        cell = self._cell()
        for i, t in enumerate(self.times):
            r, c = divmod(i, self.columns)
            rect = QRect(
                c * (cell.width() + 6), r * (cell.height() + 6), cell.width(), cell.height()
            )
            pix = self.pixmaps[i] if i < len(self.pixmaps) else None
            if pix is None or pix.isNull():
                p.fillRect(rect, pal.color(QPalette.ColorRole.Mid))
            else:
                size = pix.size().scaled(rect.size(), Qt.AspectRatioMode.KeepAspectRatio)
                target = QRect(0, 0, size.width(), size.height())
                target.moveCenter(rect.center())
                p.fillRect(rect, Qt.GlobalColor.black)
                p.drawPixmap(target, pix)
            label = fmt.clock(t)
            fm = p.fontMetrics()
            box = QRect(0, 0, fm.horizontalAdvance(label) + 8, fm.height() + 2)
            box.moveBottomRight(rect.bottomRight())
            p.fillRect(box, Qt.GlobalColor.black)
            p.setPen(Qt.GlobalColor.white)
            p.drawText(box, Qt.AlignmentFlag.AlignCenter, label)


class PreviewPanel(QWidget):
    """Shows the current file (or group) with frames, details and actions.

    Signals:
        play(), reveal(), compare(): The buttons.
    """

    play = Signal()
    reveal = Signal()
    compare = Signal()

    def __init__(self, loader: ThumbnailLoader, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._loader = loader
        self._key: StripKey | None = None
        loader.ready.connect(self._on_ready)

        self.title = QLabel()
        self.title.setObjectName("previewTitle")
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.title.setFont(font)
        self.path = QLabel()
        self.path.setWordWrap(True)
        self.path.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.path.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.frames = FrameGrid()
        self.details = QFormLayout()
        self.details.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        self.details.setHorizontalSpacing(10)
        self.details.setVerticalSpacing(2)

        self.play_button = QPushButton("Play")
        self.play_button.setToolTip("Open in the system video player (Return)")
        self.play_button.clicked.connect(self.play)
        self.reveal_button = QPushButton("Show in folder")
        self.reveal_button.setToolTip("Reveal in the file manager (Ctrl+R)")
        self.reveal_button.clicked.connect(self.reveal)
        self.compare_button = QPushButton("Compare…")
        self.compare_button.setToolTip(
            "Compare with the group's reference, or the two selected files (Ctrl+D)"
        )
        self.compare_button.clicked.connect(self.compare)
        buttons = QHBoxLayout()
        for b in (self.play_button, self.reveal_button, self.compare_button):
            buttons.addWidget(b)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.path)
        layout.addWidget(self.frames)
        layout.addLayout(self.details)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self.show_nothing()

    def show_nothing(self) -> None:
        """Empty state."""
        self._set_key(None)
        self.title.setText("Nothing selected")
        self.path.setText("Select a file to see frames from across its duration.")
        self.frames.set_frames(None, ())
        self._set_details([])
        self._enable(False)

    def show_group(self, group: DuplicateGroup, reclaim: int) -> None:
        """A group row: a summary and its reference file's frames."""
        ref = group.reference_member
        self.title.setText(
            f"{len(group.members)} files · {KIND_LABELS.get(group.kind, group.kind)}"
        )
        self.path.setText(f"Reference: {ref.file.path}")
        self._set_details([("Reclaimable", fmt.size(reclaim)), ("Group", str(group.id))])
        self._show_frames(ref)
        self._enable(False)

    def show_member(self, group: DuplicateGroup, m: GroupMember) -> None:
        """A file row."""
        f, p = m.file, m.file.probe
        self.title.setText(f.name)
        self.path.setText(str(f.path.parent))
        rows = [("Size", fmt.size(f.size)), ("Modified", fmt.mtime(f.mtime_ns))]
        if p is not None:
            rows += [
                ("Duration", fmt.duration(p.duration)),
                ("Resolution", fmt.resolution(p.width, p.height)),
                ("Frame rate", f"{fmt.fps(p.fps)} fps" if p.fps else ""),
                ("Video", f"{p.codec} in {p.container}" if p.container else p.codec),
                ("Bitrate", fmt.bitrate(p.bitrate)),
                ("Audio", "yes" if p.has_audio else "no"),
            ]
        if m.file.is_reference:
            rows.append(("Folder", "reference folder (never marked)"))
        if m is group.reference_member:
            rows.append(("Similarity", "the group's reference"))
        else:
            rows.append(("Similarity", fmt.percent(m.similarity)))
        self._set_details(rows)
        self._show_frames(m)
        self._enable(True)

    def _enable(self, on: bool) -> None:
        for b in (self.play_button, self.reveal_button, self.compare_button):
            b.setEnabled(on)

    def _set_details(self, rows: list[tuple[str, str]]) -> None:
        while self.details.rowCount():
            self.details.removeRow(0)
        for label, value in rows:
            if value:
                v = QLabel(value)
                v.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
                self.details.addRow(label, v)

    def _show_frames(self, m: GroupMember) -> None:
        p = m.file.probe
        if p is None or p.duration <= 0:
            self._set_key(None)
            self.frames.set_frames(None, (), "No frames: the duration is unknown")
            return
        times = tuple(strip_times(p.duration, PREVIEW_FRAMES))
        key = StripKey(ThumbSource(m.file.path, m.file.size, m.file.mtime_ns), times, PREVIEW_SIDE)
        self._set_key(key)
        self._refresh()

    def _set_key(self, key: StripKey | None) -> None:
        if self._key is not None and self._key != key:
            self._loader.cancel(self._key)  # the old selection's frames are stale now
        self._key = key

    def _refresh(self) -> None:
        key = self._key
        if key is None:
            return
        error = self._loader.error(key)
        if error:
            self.frames.set_frames(None, key.times, f"No preview: {error}")
            return
        self.frames.set_frames(self._loader.request(key), key.times)

    def _on_ready(self, key: StripKey) -> None:
        if key == self._key:
            self._refresh()
