import numpy as np
import pytest

from dedup_gui.core.options import SamplingOptions
from dedup_gui.core.scan.sampling import Strategy, choose_strategy, plan, sample_count, sample_times


@pytest.mark.parametrize(
    ("duration", "expected"),
    [(0.2, 12), (5.0, 12), (30.0, 30), (3600.0, 90), (float("nan"), 12), (0.0, 12)],
)
def test_frame_count_has_a_floor_and_a_cap(duration, expected):
    assert sample_count(duration, SamplingOptions()) == expected


def test_samples_cover_the_whole_duration_uniformly():
    t = sample_times(10.0, 10)
    assert t[0] == pytest.approx(0.5)
    assert t[-1] == pytest.approx(9.5)
    assert np.allclose(np.diff(t), 1.0)


def test_short_files_decode_sequentially_long_files_seek():
    assert choose_strategy(20.0, 30.0, 20, 250.0) is Strategy.SEQUENTIAL
    assert choose_strategy(3600.0, 30.0, 90, 60.0) is Strategy.SEEK
    # hours of a stream with one keyframe a minute at 25 fps: take keyframes only
    assert choose_strategy(4 * 3600.0, 25.0, 90, 1500.0) is Strategy.KEYFRAME


def test_plan_keeps_the_frame_budget_for_very_long_files():
    p = plan(10 * 3600.0, 25.0, SamplingOptions(), keyframe_interval=250.0)
    assert len(p.timestamps) == SamplingOptions().max_frames
    assert p.strategy is not Strategy.SEQUENTIAL
