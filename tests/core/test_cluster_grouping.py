from pathlib import Path

import numpy as np

from dedup_gui.core.match.cluster import cluster, durations_compatible
from dedup_gui.core.match.grouping import Unit, build_groups
from dedup_gui.core.match.refine import PairMatch
from dedup_gui.core.types import GroupKind, MatchEvidence, Probe, VideoInfo


def test_duration_tolerance():
    assert durations_compatible(100, 70, 0.4)
    assert not durations_compatible(100, 30, 0.4)
    assert durations_compatible(6, 4, 0.1)  # a 2 s intro on a short clip
    assert durations_compatible(0, 100, 0.4)  # unknown duration


def test_dbscan_links_candidates_and_refines_pairs_inside_small_clusters():
    cand = {(0, 1): 0.1, (1, 2): 0.2, (3, 4): 0.9}
    c = cluster(6, cand, eps=0.5, durations=[10] * 6, tolerance=0.4)
    assert c.labels[0] == c.labels[1] == c.labels[2] != -1
    assert c.labels[3] == c.labels[4] == c.labels[5] == -1
    assert (0, 2) in c.pairs  # same cluster: refined although kNN did not pair them
    assert (3, 4) in c.pairs  # weak candidate pairs are still refined


def test_partial_mode_ignores_durations():
    cand = {(0, 1): 0.1}
    assert cluster(2, cand, 0.5, [100, 20], 0.4).pairs == ()
    assert cluster(2, cand, 0.5, [100, 20], None).pairs == ((0, 1),)


def _info(name, pixels=100, size=1000):
    probe = Probe(10.0, pixels, 1, 25.0, "h264", 1000, False, 0, "mp4")
    return VideoInfo(Path(f"/v/{name}"), size, 0, Path("/v"), probe)


def _match(a, b, score):
    ev = MatchEvidence(score=score, kind=GroupKind.NEAR_DUPLICATE)
    return PairMatch(a, b, score, score, score, ev, ev, True, 0.9, 0.3)


def test_groups_never_chain():
    units = [Unit(_info("a")), Unit(_info("b", pixels=200)), Unit(_info("c"))]
    # a~b and b~c, but a and c do not match
    groups = build_groups(units, [_match(0, 1, 0.9), _match(1, 2, 0.9)], 0.5, False)
    assert len(groups) == 1
    assert groups[0].reference_member.file.name == "b"  # b matches both: the reference
    units = [Unit(_info("a")), Unit(_info("b")), Unit(_info("c")), Unit(_info("d"))]
    groups = build_groups(
        units, [_match(0, 1, 0.9), _match(1, 2, 0.9), _match(2, 3, 0.9)], 0.5, False
    )
    direct = {frozenset(p) for p in (("a", "b"), ("b", "c"), ("c", "d"))}
    for g in groups:  # every member matched the reference directly: no chains
        ref = g.reference_member.file.name
        for i, m in enumerate(g.members):
            if i != g.reference:
                assert frozenset((ref, m.file.name)) in direct
    assert not any({"a", "d"} <= {m.file.name for m in g.members} for g in groups)


def test_rejected_pairs_and_identical_copies():
    units = [Unit(_info("a"), (_info("a copy"),)), Unit(_info("b"))]
    unverified = PairMatch(
        0, 1, 0.9, 0.9, 0.9, *(2 * (MatchEvidence(0.9, GroupKind.NEAR_DUPLICATE),)), False, 0.0, 0.5
    )
    groups = build_groups(units, [unverified], 0.5, False)
    assert len(groups) == 1 and groups[0].kind is GroupKind.IDENTICAL
    assert {m.file.name for m in groups[0].members} == {"a", "a copy"}


def test_suggested_keeper_is_the_best_quality_file():
    units = [
        Unit(_info("small", pixels=100)),
        Unit(_info("big", pixels=400)),
        Unit(_info("mid", pixels=200)),
    ]
    g = build_groups(units, [_match(0, 1, 0.9), _match(0, 2, 0.9), _match(1, 2, 0.9)], 0.5, False)[
        0
    ]
    assert g.keeper.file.name == "big"
    assert g.reclaimable == 2000
    assert np.isclose(g.members[g.reference].similarity, 1.0)
