"""File actions that lose nothing: verified actions, the action log with undo, the quarantine
fallback, changed files asked again, reference folders never touched, deletion gated."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path

import pytest

from dedup_gui.core.progress import NULL_PROGRESS, CancelToken
from dedup_gui.core.review import actions, export, selection
from dedup_gui.core.review.actionlog import ActionLog, locate_in_trash, restore_hint
from dedup_gui.core.types import (
    ActionKind,
    ActionStatus,
    DuplicateGroup,
    GroupKind,
    GroupMember,
    PlannedFile,
    Probe,
    ScanResult,
    ScanStats,
    TrashPlan,
    VideoInfo,
)


@pytest.fixture
def trash_home(tmp_path, monkeypatch) -> Path:
    """send2trash's home trash, pinned to the test's folder (it is fixed at import time)."""
    from send2trash import plat_other

    data = tmp_path / "xdg-data"
    data.mkdir()
    trash = data / "Trash"
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setattr(plat_other, "XDG_DATA_HOME", os.fsencode(data))
    monkeypatch.setattr(plat_other, "HOMETRASH_B", os.fsencode(trash))
    monkeypatch.setattr(plat_other, "HOMETRASH", str(trash), raising=False)
    return trash


def _file(path: Path, data: bytes = b"video bytes") -> PlannedFile:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    st = path.stat()
    return PlannedFile(path, st.st_size, st.st_mtime_ns)


def _plan(kind: ActionKind, *files: PlannedFile, **kw) -> TrashPlan:
    return TrashPlan(kind, tuple(files), **kw)


# ----------------------------------------------------------------------------- trash
def test_trash_is_verified_logged_located_and_can_be_restored(tmp_path, trash_home):
    f = _file(tmp_path / "lib" / "copy of holiday.mp4", b"x" * 1000)
    log = ActionLog(tmp_path / "actions.jsonl")
    [r] = actions.execute(_plan(ActionKind.TRASH, f), log=log)
    assert r.ok and r.status is ActionStatus.DONE
    assert not f.path.exists()
    assert r.destination is not None and r.destination.is_file()  # found in the trash
    assert trash_home in r.destination.parents
    [e] = log.entries()
    assert (e.kind, e.source, e.destination, e.ok, e.size) == ("trash", f.path, r.destination,
                                                               True, 1000)  # fmt: skip
    assert e.trash_info is not None and e.trash_info.suffix == ".trashinfo"
    assert "Restore from the trash" in restore_hint(e) or "Trash" in restore_hint(e)
    assert log.can_undo(e)
    back = log.undo(e)
    assert back.ok and f.path.read_bytes() == b"x" * 1000
    assert not e.trash_info.exists()  # the trash no longer lists it
    assert not log.can_undo(log.entries()[0])  # already undone
    assert log.entries()[-1].kind == "undo" and log.entries()[-1].undoes == e.id


def test_two_files_with_one_name_are_located_apart(tmp_path, trash_home):
    a = _file(tmp_path / "a" / "clip.mp4", b"a" * 10)
    b = _file(tmp_path / "b" / "clip.mp4", b"b" * 20)
    ra, rb = actions.execute(_plan(ActionKind.TRASH, a, b))
    assert ra.destination != rb.destination
    assert ra.destination.read_bytes() == b"a" * 10 and rb.destination.read_bytes() == b"b" * 20
    assert locate_in_trash(a.path) == (ra.destination, ra.destination.parent.parent / "info" /
                                       (ra.destination.name + ".trashinfo"))  # fmt: skip


def test_a_trash_that_fails_is_reported_and_the_quarantine_takes_the_file(tmp_path):
    f = _file(tmp_path / "nas" / "copy.mp4")
    log = ActionLog(tmp_path / "actions.jsonl")

    def no_trash(path: str) -> None:
        raise OSError(errno.EOPNOTSUPP, "Operation not supported (no trash on this share)")

    plan = _plan(ActionKind.TRASH, f)
    [r] = actions.execute(plan, trasher=no_trash, log=log)
    assert not r.ok and r.status is ActionStatus.UNAVAILABLE and "not supported" in r.error
    assert f.path.exists()  # nothing lost
    assert actions.failed_trash([r]) == [r]
    q = actions.quarantine_plan(plan, [r])
    q = TrashPlan(q.kind, q.files, tmp_path / "nas" / ".dedup-gui-quarantine", q.protected)
    [r2] = actions.execute(q, log=log)
    assert r2.ok and r2.kind is ActionKind.QUARANTINE
    assert r2.destination.read_bytes() == b"video bytes" and not f.path.exists()
    e = log.entries()[-1]
    assert log.can_undo(e) and "Undo puts" in restore_hint(e)
    assert log.undo(e).ok and f.path.exists()


def test_a_permission_problem_is_a_failure_not_a_missing_trash(tmp_path):
    f = _file(tmp_path / "copy.mp4")

    def denied(path: str) -> None:
        raise PermissionError(13, "Permission denied", path)

    [r] = actions.execute(_plan(ActionKind.TRASH, f), trasher=denied)
    assert r.status is ActionStatus.FAILED and actions.failed_trash([r]) == []


def test_a_trash_that_claims_success_but_leaves_the_file_is_a_failure(tmp_path):
    f = _file(tmp_path / "copy.mp4")
    [r] = actions.execute(_plan(ActionKind.TRASH, f), trasher=lambda p: None)
    assert not r.ok and "still there" in r.error and f.path.exists()


def test_quarantine_folder_is_on_the_same_volume(tmp_path):
    f = _file(tmp_path / "deep" / "er" / "copy.mp4")
    q = actions.quarantine_dir_for(f.path)
    assert q.name == ".dedup-gui-quarantine"
    existing = q.parent
    assert existing in f.path.parents
    assert os.stat(existing).st_dev == os.stat(f.path).st_dev


def test_quarantine_refuses_to_copy_across_volumes(tmp_path, monkeypatch):
    f = _file(tmp_path / "copy.mp4")

    def rename(src, dst):
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(actions.os, "rename", rename)
    [r] = actions.execute(_plan(ActionKind.QUARANTINE, f, destination=tmp_path / "q"))
    assert not r.ok and "another volume" in r.error and f.path.exists()


# ----------------------------------------------------------------------------- move / undo
def test_move_is_verified_and_undone(tmp_path):
    f = _file(tmp_path / "lib" / "copy.mp4", b"m" * 500)
    log = ActionLog(tmp_path / "actions.jsonl")
    [r] = actions.execute(_plan(ActionKind.MOVE, f, destination=tmp_path / "elsewhere"), log=log)
    assert r.ok and r.destination == tmp_path / "elsewhere" / "copy.mp4"
    e = log.entries()[0]
    f.path.write_bytes(b"a new file took its place")
    assert not log.can_undo(e)
    refused = log.undo(e)
    assert not refused.ok and "original place" in refused.error
    assert f.path.read_bytes() == b"a new file took its place"  # not overwritten
    f.path.unlink()
    assert log.undo(e).ok and f.path.read_bytes() == b"m" * 500


def test_move_never_overwrites_at_the_destination(tmp_path):
    f = _file(tmp_path / "lib" / "copy.mp4", b"new")
    _file(tmp_path / "dest" / "copy.mp4", b"already there")
    [r] = actions.execute(_plan(ActionKind.MOVE, f, destination=tmp_path / "dest"))
    assert r.ok and r.destination.name == "copy (1).mp4"
    assert (tmp_path / "dest" / "copy.mp4").read_bytes() == b"already there"


# ----------------------------------------------------------------------------- safety rules
def test_changed_file_is_not_acted_on_until_confirmed_again(tmp_path):
    f = _file(tmp_path / "copy.mp4", b"as scanned")
    plan = _plan(ActionKind.MOVE, f, destination=tmp_path / "out")
    f.path.write_bytes(b"edited after the scan!")
    [r] = actions.execute(plan)
    assert r.status is ActionStatus.CHANGED and r.needs_confirmation and not r.ok
    assert "changed since the scan" in r.error and f.path.exists()
    again = actions.replan_changed(plan, [r])
    assert again.files[0].size == len(b"edited after the scan!")
    [r2] = actions.execute(again)
    assert r2.ok


def test_same_size_new_mtime_counts_as_changed(tmp_path):
    f = _file(tmp_path / "copy.mp4")
    os.utime(f.path, ns=(f.mtime_ns, f.mtime_ns + 1_000_000_000))
    [r] = actions.execute(_plan(ActionKind.TRASH, f), trasher=os.unlink)
    assert r.status is ActionStatus.CHANGED and f.path.exists()


def test_missing_file_is_reported(tmp_path):
    f = _file(tmp_path / "copy.mp4")
    f.path.unlink()
    [r] = actions.execute(_plan(ActionKind.TRASH, f), trasher=lambda p: None)
    assert r.status is ActionStatus.MISSING


def test_reference_files_are_never_acted_on(tmp_path):
    ref = tmp_path / "Reference"
    r1 = _file(ref / "sub" / "master.mp4")
    os.symlink(ref, tmp_path / "link to reference")
    r2 = PlannedFile(tmp_path / "link to reference" / "sub" / "master.mp4", r1.size, r1.mtime_ns)
    os.link(r1.path, tmp_path / "hardlink.mp4")
    r3 = PlannedFile(tmp_path / "hardlink.mp4", r1.size, r1.mtime_ns)
    other = _file(tmp_path / "copy.mp4")
    gone: list[str] = []
    plan = _plan(ActionKind.TRASH, r1, r2, r3, other, protected=(ref,))
    results = actions.execute(plan, trasher=lambda p: (gone.append(p), os.unlink(p)))
    # a hard link elsewhere is another name for the data: trashing it loses nothing
    assert [r.status for r in results] == [ActionStatus.REFUSED] * 2 + [ActionStatus.DONE] * 2
    assert gone == [str(r3.path), str(other.path)]
    assert r1.path.read_bytes() == b"video bytes"
    # the same through execute(protected=...) for a file-level reference
    f = _file(tmp_path / "x.mp4")
    [r] = actions.execute(_plan(ActionKind.TRASH, f), trasher=os.unlink, protected=[f.path])
    assert r.status is ActionStatus.REFUSED and f.path.exists()


def test_selection_plan_carries_the_reference_files(tmp_path):
    result = _result(tmp_path)
    marks = {g.id: set(range(len(g.members))) for g in result.groups}  # a caller marking all
    plan = selection.plan(result.groups, marks)
    refs = [m.file.path for g in result.groups for m in g.members if m.file.is_reference]
    assert refs and set(refs) <= set(plan.protected)
    assert not set(refs) & {f.path for f in plan.files}


def test_permanent_delete_needs_its_own_confirmation(tmp_path):
    f = _file(tmp_path / "copy.mp4")
    [r] = actions.execute(_plan(ActionKind.DELETE, f))
    assert r.status is ActionStatus.REFUSED and f.path.exists()
    [r] = actions.execute(_plan(ActionKind.DELETE, f), allow_delete=True)
    assert r.ok and not f.path.exists()


def test_execute_keeps_its_old_signature(tmp_path):
    f = _file(tmp_path / "copy.mp4")
    results = actions.execute(
        _plan(ActionKind.TRASH, f), NULL_PROGRESS, CancelToken(), trasher=os.unlink
    )
    assert results[0].ok and results[0].status is ActionStatus.DONE


def test_action_log_survives_a_torn_line_and_odd_paths(tmp_path):
    log = ActionLog(tmp_path / "actions.jsonl")
    odd = Path(os.fsdecode(os.fsencode(tmp_path) + b"/bad \xff name\nline.mp4"))
    f = _file(odd)
    actions.execute(_plan(ActionKind.MOVE, f, destination=tmp_path / "m"), log=log)
    with open(log.path, "a", encoding="ascii") as fh:
        fh.write('{"id": "torn", "kind": "tr')  # a crash in the middle of a write
    log2 = ActionLog(log.path)
    [e] = log2.entries()
    assert e.source == odd
    assert log2.undo(e).ok and odd.exists()


# ----------------------------------------------------------------------------- the CLI
def _result(tmp_path: Path) -> ScanResult:
    """Two groups; group 1 has a file in a reference folder."""
    probe_hi = Probe(10, 1920, 1080, 25, "h264", 5_000_000, True, 0, "mp4")
    probe_lo = Probe(10, 640, 360, 25, "h264", 800_000, True, 0, "mp4")

    def member(rel: str, data: bytes, probe: Probe, ref: bool = False) -> GroupMember:
        f = _file(tmp_path / "lib" / rel, data)
        root = tmp_path / "lib" / ("Reference" if ref else "")
        return GroupMember(VideoInfo(f.path, f.size, f.mtime_ns, root, probe, ref), 0.9)

    g1 = DuplicateGroup(
        1,
        GroupKind.NEAR_DUPLICATE,
        (
            member("Reference/master.mp4", b"M" * 100, probe_lo, ref=True),
            member("holiday.mp4", b"H" * 300, probe_hi),
            member("holiday small.mp4", b"h" * 50, probe_lo),
        ),
    )
    g2 = DuplicateGroup(
        2,
        GroupKind.NEAR_DUPLICATE,
        (member("party.mp4", b"P" * 400, probe_hi), member("party copy.mkv", b"p" * 90, probe_lo)),
    )
    files = tuple(m.file for g in (g1, g2) for m in g.members)
    return ScanResult((g1, g2), (), files, ScanStats(), roots=(tmp_path / "lib",))


def _write(tmp_path: Path, result: ScanResult, refs=()) -> Path:
    out = tmp_path / "result.json"
    export.write_atomic(out, export.to_json(result, {"reference_roots": [str(r) for r in refs]}))
    return out


def _cli(argv, monkeypatch, answers=()):
    from dedup_gui import cli

    replies = iter(answers)

    def fake_input(prompt=""):
        try:
            return next(replies)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr("builtins.input", fake_input)
    return cli.main(argv)


def test_cli_trash_keeps_one_per_group_and_never_the_reference(tmp_path, trash_home, capsys,
                                                               monkeypatch):  # fmt: skip
    result = _result(tmp_path)
    out = _write(tmp_path, result, refs=[tmp_path / "lib" / "Reference"])
    log = tmp_path / "log.jsonl"
    code = _cli(["trash", str(out), "--yes", "--log", str(log)], monkeypatch)
    text = capsys.readouterr().out
    lib = tmp_path / "lib"
    assert code == 0, text
    # kept: the reference file (it always wins) and the best party file
    assert (lib / "Reference" / "master.mp4").exists() and (lib / "party.mp4").exists()
    for gone in ("holiday.mp4", "holiday small.mp4", "party copy.mkv"):
        assert not (lib / gone).exists()
        assert f"trashed  {lib / gone} -> {trash_home}" in text
    assert "3 files done, 0 not acted on" in text
    assert len(ActionLog(log).entries()) == 3


@pytest.mark.parametrize("how", ["--reference flag", "reference_roots in the result"])
def test_cli_trash_refuses_reference_files_even_from_a_doctored_result(
    tmp_path, capsys, monkeypatch, how
):
    result = _result(tmp_path)
    ref = tmp_path / "lib" / "Reference"
    opts = {"reference_roots": [str(ref)]} if how != "--reference flag" else {}
    data = json.loads(export.to_json(result, opts))
    for f in data["files"]:  # the per-file flags say "not a reference" ...
        f["in_reference_folder"] = False
    for g in data["groups"]:
        for f in g["files"]:
            f["in_reference_folder"] = False
    out = tmp_path / "doctored.json"
    out.write_text(json.dumps(data))
    trashed: list[str] = []
    monkeypatch.setattr(actions, "_send2trash", lambda p: (trashed.append(p), os.unlink(p)))
    extra = ["--reference", str(ref)] if how == "--reference flag" else []
    # "largest" keeps holiday.mp4, so the reference master.mp4 would be marked
    code = _cli(["trash", str(out), "--yes", "--keep", "largest", *extra,
                 "--log", str(tmp_path / "l.jsonl")], monkeypatch)  # fmt: skip
    text = capsys.readouterr().out
    assert f"REFUSED  {ref / 'master.mp4'}: in a reference folder" in text
    assert (ref / "master.mp4").exists() and str(ref / "master.mp4") not in trashed
    assert code == 1 and len(trashed) == 2


def test_cli_trash_asks_first(tmp_path, capsys, monkeypatch):
    out = _write(tmp_path, _result(tmp_path))
    monkeypatch.setattr(actions, "_send2trash", os.unlink)
    code = _cli(["trash", str(out), "--log", str(tmp_path / "l")], monkeypatch, answers=["n"])
    assert code == 1 and "Nothing was done" in capsys.readouterr().out
    assert (tmp_path / "lib" / "holiday small.mp4").exists()
    code = _cli(["trash", str(out), "--log", str(tmp_path / "l")], monkeypatch, answers=["y"])
    assert code == 0 and not (tmp_path / "lib" / "holiday small.mp4").exists()


@pytest.mark.parametrize("interactive", [False, True])
def test_cli_trash_asks_again_about_changed_files(tmp_path, capsys, monkeypatch, interactive):
    out = _write(tmp_path, _result(tmp_path))
    changed = tmp_path / "lib" / "party copy.mkv"
    changed.write_bytes(b"re-encoded since the scan")
    monkeypatch.setattr(actions, "_send2trash", os.unlink)
    log = str(tmp_path / "l")
    if not interactive:  # --yes never covers a changed file
        code = _cli(["trash", str(out), "--yes", "--log", log], monkeypatch)
        text = capsys.readouterr().out
        assert code == 1 and f"CHANGED  {changed}" in text and changed.exists()
        assert "1 files changed since the scan and were left alone" in text
    else:  # asked again, the user says yes: acted on as it is now
        code = _cli(["trash", str(out), "--log", log], monkeypatch, answers=["y", "y"])
        text = capsys.readouterr().out
        assert "1 files changed since the scan" in text
        assert code == 0 and not changed.exists()


def test_cli_quarantine_when_the_trash_fails(tmp_path, capsys, monkeypatch):
    out = _write(tmp_path, _result(tmp_path))

    def broken(path: str) -> None:
        raise OSError(errno.EXDEV, "Trash not available on this volume")

    monkeypatch.setattr(actions, "_send2trash", broken)
    q = tmp_path / "lib" / ".dedup-gui-quarantine"
    log = tmp_path / "l.jsonl"
    code = _cli(["trash", str(out), "--yes", "--quarantine", str(q), "--log", str(log)],
                monkeypatch)  # fmt: skip
    text = capsys.readouterr().out
    assert code == 0, text
    assert "The trash could not take 3 files" in text
    assert sorted(p.name for p in q.iterdir()) == ["holiday small.mp4", "holiday.mp4",
                                                    "party copy.mkv"]  # fmt: skip
    # history lists them with an undo command; undo puts one back
    code = _cli(["history", "--log", str(log)], monkeypatch)
    text = capsys.readouterr().out
    assert "quarantine" in text and "history --undo" in text
    entry = next(e for e in ActionLog(log).entries() if e.kind == "quarantine")
    code = _cli(["history", "--log", str(log), "--undo", entry.id[:8]], monkeypatch)
    assert code == 0 and entry.source.exists()


def test_cli_quarantine_is_offered_not_assumed(tmp_path, capsys, monkeypatch):
    out = _write(tmp_path, _result(tmp_path))

    def no_trash(path: str) -> None:
        from send2trash.exceptions import TrashPermissionError

        raise TrashPermissionError(path)  # cannot create the share's .Trash-UID folder

    monkeypatch.setattr(actions, "_send2trash", no_trash)
    code = _cli(["trash", str(out), "--log", str(tmp_path / "l")], monkeypatch,
                answers=["y", "n"])  # fmt: skip
    text = capsys.readouterr().out
    assert code == 1 and "left in place" in text
    assert (tmp_path / "lib" / "holiday.mp4").exists()


def test_cli_delete_needs_its_own_confirmation(tmp_path, capsys, monkeypatch):
    out = _write(tmp_path, _result(tmp_path))
    victim = tmp_path / "lib" / "party copy.mkv"
    log = str(tmp_path / "l")
    code = _cli(["trash", str(out), "--delete", "--yes", "--log", log], monkeypatch,
                answers=["yes"])  # fmt: skip
    assert code == 1 and victim.exists() and "Nothing was deleted" in capsys.readouterr().out
    code = _cli(["trash", str(out), "--delete", "--yes", "--log", log], monkeypatch,
                answers=["delete"])  # fmt: skip
    assert code == 0 and not victim.exists()


def test_cli_trash_as_a_subprocess_uses_the_real_trash(tmp_path):
    from tests.reliability.conftest import cli

    data = tmp_path / "data"
    out = _write(tmp_path, _result(tmp_path))
    p = cli("trash", str(out), "--yes", env={"XDG_DATA_HOME": str(data)})
    assert p.returncode == 0, p.stderr
    trashed = sorted(x.name for x in (data / "Trash" / "files").iterdir())
    assert trashed == ["holiday small.mp4", "holiday.mp4", "party copy.mkv"]
    assert (data / "dedup-gui" / "actions.jsonl").exists()  # the log in the user data folder
    h = cli("history", env={"XDG_DATA_HOME": str(data)})
    assert h.returncode == 0 and h.stdout.count(" trash ") == 3
    assert "history --undo" in h.stdout  # a located trashed file can be put back
