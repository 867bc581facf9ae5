"""Open a file in the system player, reveal it in the file manager."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

log = logging.getLogger(__name__)


def open_file(path: Path) -> bool:
    """Open ``path`` with the desktop's default application."""
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def reveal(path: Path) -> bool:
    """Show ``path`` selected in the file manager (its folder where selecting is unsupported)."""
    path = Path(path)
    try:
        if sys.platform == "win32":
            subprocess.Popen(["explorer", "/select,", str(path)])
            return True
        if sys.platform == "darwin":
            subprocess.Popen(["open", "-R", str(path)])
            return True
        if _freedesktop_show(path):
            return True
    except OSError as exc:
        log.debug("reveal failed: %s", exc)
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(path.parent)))


def _freedesktop_show(path: Path) -> bool:
    """org.freedesktop.FileManager1.ShowItems over D-Bus (Nautilus, Dolphin, Nemo, Thunar…)."""
    try:
        from PySide6.QtDBus import QDBusConnection, QDBusInterface
    except ImportError:
        return False
    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():
        return False
    iface = QDBusInterface(
        "org.freedesktop.FileManager1",
        "/org/freedesktop/FileManager1",
        "org.freedesktop.FileManager1",
        bus,
    )
    if not iface.isValid():
        return False
    reply = iface.call("ShowItems", [QUrl.fromLocalFile(str(path)).toString()], "")
    return not reply.errorName()
