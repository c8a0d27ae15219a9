"""The evaluation-only network: trained on real training slices, seeded, standardised features."""

import numpy as np
import pandas as pd
import pytest
import torch

from ldbench.classifier import extract_features
from ldbench.evaluator import load_evaluator, save_evaluator, train_evaluator
from ldbench.settings import EvaluatorSettings
from ldbench.utils import LdbenchError

SETTINGS = EvaluatorSettings(arch="small_cnn", width=4, epochs=3, batch_size=8, lr=1e-2, seed=0)


def _data(n=24, size=32, seed=0):
    """Two kinds of image (a bright disc or a dark one) with a label, an age and a sex."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:size, :size]
    disc = ((yy - size / 2) ** 2 + (xx - size / 2) ** 2 < (size / 4) ** 2).astype(np.float32)
    label = rng.integers(0, 2, n)
    images = np.stack([disc * (0.9 if k else 0.3) + rng.normal(0, 0.05, (size, size)) for k in label]).clip(0, 1)
    rows = pd.DataFrame({"label_A": label, "label_B": 1 - label, "age": rng.uniform(60, 90, n), "sex": rng.choice(["M", "F"], n)})
    rows.loc[0, "label_A"] = np.nan  # an ignored label is masked, not learned as 0
    return torch.from_numpy(images[:, None].astype(np.float32)), rows


def test_evaluator_is_seeded_and_its_features_are_standardised_on_the_training_split(tmp_path):
    images, rows = _data()
    model = train_evaluator(images, rows, SETTINGS, seed=3)
    feats = extract_features(model, images)
    assert feats.shape == (24, 16) and np.isfinite(feats).all()
    np.testing.assert_allclose(feats.mean(0), 0, atol=1e-4)  # float32 features, re-extracted: reduction order varies by build
    np.testing.assert_allclose(feats.std(0, ddof=1)[feats.std(0) > 0], 1, atol=1e-4)
    save_evaluator(model, tmp_path / "evaluator.pt", SETTINGS)
    np.testing.assert_array_equal(extract_features(load_evaluator(tmp_path / "evaluator.pt"), images), feats)
    again = extract_features(train_evaluator(images, rows, SETTINGS, seed=3), images)
    np.testing.assert_array_equal(again, feats)
    other = extract_features(train_evaluator(images, rows, SETTINGS, seed=4), images)
    assert not np.allclose(other, feats)


def test_evaluator_features_separate_what_the_images_show():
    images, rows = _data()
    model = train_evaluator(images, rows, SETTINGS, seed=0)
    feats = extract_features(model, images)
    bright, dark = feats[rows["label_B"] == 0], feats[rows["label_B"] == 1]
    between = np.linalg.norm(bright.mean(0) - dark.mean(0))
    within = np.mean([np.linalg.norm(f - bright.mean(0)) for f in bright] + [np.linalg.norm(f - dark.mean(0)) for f in dark])
    assert between > within


def test_evaluator_needs_labels_and_images(tmp_path):
    images, rows = _data()
    with pytest.raises(LdbenchError, match="label_"):
        train_evaluator(images, rows.drop(columns=["label_A", "label_B"]), SETTINGS, seed=0)
    with pytest.raises(LdbenchError, match="at least 2"):
        train_evaluator(images[:1], rows[:1], SETTINGS, seed=0)
    with pytest.raises(LdbenchError, match="train_evaluator writes it"):
        load_evaluator(tmp_path / "missing.pt")
