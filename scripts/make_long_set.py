#!/usr/bin/env python3
"""A long-video library: 5-10 minute videos, their copies and excerpts, plus a truth file.

Measures how fast a duplicate finder analyses long files and whether it finds their copies
and excerpts. From the shared source clips (SOURCES/<category>/<n>.mp4, 426x240, 1-60 s):

* ``--n-long`` long ORIGINALS (default 10) of 5-10 minutes, 1280x720 H.264 (libx264
  ``-preset veryfast``, CRF 23, GOP 250 with scene cuts: ``-g 250 -keyint_min 25``), 25 or
  30 fps, with or without an AAC track. Each is one ffmpeg run that upscales and concatenates
  many different clips (concat filter); a clip is used at most once per long video, and no
  two clips are neighbours in more than one long video (so no two long videos share a run of
  clips). Which clip lies at which time range is recorded per long video ("timeline").
* 1-2 copies per long original, derived from its file: ``reencode`` (CRF 28-32, another
  GOP and preset), ``resize`` (854x480 or 640x360), ``trim`` (5-15% cut at head and tail),
  ``container`` (stream copy into mkv/mov/mp4, or VP9 realtime WebM for one of them) and
  combinations of two; each kind occurs at least twice.
* 6-10 EXCERPTS of 20-90 s cut from random points of random long videos and re-encoded at
  640x360 or 426x240. They are partial copies: transform "partial", in their source's truth
  group, with the true cut (``"cut": [start, end]`` in source seconds). An excerpt always
  spans several clips so that only its own source contains that sequence.
* 2-3 short source clips used in no long video, byte-copied, as singletons (distractors).

    python3 scripts/make_long_set.py --sources ../shared/data/videos --out /tmp/ndv-long
    -> /tmp/ndv-long/library/...     videos (random 12-hex names, mixed extensions, sub-folders)
    -> /tmp/ndv-long/truth.json      truth in the bench/make_set.py format (bench/evaluate.py)

``--quick`` makes 3 long videos of about 2 minutes (a smoke test); ``--dry-run`` only writes
the plan (OUT/plan.json, the truth with planned instead of probed values). The plan is
deterministic for a seed; ffmpeg runs single-threaded with bit-exact flags, so the files are
too for a given ffmpeg build. Needs only Python 3.11+ and the ffmpeg/ffprobe binaries.
"""

import argparse
import datetime as dt
import json
import math
import os
import random
import shutil
import subprocess
import sys
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

GENERATOR = "ndv-make-long-set/1"
LONG_W, LONG_H = 1280, 720
LONG_CRF, LONG_GOP, LONG_KEYINT_MIN = 23, 250, 25
AUDIO_RATE = 48000

# Corpus clips that are the same scene (christmas/1 is an excerpt-like clip of christmas/0) or
# look alike (see bench/make_set.py). They count as one clip when neighbours are compared, and
# are never distractors (their look-alike would sit in a long video).
KNOWN_DUPLICATES = [("christmas/0", "christmas/1")]
NATURAL_LOOKALIKES = [
    ("animals/0", "animals/4"),
    ("school/4", "school/5"),
    ("snow/7", "snow/9"),
    ("snow/0", "snow/2"),
    ("snow/1", "snow/4"),
]
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
}

COPY_KINDS = ("reencode", "resize", "trim", "container")
# two disjoint combos that together cover every kind once (for a small set)
COMBO_MATCHINGS = [
    (("reencode", "container"), ("resize", "trim")),
    (("container", "trim"), ("reencode", "resize")),
    (("reencode", "trim"), ("container", "resize")),
]
FORMATS = {"mp4": "mp4", "mov": "mov", "mkv": "matroska", "webm": "webm"}
EXTS = {"mp4": ".mp4", "mov": ".mov", "mkv": ".mkv", "webm": ".webm"}


# --------------------------------------------------------------------------- probing


def run(cmd):
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


def ffprobe_json(path, *args):
    r = run(["ffprobe", "-v", "error", *args, "-of", "json", str(path)])
    if r.returncode != 0:
        raise RuntimeError(f"ffprobe failed on {path}: {r.stderr.strip()}")
    return json.loads(r.stdout)


