"""Shared fixtures: every user path goes to a temporary folder; a library of planted duplicates."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _isolated_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cache, config, data and torch folders of the user live in a temporary folder; built
    runtime models in one folder for the session."""
    home = tmp_path_factory.mktemp("home")
    for var, sub in (
        ("XDG_CACHE_HOME", "cache"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_DATA_HOME", "data"),
        ("TORCH_HOME", "torch"),
    ):
        (home / sub).mkdir()
        monkeypatch.setenv(var, str(home / sub))
    # the int8 runtime model is built once per session (a user builds it once per machine)
    monkeypatch.setenv("DEDUP_GUI_MODEL_DIR", str(tmp_path_factory.getbasetemp() / "models"))


@pytest.fixture(scope="session")
def embedder():
    """One loaded embedder for the session (the default model, offline weights)."""
    from dedup_gui.core.analyse.embed import Embedder

    emb = Embedder()
    emb.load()
    return emb


@pytest.fixture(scope="session")
def planted(tmp_path_factory: pytest.TempPathFactory):
    """A library with planted duplicates, hard negatives and distinct videos."""
    from tests.library import make_library

    return make_library(tmp_path_factory.mktemp("library"))


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory):
    """The fault corpus of issue 5 (tests/faults.py), written once per session."""
    from tests.faults import make_corpus, unlock

    c = make_corpus(tmp_path_factory.mktemp("faults") / "corpus")
    yield c
    unlock(c.root)


@pytest.fixture(scope="session")
def corpus_scan(corpus, embedder, tmp_path_factory):
    """One engine scan of the corpus (a file deleted and another replaced while it runs),
    shared by the engine, CLI and window tests; later ones see the tree as it left it."""
    import time

    from tests.reliability.conftest import ScannedCorpus, scan_corpus

    cache_dir = tmp_path_factory.mktemp("fault-cache")
    start = time.monotonic()
    result = scan_corpus(corpus, cache_dir, embedder)
    return ScannedCorpus(corpus, result, cache_dir, time.monotonic() - start)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("-m"):
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)


def paths_of(groups) -> set[frozenset[str]]:
    """Groups as sets of file names, for order-free comparison."""
    return {frozenset(Path(p).name for p in g.paths) for g in groups}
