"""Helpers of the reliability tests: corpus scan options, running the CLI.

The ``corpus`` and ``corpus_scan`` fixtures live in ``tests/conftest.py`` so that the engine,
CLI and window tests share one session scan.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from dedup_gui.core.options import DiscoveryOptions, SamplingOptions, ScanOptions
from dedup_gui.core.progress import Progress
from dedup_gui.core.types import ScanResult
from tests.faults import Corpus, mutate_on_stage

# The hanging decoder costs this long (in parallel with the other files); honest files of the
# corpus decode in about a second each, so this leaves a wide margin on a busy machine.
FAULT_TIMEOUT = 10.0
# A smaller frame budget than the default keeps embedding (the costly part on a CPU) short.
SAMPLING = SamplingOptions(min_frames=6, max_frames=12)
DECODER = "tests.faults:HangingBackend"


def corpus_options(cache_dir: Path, **changes) -> ScanOptions:
    """Options of the corpus scans (decoder that hangs on 'hang*', symlinks followed)."""
    return ScanOptions(
        sampling=SAMPLING,
        discovery=DiscoveryOptions(follow_symlinks=True),
        decoder=DECODER,
        file_timeout=FAULT_TIMEOUT,
        cache_dir=cache_dir,
        decode_workers=2,
    ).replace(**changes)


@dataclass
class ScannedCorpus:
    corpus: Corpus
    result: ScanResult
    cache_dir: Path
    seconds: float


def scan_corpus(corpus: Corpus, cache_dir: Path, embedder) -> ScanResult:
    from dedup_gui.core.pipeline import scan

    return scan(
        [corpus.root],
        corpus_options(cache_dir),
        Progress(mutate_on_stage(corpus, "features")),
        embedder=embedder,
    )


REPO = Path(__file__).resolve().parents[2]


def cli(
    *args: str, timeout: float = 600, prefix: tuple[str, ...] = (), **kw
) -> subprocess.CompletedProcess[str]:
    """Run ``python main.py ARGS`` as a user would (the environment's user folders are the
    test's temporary ones, set by the autouse fixture); ``prefix`` wraps the command."""
    return subprocess.run(
        [*prefix, sys.executable, str(REPO / "main.py"), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        cwd=REPO,
        env={**os.environ, "PYTHONIOENCODING": "utf-8", **kw.pop("env", {})},
        **kw,
    )


def cli_popen(*args: str, **kw) -> subprocess.Popen[str]:
    """Start ``python main.py ARGS`` in the background."""
    return subprocess.Popen(
        [sys.executable, str(REPO / "main.py"), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        **kw,
    )