def probe(path):
    """Duration, size, fps, codecs, audio and byte size of a rendered file."""
    info = ffprobe_json(
        path,
        "-show_entries",
        "format=duration:stream=codec_type,codec_name,width,height,avg_frame_rate",
    )
    streams = info.get("streams", [])
    v = next((s for s in streams if s.get("codec_type") == "video"), {})
    a = next((s for s in streams if s.get("codec_type") == "audio"), None)
    fps = None
    if v.get("avg_frame_rate", "0/0") != "0/0":
        fps = round(float(Fraction(v["avg_frame_rate"])), 3)
    return {
        "duration": round(float(info.get("format", {}).get("duration", 0.0)), 3),
        "width": v.get("width"),
        "height": v.get("height"),
        "fps": fps,
        "vcodec": v.get("codec_name"),
        "acodec": a.get("codec_name") if a else None,
        "audio": a is not None,
        "bytes": os.path.getsize(path),
    }


def count_video_packets(path):
    info = ffprobe_json(
        path, "-select_streams", "v:0", "-count_packets", "-show_entries", "stream=nb_read_packets"
    )
    return int(info["streams"][0]["nb_read_packets"])


def list_sources(src_dir):
    out = []
    for cat in sorted(p for p in Path(src_dir).iterdir() if p.is_dir()):
        for f in sorted(cat.glob("*.mp4"), key=lambda p: (len(p.stem), p.stem)):
            info = ffprobe_json(
                f,
                "-show_entries",
                "format=duration:stream=codec_type,nb_frames,r_frame_rate,width,height",
            )
            streams = info["streams"]
            v = next(s for s in streams if s["codec_type"] == "video")
            rate = Fraction(v["r_frame_rate"])
            frames = int(v.get("nb_frames") or 0) or count_video_packets(f)
            out.append(
                {
                    "id": f"{cat.name}/{f.stem}",
                    "path": str(f.resolve()),
                    "frames": frames,
                    "rate": rate,
                    "vdur": float(frames / rate),
                    "duration": round(float(info["format"]["duration"]), 3),
                    "audio": any(s["codec_type"] == "audio" for s in streams),
                }
            )
    return out


def frames_at(src, fps):
    """Frames the fps filter gives for src at fps (it may give one more; never fewer)."""
    return max(1, math.floor(src["frames"] * fps / src["rate"] + 1e-6))


# --------------------------------------------------------------------------- planning


class Namer:
    """Random 12-hex names, a few (nested) sub-folders, random mtimes."""

    def __init__(self, rng, n_dirs=3):
        self.rng = rng
        self.used = set()
        self.dirs = []
        for _ in range(n_dirs):
            d = f"{rng.getrandbits(16):04x}"
            if self.dirs and rng.random() < 0.5:
                d = f"{rng.choice(self.dirs)}/{d}"
            self.dirs.append(d)

    def name(self, ext):
        while True:
            stem = f"{self.rng.getrandbits(48):012x}"
            if stem not in self.used:
                self.used.add(stem)
                break
        sub = "" if self.rng.random() < 0.6 else self.rng.choice(self.dirs)
        rel = f"{sub}/{stem}{ext}" if sub else f"{stem}{ext}"
        start = int(dt.datetime(2018, 1, 1, tzinfo=dt.UTC).timestamp())
        return rel, start + self.rng.randrange(6 * 365 * 86400)


def canon(clip_id):
    """One id per visual identity (known duplicates and look-alikes collapse)."""
    for pair in KNOWN_DUPLICATES + NATURAL_LOOKALIKES:
        if clip_id in pair:
            return pair[0]
    return clip_id


