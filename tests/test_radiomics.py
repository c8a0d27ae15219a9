"""FRD (``ldbench.radiomics``): the number frd-score computes, from features extracted once per set."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from ldbench.radiomics import finite_columns, frd_from_features, radiomics_features
from ldbench.utils import LdbenchError


def _blobs(folder, n: int, seed: int, radius: float) -> list:
    """64-px images of a bright disc with texture: two sets differ by the disc's size."""
    rng = np.random.default_rng(seed)
    folder.mkdir()
    yy, xx = np.mgrid[:64, :64]
    paths = []
    for i in range(n):
        r = radius * rng.uniform(0.8, 1.2)
        disc = ((yy - 32 + rng.normal(0, 2)) ** 2 + (xx - 32 + rng.normal(0, 2)) ** 2) < r**2
        pixels = np.clip(40 + 150 * disc + rng.normal(0, 12, (64, 64)), 0, 255).astype(np.uint8)
        paths.append(folder / f"{i:03d}.png")
        Image.fromarray(pixels).save(paths[-1])
    return paths


def test_frd_equals_frd_scores_own_computation_on_two_folders(tmp_path):
    from frd_score import frd

    real, fake = _blobs(tmp_path / "real", 14, 0, 14.0), _blobs(tmp_path / "fake", 10, 1, 18.0)
    real_f, fake_f = radiomics_features(real), radiomics_features(fake)
    assert real_f.shape[0] == 14 and fake_f.shape == (10, real_f.shape[1]) and real_f.shape[1] > 300
    ours = frd_from_features(*finite_columns(real_f, fake_f))
    theirs = frd.compute_frd([str(tmp_path / "real"), str(tmp_path / "fake")], num_workers=1)
    assert ours == pytest.approx(theirs, rel=1e-4)  # theirs by scipy's sqrtm of the singular product, ours by eigendecomposition
    # and a set is nearer to more of its own kind than to the other kind
    more_real = radiomics_features(_blobs(tmp_path / "real2", 10, 2, 14.0))
    assert frd_from_features(*finite_columns(real_f, more_real)) < ours


def test_nan_columns_are_dropped_from_every_set_so_index_pairing_survives():
    rng = np.random.default_rng(0)
    a, b, c = rng.normal(size=(6, 5)), rng.normal(size=(6, 5)), rng.normal(size=(6, 5))
    b[2, 1] = np.nan
    kept = finite_columns(a, b, c)
    assert [k.shape for k in kept] == [(6, 4)] * 3 and np.array_equal(kept[2], np.delete(c, 1, axis=1))
    with pytest.raises(LdbenchError, match="no radiomics feature varies"):
        frd_from_features(np.ones((4, 3)), rng.normal(size=(4, 3)))
    with pytest.raises(LdbenchError, match="no image file"):
        radiomics_features(["/nonexistent/image.png"])
