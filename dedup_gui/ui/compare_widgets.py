"""The compare view's two drawings: the frame-similarity heatmap and rows of paired frames.

:class:`Heatmap` paints the frame-to-frame similarity matrix of two files (click a cell to see
that pair of frames); :class:`FramePairs` paints frames of both files at matched moments.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QImage,
    QLinearGradient,
    QMouseEvent,
    QPainter,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QSizePolicy, QToolTip, QWidget

from dedup_gui.ui import formatting as fmt
from dedup_gui.ui import theme

ALIGNED_FRAMES = 6  # frames of each file shown at aligned moments


def heat_image(matrix: np.ndarray) -> QImage:
    """The matrix (rows: A's frames, columns: B's) as a colour image, 1 pixel per cell."""
    lut = np.array(theme.heat_colours(), np.uint8)
    m = np.clip(np.nan_to_num(matrix, nan=0.0), 0.0, 1.0)
    rgb = np.ascontiguousarray(lut[(m * 255).astype(np.uint8)])
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, 3 * w, QImage.Format.Format_RGB888).copy()


class Heatmap(QWidget):
    """Frame-to-frame similarity: A's frames down, B's across; the matched time line as dots.

    Signals:
        picked(int, int): A cell was clicked (frame of A, frame of B).
    """

    picked = Signal(int, int)
    MARGIN_L, MARGIN_B, MARGIN_T, MARGIN_R = 62, 36, 8, 8

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setMinimumSize(260, 260)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self._image: QImage | None = None
        self._matrix = np.zeros((0, 0), np.float32)
        self._ta = np.zeros(0)
        self._tb = np.zeros(0)
        self._aligned = np.zeros((0, 2), int)
        self.selected: tuple[int, int] | None = None
        self.fine = False  # tenths of seconds on short clips

    def set_data(
        self, matrix: np.ndarray, ta: np.ndarray, tb: np.ndarray, aligned: np.ndarray
    ) -> None:
        """Show a matrix with its frame times and aligned pairs."""
        self._matrix = np.asarray(matrix, np.float32)
        self._ta, self._tb = np.asarray(ta), np.asarray(tb)
        self._aligned = np.asarray(aligned, int).reshape(-1, 2)
        self._image = heat_image(self._matrix) if self._matrix.size else None
        self.update()

    def sizeHint(self) -> QSize:  # noqa: D102
        return QSize(420, 420)

    def _plot(self) -> QRect:
        r = self.rect().adjusted(self.MARGIN_L, self.MARGIN_T, -self.MARGIN_R, -self.MARGIN_B)
        na, nb = self._matrix.shape if self._matrix.size else (1, 1)
        # keep cells square-ish so time runs at the same pace on both axes
        scale = min(r.width() / nb, r.height() / na)
        w, h = int(nb * scale), int(na * scale)
        return QRect(r.x(), r.y(), max(w, 1), max(h, 1))

    def cell_at(self, pos: QPointF) -> tuple[int, int] | None:
        """The (A frame, B frame) under a point."""
        if not self._matrix.size:
            return None
        plot = self._plot()
        if not plot.contains(pos.toPoint()):
            return None
        na, nb = self._matrix.shape
        i = int((pos.y() - plot.y()) / plot.height() * na)
        j = int((pos.x() - plot.x()) / plot.width() * nb)
        return min(i, na - 1), min(j, nb - 1)

    def cell_center(self, i: int, j: int) -> QPointF:
        """Widget position of a cell's centre."""
        plot = self._plot()
        na, nb = self._matrix.shape
        return QPointF(
            plot.x() + (j + 0.5) * plot.width() / nb, plot.y() + (i + 0.5) * plot.height() / na
        )

    def paintEvent(self, event) -> None:  # noqa: D102
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        pal = self.palette()
        if self._image is None:
            p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No frames to compare")
            return
        plot = self._plot()
        p.drawImage(plot, self._image)  # nearest-neighbour: cells stay crisp
        na, nb = self._matrix.shape
        # aligned path
        p.setPen(QPen(QColor(255, 255, 255, 200), 1.2))
        p.setBrush(Qt.BrushStyle.NoBrush)
        radius = max(1.5, min(plot.width() / nb, plot.height() / na) * 0.22)
        for i, j in self._aligned:
            p.drawEllipse(self.cell_center(int(i), int(j)), radius, radius)
        if self.selected is not None:
            i, j = self.selected
            p.setPen(QPen(QColor(255, 70, 70), 2))
            c = self.cell_center(i, j)
            p.drawEllipse(c, radius + 4, radius + 4)
        # axes
        text = pal.color(QPalette.ColorRole.WindowText)
        p.setPen(text)
        fm = p.fontMetrics()
        for k in self._ticks(na):
            y = plot.y() + (k + 0.5) * plot.height() / na
            label = fmt.moment(float(self._ta[k]), self.fine)
            p.drawText(
                QRectF(18, y - 8, self.MARGIN_L - 24, 16),
                Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter,
                label,
            )
        for k in self._ticks(nb):
            x = plot.x() + (k + 0.5) * plot.width() / nb
            label = fmt.moment(float(self._tb[k]), self.fine)
            w = fm.horizontalAdvance(label)
            p.drawText(QPointF(x - w / 2, plot.bottom() + fm.height() + 2), label)
        p.drawText(QPointF(plot.x(), self.height() - 4), "B →  (time)")
        # colour legend: 0 % .. 100 % frame similarity
        bar = QRectF(plot.right() - 120, self.height() - 14, 80, 9)
        if bar.left() > plot.x() + 110:
            grad = QLinearGradient(bar.topLeft(), bar.topRight())
            for k, (r, g, b) in enumerate(theme.heat_colours()[::51]):
                grad.setColorAt(k / 5, QColor(r, g, b))
            grad.setColorAt(1.0, QColor(*theme.heat_colours()[-1]))
            p.fillRect(bar, grad)
            p.drawText(QPointF(bar.left() - fm.horizontalAdvance("0%") - 4, bar.bottom()), "0%")
            p.drawText(QPointF(bar.right() + 4, bar.bottom()), "100%")
        p.save()
        label = "A →  (time)"
        p.translate(fm.ascent(), plot.y() + plot.height() / 2 + fm.horizontalAdvance(label) / 2)
        p.rotate(-90)
        p.drawText(QPointF(0, 0), label)
        p.restore()

    @staticmethod
    def _ticks(n: int, count: int = 5) -> list[int]:
        if n <= 0:
            return []
        return sorted({int(round(x)) for x in np.linspace(0, n - 1, min(n, count))})

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: D102
        cell = self.cell_at(event.position())
        if cell is None:
            QToolTip.hideText()
            return
        i, j = cell
        QToolTip.showText(
            event.globalPosition().toPoint(),
            f"A {fmt.moment(float(self._ta[i]), True)} ↔ B {fmt.moment(float(self._tb[j]), True)}: "
            f"{fmt.percent(float(self._matrix[i, j]))}",
            self,
        )

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: D102
        cell = self.cell_at(event.position())
        if cell is not None:
            self.selected = cell
            self.update()
            self.picked.emit(*cell)


