"""The "not a duplicate" list: pairs and files hidden from the results, remembered across scans.

The list lives in a small JSON file in the user data folder. :func:`apply` turns a scan's groups
into the groups the user sees: hidden files leave every group, a hidden pair never shares a
group, and a group left with fewer than two files disappears.

When the file every other member matched (the group's *reference*) leaves a group, the member
that matched it best becomes the reference; similarities stay as the scan measured them.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

from dedup_gui.core.review.selection import choose_keeper
from dedup_gui.core.types import DuplicateGroup

log = logging.getLogger(__name__)

FORMAT = "dedup-gui-ignores"
VERSION = 1


def default_path() -> Path:
    """The ignore list in the user data folder."""
    import platformdirs

    return Path(platformdirs.user_data_dir("dedup-gui", appauthor=False)) / "ignores.json"


def _key(path: Path | str) -> str:
    return os.fsdecode(os.path.abspath(os.fspath(path)))


@dataclass
class IgnoreList:
    """Pairs and files that are not duplicates, persisted in ``path``.

    Attributes:
        path: The JSON file; None keeps the list in memory only.
        pairs: Unordered pairs of paths that are not duplicates of each other.
        files: Paths that never appear in a group.
    """

    path: Path | None = None
    pairs: set[frozenset[str]] = field(default_factory=set)
    files: set[str] = field(default_factory=set)

    @classmethod
    def load(cls, path: Path | None = None) -> IgnoreList:
        """Read the list (an unreadable file is set aside, never fatal)."""
        path = Path(path) if path is not None else default_path()
        out = cls(path)
        try:
            with open(path, encoding="utf-8") as fh:
                obj = json.load(fh)
            if obj.get("format") != FORMAT:
                raise ValueError("not an ignore list")
            out.pairs = {frozenset(p) for p in obj.get("pairs", []) if len(set(p)) == 2}
            out.files = set(obj.get("files", []))
        except FileNotFoundError:
            pass
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            log.warning("ignoring unreadable ignore list %s: %s", path, exc)
            try:
                os.replace(path, path.with_suffix(".json.bad"))
            except OSError:
                pass
        return out

    def save(self) -> None:
        """Write the list atomically (no-op for an in-memory list)."""
        if self.path is None:
            return
        from dedup_gui.core.review.export import write_atomic

        self.path.parent.mkdir(parents=True, exist_ok=True)
        obj = {
            "format": FORMAT,
            "version": VERSION,
            "pairs": sorted(sorted(p) for p in self.pairs),
            "files": sorted(self.files),
        }
        write_atomic(self.path, json.dumps(obj, indent=1))

    def __len__(self) -> int:
        return len(self.pairs) + len(self.files)

    def add_pair(self, a: Path | str, b: Path | str) -> None:
        """Remember that ``a`` and ``b`` are not duplicates."""
        ka, kb = _key(a), _key(b)
        if ka != kb:
            self.pairs.add(frozenset((ka, kb)))

    def add_file(self, path: Path | str) -> None:
        """Never show ``path`` in a group again."""
        self.files.add(_key(path))

    def has_pair(self, a: Path | str, b: Path | str) -> bool:
        """Whether the pair was marked "not a duplicate"."""
        return frozenset((_key(a), _key(b))) in self.pairs

    def has_file(self, path: Path | str) -> bool:
        """Whether the file is hidden from every group."""
        return _key(path) in self.files

    def clear(self) -> None:
        """Forget everything (the caller saves)."""
        self.pairs.clear()
        self.files.clear()

    def apply(self, groups: Iterable[DuplicateGroup]) -> tuple[DuplicateGroup, ...]:
        """The groups with hidden files and pairs taken out."""
        out = []
        for g in groups:
            kept = self.apply_one(g)
            if kept is not None:
                out.append(kept)
        return tuple(out)

    def apply_one(self, group: DuplicateGroup) -> DuplicateGroup | None:
        """One group with hidden files and pairs taken out; None when it no longer is one."""
        if not self.pairs and not self.files:
            return group
        keys = [_key(m.file.path) for m in group.members]
        drop = {i for i, k in enumerate(keys) if k in self.files}
        if self.pairs:
            index = {k: i for i, k in enumerate(keys)}
            for pair in self.pairs:
                a, b = tuple(pair)
                if a not in index or b not in index:
                    continue
                ia, ib = index[a], index[b]
                if ia in drop or ib in drop:
                    continue
                drop.add(_weaker(group, ia, ib))
        return drop_members(group, drop)


def _weaker(group: DuplicateGroup, ia: int, ib: int) -> int:
    """Which of two members leaves when they are not duplicates: never the reference."""
    if ia == group.reference:
        return ib
    if ib == group.reference:
        return ia
    return ia if group.members[ia].similarity < group.members[ib].similarity else ib


def drop_members(group: DuplicateGroup, drop: Iterable[int]) -> DuplicateGroup | None:
    """``group`` without the members at ``drop``; None when fewer than two files are left.

    The reference and the suggested keeper keep their files when they stay; otherwise the best
    match becomes the reference and the best-quality file the keeper.
    """
    gone = set(drop)
    if not gone:
        return group
    remaining = [i for i in range(len(group.members)) if i not in gone]
    if len(remaining) < 2:
        return None
    members = tuple(group.members[i] for i in remaining)
    if group.reference in remaining:
        reference = remaining.index(group.reference)
    else:
        reference = max(range(len(members)), key=lambda i: members[i].similarity)
    out = replace(group, members=members, reference=reference, keep=0)
    keep = remaining.index(group.keep) if group.keep in remaining else choose_keeper(out)
    return replace(out, keep=keep)
