"""The action log: every trash, move, quarantine and delete, kept in the user data folder.

One JSON object per line (append-only, flushed and synced per entry), so a crash can at worst
leave one torn last line, which is skipped when reading. Each entry says what was done to which
file, from where, to where, when, and how it ended. Moves and quarantines can be undone; files
sent to a freedesktop trash (Linux) are located in it, so they can be put back too; elsewhere
:func:`restore_hint` tells the user where to look.

Paths that are not valid UTF-8 survive the round trip (JSON escapes the surrogates Python uses
for undecodable bytes).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from fnmatch import fnmatch
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

from dedup_gui.core.types import ActionKind, ActionResult, ActionStatus

log = logging.getLogger(__name__)

LOG_FILE = "actions.jsonl"
UNDO = "undo"


def default_log_path() -> Path:
    """The action log in the platform's user data folder."""
    import platformdirs

    return Path(platformdirs.user_data_dir("dedup-gui", appauthor=False)) / LOG_FILE


@dataclass(frozen=True, slots=True)
class LogEntry:
    """One recorded action.

    Attributes:
        id: Unique id of this entry.
        batch: Id shared by the entries of one user action (one plan).
        time: When it happened (seconds since the epoch).
        kind: ``trash``, ``move``, ``quarantine``, ``delete`` or ``undo``.
        source: The file acted on (for an undo: where the file was put back).
        destination: Where it went (trash location, folder), if known.
        ok: Whether it succeeded (verified: gone from the source, present at the destination).
        status: The result's status (done, failed, changed, missing, refused).
        error: Why it failed.
        size: The file's size in bytes.
        trash_info: The freedesktop ``.trashinfo`` file of a trashed file, if known.
        undoes: For an undo, the id of the entry it reverses.
    """

    id: str
    batch: str
    time: float
    kind: str
    source: Path
    destination: Path | None
    ok: bool
    status: str
    error: str = ""
    size: int = 0
    trash_info: Path | None = None
    undoes: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The JSON form."""
        return {
            "id": self.id,
            "batch": self.batch,
            "time": self.time,
            "when": time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(self.time)),
            "kind": self.kind,
            "source": str(self.source),
            "destination": str(self.destination) if self.destination else None,
            "ok": self.ok,
            "status": self.status,
            "error": self.error,
            "size": self.size,
            "trash_info": str(self.trash_info) if self.trash_info else None,
            "undoes": self.undoes,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LogEntry:
        """Inverse of :meth:`to_dict`."""
        return cls(
            id=str(d["id"]),
            batch=str(d.get("batch", "")),
            time=float(d["time"]),
            kind=str(d["kind"]),
            source=Path(d["source"]),
            destination=Path(d["destination"]) if d.get("destination") else None,
            ok=bool(d["ok"]),
            status=str(d.get("status", "")),
            error=str(d.get("error", "")),
            size=int(d.get("size", 0)),
            trash_info=Path(d["trash_info"]) if d.get("trash_info") else None,
            undoes=str(d.get("undoes", "")),
        )


class ActionLog:
    """Append-only log of file actions (see the module docstring).

    Args:
        path: The log file; the user data folder by default.
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = Path(path) if path is not None else default_log_path()

    @staticmethod
    def new_batch() -> str:
        """An id grouping the entries of one user action."""
        return uuid.uuid4().hex[:12]

    def _append(self, entry: LogEntry) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps(entry.to_dict(), ensure_ascii=True) + "\n"
        with open(self.path, "a", encoding="ascii") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())

    def record(
        self,
        result: ActionResult,
        batch: str = "",
        size: int = 0,
        trash_info: Path | None = None,
        undoes: str = "",
        kind: str | None = None,
    ) -> LogEntry:
        """Append one result; returns the entry written."""
        entry = LogEntry(
            id=uuid.uuid4().hex,
            batch=batch,
            time=time.time(),
            kind=kind or str(result.kind),
            source=result.path,
            destination=result.destination,
            ok=result.ok,
            status=str(result.status),
            error=result.error,
            size=size,
            trash_info=trash_info,
            undoes=undoes,
        )
        self._append(entry)
        return entry

    def entries(self) -> list[LogEntry]:
        """Every entry, oldest first (a torn or foreign line is skipped)."""
        return list(self._read())

    def _read(self) -> Iterator[LogEntry]:
        if not self.path.exists():
            return
        with open(self.path, encoding="ascii", errors="replace") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    yield LogEntry.from_dict(json.loads(line))
                except (ValueError, KeyError, TypeError):
                    log.warning("%s: line %d is not a log entry; skipped", self.path, n)

    def undone_ids(self) -> set[str]:
        """Ids of entries that were undone successfully."""
        return {e.undoes for e in self._read() if e.kind == UNDO and e.ok and e.undoes}

    def can_undo(self, entry: LogEntry, undone: set[str] | None = None) -> bool:
        """Whether ``entry`` can be reversed now (its file is where the action put it)."""
        if not entry.ok or entry.kind == UNDO or entry.destination is None:
            return False
        if entry.kind not in (ActionKind.MOVE, ActionKind.QUARANTINE, ActionKind.TRASH):
            return False
        if entry.id in (undone if undone is not None else self.undone_ids()):
            return False
        return os.path.lexists(entry.destination) and not os.path.lexists(entry.source)

    def undo(self, entry: LogEntry) -> ActionResult:
        """Put a moved, quarantined or trashed file back where it was, and log that.

        The file is moved back only if nothing took its place meanwhile; the result is
        verified (present at the original path, gone from where it was).
        """
        source, dest = entry.source, entry.destination
        if not self.can_undo(entry):
            reason = "cannot be undone"
            if entry.id in self.undone_ids():
                reason = "already undone"
            elif dest is not None and not os.path.lexists(dest):
                reason = f"the file is no longer at {dest}"
            elif os.path.lexists(source):
                reason = "another file is now at the original place"
            result = ActionResult(
                source, False, ActionKind.MOVE, dest, reason, ActionStatus.REFUSED
            )
        else:
            assert dest is not None
            try:
                source.parent.mkdir(parents=True, exist_ok=True)
                try:
                    os.rename(dest, source)
                except OSError as exc:
                    if exc.errno != 18:  # EXDEV: across volumes, copy then delete
                        raise
                    import shutil

                    shutil.move(str(dest), str(source))
                if not os.path.lexists(source) or os.path.lexists(dest):
                    raise OSError("the file did not arrive back at its place")
                if entry.trash_info is not None:
                    try:
                        os.unlink(entry.trash_info)
                    except FileNotFoundError:
                        pass
                result = ActionResult(source, True, ActionKind.MOVE, dest)
            except OSError as exc:
                result = ActionResult(
                    source, False, ActionKind.MOVE, dest, exc.strerror or str(exc)
                )
        self.record(result, batch=entry.batch, size=entry.size, undoes=entry.id, kind=UNDO)
        return result