class FramePairs(QWidget):
    """Frames of A and B at matching moments.

    In rows mode (the aligned strip) A's frames run above B's, one column per moment; in
    side-by-side mode (the picked pair) one frame of A sits left of one frame of B.
    """

    GAP = 6
    LABEL_W = 26

    def __init__(self, side_by_side: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.side_by_side = side_by_side
        self.a: list[QPixmap | None] = []
        self.b: list[QPixmap | None] = []
        self.ta: tuple[float, ...] = ()
        self.tb: tuple[float, ...] = ()
        self.message = ""
        self.fine = False
        self._columns = ALIGNED_FRAMES if not side_by_side else 2
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_pairs(self, ta: tuple[float, ...], tb: tuple[float, ...], message: str = "") -> None:
        """Moments to show (frames arrive through :meth:`set_frames`)."""
        self.ta, self.tb, self.message = ta, tb, message
        self.a, self.b = [], []
        self.updateGeometry()
        self.update()

    def set_frames(self, a: list[QPixmap | None] | None, b: list[QPixmap | None] | None) -> None:
        """Frames for the current moments."""
        if a is not None:
            self.a = a
        if b is not None:
            self.b = b
        self.update()

    def _cell(self, width: int) -> tuple[float, float]:
        n = self._columns
        cell_w = (width - self.LABEL_W - self.GAP * (n - 1)) / max(n, 1)
        if self.side_by_side:
            cell_w = (width - self.GAP) / 2
        return cell_w, cell_w * 9 / 16

    def _height(self, width: int) -> int:
        fm = self.fontMetrics()
        _, cell_h = self._cell(width)
        rows = 1 if self.side_by_side else 2
        return int(rows * (cell_h + fm.height() + 4) + self.GAP * (rows - 1))

    def sizeHint(self) -> QSize:  # noqa: D102
        w = self.width() if self.width() > 100 else 900
        return QSize(w, self._height(w))

    def resizeEvent(self, event) -> None:  # noqa: D102
        super().resizeEvent(event)
        if event.oldSize().width() != event.size().width():
            self.setFixedHeight(self._height(event.size().width()))

    def _frame(self, p: QPainter, rect: QRectF, pix: QPixmap | None, caption: str) -> None:
        pal = self.palette()
        if pix is None or pix.isNull():
            p.fillRect(rect, pal.color(QPalette.ColorRole.Mid))
        else:
            p.fillRect(rect, Qt.GlobalColor.black)
            size = pix.size().scaled(rect.size().toSize(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRectF(0, 0, size.width(), size.height())
            target.moveCenter(rect.center())
            p.drawPixmap(target.toRect(), pix)
        p.setPen(pal.color(QPalette.ColorRole.WindowText))
        fm = p.fontMetrics()
        p.drawText(
            QRectF(rect.x(), rect.bottom() + 2, rect.width(), fm.height() + 2),
            Qt.AlignmentFlag.AlignCenter,
            caption,
        )

    def paintEvent(self, event) -> None:  # noqa: D102
        p = QPainter(self)
        pal = self.palette()
        if self.message or not self.ta:
            p.setPen(pal.color(QPalette.ColorRole.PlaceholderText))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.message)
            return
        cell_w, cell_h = self._cell(self.width())
        fm = p.fontMetrics()
        if self.side_by_side:
            for k, (pixes, times, name) in enumerate(
                ((self.a, self.ta, "A"), (self.b, self.tb, "B"))
            ):
                rect = QRectF(k * (cell_w + self.GAP), 0, cell_w, cell_h)
                self._frame(
                    p,
                    rect,
                    pixes[0] if pixes else None,
                    f"{name} at {fmt.moment(times[0], self.fine)}",
                )
            return
        bold = QFont(p.font())
        bold.setBold(True)
        for row, (pixes, times, name) in enumerate(
            ((self.a, self.ta, "A"), (self.b, self.tb, "B"))
        ):
            y = row * (cell_h + fm.height() + 4 + self.GAP)
            p.setFont(bold)
            p.setPen(pal.color(QPalette.ColorRole.WindowText))
            p.drawText(QRectF(0, y, self.LABEL_W - 4, cell_h), Qt.AlignmentFlag.AlignCenter, name)
            p.setFont(self.font())
            for k in range(len(times)):
                rect = QRectF(self.LABEL_W + k * (cell_w + self.GAP), y, cell_w, cell_h)
                self._frame(
                    p, rect, pixes[k] if k < len(pixes) else None, fmt.moment(times[k], self.fine)
                )
