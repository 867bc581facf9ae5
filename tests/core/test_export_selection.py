import csv
import io
import json
from pathlib import Path

from dedup_gui.core.review import export
from dedup_gui.core.review.selection import (
    KeepRule,
    check_marks,
    choose_keeper,
    mark_all_but_keeper,
    plan,
)
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

ODD = b'/v/odd \xff name\n"quoted" \xf0\x9f\x8e\xa5.mp4'.decode("utf-8", "surrogateescape")


def _info(path, pixels=100, size=1000, mtime=0, ref=False, duration=10.0, bitrate=1000):
    probe = Probe(duration, pixels, 1, 25.0, "h264", bitrate, False, 0, "mp4")
    return VideoInfo(Path(path), size, mtime, Path("/v"), probe, ref)


def _group(gid, *infos):
    members = [GroupMember(infos[0], 1.0)]
    members += [
        GroupMember(
            i, 0.9, MatchEvidence(0.9, GroupKind.NEAR_DUPLICATE, 10, 12, 0.5, (0, 9), (0, 9))
        )
        for i in infos[1:]
    ]
    return DuplicateGroup(gid, GroupKind.NEAR_DUPLICATE, tuple(members), 0, 0)


def _result():
    g1 = _group(1, _info("/v/a.mp4", 400), _info(ODD, 100), _info("/v/c.mp4", 200, mtime=9))
    g2 = _group(2, _info("/ref/x.mp4", 100, ref=True), _info("/v/y.mp4", 900))
    files = tuple(m.file for g in (g1, g2) for m in g.members)
    return ScanResult(
        (g1, g2),
        (Problem(Path("/v/bad.mkv"), Stage.DECODE, "no video stream"),),
        files,
        ScanStats({"files": 6}, {"features": 1.5}),
        roots=(Path("/v"),),
    )


def test_json_round_trip_keeps_everything_including_odd_paths(tmp_path):
    r = _result()
    out = tmp_path / "r.json"
    export.write_atomic(out, export.to_json(r, {"threshold": 0.4}))
    obj = json.loads(out.read_text())
    assert obj["groups"][0]["files"][1]["path"] == ODD
    assert obj["problems"][0]["reason"] == "no video stream"
    back = export.load_json(out)
    assert back.groups == r.groups
    assert back.problems == r.problems
    assert back.stats.counts == {"files": 6}


def test_bench_and_csv_forms():
    r = _result()
    bench = json.loads(export.to_bench_json(r))
    assert bench["groups"][0] == ["/v/a.mp4", ODD, "/v/c.mp4"]
    rows = list(csv.reader(io.StringIO(export.to_csv(r))))
    assert rows[0][:3] == ["group", "kind", "path"]
    assert len(rows) == 1 + 5
    assert rows[2][2] == ODD


def test_keeper_rules():
    g = _result().groups[0]
    assert g.members[choose_keeper(g, KeepRule.RESOLUTION)].file.name == "a.mp4"
    assert g.members[choose_keeper(g, KeepRule.NEWEST)].file.name == "c.mp4"
    assert g.members[choose_keeper(g, KeepRule.FOLDER, (Path("/nowhere"),))].file.name == "a.mp4"


def test_reference_folder_files_are_kept_and_never_marked():
    groups = _result().groups
    marked = mark_all_but_keeper(groups, KeepRule.RESOLUTION)
    assert marked[1] == {1, 2}
    assert marked[2] == {1}  # y.mp4 has the higher resolution, but x.mp4 is in a reference folder
    forced = {2: {0, 1}}  # a caller that ignores the rule
    check = check_marks(groups, forced)
    assert check.whole_groups == (2,)
    assert check.reference_marked == (Path("/ref/x.mp4"),)
    p = plan(groups, forced)
    assert [f.path for f in p.files] == [Path("/v/y.mp4")]


def test_mark_summary():
    groups = _result().groups
    check = check_marks(groups, mark_all_but_keeper(groups))
    assert (check.files, check.bytes, check.groups, check.whole_groups) == (3, 3000, 2, ())
