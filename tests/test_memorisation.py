"""Memorisation: nearest-training distances catch planted copies and stay quiet on fresh samples."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image

from ldbench.memorisation import REFERENCE_QUANTILE, memorisation, nearest_neighbours, pixel_space, wilson_interval


def _population(rng, n, size=16):
    """Smooth random 'anatomies': low-frequency fields, so neighbours are meaningful."""
    coarse = rng.normal(size=(n, 4, 4))
    fields = np.kron(coarse, np.ones((size // 4, size // 4)))
    return np.clip(128 + 40 * fields + rng.normal(scale=8, size=fields.shape), 0, 255).astype(np.uint8)


def test_nearest_neighbours_match_brute_force():
    rng = np.random.default_rng(0)
    queries, refs = rng.normal(size=(30, 7)), rng.normal(size=(50, 7))
    dist, idx = nearest_neighbours(queries, refs, chunk=8)
    brute = np.linalg.norm(queries[:, None] - refs[None], axis=2)
    assert np.array_equal(idx, brute.argmin(1)) and np.allclose(dist, brute.min(1))


def test_planted_copies_of_training_images_are_caught_and_fresh_samples_are_not():
    rng = np.random.default_rng(1)
    train, test, fresh = _population(rng, 200), _population(rng, 60), _population(rng, 90)
    copies = train[rng.choice(len(train), 10, replace=False)]
    space = lambda x: pixel_space(x)
    test_nn, _ = nearest_neighbours(space(test), space(train))
    clean = memorisation(nearest_neighbours(space(fresh), space(train))[0], test_nn)
    planted = memorisation(nearest_neighbours(space(np.concatenate([fresh, copies])), space(train))[0], test_nn)
    assert clean.exact_copies == 0 and clean.fraction_below < 0.15  # fresh samples: about the test images' own 5 %
    assert planted.exact_copies == 10 and planted.fraction_below >= 10 / 100
    assert planted.threshold == clean.threshold == pytest.approx(np.quantile(test_nn, REFERENCE_QUANTILE))


def test_memorisation_report_reads_the_image_files_and_names_the_closest_pairs(tmp_path):
    from ldbench.stages.evaluate import memorisation_report

    rng = np.random.default_rng(2)
    train, test, fresh = _population(rng, 40), _population(rng, 20), _population(rng, 12)
    generated = np.concatenate([fresh, train[[3, 7]]])

    def files(images, name):
        paths = []
        for i, img in enumerate(images):
            path = tmp_path / f"{name}{i}.png"
            Image.fromarray(img).save(path)
            paths.append(str(path))
        return pd.Series(paths)

    train_files, gen_files = files(train, "train"), files(generated, "gen")
    feats = lambda x: x.reshape(len(x), -1)[:, :8].astype(float)
    real = {"train": feats(train), "test_nn_pixel": nearest_neighbours(pixel_space(test), pixel_space(train))[0],
            "test_nn_features": nearest_neighbours(feats(test), feats(train))[0]}
    report = memorisation_report(real, feats(generated), gen_files, train_files)
    assert report["pixel"]["exact_copies"] == 2 and report["features"]["exact_copies"] == 2
    closest = report["closest"]
    assert {c["training"] for c in closest[:2]} == {train_files[3], train_files[7]} and closest[0]["pixel_distance"] == 0.0


def test_wilson_interval_known_values():
    low, high = wilson_interval(0.0, 100)
    assert low == 0.0 and high == pytest.approx(0.0370, abs=1e-4)
    low, high = wilson_interval(0.5, 100)
    assert (low, high) == pytest.approx((0.4038, 0.5962), abs=1e-4)
