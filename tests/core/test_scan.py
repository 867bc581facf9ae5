"""End-to-end engine behaviour on generated videos with planted duplicates."""

from __future__ import annotations

from pathlib import Path

import pytest

from dedup_gui.core.options import MatchOptions, ScanOptions
from dedup_gui.core.pipeline import scan
from dedup_gui.core.progress import Progress
from dedup_gui.core.types import GroupKind
from tests import media as M
from tests.conftest import paths_of


@pytest.fixture(scope="module")
def result(planted, embedder, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    events = []
    r = scan(
        [planted.root], ScanOptions(cache_dir=cache), Progress(events.append), embedder=embedder
    )
    return r, cache, events


def _group_of(result, name):
    for g in result.groups:
        for m in g.members:
            if m.file.name == name:
                return g, m
    return None, None


def test_finds_exactly_the_planted_groups(result, planted):
    r, _, _ = result
    assert not r.cancelled
    assert [p for p in r.problems if p.skipped] == []
    assert paths_of(r.groups) == set(planted.groups)
    assert all(g.kind is GroupKind.NEAR_DUPLICATE for g in r.groups)


@pytest.mark.parametrize(
    ("copy", "original"),
    [
        ("holiday copy.avi", "holiday.mp4"),  # MPEG-4 part 2 re-encode, other name, sub-folder
        ("holiday_small.mp4", "holiday.mp4"),  # resized, lower quality
        ("holiday_crop.mkv", "holiday.mp4"),  # cropped
        ("holiday_trim.mp4", "holiday.mp4"),  # head and tail cut
        ("party_mirror.mp4", "party.mp4"),  # mirrored
        ("party_4x3.mov", "party.mp4"),  # letterboxed
        ("party_gray.webm", "party.mp4"),  # grayscale VP9
        ("garden_intro.mp4", "garden.mp4"),  # black intro
        ("garden_fast.mp4", "garden.mp4"),  # 1.1x speed
        ("garden_turned.mp4", "garden.mp4"),  # pixels turned sideways
    ],
)
def test_each_kind_of_copy_is_grouped_with_its_original(result, copy, original):
    g, _ = _group_of(result[0], copy)
    assert g is not None, f"{copy} not grouped"
    assert original in {m.file.name for m in g.members}


def test_two_cuts_of_one_shot_and_a_shared_logo_are_not_duplicates(result, planted):
    r, _, _ = result
    for a, b in planted.hard_negatives:
        assert not any({a, b} <= g for g in paths_of(r.groups)), (a, b)
    for name in planted.distinct:
        assert _group_of(r, name)[0] is None, name


def test_evidence_explains_the_match(result):
    r, _, _ = result
    g, m = _group_of(r, "party_mirror.mp4")
    if g.reference_member.file.name != "party_mirror.mp4":
        assert m.evidence.flipped
    g, m = _group_of(r, "garden_turned.mp4")
    ref = g.reference_member.file.name
    assert ref == "garden_turned.mp4" or m.evidence.rotation in (90, 270)
    g, m = _group_of(r, "garden_fast.mp4")
    if g.reference_member.file.name == "garden.mp4":
        assert m.evidence.speed == pytest.approx(1.1, abs=0.02)
    for g in r.groups:
        for i, member in enumerate(g.members):
            if i != g.reference:
                assert 0.4 <= member.similarity <= 1.0
                assert member.evidence.matched_frames > 0
        assert g.keeper.file.probe.pixels == max(m.file.probe.pixels for m in g.members)


def test_progress_is_weighted_and_ends_complete(result):
    _, _, events = result
    stages = [e.stage for e in events]
    assert stages.index("discover") < stages.index("features") < stages.index("match")
    fractions = [e.fraction for e in events]
    assert fractions == sorted(fractions)
    assert fractions[-1] == pytest.approx(1.0)


def test_second_scan_decodes_nothing(result, planted, embedder):
    r, cache, _ = result
    again = scan([planted.root], ScanOptions(cache_dir=cache), embedder=embedder)
    assert again.stats.counts["cache_hits"] == r.stats.counts["videos"]
    assert again.stats.counts.get("decoded", 0) == 0
    assert paths_of(again.groups) == paths_of(r.groups)


def test_identical_files_are_grouped_without_decoding_twice(tmp_path, embedder):
    frames = M.Scene(31).frames(5)
    a = M.write_video(tmp_path / "a.mp4", frames)
    (tmp_path / "dup").mkdir()
    (tmp_path / "dup" / "a (1).mp4").write_bytes(a.read_bytes())
    M.write_video(tmp_path / "other.mp4", M.Scene(32).frames(5))
    r = scan([tmp_path], ScanOptions(cache_dir=tmp_path / "c"), embedder=embedder)
    assert r.stats.counts["decoded"] == 2
    assert paths_of(r.groups) == {frozenset({"a.mp4", "a (1).mp4"})}
    assert r.groups[0].kind is GroupKind.IDENTICAL


def test_partial_clip_mode_finds_an_excerpt_and_its_time_range(tmp_path, embedder):
    scene = M.Scene(41)
    M.write_video(tmp_path / "long.mp4", scene.frames(30))
    M.write_video(tmp_path / "excerpt.mp4", scene.frames(9, start=12), crf=28)
    M.write_video(tmp_path / "unrelated.mp4", M.Scene(42).frames(9))
    full_only = ScanOptions(cache_dir=tmp_path / "c", match=MatchOptions(partial=False))
    plain = scan([tmp_path], full_only, embedder=embedder)
    assert plain.groups == ()  # a 30% excerpt is not a full duplicate
    r = scan([tmp_path], ScanOptions(cache_dir=tmp_path / "c"), embedder=embedder)  # default
    assert paths_of(r.groups) == {frozenset({"long.mp4", "excerpt.mp4"})}
    g = r.groups[0]
    assert g.kind is GroupKind.PARTIAL
    member = next(m for i, m in enumerate(g.members) if i != g.reference)
    ev = member.evidence
    ref_range = ev.ref_range if g.reference_member.file.name == "long.mp4" else ev.member_range
    assert ref_range[0] == pytest.approx(12, abs=1.5)
    assert ref_range[1] == pytest.approx(21, abs=1.5)


def test_an_excerpt_of_fast_changing_footage_is_grouped_with_its_source(
    tmp_path, embedder, monkeypatch
):
    """Snowfall cut between two of the source's sampled moments: no sampled frame of the
    excerpt lines up with the source's, so only the phase look (match.phase: the excerpt
    decoded densely and compared at the source's moments) groups them, with where it was cut;
    another snowfall of the same length stays apart."""
    from dedup_gui.core.match import matching

    lib = tmp_path / "lib"
    src = M.snowfall(41, 20)
    M.write_video(lib / "snowfall.mp4", src)
    M.write_video(lib / "excerpt.mp4", src[75:135], crf=26)  # 7.5 s .. 13.5 s
    M.write_video(lib / "other snowfall.mp4", M.snowfall(42, 6))
    options = ScanOptions(cache_dir=tmp_path / "c")
    with monkeypatch.context() as m:
        m.setattr(matching, "_rephase", lambda *args: None)
        assert scan([lib], options, embedder=embedder).groups == ()  # the sampled frames alone

    r = scan([lib], options, embedder=embedder)

    assert paths_of(r.groups) == {frozenset({"snowfall.mp4", "excerpt.mp4"})}
    assert r.stats.counts["rephased_pairs"] >= 1
    g = r.groups[0]
    assert g.kind is GroupKind.PARTIAL
    member = next(m for i, m in enumerate(g.members) if i != g.reference)
    ev = member.evidence
    at = ev.ref_range if g.reference_member.file.name == "snowfall.mp4" else ev.member_range
    assert at[0] == pytest.approx(7.5, abs=1.0) and at[1] == pytest.approx(13.5, abs=1.0)


def test_reference_folders_are_marked(planted, embedder, result):
    _, cache, _ = result
    ref = Path(planted.root) / "sub"
    r = scan(
        [planted.root], ScanOptions(cache_dir=cache, reference_roots=(ref,)), embedder=embedder
    )
    flagged = {m.file.name for g in r.groups for m in g.members if m.file.is_reference}
    assert flagged == {"holiday copy.avi"}


def test_a_shared_channel_intro_is_not_evidence(tmp_path, embedder):
    """Many different videos that open with the same animated intro are not duplicates; a
    real copy among them still is."""
    intro = M.Scene(90).frames(2.5)
    for i in range(7):
        M.write_video(tmp_path / f"episode{i}.mp4", intro + M.Scene(100 + i).frames(3))
    M.write_video(tmp_path / "episode0 copy.mp4", intro + M.Scene(100).frames(3), crf=32)
    for partial in (False, True):
        opts = ScanOptions(cache_dir=tmp_path / "c", match=MatchOptions(partial=partial))
        r = scan([tmp_path], opts, embedder=embedder)
        assert paths_of(r.groups) == {frozenset({"episode0.mp4", "episode0 copy.mp4"})}, partial
