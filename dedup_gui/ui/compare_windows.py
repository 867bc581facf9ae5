"""The open compare windows: open one for a pair of files, stop them all, close them all."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QWidget

from dedup_gui.core.analyse.embed import Embedder
from dedup_gui.core.options import ScanOptions
from dedup_gui.core.types import GroupMember
from dedup_gui.ui import system
from dedup_gui.ui.compare import CompareDialog
from dedup_gui.ui.thumbnails import ThumbnailLoader


class CompareWindows(QObject):
    """Non-modal compare dialogs, tracked so a scan or closing the window can stop them.

    Signals:
        not_duplicate(Path, Path): The user said two files are not duplicates.
    """

    not_duplicate = Signal(Path, Path)

    def __init__(
        self,
        parent: QWidget,
        loader: ThumbnailLoader,
        embedder: Callable[[ScanOptions], Embedder],
    ) -> None:
        super().__init__(parent)
        self._parent = parent
        self._loader = loader
        self._embedder = embedder
        self.dialogs: list[CompareDialog] = []

    def open(self, a: GroupMember, b: GroupMember, options: ScanOptions) -> CompareDialog:
        """Show ``a`` (the reference side) and ``b`` side by side."""
        embedder = self._embedder
        dialog = CompareDialog(a, b, options, lambda: embedder(options), self._loader, self._parent)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.not_duplicate.connect(self.not_duplicate)
        dialog.play.connect(system.open_file)
        dialog.destroyed.connect(
            lambda *_: self.dialogs.remove(dialog) if dialog in self.dialogs else None
        )
        self.dialogs.append(dialog)
        dialog.show()
        return dialog

    def stop_all(self, reason: str) -> None:
        """Stop the work of every open dialog (one user of the engine at a time)."""
        for dialog in self.dialogs:
            dialog.stop(reason)

    def close_all(self) -> None:
        """Close every dialog (their workers stop)."""
        for dialog in list(self.dialogs):
            dialog.close()
