"""Where a copy is lost: recall after each stage of the matcher, per kind of copy.

    .venv/bin/python scripts/stage_recall.py --library DIR [--library DIR2] --truth TRUTH.json \
        [-- SCAN FLAGS]

Runs the features stage through the cache (a warm cache makes this a matching-only run), then
the matching stage with its intermediate pair sets recorded, and reports for every derived
copy the last stage at which it is still linked to its truth group:

* ``candidate``: the kNN search put the copy and some member of its group side by side (a
  rotated copy: its turned thumbnails did);
* ``covered``: such a candidate pair passed the frame cover (enough of either video's frames
  have a close frame in the other: ``candidates.refinable_pairs``);
* ``aligned``: ... and the time gate (its close frames agree on one offset in time:
  ``coherence.aligned_pairs``);
* ``refined``: such a pair was compared (those pairs and the pairs completed inside clusters);
* ``score``: such a compared pair reached the threshold (before motion verification);
* ``verified``: such a pair was accepted (score and verification);
* ``grouped``: the copy ended in one group with a member of its truth group.

Prints the recall of each stage overall and per transformation kind, and lists the copies lost
with the stage that lost them and their best pair's numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dedup_gui import cli  # noqa: E402
from dedup_gui.core.analyse.embed import Embedder  # noqa: E402
from dedup_gui.core.analyse.features import extract_features, feature_key  # noqa: E402
from dedup_gui.core.library.cache import FeatureCache  # noqa: E402
from dedup_gui.core.match import coherence, matching, rotation, zoom  # noqa: E402
from dedup_gui.core.match.grouping import Unit  # noqa: E402
from dedup_gui.core.options import ScanOptions  # noqa: E402
from dedup_gui.core.progress import NEVER_CANCELLED, NULL_PROGRESS  # noqa: E402
from dedup_gui.core.scan.discovery import discover  # noqa: E402
from dedup_gui.core.types import VideoFeatures, VideoInfo  # noqa: E402

STAGES = ("candidate", "covered", "aligned", "refined", "score", "verified", "grouped")


def main() -> int:
    argv = sys.argv[1:]
    flags: list[str] = []
    if "--" in argv:
        i = argv.index("--")
        argv, flags = argv[:i], argv[i + 1 :]
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--library", type=Path, action="append", required=True)
    ap.add_argument("--truth", type=Path, required=True)
    ap.add_argument("--json", type=Path, help="save the per-stage numbers here")
    ap.add_argument(
        "--pairs", type=Path, help="save every compared pair here (JSON lines, with its truth)"
    )
    ap.add_argument(
        "--gate",
        type=Path,
        help="save every pair the cover passed here, with the time gate's shares at several "
        "similarities (JSON lines, with its truth)",
    )
    args = ap.parse_args(argv)
    scan_args = cli.build_parser().parse_args(["scan", *map(str, args.library), "-q", *flags])
    opts = cli.options_from_args(scan_args)
    found = discover(args.library, opts.discovery)
    embedder = Embedder(opts.model)
    with FeatureCache.open(opts.cache_dir) if opts.use_cache else FeatureCache.disabled() as cache:
        got, _ = extract_features(
            list(found.files), opts, embedder, cache, NULL_PROGRESS, NEVER_CANCELLED, {}
        )
    units, feats = [], []
    for f in found.files:
        if f.path in got:
            probe, vf = got[f.path]
            units.append(Unit(VideoInfo(f.path, f.size, f.mtime_ns, f.root, probe)))
            feats.append(vf)
    trace: dict[str, object] = {}
    with (
        FeatureCache.open(opts.cache_dir) if opts.use_cache else FeatureCache.disabled() as cache,
        rotation.Rotator(
            feature_key(opts, embedder),
            opts.decoder,
            opts.sampling,
            opts.file_timeout,
            embedder,
            cache,
            opts.match.flip,
        ) as rotator,
        zoom.Zoomer(
            feature_key(opts, embedder),
            opts.decoder,
            opts.sampling,
            opts.file_timeout,
            embedder,
            cache,
            opts.match.flip,
        ) as zoomer,
    ):
        matches, groups = matching.match(
            units,
            feats,
            opts,
            embedder.prior(opts.sampling.size),
            rotator=rotator,
            trace=trace,
            zoomer=zoomer,
        )
    truth = json.loads(args.truth.read_text())
    names = [u.rep.path.name for u in units]
    index = {n: i for i, n in enumerate(names)}
    group_of = {m.file.path.name: g.id for g in groups for m in g.members}
    by_pair = {(m.a, m.b): m for m in matches}
    candidates, covered = trace["candidates"], trace["covered"]
    aligned, refined = trace["aligned"], trace["refined"]
    mo = opts.match
    assert isinstance(candidates, set) and isinstance(refined, set)
    assert isinstance(covered, set) and isinstance(aligned, set)

    def reached(a: int, b: int) -> tuple[int, object]:
        key = (min(a, b), max(a, b))
        m = by_pair.get(key)
        stage = 0
        if key in candidates:
            stage = 1
            if key in covered:
                stage = 2
                if key in aligned:
                    stage = 3
        if key in refined:
            stage = 4
            if m is not None and m.score(mo.partial) >= mo.threshold:
                stage = 5
                if m.accepted(mo.threshold, mo.partial):
                    stage = 6
        if group_of.get(names[a]) is not None and group_of.get(names[a]) == group_of.get(names[b]):
            stage = 7
        return stage, m

    per_kind: dict[str, list[int]] = defaultdict(list)
    lost = []
    for f in truth["files"]:
        if f["role"] != "derived" or f["name"] not in index:
            continue
        me = index[f["name"]]
        mates = [
            index[g["name"]]
            for g in truth["files"]
            if g["group"] == f["group"] and g["name"] != f["name"] and g["name"] in index
        ]
        best, best_m = 0, None
        for other in mates:
            stage, m = reached(me, other)
            if stage > best or (stage == best and best_m is None):
                best, best_m = stage, m
        for kind in f.get("transforms") or [f["kind"]]:
            per_kind[kind].append(best)
        per_kind["(all)"].append(best)
        if best < len(STAGES):
            lost.append((f, best, best_m))
    out = {}
    print(f"{'kind':24s} {'n':>4s} " + " ".join(f"{s:>9s}" for s in STAGES))
    for kind in sorted(per_kind, key=lambda k: (k != "(all)", k)):
        v = per_kind[kind]
        rec = [sum(1 for x in v if x > i) / len(v) for i in range(len(STAGES))]
        out[kind] = {"n": len(v), **dict(zip(STAGES, rec, strict=True))}
        print(f"{kind:24s} {len(v):4d} " + " ".join(f"{r:9.2f}" for r in rec))
    print("\ncopies lost (stage reached, best pair):")
    for f, stage, m in lost:
        where = STAGES[stage] if stage < len(STAGES) else "?"
        detail = (
            f"sim={m.similarity:.2f} cov=({m.coverage_a:.2f},{m.coverage_b:.2f}) "
            f"verified={m.verified} motion={m.motion:.2f}"
            if m is not None
            else "never compared"
        )
        print(
            f"  {f['source']:12s} {f['kind']:32s} lost after "
            f"{'nothing' if stage == 0 else STAGES[stage - 1]:9s} ({where} failed)  {detail}"
        )
    if args.json:
        args.json.write_text(json.dumps(out, indent=1))
    if args.pairs:
        group = {f["name"]: f["group"] for f in truth["files"]}
        with args.pairs.open("w") as fh:
            for m in matches:
                a, b = names[m.a], names[m.b]
                row = {
                    "a": a,
                    "b": b,
                    "copies": group.get(a) is not None and group.get(a) == group.get(b),
                    "score": round(m.score(mo.partial), 4),
                    "similarity": round(m.similarity, 4),
                    "coverage": [round(m.coverage_a, 4), round(m.coverage_b, 4)],
                    "verified": bool(m.verified),
                    "motion": round(m.motion, 4),
                    "excerpt": m.excerpt,
                    "accepted": m.accepted(mo.threshold, mo.partial),
                    # each video's matched time range, and the times of its first and last frame
                    "ranges": [list(m.evidence_b.member_range), list(m.evidence_a.member_range)],
                    "times": [_ends(feats[m.a].timestamps), _ends(feats[m.b].timestamps)],
                }
                fh.write(json.dumps(row) + "\n")
    if args.gate:
        write_gate(args.gate, covered, aligned, units, feats, opts, embedder, truth)
    return 0


def _ends(times: np.ndarray) -> list[float]:
    """The first and last of a video's frame times (seconds, rounded)."""
    return [round(float(times[0]), 2), round(float(times[-1]), 2)] if len(times) else [0.0, 0.0]


