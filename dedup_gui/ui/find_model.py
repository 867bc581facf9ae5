"""The Find copies results: one group per query (the query first, then its copies, best first).

A :class:`FindModel` is a :class:`~dedup_gui.ui.group_model.GroupModel` (marks, keepers,
reference files that cannot be marked, removals), so the groups view's file actions, their
confirmations and the reference-folder protection apply unchanged. It adds three columns: how
each file relates to the query, and the matched time range in the query and in the file.
"""

from __future__ import annotations

from enum import IntEnum
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt

from dedup_gui.core.find.copies import KIND_HELP, CopyKind, FindResult, FoundCopy
from dedup_gui.core.review.thumbnails import ThumbSource
from dedup_gui.core.types import DuplicateGroup, GroupKind, GroupMember
from dedup_gui.ui import formatting as fmt
from dedup_gui.ui.group_model import SORT_ROLE, STRIP_FRAMES, STRIP_ROLE, Col, GroupModel, Index


class FindCol(IntEnum):
    """The columns Find copies adds after the groups view's."""

    KIND = len(Col)
    QUERY_RANGE = len(Col) + 1
    MATCH_RANGE = len(Col) + 2


FIND_HEADERS = {
    FindCol.KIND: "Kind",
    FindCol.QUERY_RANGE: "In the query",
    FindCol.MATCH_RANGE: "In this file",
}
KIND_ORDER = {k: i for i, k in enumerate(CopyKind)}


def _span(r: tuple[float, float]) -> str:
    return f"{fmt.moment(r[0], True)}–{fmt.moment(r[1], True)}"


def to_groups(result: FindResult) -> tuple[list[DuplicateGroup], dict[Path, FoundCopy]]:
    """One group per query that has copies (the query is the group's reference)."""
    groups, copies = [], {}
    for gid, q in enumerate(result.queries, start=1):
        if not q.copies:
            continue
        members = [GroupMember(q.query, 1.0)]
        for c in q.copies:
            members.append(GroupMember(c.file, c.similarity, c.evidence))
            copies[c.path] = c
        partial = any(c.kind in (CopyKind.EXCERPT, CopyKind.CONTAINS) for c in q.copies)
        kind = GroupKind.PARTIAL if partial else GroupKind.NEAR_DUPLICATE
        groups.append(DuplicateGroup(gid, kind, tuple(members), reference=0, keep=0))
    return groups, copies


class FindModel(GroupModel):
    """Queries and their ranked copies (see the module docstring)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.result: FindResult | None = None
        self._copies: dict[Path, FoundCopy] = {}

    def set_result(self, result: FindResult) -> None:
        """Show what a search found (marks are cleared)."""
        self.result = result
        groups, self._copies = to_groups(result)
        self.set_groups(groups)

    def copy_of(self, path: Path) -> FoundCopy | None:
        """The match shown for a library file (None for queries)."""
        return self._copies.get(path)

    def columnCount(self, parent: Index | None = None) -> int:  # noqa: D102
        return len(Col) + len(FindCol)

    def headerData(  # noqa: D102
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and section >= len(Col):
            if role == Qt.ItemDataRole.DisplayRole:
                return FIND_HEADERS[FindCol(section)]
            return None
        if (
            orientation == Qt.Orientation.Horizontal
            and section == Col.SIMILARITY
            and role == Qt.ItemDataRole.ToolTipRole
        ):
            return "How much of the query (or of the file, for a clip cut from it) matches"
        return super().headerData(section, orientation, role)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:  # noqa: D102
        if not index.isValid():
            return None
        m = self.member_of(index)
        col = index.column()
        if m is None:  # a query's group row
            if col >= len(Col):
                return None
            g = self.group_of(index)
            if g is not None and col == Col.NAME and role == Qt.ItemDataRole.DisplayRole:
                n = len(g.members) - 1
                return f"Copies of {g.members[0].file.name}  ·  {n} found" + (
                    f"  ·  {fmt.size(self._group_reclaimable(g))} to reclaim" if n else ""
                )
            return super().data(index, role)
        c = self._copies.get(m.file.path) if index.row() > 0 else None
        if col >= len(Col):
            return self._extra(c, FindCol(col), role)
        if col == Col.SIMILARITY and role == Qt.ItemDataRole.DisplayRole:
            if c is None:
                return "query"
            return fmt.percent(c.similarity) + (" (identical)" if c.identical else "")
        if col == Col.THUMBS and role == STRIP_ROLE and c is not None:
            a, b = c.match_range
            if b > a:  # frames of the part that matches
                step = (b - a) / STRIP_FRAMES
                times = tuple(round(a + step * (k + 0.5), 3) for k in range(STRIP_FRAMES))
                f = m.file
                return ThumbSource(f.path, f.size, f.mtime_ns), times
        return super().data(index, role)

    @staticmethod
    def _extra(c: FoundCopy | None, col: FindCol, role: int) -> Any:
        if role == Qt.ItemDataRole.DisplayRole:
            if c is None:
                return "query" if col == FindCol.KIND else ""
            if col == FindCol.KIND:
                extra = []
                if c.evidence.flipped and c.kind != CopyKind.MIRRORED:
                    extra.append("mirrored")
                if c.evidence.rotation and c.kind != CopyKind.TURNED:
                    extra.append(f"turned {c.evidence.rotation}°")
                return str(c.kind) + (f" ({', '.join(extra)})" if extra else "")
            return _span(c.query_range if col == FindCol.QUERY_RANGE else c.match_range)
        if role == SORT_ROLE:
            if c is None:
                return -1.0
            if col == FindCol.KIND:
                return KIND_ORDER[c.kind]
            return (c.query_range if col == FindCol.QUERY_RANGE else c.match_range)[0]
        if role == Qt.ItemDataRole.ToolTipRole and c is not None:
            if col == FindCol.KIND:
                return KIND_HELP[c.kind]
            if col == FindCol.QUERY_RANGE:
                return f"The part of the query found in this file: {_span(c.query_range)}"
            return f"Where it is in this file: {_span(c.match_range)}"
        return None