def build_sequence(pool, target, fps, used_pairs, rng, slack=8.0):
    """Clips (each once) summing to about target seconds, no neighbour pair from used_pairs."""
    for _ in range(200):
        order = pool[:]
        rng.shuffle(order)
        seq, total = [], 0.0
        while total < target:
            prev = seq[-1] if seq else None
            pick = None
            for c in order:
                d = frames_at(c, fps) / fps
                if total + d > target + slack:
                    continue
                if prev is not None:
                    pair = frozenset((canon(prev["id"]), canon(c["id"])))
                    if len(pair) < 2 or pair in used_pairs:
                        continue
                pick = c
                break
            if pick is None:
                break
            seq.append(pick)
            order.remove(pick)
            total += frames_at(pick, fps) / fps
        if total >= target - slack:
            return seq
    raise RuntimeError(f"could not build a {target:.0f} s sequence from {len(pool)} clips")


def deal_copy_kinds(rng, n_long):
    """Copy kind-lists (each kind >= 2 times over the set) dealt to long videos (1-2 each)."""
    total = max(round(1.5 * n_long), min(2 * n_long, 8))
    if total >= 8:
        deck = [[k] for k in COPY_KINDS for _ in range(2)]
        combos = [[a, b] for i, a in enumerate(COPY_KINDS) for b in COPY_KINDS[i + 1 :]]
        deck += [list(rng.choice(combos)) for _ in range(total - 8)]
    else:  # 3 long videos: 6 copies
        deck = [[k] for k in COPY_KINDS] + [list(c) for c in rng.choice(COMBO_MATCHINGS)]
    counts = [1] * n_long
    while sum(counts) < len(deck):
        i = rng.randrange(n_long)
        if counts[i] < 2:
            counts[i] += 1
    for _ in range(1000):
        rng.shuffle(deck)
        out, k = [], 0
        for c in counts:
            out.append(deck[k : k + c])
            k += c
        if all(len({tuple(x) for x in kinds}) == len(kinds) for kinds in out):
            return out
    return out


def snap(t, fps):
    return round(t * fps) / fps


def clips_in(timeline, a, b):
    """The clips of a timeline that overlap [a, b], with times relative to a."""
    out = []
    for seg in timeline:
        lo, hi = max(a, seg["start"]), min(b, seg["end"])
        if hi - lo > 1e-6:
            out.append({"clip": seg["clip"], "start": round(lo - a, 3), "end": round(hi - a, 3)})
    return out


def plan_long(lid, rng, namer, pool, used_pairs, target, fps, audio, container):
    seq = build_sequence(pool, target, fps, used_pairs, rng)
    for a, b in pairwise(seq):
        used_pairs.add(frozenset((canon(a["id"]), canon(b["id"]))))
    timeline, frame = [], 0
    for c in seq:
        n = frames_at(c, fps)
        timeline.append(
            {
                "clip": c["id"],
                "start": round(frame / fps, 3),
                "end": round((frame + n) / fps, 3),
                "frames": [frame, frame + n],
            }
        )
        frame += n
    duration = frame / fps
    rel, mtime = namer.name(EXTS[container])
    desc = (
        f"long original: {len(seq)} clips upscaled to {LONG_W}x{LONG_H} and concatenated, "
        f"{duration:.1f} s at {fps} fps, H.264 veryfast CRF {LONG_CRF} GOP {LONG_GOP}, "
        f"{'AAC audio' if audio else 'no audio'}, {container}"
    )
    return {
        "name": os.path.basename(rel),
        "relpath": rel,
        "mtime": mtime,
        "source": lid,
        "parent": None,
        "group": lid,
        "role": "original",
        "kind": "original",
        "transforms": [],
        "ops": [
            {
                "op": "concat",
                "w": LONG_W,
                "h": LONG_H,
                "fps": fps,
                "crf": LONG_CRF,
                "preset": "veryfast",
                "gop": LONG_GOP,
                "keyint_min": LONG_KEYINT_MIN,
                "audio": audio,
                "container": container,
            }
        ],
        "description": desc,
        "duration": round(duration, 3),
        "width": LONG_W,
        "height": LONG_H,
        "fps": fps,
        "audio": audio,
        "container": container,
        "n_frames": frame,
        "timeline": timeline,
        "_seq": seq,
        "_dep": None,
    }


