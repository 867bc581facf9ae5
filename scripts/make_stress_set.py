"""A held-out-style stress set: transformations the dev set does not have, and template negatives.

The dev set is for tuning; this set checks that the defaults carry over to other kinds of
change (docs/ACCURACY.md reports both). From the shared source clips it makes:

* originals (byte copies) of a random subset of sources;
* one or two copies per source with a transformation *not* in the dev set: rotated 90 degrees,
  flipped upside down, 25% crop, off-centre zoom, 1.25x and 0.8x speed, 8 fps, picture in
  picture, blurred-background vertical repost, big captions, logo overlay, sepia, white
  letterbox, heavy compression, small rotation, and three-way combinations;
* template negatives: two *different* clips placed in the same frame (same backdrop, title and
  logo); grouping them is an error, recorded as hard-negative pairs.

    python scripts/make_stress_set.py --sources ../shared/data/videos --out /tmp/ndv-stress

Needs the ffmpeg binary (Debian's ffmpeg), like the benchmark generator.
"""

import argparse
import json
import random
import shutil
import subprocess
from pathlib import Path

TEXTURE_LOOPS = {
    "christmas/2",
    "snow/0",
    "snow/1",
    "snow/2",
    "snow/4",
    "snow/5",
    "snow/7",
    "snow/8",
    "snow/9",
    "christmas/0",
    "christmas/1",
}
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

# kind -> (video filter, extra input options, description)
KINDS = {
    "rot90": ("transpose=1", "rotated 90 degrees clockwise"),
    "vflip": ("vflip", "flipped upside down"),
    "crop25": ("crop=trunc(iw*0.75/2)*2:trunc(ih*0.75/2)*2", "centre crop keeping 75%"),
    "zoom_corner": (
        "crop=trunc(iw*0.8/2)*2:trunc(ih*0.8/2)*2:0:0,scale=426:240",
        "zoom into the top-left 80%",
    ),
    "speed_1.25x": ("setpts=PTS/1.25", "played 1.25x faster"),
    "slow_0.8x": ("setpts=PTS/0.8", "played 0.8x slower"),
    "fps8": ("fps=8", "8 frames per second"),
    "pip": ("scale=256:144,pad=426:240:120:60:color=0x335577", "picture in picture on a blue card"),
    "vertical_blur": (
        "split[a][b];[a]scale=240:426,boxblur=20[bg];[b]scale=240:-2[fg];[bg][fg]overlay=0:(H-h)/2",
        "vertical repost with blurred background",
    ),
    "captions": (
        f"drawtext=fontfile={FONT}:text='SUBSCRIBE FOR MORE CLIPS':fontsize=h*0.09:"
        "fontcolor=yellow:box=1:boxcolor=black@0.6:x=(w-tw)/2:y=h*0.78",
        "large caption band",
    ),
    "logo": (
        "drawbox=x=iw*0.72:y=ih*0.05:w=iw*0.24:h=ih*0.22:color=red@0.85:t=fill",
        "opaque logo box in a corner",
    ),
    "sepia": (
        "colorchannelmixer=.393:.769:.189:0:.349:.686:.168:0:.272:.534:.131",
        "sepia colours",
    ),
    "white_letterbox": ("pad=iw:trunc(iw*3/4/2)*2:0:(oh-ih)/2:white", "white bars to 4:3"),
    "heavy_compression": (None, "H.264 at 60 kbit/s"),
    "tilt": (
        "rotate=0.06:fillcolor=black,crop=trunc(iw*0.9/2)*2:trunc(ih*0.9/2)*2",
        "rotated 3.4 degrees and cropped",
    ),
    "combo3": (
        "crop=trunc(iw*0.85/2)*2:trunc(ih*0.85/2)*2,eq=brightness=0.1:saturation=1.4,hflip",
        "crop 85% + colour + mirror",
    ),
}


def run(cmd):
    subprocess.run(cmd, check=True, capture_output=True)


def encode(src, dst, vf, bitrate=None):
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-y", "-i", str(src), "-an"]
    if vf:
        cmd += ["-filter_complex" if ";" in vf else "-vf", vf]
    cmd += ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p"]
    cmd += ["-b:v", bitrate] if bitrate else ["-crf", "23"]
    run([*cmd, str(dst)])


def template(src, dst):
    """The same frame, title and logo around any clip."""
    vf = (
        f"scale=300:170,pad=426:240:63:50:color=0x6a1b9a,"
        f"drawtext=fontfile={FONT}:text='MY HOLIDAY MEMORIES':fontsize=22:fontcolor=white:"
        "x=(w-tw)/2:y=14,drawbox=x=380:y=200:w=36:h=30:color=yellow@1:t=fill"
    )
    encode(src, dst, vf)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sources", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    lib = args.out / "library"
    if lib.exists():
        shutil.rmtree(lib)
    lib.mkdir(parents=True)
    sources = sorted(f"{p.parent.name}/{p.stem}" for p in args.sources.glob("*/*.mp4"))
    usable = [s for s in sources if s not in TEXTURE_LOOPS]
    rng.shuffle(usable)
    files, groups = [], {}

    def name(ext=".mp4"):
        return f"{rng.getrandbits(48):012x}{ext}"

    def add(n, source, role, kind, desc):
        files.append(
            {
                "name": n,
                "relpath": n,
                "source": source,
                "group": source,
                "role": role,
                "kind": kind,
                "transforms": [] if role != "derived" else [kind],
                "description": desc,
            }
        )
        groups.setdefault(source, []).append(n)

    kinds = list(KINDS)
    chosen = usable[: len(kinds) + 8]
    for i, source in enumerate(chosen):
        src = args.sources / f"{source}.mp4"
        n = name()
        shutil.copyfile(src, lib / n)
        add(n, source, "original", "original", "original")
        for k in [kinds[i % len(kinds)]] + ([kinds[(i + 5) % len(kinds)]] if i < 8 else []):
            vf, desc = KINDS[k]
            out = name()
            encode(src, lib / out, vf, "60k" if k == "heavy_compression" else None)
            add(out, source, "derived", k, desc)
    # template negatives: pairs of different clips in the same template
    negatives = []
    rest = usable[len(chosen) :]
    for j in range(0, min(len(rest) - 1, 6), 2):
        pair = []
        for source in rest[j : j + 2]:
            n = name()
            template(args.sources / f"{source}.mp4", lib / n)
            files.append(
                {
                    "name": n,
                    "relpath": n,
                    "source": source,
                    "group": source + "#tpl",
                    "role": "segment",
                    "kind": "template",
                    "transforms": [],
                    "description": "clip inside a shared template",
                }
            )
            groups.setdefault(source + "#tpl", []).append(n)
            pair.append(n)
        negatives.append(
            {"source": "template", "groups": [f["group"] for f in files[-2:]], "pairs": [pair]}
        )
    truth = {
        "set": "stress",
        "files": files,
        "groups": [{"id": g, "files": fs} for g, fs in groups.items()],
        "hard_negatives": negatives,
        "natural_lookalikes": [],
        "known_duplicates": [],
    }
    (args.out / "truth.json").write_text(json.dumps(truth, indent=1))
    print(f"{len(files)} files in {lib}; truth {args.out / 'truth.json'}")


if __name__ == "__main__":
    main()
