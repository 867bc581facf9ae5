import subprocess
import sys
import urllib.request

import pytest

from dedup_gui.core.analyse import models
from dedup_gui.core.analyse.embed import Embedder
from dedup_gui.core.options import ModelOptions


def test_default_weights_are_found_offline_without_importing_the_package():
    code = (
        "import sys; from dedup_gui.core.analyse import models;"
        "p = models.resolve_weights(models.get_spec('resnet50-augnet'));"
        "assert p.name == 'model.pth' and p.stat().st_size > 90e6, p;"
        "assert 'imgsim' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_download_failure_says_how_to_fix_it(monkeypatch):
    def offline(*a, **k):
        raise OSError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(models.WeightsUnavailable) as err:
        models.resolve_weights(models.get_spec("resnet50-imagenet"))
    msg = str(err.value)
    assert "--weights" in msg and "resnet50-augnet" in msg and "download" in msg.lower()


def test_missing_or_bad_weights_file(tmp_path):
    with pytest.raises(models.WeightsUnavailable, match="does not exist"):
        models.resolve_weights(models.get_spec("resnet50-augnet"), tmp_path / "nope.pth")
    junk = tmp_path / "junk.pth"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(models.WeightsUnavailable, match="not a readable"):
        Embedder(ModelOptions(weights=junk)).load()


def test_a_user_weights_file_is_used(tmp_path, embedder):
    import torch

    path = models.resolve_weights(models.get_spec("resnet50-augnet"))
    state = torch.load(path, map_location="cpu", weights_only=True)
    mine = tmp_path / "my-resnet50.pth"
    torch.save({k.replace("module.pre.", ""): v for k, v in state.items()}, mine)
    emb = Embedder(ModelOptions(weights=mine))
    assert emb.key != embedder.key  # a different weights file never shares cache rows
    import numpy as np

    frames = np.random.default_rng(0).integers(0, 255, (2, 224, 224), dtype=np.uint8)
    _, v1 = emb.embed(frames)
    _, v2 = embedder.embed(frames)
    assert np.allclose(v1, v2, atol=2e-2)


def test_unknown_model_is_a_clear_error():
    with pytest.raises(ValueError, match="choose from"):
        models.get_spec("vgg")


def test_mirror_invariance(embedder):
    import numpy as np

    rng = np.random.default_rng(3)
    frames = rng.integers(0, 255, (2, 224, 224), dtype=np.uint8)
    frames[:, 40:120, 20:90] = 255
    _, vectors = embedder.embed(frames)
    _, mvectors = embedder.embed(np.ascontiguousarray(frames[:, :, ::-1]))
    assert np.allclose(vectors, mvectors, atol=2e-2)
    plain, _ = embedder.embed(frames, mirror=False)
    mplain, _ = embedder.embed(np.ascontiguousarray(frames[:, :, ::-1]), mirror=False)
    assert not np.allclose(plain, mplain, atol=2e-2)
