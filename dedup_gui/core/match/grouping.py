"""Grouping: verified pairs and identical sets become duplicate groups that cannot chain.

Every member of a group matched the group's reference directly: A~B and B~C never put A and C
together unless A~C too (through the reference). The reference of a group is the file that
matches the most others, the best quality one among equals; the suggested file to keep is the
best quality one (highest resolution, then bitrate, then size).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from dedup_gui.core.match.refine import PairMatch
from dedup_gui.core.types import (
    DuplicateGroup,
    GroupKind,
    GroupMember,
    MatchEvidence,
    VideoInfo,
)


def quality_key(info: VideoInfo) -> tuple[int, int, int]:
    """Sort key, higher is better: resolution, then bitrate, then size."""
    p = info.probe
    return (p.pixels if p else 0, p.bitrate if p else 0, info.size)


@dataclass(frozen=True, slots=True)
class Unit:
    """A matchable unit: one representative file plus its byte-identical copies."""

    rep: VideoInfo
    identical: tuple[VideoInfo, ...] = ()

    @property
    def files(self) -> tuple[VideoInfo, ...]:
        """The representative first, then its identical copies."""
        return (self.rep, *self.identical)


def build_groups(
    units: Sequence[Unit],
    matches: Sequence[PairMatch],
    threshold: float,
    partial: bool,
) -> list[DuplicateGroup]:
    """Turn matches over units into non-chaining duplicate groups.

    Args:
        units: Matchable units, indexed like the matches.
        matches: Refined pairs.
        threshold: Minimum deciding score of a verified pair.
        partial: Whether partial (excerpt) matches count.
    """
    good: dict[int, dict[int, PairMatch]] = defaultdict(dict)
    for m in matches:
        if m.accepted(threshold, partial):
            good[m.a][m.b] = m
            good[m.b][m.a] = m
    remaining = set(good)
    groups: list[DuplicateGroup] = []

    def rank(u: int) -> tuple[int, tuple[int, int, int], float]:
        alive = [v for v in good[u] if v in remaining]
        strength = sum(good[u][v].score(partial) for v in alive)
        return (len(alive), quality_key(units[u].rep), strength)

    placed: set[int] = set()
    while remaining:
        ref = max(remaining, key=rank)
        linked = [v for v in good[ref] if v in remaining]
        remaining.discard(ref)
        if not linked:
            continue
        remaining.difference_update(linked)
        placed.update([ref, *linked])
        members: list[tuple[int, MatchEvidence | None]] = [(ref, None)]
        members += [(v, good[ref][v].evidence_for(ref)) for v in linked]
        groups.append(_make_group(len(groups), units, members))
    # byte-identical copies not placed in a near-duplicate group form a group of their own
    for i, unit in enumerate(units):
        if unit.identical and i not in placed:
            groups.append(_make_group(len(groups), units, [(i, None)]))
    return _renumber(sorted(groups, key=lambda g: (-g.reclaimable, str(g.members[0].file.path))))


def _make_group(
    gid: int, units: Sequence[Unit], members: list[tuple[int, MatchEvidence | None]]
) -> DuplicateGroup:
    out: list[GroupMember] = []
    kinds: set[GroupKind] = set()
    for idx, ev in members:
        unit = units[idx]
        if ev is None:
            out.append(GroupMember(unit.rep, 1.0, None))
        else:
            kinds.add(ev.kind)
            out.append(GroupMember(unit.rep, ev.score, ev))
        for copy in unit.identical:
            same = MatchEvidence(score=1.0, kind=GroupKind.IDENTICAL)
            out.append(
                GroupMember(copy, 1.0 if ev is None else ev.score, same if ev is None else ev)
            )
    if not kinds:
        kind = GroupKind.IDENTICAL
    elif GroupKind.PARTIAL in kinds:
        kind = GroupKind.PARTIAL
    else:
        kind = GroupKind.NEAR_DUPLICATE
    keep = max(range(len(out)), key=lambda i: quality_key(out[i].file))
    return DuplicateGroup(id=gid, kind=kind, members=tuple(out), reference=0, keep=keep)


def _renumber(groups: list[DuplicateGroup]) -> list[DuplicateGroup]:
    return [
        DuplicateGroup(id=i + 1, kind=g.kind, members=g.members, reference=g.reference, keep=g.keep)
        for i, g in enumerate(groups)
    ]
