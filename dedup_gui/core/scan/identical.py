"""Identical files: same size and same content, found without decoding.

Only files whose sizes collide are read; a cheap head-and-tail hash rules out most of them
before the full-content hash.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from dedup_gui.core.progress import NEVER_CANCELLED, NULL_PROGRESS, CancelToken, Progress
from dedup_gui.core.types import Problem, Stage, VideoFile

log = logging.getLogger(__name__)

_BLOCK = 1 << 20
_EDGE = 64 * 1024


@dataclass(frozen=True, slots=True)
class IdenticalResult:
    """Sets of byte-identical files (two or more each) and read failures."""

    sets: tuple[tuple[VideoFile, ...], ...]
    problems: tuple[Problem, ...]


def _edge_hash(f: VideoFile) -> bytes:
    h = hashlib.blake2b(digest_size=16)
    with open(f.path, "rb") as fh:
        h.update(fh.read(_EDGE))
        if f.size > 2 * _EDGE:
            fh.seek(-_EDGE, 2)
            h.update(fh.read(_EDGE))
    return h.digest()


def full_hash(path: str | os.PathLike[str], token: CancelToken = NEVER_CANCELLED) -> bytes:
    """BLAKE2b digest of a whole file, checking ``token`` every megabyte."""
    h = hashlib.blake2b(digest_size=20)
    with open(path, "rb") as fh:
        while chunk := fh.read(_BLOCK):
            token.raise_if_cancelled()
            h.update(chunk)
    return h.digest()


def _split_by(
    files: Sequence[VideoFile],
    key: Callable[[VideoFile], bytes],
    problems: list[Problem],
    tick: Callable[[VideoFile], None],
) -> list[list[VideoFile]]:
    buckets: dict[bytes, list[VideoFile]] = defaultdict(list)
    for f in files:
        try:
            buckets[key(f)].append(f)
        except OSError as exc:
            problems.append(Problem(f.path, Stage.HASH, f"cannot read: {exc.strerror or exc}"))
        tick(f)
    return [b for b in buckets.values() if len(b) > 1]


def find_identical(
    files: Iterable[VideoFile],
    progress: Progress = NULL_PROGRESS,
    token: CancelToken = NEVER_CANCELLED,
) -> IdenticalResult:
    """Group byte-identical files.

    Args:
        files: Candidate files.
        progress: Receives files hashed / files to hash.
        token: Checked per file and per megabyte.

    Returns:
        Sets of identical files, each sorted by path. Empty files are never grouped (they
        are reported as unreadable videos later).
    """
    by_size: dict[int, list[VideoFile]] = defaultdict(list)
    for f in files:
        if f.size > 0:
            by_size[f.size].append(f)
    collisions = [group for group in by_size.values() if len(group) > 1]
    todo = sum(len(g) for g in collisions)
    done = 0
    problems: list[Problem] = []

    def tick(f: VideoFile) -> None:
        nonlocal done
        done += 1
        progress.update(min(done, todo), todo, str(f.path))

    sets: list[tuple[VideoFile, ...]] = []
    for group in collisions:
        token.raise_if_cancelled()
        for edge_group in _split_by(group, _edge_hash, problems, lambda f: None):
            if edge_group[0].size <= 2 * _EDGE:
                full_groups = [edge_group]  # the edge hash already covered every byte
            else:
                full_groups = _split_by(
                    edge_group, lambda f: full_hash(f.path, token), problems, lambda f: None
                )
            sets.extend(tuple(sorted(g, key=lambda f: str(f.path))) for g in full_groups)
        for f in group:
            tick(f)
    log.info("identical: %d sets among %d size collisions", len(sets), todo)
    return IdenticalResult(tuple(sets), tuple(problems))