def plan_copy(kinds, orig, rng, namer, webm):
    """One copy of a long original; webm: this container copy is VP9 WebM."""
    fps, dur = orig["fps"], orig["duration"]
    spec = {
        "w": LONG_W,
        "h": LONG_H,
        "vcodec": "h264",
        "crf": 23,
        "preset": "veryfast",
        "gop": None,
        "container": "mp4",
        "stream_copy": False,
        "cut": None,
    }
    desc = []
    if "reencode" in kinds:
        spec["crf"] = rng.randint(28, 32)
        spec["preset"] = rng.choice(["veryfast", "superfast", "faster"])
        spec["gop"] = rng.choice([120, 60, None])
        gop = f"GOP {spec['gop']}" if spec["gop"] else "x264 default GOP"
        desc.append(f"H.264 re-encode CRF {spec['crf']} {spec['preset']}, {gop}")
    if "resize" in kinds:
        spec["w"], spec["h"] = rng.choice([(854, 480), (640, 360)])
        desc.append(f"resized to {spec['w']}x{spec['h']}")
    if "trim" in kinds:
        head = snap(rng.uniform(0.05, 0.15) * dur, fps)
        tail = snap(rng.uniform(0.05, 0.15) * dur, fps)
        spec["cut"] = [round(head, 3), round(dur - tail, 3)]
        desc.append(f"trimmed to {head:.2f}s..{dur - tail:.2f}s of {dur:.2f}s")
    if "container" in kinds:
        if webm:
            spec.update(container="webm", vcodec="vp9", crf=38)
            desc.append("WebM, VP9 realtime CRF 38" + (", Opus audio" if orig["audio"] else ""))
        else:
            spec["container"] = rng.choice(
                [c for c in ("mkv", "mov", "mp4") if c != orig["container"]]
            )
            if kinds == ["container"]:
                spec["stream_copy"] = True
                desc.append(f"streams copied into {spec['container']} (no re-encode)")
            else:
                desc.append(f"{spec['container']} container")
    if not spec["stream_copy"] and "reencode" not in kinds and spec["vcodec"] == "h264":
        desc.append("H.264 veryfast CRF 23")
    rel, mtime = namer.name(EXTS[spec["container"]])
    out_dur = spec["cut"][1] - spec["cut"][0] if spec["cut"] else dur
    entry = {
        "name": os.path.basename(rel),
        "relpath": rel,
        "mtime": mtime,
        "source": orig["source"],
        "parent": orig["source"],
        "parent_file": orig["name"],
        "group": orig["group"],
        "role": "derived",
        "kind": "+".join(sorted(kinds)),
        "transforms": list(kinds),
        "ops": [{"op": "copy", **spec}],
        "description": "; ".join(desc),
        "duration": round(out_dur, 3),
        "width": spec["w"],
        "height": spec["h"],
        "audio": orig["audio"],
        "_spec": spec,
        "_dep": orig["name"],
    }
    if spec["cut"]:
        entry["cut"] = spec["cut"]
    return entry


def plan_excerpt(orig, rng, namer, max_len):
    fps, dur, timeline = orig["fps"], orig["duration"], orig["timeline"]
    for _ in range(1000):
        length = rng.uniform(20.0, min(90.0, max_len, 0.4 * dur))
        a = snap(rng.uniform(0.0, dur - length), fps)
        b = snap(a + length, fps)
        parts = clips_in(timeline, a, b)
        shares = [p["end"] - p["start"] for p in parts]
        # several clips, none more than 60%: only this long video holds the sequence
        if max(shares) <= 0.6 * (b - a) and sum(s >= 2.0 for s in shares) >= 2:
            break
    else:
        raise RuntimeError(f"no usable excerpt in {orig['source']}")
    w, h = rng.choice([(640, 360), (426, 240)])
    crf = rng.randint(23, 26)
    container = rng.choice(["mp4", "mp4", "mkv", "mov"])
    spec = {
        "w": w,
        "h": h,
        "vcodec": "h264",
        "crf": crf,
        "preset": "veryfast",
        "gop": None,
        "container": container,
        "stream_copy": False,
        "cut": [round(a, 3), round(b, 3)],
    }
    rel, mtime = namer.name(EXTS[container])
    return {
        "name": os.path.basename(rel),
        "relpath": rel,
        "mtime": mtime,
        "source": orig["source"],
        "parent": orig["source"],
        "parent_file": orig["name"],
        "group": orig["group"],
        "role": "derived",
        "kind": "partial",
        "transforms": ["partial"],
        "ops": [{"op": "excerpt", **spec}],
        "description": (
            f"excerpt {a:.2f}s..{b:.2f}s ({b - a:.1f} s, {len(parts)} clips) of "
            f"{orig['source']} ({dur:.1f} s), re-encoded at {w}x{h} H.264 CRF {crf}, {container}"
        ),
        "duration": round(b - a, 3),
        "width": w,
        "height": h,
        "audio": orig["audio"],
        "cut": [round(a, 3), round(b, 3)],
        "clips": parts,
        "_spec": spec,
        "_dep": orig["name"],
    }


