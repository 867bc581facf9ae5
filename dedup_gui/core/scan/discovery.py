"""Discovery: walk the scan roots and list candidate video files.

Never raises for a bad folder or file: unreadable folders, broken links, symlink loops and
special files (FIFOs, devices) become :class:`Problem` values and the walk goes on.
"""

from __future__ import annotations

import errno
import fnmatch
import logging
import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dedup_gui.core.options import DiscoveryOptions
from dedup_gui.core.progress import NEVER_CANCELLED, NULL_PROGRESS, CancelToken, Progress
from dedup_gui.core.types import Problem, Stage, VideoFile

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DiscoveryResult:
    """Files found, in a stable order, and the problems met on the way."""

    files: tuple[VideoFile, ...]
    problems: tuple[Problem, ...]


def _excluded(path: str, name: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatch(name, pat) or fnmatch.fnmatch(path, pat) for pat in patterns)


def _has_video_ext(name: str, extensions: frozenset[str]) -> bool:
    _, dot, ext = name.rpartition(".")
    return bool(dot) and ext.lower() in extensions


def _describe_os_error(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__


# Folders the app itself fills with files the user chose to remove (see actions.py).
QUARANTINE_DIR = ".dedup-gui-quarantine"


def _dead_link_reason(path: str) -> str:
    """Why a symlink leads nowhere: a loop, or a missing target."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symlink loop (the link points back at itself)"
    try:
        target = os.readlink(path)
    except OSError:
        return "broken symlink"
    return f"broken symlink (its target {target!r} does not exist)"


def discover(
    roots: Iterable[Path | str],
    options: DiscoveryOptions | None = None,
    progress: Progress = NULL_PROGRESS,
    token: CancelToken = NEVER_CANCELLED,
) -> DiscoveryResult:
    """List the video files under ``roots``.

    Args:
        roots: Folders (or single files) to scan.
        options: Which files to include.
        progress: Receives the number of files found so far.
        token: Checked once per folder.

    Returns:
        Files sorted by path, each listed once even when reached through several roots,
        overlapping roots, hard links or followed symlinks.
    """
    opts = options or DiscoveryOptions()
    files: list[VideoFile] = []
    problems: list[Problem] = []
    seen_files: set[tuple[int, int]] = set()  # (st_dev, st_ino) of files taken
    seen_dirs: set[tuple[int, int]] = set()  # folders entered, to break symlink loops

    def consider_file(path: str, st: os.stat_result, root: Path) -> None:
        ident = (st.st_dev, st.st_ino)
        if ident in seen_files:
            return
        if not stat.S_ISREG(st.st_mode):
            problems.append(Problem(Path(path), Stage.DISCOVER, "not a regular file"))
            return
        if st.st_size < opts.min_size or (opts.max_size and st.st_size > opts.max_size):
            return
        seen_files.add(ident)
        files.append(VideoFile(Path(path), st.st_size, st.st_mtime_ns, root))
        progress.update(len(files), 0, path)

    for raw_root in roots:
        root = Path(os.path.abspath(os.fspath(raw_root)))
        try:
            st = os.stat(root)
        except OSError as exc:
            problems.append(
                Problem(root, Stage.DISCOVER, f"cannot open folder: {_describe_os_error(exc)}")
            )
            continue
        if not stat.S_ISDIR(st.st_mode):
            if _has_video_ext(root.name, opts.extensions):
                consider_file(str(root), st, root.parent)
            else:
                problems.append(Problem(root, Stage.DISCOVER, "not a folder or a video file"))
            continue
        stack: list[tuple[str, os.stat_result]] = [(str(root), st)]
        while stack:
            token.raise_if_cancelled()
            folder, fst = stack.pop()
            ident = (fst.st_dev, fst.st_ino)
            if ident in seen_dirs:
                if os.path.islink(folder):
                    problems.append(
                        Problem(
                            Path(folder),
                            Stage.DISCOVER,
                            "symlink loop (leads to a folder already scanned); not followed",
                        )
                    )
                continue
            seen_dirs.add(ident)
            try:
                with os.scandir(folder) as it:
                    entries = sorted(it, key=lambda e: e.name)
            except OSError as exc:
                problems.append(
                    Problem(
                        Path(folder),
                        Stage.DISCOVER,
                        f"cannot read folder: {_describe_os_error(exc)}",
                    )
                )
                continue
            subdirs: list[tuple[str, os.stat_result]] = []
            for entry in entries:
                path = entry.path
                if opts.exclude and _excluded(path, entry.name, opts.exclude):
                    continue
                try:
                    is_link = entry.is_symlink()
                    if is_link and not opts.follow_symlinks:
                        if _has_video_ext(entry.name, opts.extensions) and not os.path.exists(path):
                            problems.append(
                                Problem(Path(path), Stage.DISCOVER, _dead_link_reason(path))
                            )
                        continue
                    est = entry.stat(follow_symlinks=True)
                except FileNotFoundError:
                    if is_link:
                        problems.append(
                            Problem(Path(path), Stage.DISCOVER, _dead_link_reason(path))
                        )
                    continue  # vanished since the folder was listed
                except OSError as exc:
                    if is_link and exc.errno == errno.ELOOP:
                        reason = _dead_link_reason(path)
                    else:
                        reason = f"cannot read: {_describe_os_error(exc)}"
                    problems.append(Problem(Path(path), Stage.DISCOVER, reason))
                    continue
                if stat.S_ISDIR(est.st_mode):
                    if opts.recursive and entry.name != QUARANTINE_DIR:
                        subdirs.append((path, est))
                elif _has_video_ext(entry.name, opts.extensions):
                    consider_file(path, est, root)
            # depth-first, in name order
            stack.extend(reversed(subdirs))
    files.sort(key=lambda f: os.fsencode(f.path))
    log.info("discovered %d files (%d problems)", len(files), len(problems))
    return DiscoveryResult(tuple(files), tuple(problems))
