"""Add partial-clip copies (25-40% excerpts of long clips) to a benchmark library.

The dev set has no excerpts, so this script makes a few: for every original of 20 s or more it
cuts one excerpt (a random 25-40% window, re-encoded, some also resized or mirrored) and writes
a new truth file where the excerpt joins its source's group with the transform "partial"
(``bench/evaluate.py`` then also reports ``pairwise_excl_partial``).

    python scripts/make_partial_set.py --library /tmp/ndv-dev/library \
        --truth /tmp/ndv-dev/dev_truth.json --out /tmp/ndv-partial

The excerpts go to OUT/excerpts (the library itself is not copied): scan both folders, e.g.
``scripts/evaluate.py --library /tmp/ndv-dev/library --library /tmp/ndv-partial/excerpts``.

Needs the ffmpeg binary (Debian's ffmpeg), like the benchmark generator itself.
"""

import argparse
import copy
import json
import random
import shutil
import subprocess
from pathlib import Path

EXTRA = [
    ([], "excerpt"),
    (["scale=320:180"], "excerpt, downscaled"),
    (["hflip"], "excerpt, mirrored"),
]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--library", type=Path, required=True)
    ap.add_argument("--truth", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    truth = json.loads(args.truth.read_text())
    lib = args.out / "excerpts"
    if lib.exists():
        shutil.rmtree(lib)
    lib.mkdir(parents=True)
    new = copy.deepcopy(truth)
    groups = {g["id"]: g for g in new["groups"]}
    n = 0
    for f in truth["files"]:
        if f["role"] != "original" or f["duration"] < 20:
            continue
        share = rng.uniform(0.25, 0.40)
        start = rng.uniform(0.05, 0.95 - share) * f["duration"]
        length = share * f["duration"]
        vf, desc = EXTRA[n % len(EXTRA)]
        name = f"partial{n:02d}{rng.getrandbits(24):06x}.mp4"
        cmd = [
            "ffmpeg",
            "-v",
            "error",
            "-nostdin",
            "-y",
            "-ss",
            f"{start:.3f}",
            "-t",
            f"{length:.3f}",
            "-i",
            str(args.library / f["relpath"]),
            "-an",
            "-c:v",
            "libx264",
            "-preset",
            "veryfast",
            "-crf",
            "23",
            "-pix_fmt",
            "yuv420p",
        ]
        if vf:
            cmd += ["-vf", ",".join(vf)]
        subprocess.run([*cmd, str(lib / name)], check=True)
        entry = {
            **{k: f[k] for k in ("source", "group", "width", "height", "fps", "vcodec")},
            "name": name,
            "relpath": name,
            "parent": f["name"],
            "role": "derived",
            "kind": "partial",
            "transforms": ["partial"],
            "ops": [],
            "description": f"{desc}: {start:.1f}s..{start + length:.1f}s of {f['duration']:.1f}s "
            f"({share:.0%})",
            "duration": round(length, 3),
            "audio": False,
            "bytes": (lib / name).stat().st_size,
            "excerpt": [round(start, 3), round(start + length, 3)],
        }
        new["files"].append(entry)
        groups[f["group"]]["files"].append(name)
        n += 1
    new["set"] = "dev+partial"
    (args.out / "truth.json").write_text(json.dumps(new, indent=1))
    print(f"{n} excerpts in {lib}; truth {args.out / 'truth.json'}")


if __name__ == "__main__":
    main()
