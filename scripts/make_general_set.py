"""A generalisation set of "repost" edits, every parameter drawn at random from --seed.

Nothing is tuned on this set: which sources, which edits, sizes, positions, colours, texts, CRFs
and containers all come from the seed, so sets made with other seeds are independent draws of
the same kinds of edit. From the shared source clips it makes:

* originals (byte copies) of ``--n-sources`` randomly drawn source clips;
* 1-3 derived copies of each drawn source, about a third of them combining two or three kinds:

  - ``pip_blur``: the clip at 40-90% of a canvas (source-sized, square or vertical), centred or
    off-centre, on a blurred, enlarged copy of itself;
  - ``vertical_blur``: a 9:16 repost, the clip fitted to the width, the rest a blurred copy;
  - ``canvas_flat`` / ``canvas_gradient`` / ``canvas_image``: the clip at 40-90%, random
    position, on a flat colour / a gradient / a still frame of *another* source clip;
  - ``frame_caption``: a thick coloured frame (6-20%), optionally an inner border line, and a
    caption in the top or bottom band;
  - ``template``: the clip inside one of 2-3 fixed templates (canvas, title band, logo box);
  - ``zoom`` (1.2-1.6x, random anchor), ``crop`` (15-25% removed, off-centre),
    ``crop_watermark_crf`` (~20% crop + big translucent watermark + CRF 38-42),
    ``crf_heavy`` (CRF 38-42, maybe downscaled), ``mirror`` (always with another kind);
  - ``partial``: an excerpt (25-45% time window of a source of 12 s or more), possibly with a
    visual kind; it stays in its source's group (``evaluate.py`` also reports
    ``pairwise_excl_partial``);

* canvas negatives: every template, and 3-4 of the flat / gradient / image / frame canvases,
  hold two or more *different* clips in the identical canvas (same colours, texts, position and
  size). Each such copy is in its own source's group; every pair of different clips sharing a
  canvas is a hard-negative pair (type ``template`` or ``canvas``). A source is in at most one
  shared canvas, and texture-loop clips (``TEXTURE_LOOPS``) are never used for them.

Kinds that need motion (canvases, templates, ``crop_watermark_crf``) skip sources shorter than
3 s. The library (random 12-hex names, mixed extensions, a few nested folders, random mtimes)
goes to OUT/library and the truth to OUT/truth.json (format of ``bench/make_set.py``; score
with ``bench/evaluate.py``).

    python3 scripts/make_general_set.py --sources ../shared/data/videos --out /tmp/ndv-general

Stdlib only plus the ffmpeg/ffprobe binaries (Debian's ffmpeg). Deterministic for a seed and
ffmpeg build (one thread per ffmpeg, bit-exact flags).
"""

import argparse
import datetime as dt
import hashlib
import json
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from itertools import combinations
from pathlib import Path

GENERATOR = "ndv-make-general-set/1"
VIDEO_EXTS = (".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi")
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf"

# Same list as scripts/make_stress_set.py: clips whose picture is a texture loop (snow, fog,
# flat backdrop); never used where two clips must be told apart by their content.
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
# From bench/make_set.py: corpus clips that are duplicates of each other (one truth group) ...
KNOWN_DUPLICATES = [
    {
        "sources": ["christmas/0", "christmas/1"],
        "evidence": "same animated scene and waving loop; christmas/1 looks like a 1.2 s excerpt "
        "of christmas/0",
    }
]
# ... and distinct clips that look alike (grouping them is a false positive).
NATURAL_LOOKALIKES = [
    {"sources": ["animals/0", "animals/4"], "note": "same cat, bowl and camera"},
    {"sources": ["school/4", "school/5"], "note": "same lab shoot, different shots"},
    {"sources": ["snow/7", "snow/9"], "note": "white snow particles on black"},
    {"sources": ["snow/0", "snow/2"], "note": "white snow particles on black"},
    {"sources": ["snow/1", "snow/4"], "note": "flat low-texture blue/ice backgrounds"},
]

CANVAS_KINDS = (
    "pip_blur",
    "vertical_blur",
    "canvas_flat",
    "canvas_gradient",
    "canvas_image",
    "frame_caption",
    "template",
)
GEOMETRY_KINDS = ("zoom", "crop", "crop_watermark_crf")
KIND_ORDER = (*CANVAS_KINDS, *GEOMETRY_KINDS, "partial", "mirror", "crf_heavy")
# kinds dealt as single copies and as the base of combined copies (template and the canvas
# negatives are made separately; mirror only ever comes with another kind)
BASE_KINDS = [k for k in KIND_ORDER if k not in ("template", "mirror")]
MODIFIERS = ("mirror", "crf_heavy", "partial")
MODIFIER_WEIGHT = {"mirror": 0.5, "crf_heavy": 0.35, "partial": 0.15}
MOTION_KINDS = {*CANVAS_KINDS, "crop_watermark_crf"}
NEGATIVE_CANVAS_KINDS = ("canvas_flat", "canvas_gradient", "canvas_image", "frame_caption")
MIN_MOTION_S = 3.0
MIN_PARTIAL_S = 12.0
MIN_KIND_COUNT = 4

SQUARE = [(240, 240), (360, 360), (480, 480)]
VERTICAL = [(240, 426), (270, 480), (360, 640)]
WIDE = [(640, 360), (480, 270)]
VERTICAL_916 = [(240, 426), (270, 480), (360, 640), (432, 768)]

_WORDS = (
    "AMAZING MOMENTS WATCH THIS BEST OF THE DAY FUNNY CUTE WOW LOOK TOP CLIPS DAILY VIBES "
    "SUMMER WINTER HOLIDAY MEMORIES TRY NOT TO SMILE PART TWO MUST SEE VIRAL NEW LIFE NATURE "
    "KIDS SCHOOL OFFICE WEEKEND FAMILY EPIC FAILS WAIT FOR IT"
)
WORDS = _WORDS.split()
WATERMARKS = ["REPOST", "VIRAL", "@clipvault", "TRENDING", "SHARE", "@daily.vids", "FYP"]

CONTAINER_EXTS = {
    "mp4": [".mp4", ".mp4", ".MP4", ".m4v"],
    "mov": [".mov", ".MOV"],
    "mkv": [".mkv"],
    "webm": [".webm"],
}
ORIGINAL_EXTS = [".mp4", ".mp4", ".mp4", ".MP4", ".m4v", ".mov"]
FORMATS = {"mp4": "mp4", "mov": "mov", "mkv": "matroska", "webm": "webm"}