def plan_set(sources, seed, n_long, quick):
    rng = random.Random(f"long:{seed}")
    namer = Namer(random.Random(f"long:{seed}:names"))
    shunned = {c for pair in KNOWN_DUPLICATES + NATURAL_LOOKALIKES for c in pair} | TEXTURE_LOOPS
    eligible = [s for s in sources if 5.0 <= s["duration"] <= 30.0 and s["id"] not in shunned]
    distractors = rng.sample(eligible, min(len(eligible), 2 if quick else rng.randint(2, 3)))
    pool = [s for s in sources if s not in distractors]

    # per-long attributes from shuffled decks, so that every draw mixes them: lengths spread
    # over 5-10 minutes (one per stratum), 25/30 fps, audio or not, 60% mp4 / mkv / mov
    lo, hi = (100.0, 140.0) if quick else (305.0, 590.0)
    step = (hi - lo) / n_long
    targets = [rng.uniform(lo + k * step, lo + (k + 1) * step) for k in range(n_long)]
    rates = [(25, 30)[k % 2] for k in range(n_long)]
    audios = [k % 2 == 0 for k in range(n_long)]
    n_mp4 = math.ceil(0.6 * n_long)
    conts = ["mp4"] * n_mp4 + [("mkv", "mov")[k % 2] for k in range(n_long - n_mp4)]
    for deck in (targets, rates, audios, conts):
        rng.shuffle(deck)
    used_pairs, longs = set(), []
    for k in range(n_long):
        lid = f"long{k + 1:02d}"
        attrs = (targets[k], rates[k], audios[k], conts[k])
        longs.append(plan_long(lid, rng, namer, pool, used_pairs, *attrs))

    copies = []
    dealt = deal_copy_kinds(rng, n_long)
    container_slots = [
        (i, j) for i, ks in enumerate(dealt) for j, k in enumerate(ks) if "container" in k
    ]
    webm_slot = rng.choice(container_slots)
    for i, kinds_list in enumerate(dealt):
        for j, kinds in enumerate(kinds_list):
            ordered = [k for k in COPY_KINDS if k in kinds]
            copies.append(plan_copy(ordered, longs[i], rng, namer, (i, j) == webm_slot))

    excerpts = []
    n_exc = 3 if quick else rng.randint(6, 10)
    order = []
    while len(order) < n_exc:
        batch = longs[:]
        rng.shuffle(batch)
        order += batch
    for orig in order[:n_exc]:
        excerpts.append(plan_excerpt(orig, rng, namer, 45.0 if quick else 90.0))

    singles = []
    for s in distractors:
        rel, mtime = namer.name(rng.choice([".mp4", ".mp4", ".mov"]))
        singles.append(
            {
                "name": os.path.basename(rel),
                "relpath": rel,
                "mtime": mtime,
                "source": s["id"],
                "parent": None,
                "group": f"clip:{s['id']}",
                "role": "original",
                "kind": "original",
                "transforms": [],
                "ops": [{"op": "byte_copy"}],
                "description": "short source clip used in no long video (distractor), byte copy",
                "duration": s["duration"],
                "width": 426,
                "height": 240,
                "audio": s["audio"],
                "_src": s,
                "_dep": None,
            }
        )
    return longs + copies + excerpts + singles


# --------------------------------------------------------------------------- commands

