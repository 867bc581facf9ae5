"""The "not a duplicate" list: hidden pairs and files, persisted and applied to groups."""

from __future__ import annotations

import os
from pathlib import Path

from dedup_gui.core.review.ignores import IgnoreList, drop_members
from dedup_gui.core.types import DuplicateGroup, GroupKind, GroupMember, Probe, VideoInfo


def member(name: str, sim: float, width: int = 640) -> GroupMember:
    probe = Probe(10.0, width, width * 9 // 16, 25.0, "h264", 1_000_000, False, 0, "mp4")
    return GroupMember(VideoInfo(Path("/v") / name, 1000, 1, Path("/v"), probe), sim)


def group(gid: int = 1) -> DuplicateGroup:
    return DuplicateGroup(
        id=gid,
        kind=GroupKind.NEAR_DUPLICATE,
        members=(member("ref.mp4", 1.0), member("a.mp4", 0.9, 1920), member("b.mp4", 0.6)),
        reference=0,
        keep=1,
    )


def names(g: DuplicateGroup | None) -> list[str]:
    return [m.file.path.name for m in g.members] if g else []


def test_empty_list_changes_nothing():
    g = group()
    assert IgnoreList().apply([g]) == (g,)


def test_hidden_file_leaves_its_group_and_keeper_and_reference_follow():
    ign = IgnoreList()
    ign.add_file("/v/a.mp4")
    (g,) = ign.apply([group()])
    assert names(g) == ["ref.mp4", "b.mp4"]
    assert g.reference_member.file.path.name == "ref.mp4"
    # the keeper (a.mp4) left: the best quality of the rest is suggested
    assert g.keeper.file.path.name in {"ref.mp4", "b.mp4"}


def test_pair_with_the_reference_drops_the_other_file():
    ign = IgnoreList()
    ign.add_pair("/v/b.mp4", "/v/ref.mp4")
    (g,) = ign.apply([group()])
    assert names(g) == ["ref.mp4", "a.mp4"]
    assert names(g)[g.keep] == "a.mp4"


def test_pair_of_two_members_drops_the_weaker_match():
    ign = IgnoreList()
    ign.add_pair("/v/a.mp4", "/v/b.mp4")
    (g,) = ign.apply([group()])
    assert names(g) == ["ref.mp4", "a.mp4"]


def test_group_left_with_one_file_disappears():
    ign = IgnoreList()
    ign.add_file("/v/a.mp4")
    ign.add_file("/v/b.mp4")
    assert ign.apply([group(1), group(2)]) == ()


def test_hiding_the_reference_promotes_the_best_match():
    g = drop_members(group(), {0})
    assert names(g) == ["a.mp4", "b.mp4"]
    assert g.reference == 0 and g.keep == 0


def test_persisted_across_runs_in_the_user_data_folder():
    ign = IgnoreList.load()
    assert str(ign.path).startswith(os.environ["XDG_DATA_HOME"])
    ign.add_pair("/v/a.mp4", "/v/b.mp4")
    ign.add_file("/v/ref.mp4")
    ign.save()
    again = IgnoreList.load()
    assert again.has_pair("/v/b.mp4", "/v/a.mp4")
    assert again.has_file("/v/ref.mp4")
    assert len(again) == 2


def test_unreadable_file_is_set_aside(tmp_path):
    bad = tmp_path / "ignores.json"
    bad.write_text("{not json")
    ign = IgnoreList.load(bad)
    assert len(ign) == 0
    assert (tmp_path / "ignores.json.bad").exists()


def test_non_utf8_paths_round_trip(tmp_path):
    weird = os.fsdecode(b"/v/caf\xe9.mp4")
    ign = IgnoreList.load(tmp_path / "i.json")
    ign.add_file(weird)
    ign.save()
    assert IgnoreList.load(tmp_path / "i.json").has_file(weird)