# --------------------------------------------------------------------------- helpers


def ev(x):
    """Round down to an even integer (>= 0)."""
    return max(0, int(x) // 2 * 2)


def fe(x):
    """Round down to an even size (>= 2)."""
    return max(2, int(x) // 2 * 2)


def ce(x):
    """Round up to an even size."""
    return int(math.ceil(x / 2 - 1e-9)) * 2


def colour(rng):
    return f"0x{rng.getrandbits(24):06x}"


def words(rng, lo, hi):
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(lo, hi)))


def text_size(text, width, band):
    """Font size that fits the text into width (DejaVu Bold caps ~0.72 em) and a band height."""
    return max(8, int(min(band, 0.92 * width / (0.72 * max(1, len(text))))))


def probe(path):
    r = subprocess.run(
        [
            "ffprobe",
            "-v",
            "error",
            "-show_entries",
            "format=duration:stream=codec_type,codec_name,width,height,avg_frame_rate",
            "-of",
            "json",
            str(path),
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    if r.returncode != 0:
        raise RuntimeError(f"ffprobe failed on {path}: {r.stderr.strip()}")
    info = json.loads(r.stdout)
    streams = info.get("streams", [])
    v = next((s for s in streams if s.get("codec_type") == "video"), {})
    rate = v.get("avg_frame_rate") or "0/0"
    n, d = [*rate.split("/"), "1"][:2]
    fps = round(float(n) / float(d), 3) if float(d) else None
    return {
        "duration": round(float(info.get("format", {}).get("duration", 0.0)), 3),
        "width": v.get("width"),
        "height": v.get("height"),
        "fps": fps,
        "rate": rate if fps else "25",
        "vcodec": v.get("codec_name"),
        "audio": any(s.get("codec_type") == "audio" for s in streams),
        "bytes": os.path.getsize(path),
    }


def list_sources(root):
    out = []
    for cat in sorted(p for p in root.iterdir() if p.is_dir()):
        for f in sorted(cat.iterdir(), key=lambda p: (len(p.stem), p.stem)):
            if f.suffix.lower() in VIDEO_EXTS:
                out.append({"id": f"{cat.name}/{f.stem}", "path": str(f.resolve()), **probe(f)})
    return out


class Namer:
    """Random hex names, mixed extensions, a few nested sub-folders, random mtimes."""

    def __init__(self, rng, n_dirs=4):
        self.rng = rng
        self.used = set()
        self.dirs = []
        for _ in range(n_dirs):
            d = f"{rng.getrandbits(16):04x}"
            if self.dirs and rng.random() < 0.5:
                d = f"{rng.choice(self.dirs)}/{d}"
            self.dirs.append(d)

    def name(self, exts):
        while True:
            stem = f"{self.rng.getrandbits(48):012x}"
            if stem not in self.used:
                self.used.add(stem)
                break
        ext = self.rng.choice(exts)
        sub = "" if self.rng.random() < 0.5 else self.rng.choice(self.dirs)
        rel = f"{sub}/{stem}{ext}" if sub else f"{stem}{ext}"
        epoch = int(dt.datetime(2018, 1, 1, tzinfo=dt.UTC).timestamp())
        return rel, epoch + self.rng.randrange(6 * 365 * 86400)


# --------------------------------------------------------------------------- parameters
#
# Every component is (kind, params); params hold pixel values computed from the frame size
# at that point of the chain (w, h), so the expected output size is known before rendering.


def place(rng, w0, h0, cw, ch, lo=0.4, hi=0.9, top=0):
    """Clip box at lo-hi of the largest fit in a cw x ch area (starting at row top)."""
    s = rng.uniform(lo, hi)
    fit = min(cw / w0, ch / h0) * s
    w, h = fe(w0 * fit), fe(h0 * fit)
    if rng.random() < 0.35:
        ax = ay = 0.5
        where = "centred"
    else:
        ax, ay = rng.random(), rng.random()
        where = f"off-centre (anchor {ax:.2f},{ay:.2f})"
    return {
        "scale": round(s, 3),
        "w": w,
        "h": h,
        "x": ev(ax * (cw - w)),
        "y": top + ev(ay * (ch - h)),
        "where": where,
    }


def canvas_size(rng, w0, h0, shapes=("source", "wide", "square", "vertical")):
    shape = rng.choice(shapes)
    if shape == "source":
        return shape, (fe(w0), fe(h0))
    return shape, rng.choice({"wide": WIDE, "square": SQUARE, "vertical": VERTICAL}[shape])


def blur_params(rng, cw, ch):
    if rng.random() < 0.5:
        s = round(rng.uniform(6, 28), 1)
        return {"filter": f"gblur=sigma={s}", "desc": f"gblur sigma {s}"}
    r = min(rng.randint(6, 24), min(cw, ch) // 4 - 1)
    p = rng.randint(1, 3)
    return {"filter": f"boxblur={r}:{p}", "desc": f"boxblur radius {r} x{p}"}


def make_pip_blur(rng, w0, h0, vertical=False):
    if vertical:
        cw, ch = rng.choice(VERTICAL_916)
        h = fe(h0 * cw / w0)
        shift = rng.choice([0.0, 0.0, rng.uniform(-0.15, 0.15)])
        y = min(max(0, ev((ch - h) / 2 + shift * ch)), ch - h)
        lay = {"scale": 1.0, "w": cw, "h": h, "x": 0, "y": y}
        lay["where"] = "centred" if shift == 0 else f"shifted {shift:+.2f} of the height"
        shape = "vertical 9:16"
    else:
        shape, (cw, ch) = canvas_size(rng, w0, h0, ("source", "square", "vertical"))
        lay = place(rng, w0, h0, cw, ch)
    blur = blur_params(rng, cw, ch)
    zoom = round(rng.uniform(1.0, 1.3), 2)
    cover = max(cw / w0, ch / h0) * zoom
    dim = rng.choice([0.0, 0.0, -0.05, -0.1, -0.15])
    p = {
        "canvas": [cw, ch],
        "shape": shape,
        **lay,
        "bg_scale": [max(cw, ce(w0 * cover)), max(ch, ce(h0 * cover))],
        "bg_zoom": zoom,
        "blur": blur["filter"],
        "dim": dim,
    }
    what = "fitted to the width" if vertical else f"at {lay['scale']:.0%}"
    p["desc"] = (
        f"{shape} {cw}x{ch} canvas, clip {what} ({lay['w']}x{lay['h']} at {lay['x']},{lay['y']}, "
        f"{lay['where']}) on a blurred copy of itself ({blur['desc']}, bg zoom {zoom}"
        + (f", brightness {dim:+}" if dim else "")
        + ")"
    )
    return p, (cw, ch)


def make_canvas(kind, rng, w0, h0, others):
    shape, (cw, ch) = canvas_size(rng, w0, h0)
    lay = place(rng, w0, h0, cw, ch)
    p = {"canvas": [cw, ch], "shape": shape, **lay}
    box = f"{lay['w']}x{lay['h']} at {lay['x']},{lay['y']}"
    where = f"clip at {lay['scale']:.0%} ({box}, {lay['where']})"
    if kind == "canvas_flat":
        p["color"] = colour(rng)
        what = f"flat {p['color']}"
    elif kind == "canvas_gradient":
        n = rng.choice([2, 2, 3])
        p["colors"] = [colour(rng) for _ in range(n)]
        p["type"] = rng.choice(["linear", "linear", "radial"])
        p["line"] = [rng.randrange(cw), rng.randrange(ch), rng.randrange(cw), rng.randrange(ch)]
        what = f"{p['type']} gradient {'/'.join(p['colors'])}"
    else:
        other = rng.choice(others)
        p["image"] = {
            "source": other["id"],
            "at": round(rng.uniform(0.1, 0.9) * other["duration"], 2),
            "blur": rng.choice([0, 0, round(rng.uniform(2, 15), 1)]),
            "dim": rng.choice([0.0, 0.0, -0.1]),
        }
        im = p["image"]
        what = f"still frame of {im['source']} at {im['at']}s" + (
            f", gblur sigma {im['blur']}" if im["blur"] else ", sharp"
        )
    p["desc"] = f"{shape} {cw}x{ch} canvas ({what}), {where}"
    return p, (cw, ch)


def make_frame_caption(rng, w0, h0):
    f = round(rng.uniform(0.06, 0.20), 3)
    top = rng.random() < 0.5
    text = words(rng, 2, 4)
    grow = rng.random() < 0.4
    if grow:  # the frame is added around the full-size clip
        b = fe(f * min(w0, h0))
        cap = fe(b + rng.uniform(0.06, 0.14) * h0)
        cw, ch = fe(w0) + 2 * b, fe(h0) + b + cap
        pw, ph = fe(w0), fe(h0)
    else:  # the clip shrinks inside a frame of the source's size
        cw, ch = fe(w0), fe(h0)
        b = fe(f * min(cw, ch))
        cap = fe(b + rng.uniform(0.06, 0.14) * ch)
        fit = min((cw - 2 * b) / w0, (ch - b - cap) / h0)
        pw, ph = fe(w0 * fit), fe(h0 * fit)
    iy = cap if top else b
    px = ev(b + (cw - 2 * b - pw) / 2)
    py = ev(iy + (ch - b - cap - ph) / 2)
    p = {
        "canvas": [cw, ch],
        "w": pw,
        "h": ph,
        "x": px,
        "y": py,
        "border": b,
        "caption_band": cap,
        "color": colour(rng),
        "caption": text,
        "caption_at": "top" if top else "bottom",
        "font_size": text_size(text, cw, cap * 0.6),
        "font_color": rng.choice(["white", "black", "yellow", colour(rng)]),
        "line": None,
    }
    if rng.random() < 0.5:
        p["line"] = {"t": rng.randint(2, 5), "gap": rng.randint(0, 3), "color": colour(rng)}
    p["desc"] = (
        f"{cw}x{ch} frame {p['color']}, border {b}px ({f:.0%}), caption band {cap}px at the "
        f"{p['caption_at']} with '{text}'"
        + (f", inner line {p['line']['t']}px {p['line']['color']}" if p["line"] else "")
        + f", picture {pw}x{ph} ({'frame added around' if grow else 'shrunk inside the frame'})"
    )
    return p, (cw, ch)


def make_template(rng, w0, h0, idx):
    shape, (cw, ch) = canvas_size(rng, w0, h0)
    band = fe(rng.uniform(0.12, 0.2) * ch)
    title_top = rng.random() < 0.6
    title = words(rng, 2, 3)
    logo = fe(rng.uniform(0.08, 0.16) * min(cw, ch))
    m = ev(0.03 * min(cw, ch)) + 2
    lx = m if rng.random() < 0.5 else cw - logo - m
    ly = (ch - logo - m) if title_top else m
    lay = place(rng, w0, h0, cw, ch - band, 0.6, 0.9, top=band if title_top else 0)
    p = {
        "id": f"template_{idx}",
        "canvas": [cw, ch],
        "shape": shape,
        **lay,
        "color": colour(rng),
        "band": band,
        "band_color": colour(rng),
        "title": title,
        "title_at": "top" if title_top else "bottom",
        "font_size": text_size(title, cw, band * 0.6),
        "font_color": rng.choice(["white", "yellow", "black"]),
        "logo": {"x": lx, "y": ly, "size": logo, "color": colour(rng), "ring": colour(rng)},
        "logo_letter": rng.choice("ABCDEFGHKMNPRSTVXZ"),
    }
    p["desc"] = (
        f"template {idx}: {shape} {cw}x{ch} {p['color']} canvas, title '{title}' in a "
        f"{band}px {p['band_color']} band at the {p['title_at']}, {logo}px logo box, clip "
        f"{lay['w']}x{lay['h']} at {lay['x']},{lay['y']}"
    )
    return p, (cw, ch)


def anchor_offcentre(rng):
    """An anchor in [0, 1] away from the centre."""
    a = rng.uniform(0.0, 0.3)
    return round(a if rng.random() < 0.5 else 1 - a, 3)


def make_geometry(kind, rng, w, h):
    if kind == "zoom":
        z = round(rng.uniform(1.2, 1.6), 3)
        cw, ch = fe(w / z), fe(h / z)
        if rng.random() < 0.35:
            ax = ay = 0.5
        else:
            ax, ay = round(rng.random(), 3), round(rng.random(), 3)
        x, y = ev(ax * (w - cw)), ev(ay * (h - ch))
        p = {"factor": z, "crop": [cw, ch, x, y], "anchor": [ax, ay], "scale_to": [w, h]}
        where = "centred" if ax == 0.5 == ay else f"anchor {ax:.2f},{ay:.2f}"
        p["desc"] = f"{z}x digital zoom ({where}), {cw}x{ch} at {x},{y} scaled back to {w}x{h}"
        return p, (w, h)
    keep = round(rng.uniform(0.75, 0.85) if kind == "crop" else rng.uniform(0.78, 0.82), 3)
    keep_y = round(min(0.85, max(0.75, keep + rng.uniform(-0.03, 0.03))), 3)
    cw, ch = fe(w * keep), fe(h * keep_y)
    ax, ay = anchor_offcentre(rng), round(rng.random(), 3)
    if rng.random() < 0.5:
        ax, ay = ay, ax
    x, y = ev(ax * (w - cw)), ev(ay * (h - ch))
    back = rng.random() < 0.5
    out = (w, h) if back else (cw, ch)
    p = {"keep": [keep, keep_y], "crop": [cw, ch, x, y], "anchor": [ax, ay], "scale_to": None}
    if back:
        p["scale_to"] = [w, h]
    p["desc"] = f"off-centre crop keeping {keep:.0%}x{keep_y:.0%} ({cw}x{ch} at {x},{y})" + (
        f" scaled back to {w}x{h}" if back else ", not rescaled"
    )
    if kind == "crop_watermark_crf":
        fw, fh = out
        alpha = round(rng.uniform(0.3, 0.6), 2)
        if rng.random() < 0.5:
            t = rng.choice(WATERMARKS)
            fs = min(int(rng.uniform(0.15, 0.30) * fh), text_size(t, fw, fh))
            p["watermark"] = {
                "text": t,
                "size": fs,
                "alpha": alpha,
                "anchor": [round(rng.random(), 3), round(rng.random(), 3)],
                "color": rng.choice(["white", "black", "yellow"]),
            }
            wm = f"text '{t}' {fs}px ({fs / fh:.0%} of the height) alpha {alpha}"
        else:
            area = rng.uniform(0.15, 0.30)
            bw = rng.uniform(0.35, 0.65)
            bh = min(0.9, area / bw)
            bw_px, bh_px = fe(bw * fw), fe(bh * fh)
            bx, by = ev(rng.random() * (fw - bw_px)), ev(rng.random() * (fh - bh_px))
            p["watermark"] = {
                "box": [bw_px, bh_px, bx, by],
                "alpha": alpha,
                "color": rng.choice(["white", "black", colour(rng)]),
            }
            wm = f"box {bw_px}x{bh_px} ({bw * bh:.0%} of the frame) alpha {alpha}"
        p["crf"] = rng.randint(38, 42)
        p["desc"] += f", watermark {wm}, CRF {p['crf']}"
    return p, out


def make_crf_heavy(rng, w, h):
    p = {"crf": rng.randint(38, 42), "scale_to": None}
    out = (w, h)
    if rng.random() < 0.4:
        f = rng.choice([0.5, 0.6, 0.75])
        out = (fe(w * f), fe(h * f))
        p["scale_to"] = list(out)
    p["desc"] = f"H.264 CRF {p['crf']}" + (
        f", downscaled to {out[0]}x{out[1]}" if p["scale_to"] else ""
    )
    return p, out


def make_partial(rng, src):
    d = src["duration"]
    share = rng.uniform(0.25, 0.45)
    start = round(rng.uniform(0, 1 - share) * d, 3)
    length = round(share * d, 3)
    return {
        "start": start,
        "length": length,
        "share": round(share, 3),
        "desc": f"excerpt {start:.2f}s..{start + length:.2f}s of {d:.2f}s ({share:.0%})",
    }


def make_components(kinds, rng, src, others, shared=None):
    """(kind, params) in processing order, and the expected output size."""
    w, h = fe(src["width"]), fe(src["height"])
    comps = []
    for kind in sorted(kinds, key=lambda k: _STAGE[k]):
        if shared and kind == shared[0]:
            p, (w, h) = shared[1], tuple(shared[1]["canvas"])
        elif kind == "partial":
            p = make_partial(rng, src)
        elif kind == "mirror":
            p = {"desc": "mirrored horizontally"}
        elif kind in GEOMETRY_KINDS:
            p, (w, h) = make_geometry(kind, rng, w, h)
        elif kind in ("pip_blur", "vertical_blur"):
            p, (w, h) = make_pip_blur(rng, w, h, kind == "vertical_blur")
        elif kind in ("canvas_flat", "canvas_gradient", "canvas_image"):
            p, (w, h) = make_canvas(kind, rng, w, h, others)
        elif kind == "frame_caption":
            p, (w, h) = make_frame_caption(rng, w, h)
        elif kind == "crf_heavy":
            p, (w, h) = make_crf_heavy(rng, w, h)
        else:
            raise KeyError(kind)
        comps.append((kind, p))
    return comps, (w, h)


# processing order: cut, mirror, geometry, canvas, final downscale
_STAGE = {"partial": 0, "mirror": 1, **dict.fromkeys(GEOMETRY_KINDS, 2)}
_STAGE.update({**dict.fromkeys(CANVAS_KINDS, 3), "crf_heavy": 4})


def make_encode(rng, comps, has_audio):
    heavy = [p["crf"] for k, p in comps if k in ("crf_heavy", "crop_watermark_crf")]
    if heavy:
        enc = {
            "codec": "h264",
            "crf": heavy[0],
            "container": rng.choice(["mp4", "mp4", "mkv", "mov"]),
        }
    elif rng.random() < 0.12:
        enc = {"codec": "vp9", "crf": rng.randint(30, 40), "container": "webm"}
    else:
        enc = {
            "codec": "h264",
            "crf": rng.randint(18, 28),
            "container": rng.choice(["mp4", "mp4", "mkv", "mov"]),
        }
    enc["audio"] = bool(has_audio and rng.random() < 0.5)
    codec = "H.264" if enc["codec"] == "h264" else "VP9"
    enc["desc"] = f"{codec} CRF {enc['crf']} in {enc['container']}, " + (
        "audio kept" if enc["audio"] else "no audio"
    )
    return enc


# --------------------------------------------------------------------------- planning


def label(kinds):
    return "+".join(sorted(kinds, key=KIND_ORDER.index))


def compatible(kinds):
    ks = set(kinds)
    if len(ks) != len(kinds):
        return False
    if len(ks & set(CANVAS_KINDS)) > 1 or len(ks & set(GEOMETRY_KINDS)) > 1:
        return False
    if ks & set(CANVAS_KINDS) and ks & set(GEOMETRY_KINDS):
        return False
    if {"crf_heavy", "crop_watermark_crf"} <= ks:
        return False
    return ks != {"mirror"}


def eligible(src, kinds, loops_ok=True):
    d = src["duration"]
    if "partial" in kinds and d < MIN_PARTIAL_S:
        return False
    if set(kinds) & MOTION_KINDS and d < MIN_MOTION_S:
        return False
    return loops_ok or src["id"] not in TEXTURE_LOOPS


def n_pairs(sizes):
    return sum(n * (n - 1) // 2 for n in sizes)


def plan_negatives(rng, pool):
    """Shared canvases: (kind, [n clips]) for 2-3 templates and 3-4 other canvas kinds."""
    plan = [("template", rng.choice([3, 3, 4])) for _ in range(rng.choice([2, 3]))]
    kinds = rng.sample(NEGATIVE_CANVAS_KINDS, rng.choice([3, 4]))
    plan += [(k, rng.choice([2, 2, 3])) for k in kinds]
    while n_pairs(n for _, n in plan) < 8:  # at least 8 negative pairs
        i = min(range(len(plan)), key=lambda j: plan[j][1])
        plan[i] = (plan[i][0], plan[i][1] + 1)
    while plan and sum(n for _, n in plan) > len(pool):  # not enough distinct eligible clips
        i = max(range(len(plan)), key=lambda j: plan[j][1])
        if plan[i][1] > 2:
            plan[i] = (plan[i][0], plan[i][1] - 1)
        else:
            plan.pop()
    return plan


def build_deck(rng, n_free, n_comb, neg_counts):
    """Kind lists for the free copy slots: singles and combined copies."""
    deck = []
    order = BASE_KINDS[:]
    rng.shuffle(order)
    for i in range(n_free - n_comb):
        deck.append([order[i % len(order)]])
    rng.shuffle(order)
    for i in range(n_comb):
        base = order[i % len(order)]
        mods = [m for m in MODIFIERS if compatible([base, m])]
        k = 2 if len(mods) >= 2 and rng.random() < 0.35 else 1
        picked = []
        for _ in range(k):  # weighted draw without replacement: mirror most often
            weights = [MODIFIER_WEIGHT[m] for m in mods]
            picked.append(mods.pop(rng.choices(range(len(mods)), weights)[0]))
        deck.append([base, *picked])

    def counts():
        c = dict.fromkeys(KIND_ORDER, 0)
        for kinds in deck:
            for k in kinds:
                c[k] += 1
        for k, n in neg_counts.items():
            c[k] += n
        return c

    for _ in range(200):  # top up kinds used fewer than MIN_KIND_COUNT times
        c = counts()
        short = [k for k in KIND_ORDER if c[k] < MIN_KIND_COUNT and k != "template"]
        if not short:
            break
        k = short[0]
        singles = [i for i, ks in enumerate(deck) if len(ks) == 1 and c[ks[0]] > MIN_KIND_COUNT]
        if not singles:
            deck.append([k] if k != "mirror" else ["zoom", "mirror"])
            continue
        i = max(singles, key=lambda j: (c[deck[j][0]], -j))
        if k == "mirror":
            with_mirror = [*deck[i], "mirror"]
            deck[i] = with_mirror if compatible(with_mirror) else ["crop", "mirror"]
        else:
            deck[i] = [k]
    return deck


def deal(rng, deck, slots, by_id, taken):
    """Give each free slot a deck entry the source is eligible for, no kind twice per source."""
    rng.shuffle(deck)
    out = {sid: [] for sid in slots}

    def strictness(sid):
        d = by_id[sid]["duration"]
        return (0 if d < MIN_MOTION_S else 1 if d < MIN_PARTIAL_S else 2, rng.random())

    fallbacks = [["zoom"], ["crop"], ["crf_heavy"], ["zoom", "mirror"], ["crop", "mirror"]]
    for sid in sorted(slots, key=strictness):
        for _ in range(slots[sid]):
            have = set(taken.get(sid, [])) | {k for ks in out[sid] for k in ks}
            ok = [i for i, ks in enumerate(deck) if eligible(by_id[sid], ks)]
            fresh = [i for i in ok if not have & set(deck[i])]
            if ok:
                out[sid].append(deck.pop((fresh or ok)[0]))
            else:
                fb = [f for f in fallbacks if not have & set(f)] or fallbacks
                out[sid].append(rng.choice(fb))
    for ks in deck:  # left over (after fallbacks): give to sources with room
        room = [
            s
            for s in sorted(out)
            if len(out[s]) + (s in taken) < 3
            and eligible(by_id[s], ks)
            and not set(ks) & ({k for x in out[s] for k in x} | set(taken.get(s, [])))
        ]
        if room:
            out[rng.choice(room)].append(ks)
    return out


def make_plan(sources, rng, namer, n_sources):
    by_id = {s["id"]: s for s in sources}
    ids = sorted(by_id)
    drawn = sorted(rng.sample(ids, min(n_sources, len(ids))))
    not_drawn = [by_id[s] for s in ids if s not in drawn]
    group_of = {s: s for s in drawn}
    known = []
    for kd in KNOWN_DUPLICATES:
        present = [s for s in kd["sources"] if s in drawn]
        if len(present) > 1:
            for s in present[1:]:
                group_of[s] = present[0]
            known.append({"sources": present, "group": present[0], "evidence": kd["evidence"]})

    items = []
    for sid in drawn:
        rel, mtime = namer.name(ORIGINAL_EXTS)
        items.append(
            {
                "relpath": rel,
                "mtime": mtime,
                "source": sid,
                "group": group_of[sid],
                "role": "original",
                "kinds": [],
                "comps": [],
                "description": "original (byte copy of the source clip)",
                "_src": by_id[sid],
            }
        )

    counts = {sid: rng.choice([1, 2, 2, 3]) for sid in drawn}
    for sid in drawn:
        if by_id[sid]["duration"] < MIN_MOTION_S:
            counts[sid] = min(counts[sid], 2)

    # shared canvases (negatives): distinct, non-loop, long enough, no look-alike in one canvas
    lookalike = {frozenset(x["sources"]) for x in NATURAL_LOOKALIKES}
    pool = [
        s for s in drawn if eligible(by_id[s], ["template"], loops_ok=False) and group_of[s] == s
    ]
    rng.shuffle(pool)
    neg_plan = plan_negatives(rng, pool)
    canvases, taken, neg_counts = [], {}, {}
    tpl_idx = 0
    for kind, n in neg_plan:
        members = []
        for s in list(pool):
            if len(members) < n and not any(frozenset((s, m)) in lookalike for m in members):
                members.append(s)
                pool.remove(s)
        if len(members) < 2:
            pool += members
            continue
        w0, h0 = fe(by_id[members[0]]["width"]), fe(by_id[members[0]]["height"])
        if kind == "template":
            tpl_idx += 1
            params, _ = make_template(rng, w0, h0, tpl_idx)
            cid = params["id"]
        elif kind == "frame_caption":
            params, _ = make_frame_caption(rng, w0, h0)
            cid = f"{kind}_shared"
        else:
            others = [o for o in not_drawn if o["id"] not in members] or [
                by_id[s] for s in ids if s not in members
            ]
            params, _ = make_canvas(kind, rng, w0, h0, others)
            cid = f"{kind}_shared"
        canvases.append({"id": cid, "kind": kind, "params": params, "members": members})
        neg_counts[kind] = neg_counts.get(kind, 0) + len(members)
        for s in members:
            taken[s] = [kind]

    slots = {sid: counts[sid] - (sid in taken) for sid in drawn}
    slots = {s: n for s, n in slots.items() if n > 0}
    n_total = sum(counts.values())
    n_free = sum(slots.values())
    n_comb = min(n_free, round(n_total / 3))
    deck = build_deck(rng, n_free, n_comb, neg_counts)
    dealt = deal(rng, deck, slots, by_id, taken)

    def derived(sid, kinds, shared=None, canvas_id=None):
        src = by_id[sid]
        others = not_drawn or [by_id[s] for s in ids if s != sid]
        comps, size = make_components(kinds, rng, src, others, shared)
        enc = make_encode(rng, comps, src["audio"])
        rel, mtime = namer.name(CONTAINER_EXTS[enc["container"]])
        desc = "; ".join(p["desc"] for _, p in comps) + f"; {enc['desc']}"
        return {
            "relpath": rel,
            "mtime": mtime,
            "source": sid,
            "group": group_of[sid],
            "parent": group_of[sid],
            "role": "derived",
            "kinds": sorted(kinds, key=KIND_ORDER.index),
            "comps": comps,
            "encode": enc,
            "canvas_id": canvas_id,
            "expect": size,
            "description": (f"shared canvas {canvas_id}: " if canvas_id else "") + desc,
            "_src": src,
        }

    for c in canvases:
        c["items"] = []
        for s in c["members"]:
            it = derived(s, [c["kind"]], (c["kind"], c["params"]), c["id"])
            c["items"].append(it)
            items.append(it)
    for sid in drawn:
        for kinds in dealt.get(sid, []):
            items.append(derived(sid, kinds))
    return items, canvases, known, drawn


# --------------------------------------------------------------------------- rendering


def escape(text):
    return "".join(ch for ch in text if ch not in "\\':%,;[]")


def drawtext(text, size, color, x, y):
    return (
        f"drawtext=fontfile={FONT}:text='{escape(text)}':fontsize={size}:fontcolor={color}:"
        f"x={x}:y={y}"
    )


def background_png(canvas, sources_by_id, tmp):
    """Render the still background of a gradient/image canvas once; returns its path."""
    p = canvas
    cw, ch = p["canvas"]
    key = json.dumps({k: p.get(k) for k in ("canvas", "colors", "type", "line", "image")})
    path = Path(tmp) / f"bg-{hashlib.sha1(key.encode()).hexdigest()[:16]}.png"
    if path.exists():
        return path
    if "image" in p:
        im = p["image"]
        vf = f"scale={cw}:{ch}:force_original_aspect_ratio=increase,crop={cw}:{ch},setsar=1"
        if im["blur"]:
            vf += f",gblur=sigma={im['blur']}"
        if im["dim"]:
            vf += f",eq=brightness={im['dim']}"
        src = sources_by_id[im["source"]]["path"]
        cmd = ["-ss", str(im["at"]), "-i", src, "-vf", vf]
    else:
        cs = ":".join(f"c{i}={c}" for i, c in enumerate(p["colors"]))
        x0, y0, x1, y1 = p["line"]
        g = (
            f"gradients=s={cw}x{ch}:{cs}:n={len(p['colors'])}:x0={x0}:y0={y0}:x1={x1}:y1={y1}:"
            f"type={p['type']}:seed=1:speed=0.00001"
        )
        cmd = ["-f", "lavfi", "-i", g, "-vf", "format=rgb24"]
    ff = ["ffmpeg", "-v", "error", "-nostdin", "-y", "-threads", "1", *cmd, "-frames:v", "1"]
    ff += ["-flags", "+bitexact", str(path)]
    r = subprocess.run(ff, check=False, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"background failed: {' '.join(cmd)}\n{r.stderr[-1500:]}")
    return path


def build_command(it, out_path, bg_path):
    src = it["_src"]
    comps = dict(it["comps"])
    enc = it["encode"]
    cmd = ["ffmpeg", "-v", "error", "-nostdin", "-y", "-threads", "1"]
    if "partial" in comps:
        cut = comps["partial"]
        cmd += ["-ss", f"{cut['start']:.3f}", "-t", f"{cut['length']:.3f}"]
    cmd += ["-i", src["path"]]
    clip = []  # filters on the clip before it is placed anywhere
    if "mirror" in comps:
        clip.append("hflip")
    for k in GEOMETRY_KINDS:
        if k in comps:
            cw, ch, x, y = comps[k]["crop"]
            clip.append(f"crop={cw}:{ch}:{x}:{y}")
            if comps[k]["scale_to"]:
                clip.append(f"scale={comps[k]['scale_to'][0]}:{comps[k]['scale_to'][1]},setsar=1")
            wm = comps[k].get("watermark")
            if wm and "text" in wm:
                ax, ay = wm["anchor"]
                clip.append(
                    drawtext(
                        wm["text"],
                        wm["size"],
                        f"{wm['color']}@{wm['alpha']}",
                        f"(w-tw)*{ax}",
                        f"(h-th)*{ay}",
                    )
                )
            elif wm:
                bw, bh, bx, by = wm["box"]
                clip.append(
                    f"drawbox=x={bx}:y={by}:w={bw}:h={bh}:color={wm['color']}@{wm['alpha']}:t=fill"
                )
    post = []
    if "crf_heavy" in comps and comps["crf_heavy"]["scale_to"]:
        post.append("scale={}:{},setsar=1".format(*comps["crf_heavy"]["scale_to"]))
    post.append("scale=trunc(iw/2)*2:trunc(ih/2)*2,setsar=1,format=yuv420p")
    canvas = next((k for k in CANVAS_KINDS if k in comps), None)
    head = ",".join(clip) or "null"
    if canvas is None:
        graph = f"[0:v]{head},{','.join(post)}[v]"
    else:
        p = comps[canvas]
        cw, ch = p["canvas"]
        fg = f"scale={p['w']}:{p['h']},setsar=1"
        if canvas in ("pip_blur", "vertical_blur"):
            bw, bh = p["bg_scale"]
            bg = f"scale={bw}:{bh},crop={cw}:{ch},setsar=1,{p['blur']}"
            if p["dim"]:
                bg += f",eq=brightness={p['dim']}"
            graph = (
                f"[0:v]{head},split[a][b];[a]{bg}[bg];[b]{fg}[fg];"
                f"[bg][fg]overlay={p['x']}:{p['y']},{','.join(post)}[v]"
            )
        elif canvas in ("canvas_gradient", "canvas_image"):
            cmd += ["-loop", "1", "-framerate", src["rate"], "-i", str(bg_path)]
            graph = (
                f"[1:v]format=yuv420p,setsar=1[bg];[0:v]{head},{fg}[fg];"
                f"[bg][fg]overlay={p['x']}:{p['y']}:shortest=1,{','.join(post)}[v]"
            )
        else:
            chain = [f"{fg},pad={cw}:{ch}:{p['x']}:{p['y']}:color={p['color']}"]
            if canvas == "frame_caption":
                if p["line"]:
                    ln = p["line"]
                    d = ln["t"] + ln["gap"]
                    chain.append(
                        f"drawbox=x={p['x'] - d}:y={p['y'] - d}:w={p['w'] + 2 * d}:"
                        f"h={p['h'] + 2 * d}:color={ln['color']}:t={ln['t']}"
                    )
                band, size = p["caption_band"], p["font_size"]
                y0 = 0 if p["caption_at"] == "top" else ch - band
                chain.append(
                    drawtext(p["caption"], size, p["font_color"], "(w-tw)/2", f"{y0}+({band}-th)/2")
                )
            elif canvas == "template":
                band = p["band"]
                y0 = 0 if p["title_at"] == "top" else ch - band
                lg = p["logo"]
                s = lg["size"]
                chain += [
                    f"drawbox=x=0:y={y0}:w={cw}:h={band}:color={p['band_color']}:t=fill",
                    drawtext(
                        p["title"],
                        p["font_size"],
                        p["font_color"],
                        "(w-tw)/2",
                        f"{y0}+({band}-th)/2",
                    ),
                    f"drawbox=x={lg['x']}:y={lg['y']}:w={s}:h={s}:color={lg['color']}:t=fill",
                    f"drawbox=x={lg['x']}:y={lg['y']}:w={s}:h={s}:color={lg['ring']}:"
                    f"t={max(2, s // 10)}",
                    drawtext(
                        p["logo_letter"],
                        max(8, int(s * 0.6)),
                        "white",
                        f"{lg['x']}+({s}-tw)/2",
                        f"{lg['y']}+({s}-th)/2",
                    ),
                ]
            graph = f"[0:v]{head},{','.join(chain)},{','.join(post)}[v]"
    cmd += ["-filter_complex", graph, "-filter_threads", "1", "-filter_complex_threads", "1"]
    cmd += ["-map", "[v]"] + (["-map", "0:a:0"] if enc["audio"] else [])
    if enc["codec"] == "h264":
        cmd += ["-c:v", "libx264", "-preset", "veryfast", "-crf", str(enc["crf"])]
    else:
        cmd += ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8", "-row-mt", "0"]
        cmd += ["-crf", str(enc["crf"]), "-b:v", "0"]
    cmd += ["-pix_fmt", "yuv420p", "-threads", "1", "-flags:v", "+bitexact"]
    if enc["audio"]:
        cmd += ["-c:a", "libopus" if enc["container"] == "webm" else "aac", "-b:a", "96k"]
        cmd += ["-flags:a", "+bitexact"]
    else:
        cmd += ["-an"]
    cmd += ["-map_metadata", "-1", "-map_chapters", "-1", "-fflags", "+bitexact"]
    return [*cmd, "-f", FORMATS[enc["container"]], str(out_path)]


def render(it, lib, bg_path):
    out = lib / it["relpath"]
    out.parent.mkdir(parents=True, exist_ok=True)
    if it["role"] == "original":
        shutil.copyfile(it["_src"]["path"], out)
    else:
        cmd = build_command(it, out, bg_path)
        r = subprocess.run(cmd, check=False, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(
                f"ffmpeg failed for {it['relpath']} ({label(it['kinds'])}):\n"
                f"{' '.join(cmd)}\n{r.stderr[-2000:]}"
            )
    os.utime(out, (it["mtime"], it["mtime"]))
    info = probe(out)
    info.pop("rate")
    if it["role"] == "derived":
        want = tuple(it["expect"])
        got = (info["width"], info["height"])
        comps = dict(it["comps"])
        dur = comps["partial"]["length"] if "partial" in comps else it["_src"]["duration"]
        if got != want or abs(info["duration"] - dur) > 0.5 + 0.05 * dur:
            raise RuntimeError(
                f"{it['relpath']} ({label(it['kinds'])}): got {got} {info['duration']}s, "
                f"expected {want} {dur}s"
            )
    return info


# --------------------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sources", type=Path, default=Path("../shared/data/videos"))
    ap.add_argument("--out", type=Path, required=True, help="gets OUT/library and OUT/truth.json")
    ap.add_argument("--seed", type=int, default=7101)
    ap.add_argument("--n-sources", type=int, default=40, help="source clips to draw")
    ap.add_argument("--jobs", type=int, default=2, help="parallel ffmpeg processes")
    ap.add_argument("--force", action="store_true", help="replace an existing library/truth")
    args = ap.parse_args()
    t0 = time.time()
    out = args.out.resolve()
    sources_dir = args.sources.resolve()
    if out == sources_dir or sources_dir in out.parents:
        sys.exit("--out must not be inside --sources")
    lib, truth_path = out / "library", out / "truth.json"
    if (lib.exists() and any(lib.iterdir())) or truth_path.exists():
        if not args.force:
            sys.exit(f"{lib} or {truth_path} exists (use --force to replace them)")
        shutil.rmtree(lib, ignore_errors=True)
        truth_path.unlink(missing_ok=True)
    lib.mkdir(parents=True, exist_ok=True)

    sources = list_sources(sources_dir)
    if not sources:
        sys.exit(f"no videos under {sources_dir}/<category>/")
    by_id = {s["id"]: s for s in sources}
    rng = random.Random(f"general:{args.seed}")
    namer = Namer(random.Random(f"general:{args.seed}:names"))
    items, canvases, known, drawn = make_plan(sources, rng, namer, args.n_sources)
    print(
        f"[general] {len(items)} files planned from {len(drawn)} of {len(sources)} sources; "
        f"rendering with {args.jobs} jobs",
        file=sys.stderr,
    )

    with tempfile.TemporaryDirectory(prefix="ndv-general-") as tmp:
        bgs = {}
        for it in items:
            comps = dict(it["comps"])
            for k in ("canvas_gradient", "canvas_image"):
                if k in comps:
                    bgs[id(it)] = background_png(comps[k], by_id, tmp)
        done = [0]

        def work(it):
            info = render(it, lib, bgs.get(id(it)))
            done[0] += 1
            if done[0] % 20 == 0:
                print(f"  {done[0]}/{len(items)} files ({time.time() - t0:.0f}s)", file=sys.stderr)
            return info

        with ThreadPoolExecutor(max(1, args.jobs)) as ex:
            infos = list(ex.map(work, items))

    files = []
    for it, info in zip(items, infos, strict=True):
        rec = {
            "name": os.path.basename(it["relpath"]),
            "relpath": it["relpath"],
            "source": it["source"],
            "parent": it.get("parent"),
            "group": it["group"],
            "role": it["role"],
            "kind": label(it["kinds"]) if it["kinds"] else "original",
            "transforms": it["kinds"],
            "description": it["description"],
        }
        if it["role"] == "derived":
            rec["params"] = {k: {a: b for a, b in p.items() if a != "desc"} for k, p in it["comps"]}
            rec["encode"] = {k: v for k, v in it["encode"].items() if k != "desc"}
            rec["canvas_id"] = it["canvas_id"]
        rec.update(info)
        files.append(rec)
        it["name"] = rec["name"]
    groups = {}
    for f in files:
        groups.setdefault(f["group"], []).append(f["name"])
    group_list = [{"id": g, "files": sorted(v)} for g, v in sorted(groups.items())]

    hard = []
    for c in canvases:
        for a, b in combinations(c["items"], 2):
            hard.append(
                {
                    "source": c["id"],
                    "type": "template" if c["kind"] == "template" else "canvas",
                    "kind": c["kind"],
                    "groups": [a["group"], b["group"]],
                    "pairs": [[a["name"], b["name"]]],
                    "desc": f"{a['source']} and {b['source']} in the identical {c['id']} canvas",
                }
            )
    look = []
    for lk in NATURAL_LOOKALIKES:
        if all(s in drawn for s in lk["sources"]):
            g = [next(f["group"] for f in files if f["source"] == s) for s in lk["sources"]]
            if g[0] != g[1]:
                a = [f["name"] for f in files if f["group"] == g[0]]
                b = [f["name"] for f in files if f["group"] == g[1]]
                look.append({**lk, "groups": g, "pairs": [[x, y] for x in a for y in b]})

    kinds = {}
    for f in files:
        for k in f["transforms"]:
            kinds[k] = kinds.get(k, 0) + 1
    truth = {
        "format": "ndv-truth/1",
        "generator": GENERATOR,
        "set": "general",
        "seed": args.seed,
        "library_dir": "library",
        "n_sources_drawn": len(drawn),
        "n_files": len(files),
        "n_groups": len(group_list),
        "n_multi_groups": sum(1 for g in group_list if len(g["files"]) > 1),
        "transform_counts": dict(sorted(kinds.items())),
        "files": files,
        "groups": group_list,
        "hard_negatives": hard,
        "canvases": [
            {
                "id": c["id"],
                "kind": c["kind"],
                "sources": c["members"],
                "files": [it["name"] for it in c["items"]],
                "params": {k: v for k, v in c["params"].items() if k != "desc"},
                "description": c["params"]["desc"],
            }
            for c in canvases
        ],
        "known_duplicates": known,
        "natural_lookalikes": look,
    }
    truth_path.write_text(json.dumps(truth, indent=1) + "\n")
    secs = time.time() - t0
    print_summary(files, canvases, hard, truth_path, lib, secs)


def print_summary(files, canvases, hard, truth_path, lib, secs):
    derived = [f for f in files if f["role"] == "derived"]
    neg_names = {n for h in hard for n in h["pairs"][0]}
    print(f"\n{'kind':<20}{'single':>7}{'combined':>9}{'negative':>9}{'total':>7}")
    for k in KIND_ORDER:
        fs = [f for f in derived if k in f["transforms"]]
        single = sum(1 for f in fs if len(f["transforms"]) == 1 and f["name"] not in neg_names)
        comb = sum(1 for f in fs if len(f["transforms"]) > 1)
        neg = sum(1 for f in fs if f["name"] in neg_names)
        flag = "" if len(fs) >= MIN_KIND_COUNT else f"   (fewer than {MIN_KIND_COUNT})"
        name = "partial (excerpt)" if k == "partial" else k
        print(f"{name:<20}{single:>7}{comb:>9}{neg:>9}{len(fs):>7}{flag}")
    n_comb = sum(1 for f in derived if len(f["transforms"]) > 1)
    print(f"\n{'label':<40}{'copies':>7}")
    labels = {}
    for f in derived:
        labels[f["kind"]] = labels.get(f["kind"], 0) + 1
    for lab, n in sorted(labels.items(), key=lambda kv: (-kv[1], kv[0])):
        print(f"{lab:<40}{n:>7}")
    print(f"\n{'shared canvas':<26}{'clips':>6}{'pairs':>6}  sources")
    for c in canvases:
        n = len(c["members"])
        print(f"{c['id']:<26}{n:>6}{n * (n - 1) // 2:>6}  {', '.join(c['members'])}")
    n_orig = sum(1 for f in files if f["role"] == "original")
    print(
        f"\n{len(files)} files ({n_orig} originals, {len(derived)} derived, {n_comb} of them "
        f"combined = {n_comb / max(1, len(derived)):.0%}); {len(hard)} hard-negative pairs in "
        f"{len(canvases)} shared canvases"
    )
    print(f"library {lib}\ntruth   {truth_path}\ngenerated in {secs:.0f} s")


if __name__ == "__main__":
    main()