# ----------------------------------------------------------------------------- the trash
def restore_hint(entry: LogEntry) -> str:
    """How the user gets a file back, in words."""
    name = entry.source.name
    if entry.kind == UNDO or not entry.ok:
        return ""
    if entry.kind in (ActionKind.MOVE, ActionKind.QUARANTINE):
        return f"Undo puts {name} back; or move it yourself from {entry.destination}."
    if entry.kind == ActionKind.DELETE:
        return "Deleted permanently: it cannot be restored."
    where = f" (it is at {entry.destination})" if entry.destination else ""
    if sys.platform == "darwin":
        return f"Restore from the Trash: open the Trash in Finder, select {name}, Put Back."
    if sys.platform.startswith("win"):
        return f"Restore from the Recycle Bin: right-click {name}, Restore."
    return f"Restore from the trash: open Trash in your file manager and restore {name}{where}."


def _trash_dirs(path: Path) -> list[Path]:
    """Freedesktop trash folders that may hold ``path`` after send2trash, most likely first."""
    dirs: list[Path] = []
    try:
        from send2trash import plat_other

        dirs.append(Path(os.fsdecode(plat_other.HOMETRASH_B)))
    except Exception:  # not Linux, or another send2trash layout
        pass
    data = os.environ.get("XDG_DATA_HOME") or os.path.expanduser("~/.local/share")
    dirs.append(Path(data) / "Trash")
    top = Path(os.path.abspath(path)).parent
    while not os.path.ismount(top) and top.parent != top:
        top = top.parent
    uid = os.getuid() if hasattr(os, "getuid") else 0
    dirs += [top / ".Trash" / str(uid), top / f".Trash-{uid}"]
    return list(dict.fromkeys(dirs))


def locate_in_trash(path: Path, since: float = 0.0) -> tuple[Path, Path] | None:
    """Where a freedesktop trash put ``path``: (file in Trash/files, its .trashinfo).

    Reads the ``.trashinfo`` files whose name fits the file's and whose ``Path=`` is the
    original path; the newest one written after ``since`` wins. None when not found (another
    platform, or a trash we do not know).
    """
    wanted = os.fsencode(os.path.abspath(path))
    stem, ext = os.path.splitext(path.name)
    best: tuple[float, Path, Path] | None = None
    for trash in _trash_dirs(path):
        info_dir = trash / "info"
        try:
            names = os.listdir(info_dir)
        except OSError:
            continue
        top = trash.parent.parent if trash.parent.name == ".Trash" else trash.parent
        for name in names:
            if not name.endswith(".trashinfo"):
                continue
            base = name[: -len(".trashinfo")]
            if base != path.name and not fnmatch(base, f"{stem} *{ext}"):
                continue
            info = info_dir / name
            try:
                mtime = info.stat().st_mtime
                text = info.read_bytes()
            except OSError:
                continue
            if mtime + 2 < since:
                continue
            original = _trashinfo_path(text)
            if original is None:
                continue
            if not original.startswith(b"/"):  # relative to the volume's top folder
                original = os.fsencode(os.path.join(os.fsdecode(top), os.fsdecode(original)))
            if original != wanted:
                continue
            if best is None or mtime > best[0]:
                best = (mtime, trash / "files" / base, info)
    return (best[1], best[2]) if best else None


def _trashinfo_path(text: bytes) -> bytes | None:
    for line in text.splitlines():
        if line.startswith(b"Path="):
            return unquote_to_bytes(line[5:].strip())
    return None


def summarise(entries: Iterable[LogEntry]) -> dict[str, int]:
    """Counts of successful actions by kind (for a status line)."""
    out: dict[str, int] = {}
    for e in entries:
        if e.ok:
            out[e.kind] = out.get(e.kind, 0) + 1
    return out


def with_destination(result: ActionResult, destination: Path | None) -> ActionResult:
    """``result`` with its destination filled in."""
    return replace(result, destination=destination)