FF = ["ffmpeg", "-v", "error", "-nostdin", "-y"]
TAIL = ["-map_metadata", "-1", "-map_chapters", "-1", "-fflags", "+bitexact"]


def long_command(item, out_path):
    op = item["ops"][0]
    fps, audio = op["fps"], op["audio"]
    cmd, graph, pads = [*FF], [], []
    for i, (c, seg) in enumerate(zip(item["_seq"], item["timeline"], strict=True)):
        n = seg["frames"][1] - seg["frames"][0]
        samples = n * AUDIO_RATE // fps
        cmd += ["-threads", "1", "-i", c["path"]]
        graph.append(
            f"[{i}:v:0]fps={fps},scale={LONG_W}:{LONG_H}:flags=bicubic,setsar=1,format=yuv420p,"
            f"trim=end_frame={n},setpts=PTS-STARTPTS[v{i}]"
        )
        pads.append(f"[v{i}]")
        if audio:
            fmt = "aformat=sample_fmts=fltp:channel_layouts=stereo"
            if c["audio"]:
                graph.append(
                    f"[{i}:a:0]aresample={AUDIO_RATE},{fmt},asetpts=PTS-STARTPTS,apad,"
                    f"atrim=end_sample={samples}[a{i}]"
                )
            else:
                graph.append(
                    f"anullsrc=r={AUDIO_RATE}:cl=stereo,atrim=end_sample={samples},{fmt}[a{i}]"
                )
            pads.append(f"[a{i}]")
    graph.append(
        f"{''.join(pads)}concat=n={len(item['_seq'])}:v=1:a={int(audio)}[v]"
        + ("[a]" if audio else "")
    )
    cmd += ["-filter_complex_threads", "1", "-filter_complex", ";".join(graph), "-map", "[v]"]
    cmd += ["-map", "[a]", "-c:a", "aac", "-b:a", "128k", "-flags:a", "+bitexact"] if audio else []
    cmd += ["-threads", "1", "-c:v", "libx264", "-preset", op["preset"], "-crf", str(op["crf"])]
    cmd += ["-g", str(op["gop"]), "-keyint_min", str(op["keyint_min"]), "-pix_fmt", "yuv420p"]
    cmd += ["-flags:v", "+bitexact", *TAIL, "-f", FORMATS[op["container"]], out_path]
    return cmd


def derived_command(item, src_path, src_audio, src_size):
    spec = item["_spec"]
    cmd = [*FF, "-threads", "1"]
    if spec["cut"]:
        a, b = spec["cut"]
        cmd += ["-ss", f"{a:.6f}", "-t", f"{b - a:.6f}"]
    cmd += ["-i", src_path, "-map", "0:v:0"] + (["-map", "0:a:0"] if src_audio else [])
    if spec["stream_copy"]:
        cmd += ["-c", "copy"]
    else:
        if (spec["w"], spec["h"]) != src_size:
            vf = f"scale={spec['w']}:{spec['h']}:flags=bicubic,setsar=1"
            cmd += ["-filter_threads", "1", "-vf", vf]
        cmd += ["-threads", "1"]
        if spec["vcodec"] == "vp9":
            cmd += ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8"]
            cmd += ["-row-mt", "0", "-crf", str(spec["crf"]), "-b:v", "0"]
        else:
            cmd += ["-c:v", "libx264", "-preset", spec["preset"], "-crf", str(spec["crf"])]
            if spec["gop"]:
                cmd += ["-g", str(spec["gop"])]
        cmd += ["-pix_fmt", "yuv420p", "-flags:v", "+bitexact"]
        if src_audio:
            codec = (
                ["libopus", "-b:a", "64k"]
                if spec["container"] == "webm"
                else ["aac", "-b:a", "96k"]
            )
            cmd += ["-c:a", *codec, "-flags:a", "+bitexact"]
    return [*cmd, *TAIL, "-f", FORMATS[spec["container"]], item["_out"]]


# --------------------------------------------------------------------------- execution


