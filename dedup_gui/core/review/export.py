r"""Result files: JSON (full and benchmark forms) and CSV, written atomically, and read back.

Paths that are not valid UTF-8 survive a round trip: JSON escapes the surrogates Python uses
for undecodable bytes (``\\udcXX``), and :func:`load_json` turns them back into the same path.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

from dedup_gui import __version__
from dedup_gui.core.types import (
    DuplicateGroup,
    GroupKind,
    GroupMember,
    MatchEvidence,
    Probe,
    Problem,
    ScanResult,
    ScanStats,
    Stage,
    VideoInfo,
)

FORMAT_VERSION = 1


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file and rename (no half-written files)."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="", errors="surrogateescape") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _file_dict(m: GroupMember) -> dict[str, Any]:
    f, p = m.file, m.file.probe
    out: dict[str, Any] = {
        "path": str(f.path),
        "size": f.size,
        "mtime_ns": f.mtime_ns,
        "duration": round(p.duration, 3) if p else None,
        "width": p.width if p else None,
        "height": p.height if p else None,
        "fps": round(p.fps, 3) if p else None,
        "codec": p.codec if p else None,
        "bitrate": p.bitrate if p else None,
        "container": p.container if p else None,
        "has_audio": p.has_audio if p else None,
        "rotation": p.rotation if p else None,
        "similarity": round(m.similarity, 4),
        "in_reference_folder": f.is_reference,
    }
    if m.evidence is not None:
        ev = asdict(m.evidence)
        ev["kind"] = str(m.evidence.kind)
        out["match"] = ev
    return out


def result_to_dict(result: ScanResult, options: dict[str, Any] | None = None) -> dict[str, Any]:
    """The full JSON form of a scan result."""
    return {
        "format": "dedup-gui-scan",
        "version": FORMAT_VERSION,
        "tool": f"dedup-gui {__version__}",
        "roots": [str(r) for r in result.roots],
        "cancelled": result.cancelled,
        "options": options or {},
        "groups": [
            {
                "id": g.id,
                "kind": str(g.kind),
                "reference": str(g.reference_member.file.path),
                "keep": str(g.keeper.file.path),
                "reclaimable_bytes": g.reclaimable,
                "files": [_file_dict(m) for m in g.members],
            }
            for g in result.groups
        ],
        "problems": [
            {"path": str(p.path), "stage": str(p.stage), "reason": p.reason, "skipped": p.skipped}
            for p in result.problems
        ],
        "notices": list(result.notices),
        "stats": {**result.stats.counts, "seconds": result.stats.seconds},
        "files": [
            {
                "path": str(f.path),
                "size": f.size,
                "mtime_ns": f.mtime_ns,
                "root": str(f.root),
                "in_reference_folder": f.is_reference,
                "probe": asdict(f.probe) if f.probe else None,
            }
            for f in result.files
        ],
    }


def to_json(result: ScanResult, options: dict[str, Any] | None = None) -> str:
    """Serialise a result as JSON text (ASCII, so every path round-trips)."""
    return json.dumps(result_to_dict(result, options), indent=1)


def to_bench_json(result: ScanResult, pairs: list[tuple[str, str, float]] | None = None) -> str:
    """The benchmark evaluator's form: ``{"groups": [[path, ...], ...], "pairs": [...]}``."""
    obj: dict[str, Any] = {"groups": [[str(p) for p in g.paths] for g in result.groups]}
    if pairs is not None:
        obj["pairs"] = [{"a": a, "b": b, "score": round(s, 4)} for a, b, s in pairs]
    return json.dumps(obj)


CSV_COLUMNS = [
    "group", "kind", "path", "keep", "reference", "similarity", "size", "duration", "width",
    "height", "fps", "codec", "bitrate", "in_reference_folder",
]  # fmt: skip


def to_csv(result: ScanResult) -> str:
    """One row per file of every group."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(CSV_COLUMNS)
    for g in result.groups:
        for i, m in enumerate(g.members):
            d = _file_dict(m)
            w.writerow(
                [
                    g.id,
                    str(g.kind),
                    d["path"],
                    int(i == g.keep),
                    int(i == g.reference),
                    d["similarity"],
                    d["size"],
                    d["duration"],
                    d["width"],
                    d["height"],
                    d["fps"],
                    d["codec"],
                    d["bitrate"],
                    int(d["in_reference_folder"]),
                ]
            )
    return buf.getvalue()


# ----------------------------------------------------------------------------- reading back
def _probe(d: dict[str, Any] | None) -> Probe | None:
    return Probe(**d) if d else None


def result_from_dict(obj: dict[str, Any]) -> ScanResult:
    """Rebuild a :class:`ScanResult` from :func:`result_to_dict` output."""
    if obj.get("format") != "dedup-gui-scan":
        raise ValueError("not a dedup-gui result file")
    if int(obj.get("version", 0)) > FORMAT_VERSION:
        raise ValueError("this result file was written by a newer dedup-gui")
    files = {
        f["path"]: VideoInfo(
            Path(f["path"]),
            f["size"],
            f["mtime_ns"],
            Path(f["root"]),
            _probe(f.get("probe")),
            bool(f.get("in_reference_folder")),
        )
        for f in obj.get("files", [])
    }
    groups = []
    for g in obj.get("groups", []):
        members = []
        for fd in g["files"]:
            info = files.get(fd["path"]) or VideoInfo(
                Path(fd["path"]), fd["size"], fd["mtime_ns"], Path("/")
            )
            ev = None
            if "match" in fd:
                e = dict(fd["match"])
                e["kind"] = GroupKind(e["kind"])
                e["ref_range"] = tuple(e["ref_range"])
                e["member_range"] = tuple(e["member_range"])
                ev = MatchEvidence(**e)
            members.append(GroupMember(info, float(fd["similarity"]), ev))
        paths = [str(m.file.path) for m in members]
        groups.append(
            DuplicateGroup(
                id=int(g["id"]),
                kind=GroupKind(g["kind"]),
                members=tuple(members),
                reference=paths.index(g["reference"]),
                keep=paths.index(g["keep"]),
            )
        )
    stats = dict(obj.get("stats", {}))
    seconds = stats.pop("seconds", {})
    return ScanResult(
        groups=tuple(groups),
        problems=tuple(
            Problem(Path(p["path"]), Stage(p["stage"]), p["reason"], bool(p.get("skipped", True)))
            for p in obj.get("problems", [])
        ),
        files=tuple(files.values()),
        stats=ScanStats(counts={k: int(v) for k, v in stats.items()}, seconds=seconds),
        cancelled=bool(obj.get("cancelled")),
        roots=tuple(Path(r) for r in obj.get("roots", [])),
        notices=tuple(obj.get("notices", [])),
    )


def load_json(path: Path) -> ScanResult:
    """Read a result file written by :func:`to_json`."""
    with open(path, encoding="utf-8") as fh:
        return result_from_dict(json.load(fh))
