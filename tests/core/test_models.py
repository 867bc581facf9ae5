import subprocess
import sys
import urllib.request

import pytest

from dedup_gui.core.analyse import models
from dedup_gui.core.analyse.embed import Embedder
from dedup_gui.core.options import ModelOptions
from dedup_gui.core.progress import NEVER_CANCELLED as NEVER


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


def test_grid_pooling_matches_torch_adaptive_max_pooling():
    import numpy as np
    import torch

    from dedup_gui.core.analyse.embed import pool_grid

    rng = np.random.default_rng(5)
    for shape in ((3, 64, 5, 5), (1, 16, 7, 7), (2, 8, 4, 6), (2, 8, 3, 3)):
        fmap = rng.standard_normal(shape).astype(np.float32)
        want = torch.nn.functional.adaptive_max_pool2d(torch.from_numpy(fmap), 3)
        want = want.flatten(2).transpose(1, 2).numpy()
        assert np.array_equal(pool_grid(fmap), want), shape


def test_a_batch_split_between_inference_streams_keeps_each_frames_map(embedder):
    """The runtime splits a batch between its requests: every frame gets its own map back, in
    order, whatever the batch size (one frame, fewer frames than requests, an odd count)."""
    import numpy as np

    rng = np.random.default_rng(11)
    frames = rng.integers(0, 255, (7, 160, 160), dtype=np.uint8)
    embedder.load(160)
    rt = embedder._runtime
    one_by_one = np.concatenate([rt.run(frames[i : i + 1]) for i in range(len(frames))])
    for n in (1, 2, 3, 7):
        together = rt.run(frames[:n])
        assert together.shape[0] == n
        assert np.allclose(together, one_by_one[:n], atol=1e-4)
    assert not np.allclose(one_by_one[0], one_by_one[1], atol=1e-2)


def test_videos_embedded_together_get_the_features_they_get_alone(embedder):
    """The features stage embeds the videos already decoded in one call: each video's frames,
    and the whole frame of a picture inside a canvas, come back to their own video."""
    import numpy as np

    from dedup_gui.core.analyse.features import _features
    from dedup_gui.core.scan.workers import DecodedVideo
    from dedup_gui.core.types import Probe

    rng = np.random.default_rng(21)
    probe = Probe(5.0, 320, 180, 25.0, "h264", 500_000, True, 0, "mp4", 5)

    def video(n: int, canvas: bool) -> DecodedVideo:
        frames = rng.integers(0, 255, (n, 160, 160), dtype=np.uint8)
        return DecodedVideo(
            probe=probe,
            timestamps=np.arange(n, dtype=np.float32),
            frames=frames,
            thumbs=frames[:, ::5, ::5].copy(),
            informative=np.ones(n, bool),
            crop=(0, 0, 160, 160),
            full_frames=rng.integers(0, 255, (n, 160, 160), dtype=np.uint8) if canvas else None,
            full_thumbs=frames[:, ::5, ::5].copy() if canvas else None,
            full_crop=(0, 0, 320, 180) if canvas else None,
        )

    videos = [video(3, False), video(5, True), video(2, False)]
    together = _features(videos, embedder, True, NEVER)
    for v, got in zip(videos, together, strict=True):
        (alone,) = _features([v], embedder, True, NEVER)
        assert got.regions.shape == alone.regions.shape == (len(v.frames), 9, 256)
        assert np.allclose(got.regions, alone.regions, atol=2e-3)
        assert (got.full_regions is None) == (v.full_frames is None)
        if got.full_regions is not None:
            assert np.allclose(got.full_regions, alone.full_regions, atol=2e-3)
            assert not np.allclose(got.full_regions, got.regions, atol=2e-2)


def test_the_cpu_runtime_loads_without_importing_torch():
    """Without an NVIDIA driver a scan never waits for torch's import (about 4 s): the device
    is known to be the CPU and the int8 model, built once, loads through OpenVINO alone."""
    from dedup_gui.core.analyse import runtime

    if runtime.cuda_driver_present():
        pytest.skip("an NVIDIA driver is present: torch decides whether CUDA works")
    if not runtime.openvino_available():
        pytest.skip("OpenVINO is not installed")
    # the model in this session's model folder (built there once; building imports torch)
    runtime._LOADED.clear()
    Embedder().load(160)
    code = (
        "import sys\n"
        "import numpy as np\n"
        "from dedup_gui.core.analyse.embed import Embedder\n"
        "e = Embedder()\n"
        "e.load(160)\n"
        "regions, _ = e.embed(np.zeros((2, 160, 160), np.uint8) + 90)\n"
        "print(e.device, e.runtime_name, regions.shape, 'torch' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True
    ).stdout.split()
    assert out == ["cpu", "openvino-int8", "(2,", "9,", "256)", "False"], out
