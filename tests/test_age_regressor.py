"""The age regressor reads age from images it was not trained on, and its years-added reading."""

import numpy as np
import pytest
import torch

from ldbench.age_regressor import load_age_regressor, predict_age, save_age_regressor, train_age_regressor
from ldbench.images import gray_uint8_to_unit
from ldbench.settings import AgeRegressorSettings
from ldbench.stages.ageing import predicted_years
from ldbench.utils import LdbenchError

SETTINGS = AgeRegressorSettings(arch="small_cnn", width=8, epochs=40, batch_size=16, lr=3e-3, seed=0)
SIZE = 32


def _scans(ages: np.ndarray, seed: int) -> np.ndarray:
    """uint8 'brains' whose dark central 'ventricle' widens with age (as the brain phantom's do)."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:SIZE, :SIZE]
    r2 = (yy - SIZE / 2) ** 2 + (xx - SIZE / 2) ** 2
    out = []
    for age in ages:
        radius = 2 + (age - 50) / 45 * 8
        scan = np.where(r2 < (SIZE * 0.45) ** 2, 0.8, 0.0) - 0.6 * (r2 < radius**2) + rng.normal(0, 0.03, (SIZE, SIZE))
        out.append((np.clip(scan, 0, 1) * 255).astype(np.uint8))
    return np.stack(out)


def test_age_regressor_reads_age_on_held_out_scans_and_is_seeded(tmp_path):
    rng = np.random.default_rng(0)
    train_age, test_age = rng.uniform(50, 95, 96), rng.uniform(55, 90, 32)
    model = train_age_regressor(gray_uint8_to_unit(_scans(train_age, 1)), train_age, SETTINGS, seed=0)
    predicted = predict_age(model, gray_uint8_to_unit(_scans(test_age, 2)))
    mae, baseline = np.abs(predicted - test_age).mean(), np.abs(train_age.mean() - test_age).mean()
    assert mae < 0.5 * baseline and np.corrcoef(predicted, test_age)[0, 1] > 0.9
    save_age_regressor(model, tmp_path / "age.pt", SETTINGS)
    np.testing.assert_array_equal(predict_age(load_age_regressor(tmp_path / "age.pt"), gray_uint8_to_unit(_scans(test_age, 2))), predicted)
    again = train_age_regressor(gray_uint8_to_unit(_scans(train_age, 1)), train_age, SETTINGS, seed=0)
    np.testing.assert_array_equal(predict_age(again, gray_uint8_to_unit(_scans(test_age, 2))), predicted)


def test_years_read_follow_the_years_an_image_really_ages():
    rng = np.random.default_rng(0)
    train_age = rng.uniform(50, 95, 96)
    model = train_age_regressor(gray_uint8_to_unit(_scans(train_age, 1)), train_age, SETTINGS, seed=0)
    young = np.full(16, 60.0)
    source = _scans(young, 3)
    outputs = {"edit": _scans(young + 20, 4), "null edit": _scans(young, 5)}  # a perfect 20-year edit and a null edit that changes nothing
    asked = {"edit": np.full(16, 20.0), "null edit": np.zeros(16)}
    years = predicted_years(model, source, outputs, _scans(young + 20, 6), asked)
    assert 16 < years["edit"]["age_gain_pred"].mean() < 24 and abs(years["null edit"]["age_gain_pred"].mean()) < 3
    assert years["edit"]["age_gain_error"].mean() < 4 and years["null edit"]["age_gain_error"].mean() < 3
    np.testing.assert_array_equal(years["edit"]["age_gain_follow_up"], years["null edit"]["age_gain_follow_up"])
    assert 16 < years["edit"]["age_gain_follow_up"].mean() < 24


def test_age_regressor_needs_ages():
    with pytest.raises(LdbenchError, match="at least 2 training images with an age"):
        train_age_regressor(torch.zeros(3, 1, SIZE, SIZE), np.array([np.nan, 70.0, np.nan]), SETTINGS, seed=0)
    with pytest.raises(LdbenchError, match="train_age_regressor writes it"):
        load_age_regressor("missing.pt")
