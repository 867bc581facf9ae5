"""Selection rules: which file of a group to keep, which to mark, and what a plan would do.

UI logic that needs no Qt lives here and is tested without a window: the GUI and the CLI both
ask these functions, so a rule means the same everywhere.

Safety rules enforced here:

* a file inside a reference folder is never marked;
* marking every file of a group is reported (:attr:`MarkCheck.whole_groups`) so the caller can
  ask for a second, explicit confirmation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from dedup_gui.core.types import ActionKind, DuplicateGroup, GroupMember, PlannedFile, TrashPlan


class KeepRule(StrEnum):
    """How to choose the file to keep in a group."""

    QUALITY = "quality"  # highest resolution, then bitrate, then size (the default)
    RESOLUTION = "resolution"
    BITRATE = "bitrate"
    LARGEST = "largest"
    SMALLEST = "smallest"
    LONGEST = "longest"
    NEWEST = "newest"
    OLDEST = "oldest"
    FOLDER = "folder"  # in a preferred folder, then quality


RULE_LABELS: dict[KeepRule, str] = {
    KeepRule.QUALITY: "Best quality (resolution, bitrate, size)",
    KeepRule.RESOLUTION: "Highest resolution",
    KeepRule.BITRATE: "Highest bitrate",
    KeepRule.LARGEST: "Largest file",
    KeepRule.SMALLEST: "Smallest file",
    KeepRule.LONGEST: "Longest duration",
    KeepRule.NEWEST: "Newest (modified)",
    KeepRule.OLDEST: "Oldest (modified)",
    KeepRule.FOLDER: "In a preferred folder",
}


def _quality(m: GroupMember) -> tuple[int, int, int]:
    p = m.file.probe
    return (p.pixels if p else 0, p.bitrate if p else 0, m.file.size)


def _in_folder(path: Path, folders: Iterable[Path]) -> bool:
    for folder in folders:
        try:
            path.relative_to(folder)
            return True
        except ValueError:
            continue
    return False


def keeper_key(m: GroupMember, rule: KeepRule, preferred: tuple[Path, ...] = ()) -> tuple:
    """Sort key of ``m`` under ``rule``; the member with the largest key is kept."""
    p = m.file.probe
    q = _quality(m)
    if rule is KeepRule.RESOLUTION:
        return (p.pixels if p else 0, *q)
    if rule is KeepRule.BITRATE:
        return (p.bitrate if p else 0, *q)
    if rule is KeepRule.LARGEST:
        return (m.file.size, *q)
    if rule is KeepRule.SMALLEST:
        return (-m.file.size, *q)
    if rule is KeepRule.LONGEST:
        return (round(p.duration, 1) if p else 0.0, *q)
    if rule is KeepRule.NEWEST:
        return (m.file.mtime_ns, *q)
    if rule is KeepRule.OLDEST:
        return (-m.file.mtime_ns, *q)
    if rule is KeepRule.FOLDER:
        return (_in_folder(m.file.path, preferred), *q)
    return q


def choose_keeper(
    group: DuplicateGroup, rule: KeepRule = KeepRule.QUALITY, preferred: tuple[Path, ...] = ()
) -> int:
    """Index of the member to keep.

    A member in a reference folder always wins: it is kept anyway, so keeping another copy
    too would free nothing.
    """
    return max(
        range(len(group.members)),
        key=lambda i: (
            group.members[i].file.is_reference,
            keeper_key(group.members[i], rule, preferred),
        ),
    )


def mark_all_but_keeper(
    groups: Iterable[DuplicateGroup],
    rule: KeepRule = KeepRule.QUALITY,
    preferred: tuple[Path, ...] = (),
) -> dict[int, set[int]]:
    """For each group id, the member indices to mark.

    All but the keeper are marked, never a file in a reference folder.
    """
    out: dict[int, set[int]] = {}
    for g in groups:
        keep = choose_keeper(g, rule, preferred)
        out[g.id] = {i for i, m in enumerate(g.members) if i != keep and not m.file.is_reference}
    return out


def can_mark(member: GroupMember) -> bool:
    """Whether a member may be marked at all (files in reference folders may not)."""
    return not member.file.is_reference


@dataclass(frozen=True, slots=True)
class MarkCheck:
    """What the current marks would do, for the confirmation dialog."""

    files: int
    bytes: int
    groups: int
    whole_groups: tuple[int, ...]  # ids of groups where every file is marked
    reference_marked: tuple[Path, ...]  # must be empty; reported if a caller got it wrong


def check_marks(groups: Iterable[DuplicateGroup], marked: Mapping[int, set[int]]) -> MarkCheck:
    """Summarise marks and flag the dangerous ones."""
    files = size = ngroups = 0
    whole: list[int] = []
    ref: list[Path] = []
    for g in groups:
        idx = marked.get(g.id, set())
        if not idx:
            continue
        ngroups += 1
        files += len(idx)
        size += sum(g.members[i].file.size for i in idx)
        if len(idx) >= len(g.members):
            whole.append(g.id)
        ref += [g.members[i].file.path for i in idx if g.members[i].file.is_reference]
    return MarkCheck(files, size, ngroups, tuple(whole), tuple(ref))


def plan(
    groups: Iterable[DuplicateGroup],
    marked: Mapping[int, set[int]],
    kind: ActionKind = ActionKind.TRASH,
    destination: Path | None = None,
) -> TrashPlan:
    """The plan for the marked files (reference-folder files are dropped, never acted on)."""
    groups = list(groups)
    seen: set[Path] = set()
    files: list[PlannedFile] = []
    for g in groups:
        for i in sorted(marked.get(g.id, set())):
            m = g.members[i]
            if m.file.is_reference or m.file.path in seen:
                continue
            seen.add(m.file.path)
            files.append(PlannedFile(m.file.path, m.file.size, m.file.mtime_ns))
    # every reference file travels with the plan: execute() refuses them even if a caller
    # slipped one in (or reaches one through another path)
    protected = tuple(
        dict.fromkeys(m.file.path for g in groups for m in g.members if m.file.is_reference)
    )
    return TrashPlan(kind=kind, files=tuple(files), destination=destination, protected=protected)
