"""Metrics against known values: FID of identical sets, analytic Fréchet distance, KID, AUC."""

import numpy as np
import pytest

from ldbench.auc import macro_auc, subject_bootstrap_auc
from ldbench.metrics import fid_from_features, kid_from_features, l1_distance
from ldbench.utils import LdbenchError


def test_fid_of_identical_sets_is_zero():
    feats = np.random.default_rng(0).normal(size=(500, 8))
    assert fid_from_features(feats, feats) == pytest.approx(0.0, abs=1e-6)


def test_fid_of_shifted_gaussian_matches_analytic_value():
    """Same covariance, means differ by m: FID = |m|² exactly (the trace term vanishes)."""
    rng = np.random.default_rng(1)
    real = rng.normal(size=(4000, 4))
    shift = np.array([1.0, -2.0, 0.5, 0.0])
    assert fid_from_features(real, real + shift) == pytest.approx(float(shift @ shift), rel=1e-6)


def test_fid_of_scaled_gaussian_matches_analytic_value():
    """N(0, I) vs N(0, s²I) in d dims: FID = d (1 − s)²; sample estimate within a few percent."""
    rng = np.random.default_rng(2)
    d, s = 4, 2.0
    fid = fid_from_features(rng.normal(size=(20000, d)), s * rng.normal(size=(20000, d)))
    assert fid == pytest.approx(d * (1 - s) ** 2, rel=0.05)


def test_kid_is_near_zero_for_same_distribution_and_positive_for_shift():
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=(300, 16)), rng.normal(size=(300, 16))
    same = kid_from_features(a, b, subset_size=100, num_subsets=50, seed=0)
    shifted = kid_from_features(a, b + 1.0, subset_size=100, num_subsets=50, seed=0)
    assert abs(same) < 0.05 < shifted
    assert same == kid_from_features(a, b, subset_size=100, num_subsets=50, seed=0)  # seeded


def test_bad_features_are_rejected_with_a_clear_error():
    with pytest.raises(LdbenchError, match="NaN"):
        fid_from_features(np.full((3, 2), np.nan), np.zeros((3, 2)))
    with pytest.raises(LdbenchError, match="shape"):
        fid_from_features(np.zeros(3), np.zeros((3, 2)))


def test_l1_distance_in_unit_range():
    a = np.zeros((2, 4, 4), np.uint8)
    assert l1_distance(a, a + 255) == pytest.approx(1.0)
    assert l1_distance(a, a) == 0.0


def test_roc_auc_equals_scikit_learn_with_ties():
    from sklearn.metrics import roc_auc_score

    from ldbench.auc import roc_auc

    rng = np.random.default_rng(0)
    for _ in range(20):
        labels = rng.integers(0, 2, 50).astype(float)
        labels[:2] = [0, 1]
        scores = np.round(rng.normal(size=50) + labels, 1)  # rounding makes ties
        assert roc_auc(labels, scores) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


def test_macro_auc_and_bootstrap():
    labels = np.array([[0, 1], [0, 0], [1, 1], [1, 0]], dtype=float)
    perfect = labels.copy()
    auc, per_target = macro_auc(perfect, labels)
    assert auc == 1.0 and per_target == [1.0, 1.0]
    inverted, _ = macro_auc(1 - perfect, labels)
    assert inverted == 0.0
    one_class = np.array([[0.0], [0.0]])
    assert np.isnan(macro_auc(np.array([[0.2], [0.4]]), one_class)[0])
    interval = subject_bootstrap_auc(perfect[None], labels, np.array(["a", "a", "b", "c"]), n_boot=50, seed=0)
    assert interval.value == interval.low == interval.high == 1.0


def test_ssim_and_psnr_known_values():
    from ldbench.metrics import masked_l1, psnr, ssim

    rng = np.random.default_rng(0)
    a = rng.integers(20, 200, (32, 32)).astype(np.uint8)
    assert ssim(a, a) == pytest.approx(1.0) and psnr(a, a) == float("inf")
    b = (a.astype(int) + 10).astype(np.uint8)  # MSE 100 → 10·log10(255²/100)
    assert psnr(a, b) == pytest.approx(10 * np.log10(255**2 / 100))
    assert ssim(a, 255 - a) < 0  # anti-correlated structure
    mask = np.zeros_like(a, dtype=bool)
    mask[:8] = True
    assert masked_l1(a, b, mask) == pytest.approx(10 / 255) and np.isnan(masked_l1(a, b, np.zeros_like(mask)))
    with pytest.raises(LdbenchError, match="equal shape"):
        ssim(a, a[:16])


