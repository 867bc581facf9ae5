"""Unreadable files and folders, symlink loops and dangling links.

As root, ``chmod 000`` does not stop reads, so the permission test then runs the CLI as the
unprivileged ``nobody`` user (where the platform allows it) to get real permission errors.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dedup_gui.core.options import DiscoveryOptions, SamplingOptions
from dedup_gui.core.scan.discovery import discover
from dedup_gui.core.scan.workers import decode_message
from tests import media as M
from tests.faults import permissions_bite, write_mp4
from tests.reliability.conftest import cli


def _locked_tree(root: Path) -> None:
    write_mp4(root / "ok.mp4", M.Scene(31).frames(2))
    write_mp4(root / "locked.mp4", M.Scene(32).frames(2))
    write_mp4(root / "locked folder" / "inside.mp4", M.Scene(33).frames(2))
    os.chmod(root / "locked.mp4", 0)
    os.chmod(root / "locked folder", 0)


ROOT_REASON = (
    "running as root: chmod 000 does not stop root from reading (and the venv's interpreter "
    "cannot be run as an unprivileged user here); covered by the simulated tests below"
)


@pytest.mark.skipif(not permissions_bite(), reason=ROOT_REASON)
def test_unreadable_file_and_folder_through_the_cli(tmp_path):
    lib = tmp_path / "lib"
    _locked_tree(lib)
    out = tmp_path / "out.json"
    try:
        p = cli("scan", str(lib), "--json", str(out), "--workers", "1")
    finally:
        os.chmod(lib / "locked folder", 0o755)
        os.chmod(lib / "locked.mp4", 0o644)
    assert p.returncode == 0, p.stderr[-3000:]
    data = json.loads(out.read_text(encoding="utf-8"))
    reasons = {Path(q["path"]).name: q["reason"] for q in data["problems"]}
    assert reasons["locked.mp4"] == "cannot read: Permission denied"
    assert reasons["locked folder"] == "cannot read folder: Permission denied"
    assert [Path(f["path"]).name for f in data["files"]] == ["ok.mp4"]


def test_unreadable_file_simulated_in_the_decoder(tmp_path, monkeypatch):
    """Works as root too: the decoder's open() is refused, as for a mode-000 file."""
    _locked_tree(tmp_path)
    os.chmod(tmp_path / "locked folder", 0o755)
    real_open = open

    def refusing_open(file, *args, **kw):
        if os.fspath(file).endswith("locked.mp4"):
            raise PermissionError(13, "Permission denied", file)
        return real_open(file, *args, **kw)

    monkeypatch.setattr("builtins.open", refusing_open)
    status, reason = decode_message(tmp_path / "locked.mp4", "pyav", SamplingOptions())
    assert (status, reason) == ("error", "cannot read: Permission denied")
    status, _ = decode_message(tmp_path / "ok.mp4", "pyav", SamplingOptions())
    assert status == "ok"


def test_unreadable_folder_simulated_in_process(tmp_path, monkeypatch):
    """Works as root too: the walker is refused a listing, as a locked folder would."""
    _locked_tree(tmp_path)
    real = os.scandir

    def scandir(path):
        if os.path.basename(path) == "locked folder":
            raise PermissionError(13, "Permission denied", path)
        return real(path)

    monkeypatch.setattr("dedup_gui.core.scan.discovery.os.scandir", scandir)
    r = discover([tmp_path])
    os.chmod(tmp_path / "locked folder", 0o755)
    assert [(p.path.name, p.reason) for p in r.problems] == [
        ("locked folder", "cannot read folder: Permission denied")
    ]
    assert {f.path.name for f in r.files} == {"ok.mp4", "locked.mp4"}


@pytest.mark.parametrize("follow", [False, True])
def test_symlink_loops_and_dangling_links(tmp_path, follow):
    write_mp4(tmp_path / "real.mp4", M.Scene(34).frames(2))
    (tmp_path / "sub").mkdir()
    os.symlink("..", tmp_path / "sub" / "up")  # a loop through a parent
    os.symlink(".", tmp_path / "here")  # a loop to itself
    os.symlink("me.mp4", tmp_path / "me.mp4")  # a link to itself
    os.symlink("a.mp4", tmp_path / "b.mp4")  # two links pointing at each other
    os.symlink("b.mp4", tmp_path / "a.mp4")
    os.symlink("gone.mp4", tmp_path / "dangling.mp4")
    os.symlink("real.mp4", tmp_path / "alias.mp4")
    r = discover([tmp_path], DiscoveryOptions(follow_symlinks=follow))
    reasons = {p.path.name: p.reason for p in r.problems}
    assert reasons["me.mp4"].startswith("symlink loop")
    assert reasons["a.mp4"].startswith("symlink loop")
    assert reasons["b.mp4"].startswith("symlink loop")
    assert reasons["dangling.mp4"].startswith("broken symlink")
    assert "gone.mp4" in reasons["dangling.mp4"]
    assert len(r.files) == 1  # the alias (when followed) is the same file, listed once
    if follow:
        assert reasons["up"].startswith("symlink loop")
        assert reasons["here"].startswith("symlink loop")
    else:  # folder links are not followed at all: nothing to report
        assert "up" not in reasons and "here" not in reasons


def test_quarantine_folder_is_not_scanned(tmp_path):
    write_mp4(tmp_path / "a.mp4", M.Scene(35).frames(2))
    write_mp4(tmp_path / ".dedup-gui-quarantine" / "b.mp4", M.Scene(35).frames(2))
    assert [f.path.name for f in discover([tmp_path]).files] == ["a.mp4"]