def render(item, lib, by_name):
    out_path = str(lib / item["relpath"])
    item["_out"] = out_path
    os.makedirs(os.path.dirname(out_path), exist_ok=True)
    t0 = time.time()
    if "_src" in item:
        shutil.copyfile(item["_src"]["path"], out_path)
        cmd = None
    elif "_seq" in item:
        cmd = long_command(item, out_path)
    else:
        parent = by_name[item["_dep"]]
        cmd = derived_command(item, parent["_out"], parent["audio"], (LONG_W, LONG_H))
    if cmd:
        r = run(cmd)
        if r.returncode != 0:
            raise RuntimeError(
                f"ffmpeg failed for {item['relpath']} ({item['kind']}):\n{r.stderr[-3000:]}"
            )
    os.utime(out_path, (item["mtime"], item["mtime"]))
    info = probe(out_path)
    if "_seq" in item:
        n = count_video_packets(out_path)
        if n != item["n_frames"]:
            raise RuntimeError(f"{out_path}: {n} frames, timeline says {item['n_frames']}")
    if not info["duration"] or not info["width"]:
        raise RuntimeError(f"unreadable output {out_path}: {info}")
    return info, time.time() - t0


def execute(plan, lib, jobs, t0):
    """Render the plan with `jobs` ffmpeg processes; copies wait for their long original."""
    by_name = {it["name"]: it for it in plan}
    # long originals first (longest first: they gate the rest), then the derived files
    pending = sorted(plan, key=lambda it: (it["_dep"] is not None, "_src" in it, -it["duration"]))
    done, running, infos = set(), {}, {}
    with ThreadPoolExecutor(jobs) as ex:
        while pending or running:
            for it in list(pending):
                if len(running) >= jobs:
                    break
                if it["_dep"] is None or it["_dep"] in done:
                    pending.remove(it)
                    running[ex.submit(render, it, lib, by_name)] = it
            if not running:
                raise RuntimeError("nothing to run: broken dependencies")
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for fut in finished:
                it = running.pop(fut)
                info, secs = fut.result()
                infos[it["name"]] = info
                done.add(it["name"])
                print(
                    f"  [{len(done)}/{len(plan)}] {it['relpath']} {it['kind']} "
                    f"{info['duration']:.0f}s {info['width']}x{info['height']} in {secs:.0f}s "
                    f"(total {time.time() - t0:.0f}s)",
                    file=sys.stderr,
                    flush=True,
                )
    return infos


def max_shared_run(longs):
    """Longest run of consecutive clips that two long videos have in common."""
    best = 0
    for i, x in enumerate(longs):
        for y in longs[i + 1 :]:
            a = [canon(s["clip"]) for s in x["timeline"]]
            b = [canon(s["clip"]) for s in y["timeline"]]
            for p in range(len(a)):
                for q in range(len(b)):
                    k = 0
                    while p + k < len(a) and q + k < len(b) and a[p + k] == b[q + k]:
                        k += 1
                    best = max(best, k)
    return best


def build_truth(plan, infos, seed, quick, seconds):
    files = []
    for it in plan:
        rec = {k: v for k, v in it.items() if not k.startswith("_") and k != "mtime"}
        if it["name"] in infos:
            rec.update(infos[it["name"]])
        files.append(rec)
    groups = {}
    for f in files:
        groups.setdefault(f["group"], []).append(f["name"])
    group_list = [{"id": g, "files": sorted(v)} for g, v in sorted(groups.items())]
    kinds = {}
    for f in files:
        for k in f["transforms"]:
            kinds[k] = kinds.get(k, 0) + 1
    longs = [it for it in plan if "_seq" in it]
    usage = {}
    for it in longs:
        for seg in it["timeline"]:
            usage.setdefault(seg["clip"], []).append(it["source"])
    return {
        "format": "ndv-truth/1",
        "generator": GENERATOR,
        "set": "long-quick" if quick else "long",
        "seed": seed,
        "library_dir": "library",
        "n_files": len(files),
        "n_groups": len(group_list),
        "n_multi_groups": sum(1 for g in group_list if len(g["files"]) > 1),
        "transform_counts": dict(sorted(kinds.items())),
        "total_duration_s": round(sum(f["duration"] for f in files), 1),
        "files": files,
        "groups": group_list,
        "hard_negatives": [],
        "known_duplicates": [],
        "natural_lookalikes": [],
        "long_videos": [
            {
                "id": it["source"],
                "name": it["name"],
                "duration": it["duration"],
                "fps": it["fps"],
                "audio": it["audio"],
                "n_clips": len(it["timeline"]),
            }
            for it in longs
        ],
        "clip_usage": dict(sorted(usage.items())),
        "unused_clips_in_library": [it["source"] for it in plan if "_src" in it],
        "max_shared_clip_run": max_shared_run(longs),
        "generation_seconds": round(seconds, 1),
    }