def test_kid_subsets_reproduce_clean_fid_and_give_a_spread():
    from cleanfid import fid as cleanfid_fid

    from ldbench.metrics import kid_subsets

    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(60, 8)), rng.normal(0.5, 1, size=(50, 8))
    per_subset = kid_subsets(real, fake, subset_size=20, num_subsets=30, seed=3)
    np.random.seed(3)
    assert per_subset.mean() == pytest.approx(cleanfid_fid.kernel_distance(real, fake, num_subsets=30, max_subset_size=20), rel=1e-9)
    assert per_subset.std() > 0


@pytest.mark.parametrize("n, d", [(300, 32), (40, 64), (20, 64)])  # the last: the Gram form (n₁ + n₂ < d)
def test_frechet_distance_by_eigendecomposition_equals_clean_fid(n, d):
    """Also with fewer images than dimensions (singular covariances), as on half-samples of small sets, and in the Gram form."""
    from ldbench.metrics import frechet_distance

    rng = np.random.default_rng(n)
    real, fake = rng.normal(size=(n, d)), rng.normal(0.2, 1.3, size=(n + 7, d)) @ rng.normal(size=(d, d)) / np.sqrt(d)
    assert frechet_distance(real, fake) == pytest.approx(fid_from_features(real, fake), rel=1e-6 if n > d else 1e-4)
    assert frechet_distance(real, real) == pytest.approx(0.0, abs=1e-5)


def test_frechet_distance_with_fewer_images_than_dimensions_works_in_their_span():
    """40 + 47 images in 300 dimensions (FRD's case): the distance computed in the images' span equals the one of the
    same point clouds in their own 20 dimensions, plus the squared mean offset that lies outside every covariance."""
    from ldbench.metrics import frechet_distance

    rng = np.random.default_rng(5)
    real, fake = rng.normal(size=(40, 20)), rng.normal(0.3, 1.2, size=(47, 20))
    embed, _ = np.linalg.qr(rng.normal(size=(300, 21)))  # 21 orthonormal columns: 20 to embed into, 1 for the offset
    offset = 2.0 * embed[:, 20]
    expected = frechet_distance(real, fake) + 4.0
    assert frechet_distance(real @ embed[:, :20].T, fake @ embed[:, :20].T + offset) == pytest.approx(expected, rel=1e-9)


def test_fid_where_clean_fids_square_root_is_complex_is_the_same_distance_by_eigendecomposition(monkeypatch):
    """A few images in many feature dimensions make Σ₁Σ₂ singular; scipy's sqrtm may then come out complex, and
    clean-fid refuses it. The reported FID is then the symmetric form of the same distance, never a crash."""
    from cleanfid import fid as cleanfid_fid

    from ldbench.metrics import frechet_distance

    rng = np.random.default_rng(0)
    real, fake = rng.normal(size=(3, 64)), rng.normal(size=(3, 64)) + 0.5
    expected = fid_from_features(real, fake)

    def refuse(*args, **kwargs):
        raise ValueError("Imaginary component 0.0121")

    monkeypatch.setattr(cleanfid_fid, "frechet_distance", refuse)
    assert fid_from_features(real, fake) == pytest.approx(expected, rel=1e-6) == frechet_distance(real, fake)

    def broken(*args, **kwargs):
        raise ValueError("Training and test mean vectors have different lengths")

    monkeypatch.setattr(cleanfid_fid, "frechet_distance", broken)
    with pytest.raises(ValueError, match="different lengths"):  # any other refusal is not papered over
        fid_from_features(real, fake)


