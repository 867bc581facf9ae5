"""The command line as a user (or a script) runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests import media as M

ROOT = Path(__file__).resolve().parents[1]


def run(*args: str, env_cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *args, "--cache-dir", str(env_cache)]
        if args and args[0] == "scan"
        else [sys.executable, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )


@pytest.fixture(scope="module")
def small_lib(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli-lib")
    s = M.Scene(21).frames(6)
    M.write_video(root / "a.mp4", s)
    M.write_video(root / "a_small.mp4", M.apply(s, M.resize(192, 108)), crf=32)
    M.write_video(root / "b.mp4", M.Scene(22).frames(6))
    (root / "broken.mp4").write_bytes(b"\x00\x01 definitely not a video" * 50)
    return root


def test_scan_writes_json_csv_and_benchmark_forms(small_lib, tmp_path):
    out, csv_out, bench = tmp_path / "r.json", tmp_path / "r.csv", tmp_path / "g.json"
    p = run(
        "scan",
        str(small_lib),
        "--json",
        str(out),
        "--csv",
        str(csv_out),
        "--groups-json",
        str(bench),
        env_cache=tmp_path / "cache",
    )
    assert p.returncode == 0, p.stderr
    r = json.loads(out.read_text())
    assert [sorted(Path(f["path"]).name for f in g["files"]) for g in r["groups"]] == [
        ["a.mp4", "a_small.mp4"]
    ]
    g = r["groups"][0]
    assert g["kind"] == "near-duplicate" and Path(g["keep"]).name == "a.mp4"
    member = next(f for f in g["files"] if f["path"] != g["reference"])
    for key in ("size", "duration", "width", "height", "codec", "bitrate", "similarity"):
        assert member[key] is not None
    assert [Path(p["path"]).name for p in r["problems"]] == ["broken.mp4"]
    assert r["stats"]["files"] == 4 and "features" in r["stats"]["seconds"]
    assert "a_small.mp4" in csv_out.read_text()
    b = json.loads(bench.read_text())
    assert sorted(Path(x).name for x in b["groups"][0]) == ["a.mp4", "a_small.mp4"]
    assert "broken.mp4" in p.stderr  # skipped files are listed


def test_second_scan_reads_everything_from_the_cache(small_lib, tmp_path):
    cache = tmp_path / "cache"
    first = run("scan", str(small_lib), "--json", str(tmp_path / "1.json"), env_cache=cache)
    second = run("scan", str(small_lib), "--json", str(tmp_path / "2.json"), env_cache=cache)
    assert first.returncode == second.returncode == 0
    stats = json.loads((tmp_path / "2.json").read_text())["stats"]
    assert stats["cache_hits"] == 3 and stats.get("decoded", 0) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["scan", "/no/such/folder"], "no such folder"),
        (["scan", ".", "--threshold", "abc"], "not a number"),
        (["scan", ".", "--threshold", "150"], "between 0 and 1"),
        (["scan", ".", "--model", "vgg"], "invalid choice"),
        (["scan", ".", "--json", "/no/such/dir/out.json"], "folder does not exist"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_bad_arguments_exit_2_with_a_message(args, message, tmp_path):
    p = run(*args, env_cache=tmp_path)
    assert p.returncode == 2
    assert message in p.stderr
    assert "Traceback" not in p.stderr


def test_missing_weights_exit_1_with_advice(small_lib, tmp_path):
    p = run("scan", str(small_lib), "--weights", str(tmp_path / "missing.pth"), env_cache=tmp_path)
    assert p.returncode == 1
    assert "missing.pth does not exist" in p.stderr
    assert "Traceback" not in p.stderr


# ----------------------------------------------------------------------------- find
@pytest.fixture(scope="module")
def find_lib(tmp_path_factory):
    """A scanned library (a 16 s source, an unrelated video) and an excerpt (4-10 s) outside."""
    base = tmp_path_factory.mktemp("find-cli")
    src = M.Scene(81).frames(16)
    M.write_video(base / "lib" / "source.mp4", src)
    M.write_video(base / "lib" / "other.mp4", M.Scene(82).frames(8))
    M.write_video(base / "clips" / "cut.mp4", src[4 * M.FPS : 10 * M.FPS])
    cache = base / "cache"
    p = run("scan", str(base / "lib"), "-q", env_cache=cache)
    assert p.returncode == 0, p.stderr
    return base, cache


def test_find_ranks_the_source_of_an_excerpt_with_its_range(find_lib, tmp_path):
    base, cache = find_lib
    out = tmp_path / "find.json"
    p = run(
        "find", str(base / "clips"), "--root", str(base / "lib"), "--json", str(out),
        "--cache-dir", str(cache), env_cache=cache,
    )  # fmt: skip
    assert p.returncode == 0, p.stderr
    r = json.loads(out.read_text())
    assert r["status"] == "ok" and r["library_videos"] == 2
    assert r["library_source"].startswith("the library index (exact")  # what the scan kept
    (q,) = r["queries"]
    assert Path(q["query"]).name == "cut.mp4"
    best = q["copies"][0]
    assert Path(best["path"]).name == "source.mp4"
    assert best["kind"] == "excerpt"
    assert abs(best["match_range"][0] - 4.0) <= 1.0 and abs(best["match_range"][1] - 10.0) <= 1.0
    assert "other.mp4" not in {Path(c["path"]).name for c in q["copies"]}
    # the listing: rank, similarity, kind, path and both ranges
    assert "source.mp4" in p.stdout and "excerpt" in p.stdout and "<->" in p.stdout
    assert "Searched 2 analysed videos in the library index" in p.stdout


def test_find_in_a_library_never_scanned_says_scan_first(find_lib, tmp_path):
    base, _ = find_lib
    p = run(
        "find", str(base / "clips" / "cut.mp4"), "--root", str(base / "lib"),
        "--cache-dir", str(tmp_path / "empty-cache"), "--json", str(tmp_path / "f.json"),
        env_cache=tmp_path,
    )  # fmt: skip
    assert p.returncode == 1
    assert "has not been scanned yet" in p.stderr and "scan it first" in p.stderr
    assert "Traceback" not in p.stderr
    assert json.loads((tmp_path / "f.json").read_text())["status"] == "not scanned"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["find", "/no/such/clip.mp4"], "no such file or folder"),
        (["find", ".", "--top", "0"], "must be positive"),
        (["find", ".", "--threshold", "150"], "between 0 and 1"),
        (["find", ".", "--json", "/no/such/dir/out.json"], "folder does not exist"),
    ],
)
def test_find_bad_arguments_exit_2(args, message, tmp_path):
    p = run(*args, env_cache=tmp_path)
    assert p.returncode == 2
    assert message in p.stderr


def test_library_shows_the_index_and_prunes_missing_files(small_lib, tmp_path):
    import shutil

    lib = tmp_path / "lib"
    shutil.copytree(small_lib, lib)
    cache = tmp_path / "cache"
    assert run("scan", str(lib), "-q", env_cache=cache).returncode == 0
    p = run("library", "--cache-dir", str(cache), env_cache=cache)
    assert p.returncode == 0, p.stderr
    assert p.stdout.startswith("3 videos,") and "local: exact" in p.stdout
    assert "features: resnet50-augnet" in p.stdout
    (lib / "b.mp4").unlink()
    p = run("library", "--cache-dir", str(cache), "--prune", "--json", env_cache=cache)
    assert p.returncode == 0, p.stderr
    (st,) = json.loads(p.stdout)
    assert st["videos"] == 2 and [Path(x).name for x in st["pruned"]] == ["b.mp4"]
    assert st["index_frames"] == st["frames"] > 0
    p = run("library", "--cache-dir", str(tmp_path / "empty"), env_cache=cache)
    assert p.returncode == 0 and "no library index" in p.stdout
    p = run("scan", str(lib), "--index", "ftp://x", env_cache=cache)
    assert p.returncode == 2 and "unknown index" in p.stderr
    assert run("cache", "--cache-dir", str(cache), "--clear", env_cache=cache).returncode == 0
    p = run("library", "--cache-dir", str(cache), env_cache=cache)
    assert "no library index" in p.stdout  # cleared with the features it was built from
