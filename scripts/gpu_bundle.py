"""Pack the dev-set benchmark for an offline GPU machine, in chunks that each fit one transfer.

    .venv/bin/python scripts/gpu_bundle.py --library /tmp/ndv-dev/library \
        --truth /tmp/ndv-dev/dev_truth.json --bench ../shared/bench [--chunk-mb 57] [--out .]

A GPU machine without network has Python, torch, torchvision and OpenCV, but none of PyAV,
faiss, platformdirs or send2trash, nor the default model's weights (they come in a registry
package here). This writes folders ``.gx1``, ``.gx2``, ... under ``--out`` (keep them out of git,
e.g. in ``.git/info/exclude``), each at most ``--chunk-mb``:

* a float16 copy of the default model's weights (half the size; ``--weights`` loads it);
* wheels of the missing packages for CPython 3.12 on manylinux x86-64 (``pip download``);
* the library's files, the truth file, the shared evaluator and ``run.sh``.

Send the chunks one after the other to the same machine (each copies itself to ``/tmp/keep``),
then run ``bash .gxN/run.sh`` from the checkout with the last one: it installs the wheels
into ``/tmp/site``, runs ``scripts/benchmark.py`` (cold and warm, default settings: CUDA and
float16 where torch sees a GPU), scores the scan with ``scripts/evaluate.py``, and times the
cold scan again with 12 decoder processes and on the machine's CPU. Results go to ``$OUT``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

WHEELS = ("av", "faiss-cpu", "platformdirs", "send2trash")
PLATFORMS = ("manylinux_2_28_x86_64", "manylinux_2_27_x86_64", "manylinux_2_17_x86_64",
             "manylinux2014_x86_64")  # fmt: skip
WEIGHTS = "resnet50-augnet-fp16.pth"

RUN = r"""#!/bin/bash
# the dev-set benchmark on the GPU machine (written by scripts/gpu_bundle.py)
set -u
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/gpu-out}; mkdir -p "$OUT"
K=/tmp/keep; mkdir -p $K
for d in .gx*; do [ -d "$d" ] && cp -rn "$d"/. $K/; done
echo "library files: $(find $K/library -type f | wc -l) (want @FILES@)"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
    --target /tmp/site $K/*.whl || exit 3
export PYTHONPATH=/tmp/site
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
python3 -c "import sys,torch,cv2,numpy,faiss;print(sys.version.split()[0],torch.__version__,\
torch.cuda.is_available(),cv2.__version__,numpy.__version__,faiss.__version__)"
echo "cores: $(nproc)"; grep -m1 'model name' /proc/cpuinfo
W=$K/@WEIGHTS@
B="python3 scripts/benchmark.py $K/library --reference none"
$B --runs cold,warm --json $OUT/bench.json --cache-dir /tmp/cache-a -- --weights $W \
    2>&1 | tee $OUT/bench.txt
python3 scripts/evaluate.py --library $K/library --truth $K/truth.json --bench $K/bench \
    --out $OUT/eval.json -- --weights $W --cache-dir /tmp/cache-a 2>&1 | tee $OUT/eval.txt \
    | grep -E "P=|rror"
$B --runs cold --json $OUT/bench-w12.json -- --weights $W --workers 12 2>&1 \
    | tee $OUT/bench-w12.txt
$B --runs cold --json $OUT/bench-cpu.json -- --weights $W --workers 12 --device cpu 2>&1 \
    | tail -12 | tee $OUT/bench-cpu.txt
nvidia-smi --query-gpu=memory.used,utilization.gpu --format=csv
"""


def half_weights(dest: Path) -> None:
    """The default model's weights in float16, keys without the package's prefix, no fc."""
    import torch

    from dedup_gui.core.analyse import models

    spec = models.get_spec(models.DEFAULT_MODEL)
    state = models._load_state_dict(models.resolve_weights(spec), spec.key_prefix)
    half = {
        k: (v.half() if v.is_floating_point() else v)
        for k, v in state.items()
        if not k.startswith("fc.")
    }
    torch.save(half, dest)


def download_wheels(dest: Path) -> None:
    cmd = [sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary=:all:",
           "--python-version", "3.12", "--implementation", "cp", "-d", str(dest)]  # fmt: skip
    for p in PLATFORMS:
        cmd += ["--platform", p]
    subprocess.run([*cmd, *WHEELS], check=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--library", type=Path, required=True)
    ap.add_argument("--truth", type=Path, required=True)
    ap.add_argument("--bench", type=Path, required=True, help="the folder of evaluate.py")
    ap.add_argument("--chunk-mb", type=float, default=57.0)
    ap.add_argument("--out", type=Path, default=ROOT)
    args = ap.parse_args()
    cap = args.chunk_mb * 1e6
    with tempfile.TemporaryDirectory() as tmp:
        extras = [Path(tmp) / WEIGHTS]
        half_weights(extras[0])
        download_wheels(Path(tmp))
        extras += sorted(Path(tmp).glob("*.whl"))
        files = sorted(
            (p for p in args.library.rglob("*") if p.is_file()), key=lambda p: -p.stat().st_size
        )
        # first fit: the weights and wheels open the first chunks, the videos fill them up
        chunks: list[list[tuple[Path, Path]]] = []
        used: list[float] = []

        def place(src: Path, rel: Path) -> None:
            size = src.stat().st_size
            if size > cap:
                raise SystemExit(f"{src} ({size / 1e6:.1f} MB) is larger than a chunk")
            for k, u in enumerate(used):
                if u + size <= cap:
                    chunks[k].append((src, rel))
                    used[k] += size
                    return
            chunks.append([(src, rel)])
            used.append(size)

        for e in sorted(extras, key=lambda p: -p.stat().st_size):
            place(e, Path(e.name))
        for f in files:
            place(f, Path("library") / f.relative_to(args.library))
        chunks[-1] += [(args.truth, Path("truth.json")), (args.bench / "evaluate.py",
                       Path("bench/evaluate.py"))]  # fmt: skip
        for old in args.out.glob(".gx*"):
            shutil.rmtree(old)
        for k, chunk in enumerate(chunks, 1):
            for src, rel in chunk:
                dest = args.out / f".gx{k}" / rel
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest)
        run = RUN.replace("@FILES@", str(len(files))).replace("@WEIGHTS@", WEIGHTS)
        (args.out / f".gx{len(chunks)}" / "run.sh").write_text(run)
    for k, u in enumerate(used, 1):
        print(f".gx{k}: {u / 1e6:.1f} MB")
    print(f"then, from the checkout on the GPU machine: bash .gx{len(chunks)}/run.sh")
    return 0


if __name__ == "__main__":
    sys.exit(main())