def test_mmd2_on_whole_sets_is_clean_fids_kid_of_one_full_subset():
    """clean-fid's kernel_distance on a single subset holding every image (a permutation) is the same estimate."""
    from cleanfid import fid as cleanfid_fid

    from ldbench.metrics import mmd2_unbiased

    rng = np.random.default_rng(5)
    real, fake = rng.normal(size=(40, 8)), rng.normal(0.4, 1, size=(40, 8))
    assert mmd2_unbiased(real, fake) == pytest.approx(cleanfid_fid.kernel_distance(real, fake, num_subsets=1, max_subset_size=40), rel=1e-9)
    big = rng.normal(size=(4000, 8))
    assert abs(mmd2_unbiased(big[:2000], big[2000:])) < 0.01 < mmd2_unbiased(big[:2000], big[2000:] + 0.5)


def test_energy_distance_ranks_a_perfect_generator_above_the_median_and_paired_l1_does_not():
    """1-pixel images from N(128, 30²): a perfect generator draws from it, a blurry one returns the median every time.
    Paired L1 (sample vs the real image its prompt came from) prefers the median (E|Y − m| = 0.80σ < E|X − Y| = 1.13σ)."""
    from ldbench.metrics import energy_distance

    rng = np.random.default_rng(0)
    draw = lambda n: np.clip(np.round(rng.normal(128, 30, size=(n, 1, 1))), 0, 255).astype(np.uint8)
    real, perfect = draw(400), draw(400)
    median = np.full_like(real, 128)
    assert energy_distance(perfect, real) < 0.01 < energy_distance(median, real)
    assert l1_distance(median, real) < l1_distance(perfect, real)
    assert energy_distance(perfect, real) == pytest.approx(energy_distance(real, perfect))
    with pytest.raises(LdbenchError, match="at least 2 images"):
        energy_distance(real[:1], real)


def test_lpips_with_a_local_alexnet_trunk_and_clear_errors(tmp_path, monkeypatch):
    """Random AlexNet weights stand in for torchvision's file (its SHA-256 check pointed at them): the loading path is the real one."""
    import torch
    import torchvision

    import ldbench.metrics
    from ldbench.metrics import Lpips, lpips_or_none

    torch.manual_seed(0)
    weights = tmp_path / "alexnet-owt-7be5be79.pth"
    torch.save(torchvision.models.alexnet().state_dict(), weights)
    with pytest.raises(LdbenchError, match="SHA-256 does not start with 7be5be79"):
        Lpips(weights)
    monkeypatch.setattr(ldbench.metrics, "ALEXNET_SHA256_PREFIX", ldbench.metrics._sha256(weights)[:8])
    score = Lpips(weights)
    rng = np.random.default_rng(0)
    a = rng.integers(0, 256, (64, 64)).astype(np.uint8)
    b = np.clip(a.astype(int) + rng.integers(-60, 60, a.shape), 0, 255).astype(np.uint8)
    assert score(a, a) == pytest.approx(0.0, abs=1e-6) and score(a, b) > 0
    assert "AlexNet trunk from" in score.description
    assert lpips_or_none(None) is None
    bad = tmp_path / "bad.pth"
    torch.save({"nope": torch.zeros(1)}, bad)
    monkeypatch.setattr(ldbench.metrics, "ALEXNET_SHA256_PREFIX", ldbench.metrics._sha256(bad)[:8])
    with pytest.raises(LdbenchError, match="not a torchvision AlexNet state dict"):
        Lpips(bad)
    with pytest.raises(LdbenchError, match="does not exist"):
        Lpips(tmp_path / "missing.pth")


def test_metric_vs_n_shows_the_bias_of_fid_at_small_n():
    """Two samples of one Gaussian: FID falls towards 0 as n grows, which is why floors must be taken at equal n."""
    from ldbench.report.sample_size import metric_vs_n, sizes_for

    rng = np.random.default_rng(0)
    test, pool = rng.normal(size=(200, 8)), rng.normal(size=(400, 8))
    frame = metric_vs_n(test, {"real": pool}, sizes=[25, 100, 1000], repeats=3, seed=0)
    means = frame.groupby("n")["FID"].mean()
    assert list(means.index) == sizes_for(400, [25, 100, 1000]) == [25, 100, 400]
    assert means[25] > means[100] > means[400]
