"""FID / KID / FRD over generation seeds: per-seed values at the seeds' common size, their mean ± sd, and
LD minus no LD paired per seed."""

import numpy as np
import pandas as pd
import pytest

from ldbench.metrics import FID
from ldbench.settings import DistanceSettings, GenerationSeeds
from ldbench.stages.evaluate import seed_differences, seed_metrics
from ldbench.utils import LdbenchError

SETTINGS = DistanceSettings(feature_extractor="evaluator", inception_weights=None, kid_subset_size=10, kid_subsets=5, frd_images=None,
                            interval_draws=10, seed=0)


class LookupExtractor:
    """Stands in for the evaluator: the features of each image path from a table."""

    def __init__(self, features: dict[str, np.ndarray]):
        self.features = features

    def __call__(self, paths) -> np.ndarray:
        return np.stack([self.features[p] for p in paths])


def _seed_sets(tmp_path, rng, shift: float, n_set=12, n_seed=8):
    """A set of n_set generated feature vectors (seed 0) and two further seeds of n_seed images each."""
    generated = rng.normal(shift, 1, size=(n_set, 6))
    rows, features = [], {}
    for i in range(n_seed):
        rows.append({"seed": 0, "image": f"images/{i:05d}.png"})
    for seed in (1, 2):
        for i in range(n_seed):
            path = f"seeds/{seed}/{i:05d}.png"
            features[path] = rng.normal(shift, 1, size=6)
            rows.append({"seed": seed, "image": path})
    listing = tmp_path / f"seeds_{shift}.csv"
    pd.DataFrame(rows).to_csv(listing, index=False)
    return listing, generated, LookupExtractor(features)


def test_each_seed_is_scored_at_the_common_size_and_summarised_by_mean_and_sd(tmp_path):
    rng = np.random.default_rng(0)
    real = {"test": rng.normal(size=(30, 6))}
    listing, generated, extractor = _seed_sets(tmp_path, rng, 0.5)
    result = seed_metrics(SETTINGS, listing, real, generated, None, extractor)
    assert result["seeds"] == [0, 1, 2] and result["n_generated"] == 8 and "frd" not in result
    seed1 = extractor([f"seeds/1/{i:05d}.png" for i in range(8)])
    assert result["fid"]["per_seed"][0] == pytest.approx(FID.value(real["test"], generated[:8]))  # seed 0: the set's first 8, not all 12
    assert result["fid"]["per_seed"][1] == pytest.approx(FID.value(real["test"], seed1))
    assert result["fid"]["mean"] == pytest.approx(np.mean(result["fid"]["per_seed"]))
    assert result["fid"]["sd"] == pytest.approx(np.std(result["fid"]["per_seed"], ddof=1)) and result["fid"]["sd"] > 0
    assert np.isfinite(result["kid"]["per_seed"]).all()


def test_ld_minus_no_ld_is_paired_seed_by_seed_and_refuses_other_seeds(tmp_path):
    rng = np.random.default_rng(1)
    real = {"test": rng.normal(size=(30, 6))}
    listing, generated, extractor = _seed_sets(tmp_path, rng, 0.2)
    ld = seed_metrics(SETTINGS, listing, real, generated, None, extractor)
    listing, generated, extractor = _seed_sets(tmp_path, rng, 1.5)
    no_ld = seed_metrics(SETTINGS, listing, real, generated, None, extractor)
    difference = seed_differences(ld, no_ld)["delta_fid"]
    assert difference["per_seed"] == pytest.approx(np.subtract(ld["fid"]["per_seed"], no_ld["fid"]["per_seed"]))
    assert difference["mean"] < 0  # the set nearer the real one scores lower, seed by seed
    with pytest.raises(LdbenchError, match="generation seeds differ"):
        seed_differences(ld, {**no_ld, "seeds": [0, 1]})


def test_images_per_seed_follow_the_config():
    assert GenerationSeeds(seeds=3, images=64).count(178) == 64
    assert GenerationSeeds(seeds=3, images=64).count(40) == 40
    assert GenerationSeeds(seeds=3, images="train_split").count(178) == 178
