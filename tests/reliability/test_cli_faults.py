"""The fault corpus through the command line: exit code 0, every problem in the JSON."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from dedup_gui.core.review.export import load_json
from tests.faults import Outcome
from tests.reliability.conftest import DECODER, SAMPLING, cli
from tests.reliability.test_fault_corpus import _fault_keys, check_outcome


@pytest.fixture(scope="module")
def cli_scan(corpus_scan, tmp_path_factory):
    """``scan --json`` over the corpus, after the engine scan (its cache: unchanged files are
    cache hits or remembered failures; the hanging file costs a shorter budget)."""
    out = tmp_path_factory.mktemp("cli-out") / "result.json"
    p = cli(
        "scan", str(corpus_scan.corpus.root), "--json", str(out),
        "--cache-dir", str(corpus_scan.cache_dir), "--decoder", DECODER,
        "--file-timeout", "3", "--follow-symlinks",
        "--min-frames", str(SAMPLING.min_frames), "--max-frames", str(SAMPLING.max_frames),
    )  # fmt: skip
    return p, out


def test_cli_scan_of_the_corpus_exits_0_and_writes_json(cli_scan):
    p, out = cli_scan
    assert p.returncode == 0, p.stderr[-3000:]
    assert "Traceback" not in p.stderr
    assert out.exists()
    assert "files skipped" in p.stdout


@pytest.mark.parametrize("key", _fault_keys())
def test_fault_through_the_cli(cli_scan, corpus_scan, key):
    p, out = cli_scan
    fault = corpus_scan.corpus.fault(key)
    data = json.loads(out.read_text(encoding="utf-8"))
    result = load_json(out)  # paths (even non-UTF-8 ones) round-trip through the JSON
    problems = [(q.reason, q.skipped) for q in result.problems if q.path == fault.path]
    analysed = any(f.path == fault.path for f in result.files)
    assert len(data["problems"]) == len(result.problems)
    if key == "deleted-during-scan":  # gone since the engine scan: simply not there
        assert not analysed and not problems
        return
    if key == "replaced-during-scan":  # its new content is analysed now
        assert analysed and not problems
        return
    check_outcome(fault, analysed, problems)
    if fault.outcome is Outcome.SKIPPED:  # also summarised on stderr for the user
        assert os.path.basename(str(fault.path)).split("\n")[0] in p.stderr


def test_cli_json_paths_are_the_real_files(cli_scan, corpus_scan):
    _, out = cli_scan
    result = load_json(out)
    odd = next(g for g in corpus_scan.corpus.groups if any("emoji" in str(p) for p in g))
    grouped = {p for g in result.groups for p in g.paths}
    assert odd <= grouped
    for path in odd:
        assert Path(path).exists()