def summary(truth, out_path, seconds, dry):
    roles = {}
    for f in truth["files"]:
        roles[f["kind"]] = roles.get(f["kind"], 0) + 1
    size = sum(f.get("bytes", 0) for f in truth["files"])
    longs = truth["long_videos"]
    print(
        f"{'planned' if dry else 'wrote'} {truth['n_files']} files "
        f"({len(longs)} long originals, {sum(1 for f in truth['files'] if f['role'] == 'derived')}"
        f" derived, {len(truth['unused_clips_in_library'])} distractors), "
        f"{truth['n_groups']} truth groups"
    )
    print("  by kind: " + ", ".join(f"{k} {n}" for k, n in sorted(roles.items())))
    mins = ", ".join(f"{x['duration'] / 60:.1f}" for x in longs)
    print(f"  long originals: {mins} min; max shared clip run {truth['max_shared_clip_run']}")
    print(
        f"  total {truth['total_duration_s'] / 60:.1f} min of video"
        + (f", {size / 1e6:.0f} MB" if size else "")
        + f"; truth {out_path}; {seconds:.0f} s"
    )


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sources", type=Path, default=Path("../shared/data/videos"))
    ap.add_argument("--out", type=Path, required=True, help="DIR: DIR/library and DIR/truth.json")
    ap.add_argument("--seed", type=int, default=5150)
    ap.add_argument("--n-long", type=int, default=10, help="long originals (at least 3)")
    ap.add_argument("--jobs", type=int, default=2, help="parallel ffmpeg processes")
    ap.add_argument("--force", action="store_true", help="replace an existing DIR/library")
    ap.add_argument("--quick", action="store_true", help="3 long videos of about 2 minutes")
    ap.add_argument("--dry-run", action="store_true", help="only write the plan to DIR/plan.json")
    a = ap.parse_args(argv)
    n_long = 3 if a.quick else a.n_long
    if n_long < 3:
        ap.error("--n-long must be at least 3")
    for tool in ("ffmpeg", "ffprobe"):
        if not shutil.which(tool):
            sys.exit(f"{tool} not found on PATH")
    t0 = time.time()
    src_dir, out = a.sources.resolve(), a.out.resolve()
    if out == src_dir or src_dir in out.parents:
        sys.exit("--out must not be inside --sources")
    sources = list_sources(src_dir)
    if not sources:
        sys.exit(f"no videos under {src_dir}/<category>/")
    plan = plan_set(sources, a.seed, n_long, a.quick)
    out.mkdir(parents=True, exist_ok=True)
    if a.dry_run:
        truth = build_truth(plan, {}, a.seed, a.quick, time.time() - t0)
        path = out / "plan.json"
        path.write_text(json.dumps(truth, indent=1) + "\n")
        summary(truth, path, time.time() - t0, dry=True)
        return
    lib, path = out / "library", out / "truth.json"
    if lib.exists() and any(lib.iterdir()):
        if not a.force:
            sys.exit(f"{lib} exists and is not empty (use --force to replace it)")
        shutil.rmtree(lib)
    path.unlink(missing_ok=True)
    lib.mkdir(parents=True, exist_ok=True)
    print(f"{len(plan)} files planned from {len(sources)} clips; {a.jobs} jobs", file=sys.stderr)
    infos = execute(plan, lib, max(1, a.jobs), t0)
    truth = build_truth(plan, infos, a.seed, a.quick, time.time() - t0)
    path.write_text(json.dumps(truth, indent=1) + "\n")
    summary(truth, path, time.time() - t0, dry=False)


if __name__ == "__main__":
    main()
