"""Look and feel: Fusion style, a dark palette on request, status colours and small icons.

Status colours are translucent, so they read well on light and dark palettes alike.
"""

from __future__ import annotations

import itertools
import sys
from functools import cache
from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import (
    QBrush,
    QColor,
    QGuiApplication,
    QIcon,
    QPainter,
    QPainterPath,
    QPalette,
    QPen,
    QPixmap,
)
from PySide6.QtWidgets import QApplication


def _resources() -> Path:
    frozen = getattr(sys, "_MEIPASS", None)  # PyInstaller bundle (packaging/dedup-gui.spec)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


RESOURCES = _resources()

MARKED = QColor(230, 60, 60, 58)
KEEP = QColor(60, 190, 90, 60)
REFERENCE = QColor(70, 130, 230, 60)
ALL_MARKED = QColor(240, 150, 30, 110)
DIFF = QColor(240, 170, 40, 90)


def app_icon() -> QIcon:
    """The application icon (SVG with PNG fallbacks)."""
    icon = QIcon()
    for name in ("dedup-gui.svg", "dedup-gui.png"):
        path = RESOURCES / name
        if path.exists():
            icon.addFile(str(path))
    return icon


def is_dark(palette: QPalette | None = None) -> bool:
    """Whether the palette has light text on a dark window."""
    pal = palette or QGuiApplication.palette()
    return pal.color(QPalette.ColorRole.Window).lightness() < 128


def dark_palette() -> QPalette:
    """A calm dark palette for the Fusion style."""
    p = QPalette()
    window, base, text = QColor(37, 39, 43), QColor(28, 30, 33), QColor(225, 227, 230)
    accent = QColor(64, 132, 214)
    for group in (QPalette.ColorGroup.Active, QPalette.ColorGroup.Inactive):
        p.setColor(group, QPalette.ColorRole.Window, window)
        p.setColor(group, QPalette.ColorRole.WindowText, text)
        p.setColor(group, QPalette.ColorRole.Base, base)
        p.setColor(group, QPalette.ColorRole.AlternateBase, QColor(34, 36, 40))
        p.setColor(group, QPalette.ColorRole.ToolTipBase, QColor(50, 52, 57))
        p.setColor(group, QPalette.ColorRole.ToolTipText, text)
        p.setColor(group, QPalette.ColorRole.PlaceholderText, QColor(130, 134, 140))
        p.setColor(group, QPalette.ColorRole.Text, text)
        p.setColor(group, QPalette.ColorRole.Button, QColor(48, 50, 55))
        p.setColor(group, QPalette.ColorRole.ButtonText, text)
        p.setColor(group, QPalette.ColorRole.BrightText, QColor(255, 90, 90))
        p.setColor(group, QPalette.ColorRole.Link, QColor(110, 170, 240))
        p.setColor(group, QPalette.ColorRole.Highlight, accent)
        p.setColor(group, QPalette.ColorRole.HighlightedText, QColor(255, 255, 255))
        p.setColor(group, QPalette.ColorRole.Light, QColor(70, 72, 78))
        p.setColor(group, QPalette.ColorRole.Midlight, QColor(58, 60, 66))
        p.setColor(group, QPalette.ColorRole.Mid, QColor(44, 46, 50))
        p.setColor(group, QPalette.ColorRole.Dark, QColor(22, 23, 26))
        p.setColor(group, QPalette.ColorRole.Shadow, QColor(0, 0, 0))
    dim = QColor(120, 123, 128)
    for role in (
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
    ):
        p.setColor(QPalette.ColorGroup.Disabled, role, dim)
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Base, QColor(33, 35, 38))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Button, QColor(44, 46, 50))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Highlight, QColor(80, 84, 90))
    return p


