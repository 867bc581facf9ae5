"""The file under the cursor in the results: preview it, play it, reveal it, compare it."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QObject

from dedup_gui.core.options import ScanOptions
from dedup_gui.core.review import selection
from dedup_gui.core.types import GroupMember
from dedup_gui.ui import system
from dedup_gui.ui.compare_windows import CompareWindows
from dedup_gui.ui.group_model import GroupModel
from dedup_gui.ui.preview import PreviewPanel
from dedup_gui.ui.results_view import ResultsView

Status = Callable[[str, int], None]


class CurrentFile(QObject):
    """Acts on the current (or selected) files of the results tree.

    Args:
        parent: The window.
        model: The groups.
        results: The results tree.
        preview: The side panel that shows the current group or file.
        compares: Opens compare windows.
        options: The options of the scan shown (the compare view analyses alike).
        status: Shows a one-line message in the status bar.
    """

    def __init__(
        self,
        parent: QObject,
        model: GroupModel,
        results: ResultsView,
        preview: PreviewPanel,
        compares: CompareWindows,
        options: Callable[[], ScanOptions],
        status: Status,
    ) -> None:
        super().__init__(parent)
        self._model, self._results, self._preview = model, results, preview
        self._compares, self._options, self._status = compares, options, status

    def show(self) -> None:
        """Show the current group or file in the preview panel."""
        src = self._results.current_source()
        g = self._model.group_of(src)
        if g is None:
            self._preview.show_nothing()
            return
        m = self._model.member_of(src)
        if m is None:
            keep = self._model.keeper(g.id)
            self._preview.show_group(
                g,
                sum(
                    x.file.size
                    for i, x in enumerate(g.members)
                    if i != keep and selection.can_mark(x)
                ),
            )
        else:
            self._preview.show_member(g, m)

    def on_double_click(self, index: QModelIndex) -> None:
        """A double-click on a file plays it."""
        if self._model.member_of(self._results.proxy.mapToSource(index)) is not None:
            self.play()

    def play(self) -> None:
        """Open the current file in the system player."""
        m = self._results.current_member()
        if m is not None and not system.open_file(m.file.path):
            self._status(f"No application to play {m.file.name}", 8000)

    def reveal(self) -> None:
        """Show the current file in the file manager."""
        m = self._results.current_member()
        if m is not None:
            system.reveal(m.file.path)

    def compare(self) -> None:
        """Compare the two selected files, or the current file with its group's reference."""
        members = self._results.selected_members()
        if len(members) >= 2:
            a, b = members[0], members[1]
        else:
            m = self._results.current_member()
            g = self._model.group_of(self._model.index_of_path(m.file.path)) if m else None
            if m is None or g is None:
                return
            other: GroupMember = g.reference_member
            if other is m:
                others = [x for x in g.members if x is not m]
                if not others:
                    return
                other = others[0]
            a, b = other, m
        self._compares.open(a, b, self._options())
