"""End-to-end engine tests on the planted library."""

from __future__ import annotations

from dedup_gui.core.options import ScanOptions
from dedup_gui.core.pipeline import scan
from tests.conftest import paths_of


def test_scan_finds_exactly_the_planted_groups(planted, embedder, tmp_path):
    result = scan([planted.root], ScanOptions(cache_dir=tmp_path), embedder=embedder)
    assert not result.cancelled
    assert [p for p in result.problems if p.skipped] == []
    assert paths_of(result.groups) == set(planted.groups)
    for a, b in planted.hard_negatives:
        assert not any({a, b} <= g for g in paths_of(result.groups)), (a, b)