def _indicator_sheet(dark: bool) -> str:
    """Check boxes that stay visible on a dark palette.

    Fusion draws a check box's outline a shade darker than the window, which vanishes on a dark
    base; this outline follows the text colour instead.
    """
    if not dark:
        return ""
    check = (RESOURCES / "check.svg").as_posix()
    return f"""
    QAbstractItemView::indicator, QCheckBox::indicator {{
        width: 13px; height: 13px; border-radius: 3px;
        border: 1px solid rgba(225, 227, 230, 0.55); background: rgb(28, 30, 33);
    }}
    QAbstractItemView::indicator:checked, QCheckBox::indicator:checked {{
        border: 1px solid rgb(64, 132, 214); background: rgb(64, 132, 214); image: url({check});
    }}
    QAbstractItemView::indicator:disabled, QCheckBox::indicator:disabled {{
        border: 1px solid rgba(225, 227, 230, 0.25);
    }}
    """


def apply_theme(app: QApplication, theme: str) -> None:
    """Fusion style with the system palette, or the built-in dark or light palette."""
    app.setStyle("Fusion")
    dark = theme == "dark"
    if theme == "system":
        scheme = getattr(QGuiApplication.styleHints(), "colorScheme", None)
        dark = scheme is not None and scheme() == Qt.ColorScheme.Dark
    app.setPalette(dark_palette() if dark else app.style().standardPalette())
    app.setStyleSheet(_indicator_sheet(dark))


@cache
def status_icon(kind: str) -> QIcon:
    """Small icons for file rows: ``keep``, ``reference``, ``marked``, ``warning``."""
    size = 32
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    pen = QPen(
        QColor(255, 255, 255),
        3.2,
        Qt.PenStyle.SolidLine,
        Qt.PenCapStyle.RoundCap,
        Qt.PenJoinStyle.RoundJoin,
    )
    if kind == "keep":
        p.setBrush(QBrush(QColor(46, 160, 80)))
        p.setPen(Qt.PenStyle.NoPen)
        p.drawEllipse(QRectF(2, 2, 28, 28))
        p.setPen(pen)
        path = QPainterPath(QPointF(9, 16.5))
        path.lineTo(14, 21.5)
        path.lineTo(23, 11)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawPath(path)
    elif kind == "reference":
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QBrush(QColor(60, 120, 220)))
        p.drawRoundedRect(QRectF(6, 13, 20, 16), 3, 3)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(QColor(60, 120, 220), 3.5))
        p.drawArc(QRectF(10, 3, 12, 18), 0, 180 * 16)
    elif kind == "marked":
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QBrush(QColor(215, 60, 60)))
        p.drawRoundedRect(QRectF(8, 9, 16, 20), 2, 2)
        p.drawRect(QRectF(5, 5, 22, 3))
        p.drawRect(QRectF(13, 2, 6, 3))
    elif kind == "warning":
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QBrush(QColor(235, 150, 30)))
        tri = QPainterPath(QPointF(16, 2))
        tri.lineTo(30, 29)
        tri.lineTo(2, 29)
        tri.closeSubpath()
        p.drawPath(tri)
        p.setPen(QPen(QColor(30, 30, 30), 3.4, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap))
        p.drawLine(QPointF(16, 11), QPointF(16, 19))
        p.drawPoint(QPointF(16, 24.5))
    p.end()
    return QIcon(pix)


def heat_colours() -> list[tuple[int, int, int]]:
    """A perceptual dark-blue → teal → yellow ramp (viridis-like), 256 entries."""
    stops = [
        (0.0, (32, 18, 60)),
        (0.25, (52, 78, 140)),
        (0.5, (34, 144, 140)),
        (0.75, (94, 200, 96)),
        (1.0, (250, 230, 40)),
    ]
    out = []
    for i in range(256):
        x = i / 255
        for (x0, c0), (x1, c1) in itertools.pairwise(stops):
            if x <= x1:
                t = (x - x0) / (x1 - x0)
                out.append(tuple(int(round(a + (b - a) * t)) for a, b in zip(c0, c1, strict=True)))
                break
    return out  # type: ignore[return-value]