GATE_SIMS = (0.35, 0.4, 0.45, 0.5)


def write_gate(
    path: Path,
    covered: set[tuple[int, int]],
    aligned: set[tuple[int, int]],
    units: list[Unit],
    feats: list[VideoFeatures],
    opts: ScanOptions,
    embedder: Embedder,
    truth: dict,
) -> None:
    """Every covered pair's time-gate shares at :data:`GATE_SIMS` and its truth (JSON lines)."""
    prior = embedder.prior(opts.sampling.size) if opts.match.whiten else None
    _, fixed = matching.index_space(prior, feats)
    group = {f["name"]: f["group"] for f in truth["files"]}
    kind = {f["name"]: f.get("kind", f["role"]) for f in truth["files"]}
    frames = {}
    with path.open("w") as fh:
        for a, b in sorted(covered):
            for i in (a, b):
                if i not in frames:
                    frames[i] = matching.index_frames(feats[i], fixed)
            na, nb = units[a].rep.path.name, units[b].rep.path.name
            row = {
                "a": na,
                "b": nb,
                "kinds": [kind.get(na), kind.get(nb)],
                "copies": group.get(na) is not None and group.get(na) == group.get(nb),
                "aligned": (a, b) in aligned,
                "views": [len(frames[a][0]), len(frames[b][0])],
                "frames": [len(frames[a][1]), len(frames[b][1])],
                "shares": [
                    round(x, 3) for x in coherence.aligned_shares(frames[a], frames[b], GATE_SIMS)
                ],
            }
            fh.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    sys.exit(main())
