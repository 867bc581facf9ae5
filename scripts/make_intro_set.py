"""A library where many different videos share the same channel intro (for the suppression test).

Every video starts with the same 3-second animated intro, then shows a different source clip;
a few of them also get a re-encoded copy. Sharing the intro does not make two videos
duplicates; the truth has one group per clip.

    python scripts/make_intro_set.py --sources ../shared/data/videos --out /tmp/ndv-intro

Needs the ffmpeg binary (Debian's ffmpeg).
"""

import argparse
import json
import random
import shutil
import subprocess
from pathlib import Path


def ffmpeg(*args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-nostdin", "-y", *args], check=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--count", type=int, default=16)
    ap.add_argument("--intro", type=float, default=3.0)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    lib = args.out / "library"
    if lib.exists():
        shutil.rmtree(lib)
    lib.mkdir(parents=True)
    intro = args.out / "intro.mp4"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        f"testsrc2=size=426x240:rate=30:duration={args.intro}",
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        str(intro),
    )
    clips = sorted(args.sources.glob("*/*.mp4"))
    rng.shuffle(clips)
    files, groups = [], {}
    for i, clip in enumerate(clips[: args.count]):
        source = f"{clip.parent.name}/{clip.stem}"
        name = f"{rng.getrandbits(40):010x}.mp4"
        ffmpeg(
            "-i",
            str(intro),
            "-i",
            str(clip),
            "-filter_complex",
            "[0:v]setsar=1[a];[1:v]scale=426:240,setsar=1,fps=30[b];[a][b]concat=n=2:v=1[v]",
            "-map",
            "[v]",
            "-c:v",
            "libx264",
            "-crf",
            "20",
            "-pix_fmt",
            "yuv420p",
            str(lib / name),
        )
        files.append(
            {
                "name": name,
                "relpath": name,
                "source": source,
                "group": source,
                "role": "original",
                "kind": "original",
                "transforms": [],
            }
        )
        groups.setdefault(source, []).append(name)
        if i % 3 == 0:
            copy = f"{rng.getrandbits(40):010x}.mkv"
            ffmpeg(
                "-i",
                str(lib / name),
                "-c:v",
                "libx264",
                "-crf",
                "32",
                "-pix_fmt",
                "yuv420p",
                str(lib / copy),
            )
            files.append(
                {
                    "name": copy,
                    "relpath": copy,
                    "source": source,
                    "group": source,
                    "role": "derived",
                    "kind": "crf32",
                    "transforms": ["crf32"],
                }
            )
            groups[source].append(copy)
    truth = {
        "set": "intro",
        "files": files,
        "groups": [{"id": g, "files": f} for g, f in groups.items()],
        "hard_negatives": [],
        "natural_lookalikes": [],
        "known_duplicates": [],
    }
    (args.out / "truth.json").write_text(json.dumps(truth, indent=1))
    print(f"{len(files)} files in {lib}")


if __name__ == "__main__":
    main()
