"""Do the metric intervals cover what they claim? Checked by simulation on Gaussian feature sets.

The claim (``metrics.HALF_SAMPLING``): a 95 % interval of the metric's expected value at the
sample sizes used. Each test draws many independent (real, generated) pairs at the sizes of the
issue's example (98 real vs 200 generated), estimates that expected value as the mean over
independent redraws, and counts how often the interval built from one pair contains it.
"""

from __future__ import annotations

import numpy as np
import pytest

from ldbench.metrics import FID, fid_from_features, half_sampling_interval, kid_distance, paired_difference_interval

N_REAL, N_FAKE, DIM = 98, 200, 16
REPEATS, DRAWS = 200, 50


def _sets(rng: np.random.Generator, shift: float) -> tuple[np.ndarray, np.ndarray]:
    return rng.normal(size=(N_REAL, DIM)), rng.normal(size=(N_FAKE, DIM)) + shift


def _expected(statistic, shift: float, rng: np.random.Generator, redraws: int = 600) -> float:
    return float(np.mean([statistic(*_sets(rng, shift)) for _ in range(redraws)]))


def _with_replacement_percentile_interval(real, fake, draws, seed):
    """The interval Table 1 used to print: both sets resampled with replacement, 2.5/97.5 percentiles."""
    rng = np.random.default_rng(seed)
    values = [fid_from_features(real[rng.integers(0, len(real), len(real))], fake[rng.integers(0, len(fake), len(fake))]) for _ in range(draws)]
    return np.percentile(values, 2.5), np.percentile(values, 97.5)


@pytest.mark.parametrize("shift", [0.0, 0.3])
def test_fid_half_sampling_interval_covers_and_the_with_replacement_bootstrap_does_not(shift):
    rng = np.random.default_rng(1)
    expected = _expected(fid_from_features, shift, rng)
    covered = old_covered = 0
    for repeat in range(REPEATS):
        real, fake = _sets(rng, shift)
        interval = half_sampling_interval(FID, real, fake, draws=DRAWS, seed=repeat)
        covered += interval.low <= expected <= interval.high
        low, high = _with_replacement_percentile_interval(real, fake, DRAWS, seed=repeat)
        old_covered += low <= expected <= high
    assert covered / REPEATS >= 0.90, f"half-sampling interval covered E[FID]={expected:.3f} in {covered}/{REPEATS} repeats"
    assert old_covered / REPEATS < 0.5, f"the with-replacement interval covered E[FID] in {old_covered}/{REPEATS} repeats"


def test_kid_half_sampling_interval_covers():
    """The reported KID is clean-fid's subset average (few subsets: its own sampling noise is largest)."""
    kid = kid_distance(subset_size=100, num_subsets=10, seed=0)
    rng = np.random.default_rng(2)
    expected = _expected(kid.reported, 0.3, rng, redraws=300)
    intervals = [half_sampling_interval(kid, *_sets(rng, 0.3), draws=DRAWS, seed=repeat) for repeat in range(REPEATS)]
    covered = sum(i.low <= expected <= i.high for i in intervals)
    assert covered / REPEATS >= 0.90, f"KID interval covered E[KID]={expected:.4f} in {covered}/{REPEATS} repeats"


def test_frd_half_sampling_interval_covers_and_its_paired_difference_too():
    """FRD: the features z-scored by the real set (each half-sample by its own real half), then log of the distance.
    Taking the half-samples' spread in log units would cover in only 88–92 % of repeats (log compresses their
    larger distances); rescaled to the full-size distance (``Distance.log``) it covers in 97–99 %."""
    from ldbench.radiomics import FRD, frd_from_features

    rng = np.random.default_rng(5)
    expected = _expected(frd_from_features, 0.3, rng, redraws=300)
    intervals = [half_sampling_interval(FRD, *_sets(rng, 0.3), draws=DRAWS, seed=repeat) for repeat in range(REPEATS)]
    covered = sum(i.low <= expected <= i.high for i in intervals)
    assert covered / REPEATS >= 0.90, f"FRD interval covered E[FRD]={expected:.4f} in {covered}/{REPEATS} repeats"

    def draw():  # index-paired models, as in the FID test below
        real, noise = rng.normal(size=(N_REAL, DIM)), rng.normal(size=(N_FAKE, DIM))
        return real, noise + 0.3, noise * 1.05 + 0.2

    expected = float(np.mean([frd_from_features(r, a) - frd_from_features(r, b) for r, a, b in (draw() for _ in range(300))]))
    paired = [paired_difference_interval(FRD, *draw(), draws=DRAWS, seed=repeat) for repeat in range(REPEATS)]
    covered = sum(i.low <= expected <= i.high for i in paired)
    assert covered / REPEATS >= 0.90, f"paired FRD interval covered E[ΔFRD]={expected:.4f} in {covered}/{REPEATS} repeats"


def test_paired_difference_covers_and_is_narrower_than_unpaired():
    """Two models sampled from the same noise (index-paired, as synthesize does): B is A plus a small change."""
    rng = np.random.default_rng(3)

    def draw():
        real, noise = rng.normal(size=(N_REAL, DIM)), rng.normal(size=(N_FAKE, DIM))
        return real, noise + 0.3, noise * 1.05 + 0.2

    expected = float(np.mean([fid_from_features(r, a) - fid_from_features(r, b) for r, a, b in (draw() for _ in range(600))]))
    covered, paired_width, unpaired_width = 0, [], []
    for repeat in range(REPEATS):
        real, a, b = draw()
        paired = paired_difference_interval(FID, real, a, b, draws=DRAWS, seed=repeat)
        covered += paired.low <= expected <= paired.high
        paired_width.append(paired.high - paired.low)
        sd_a = half_sampling_interval(FID, real, a, draws=DRAWS, seed=repeat).sd
        sd_b = half_sampling_interval(FID, real, b, draws=DRAWS, seed=repeat).sd
        unpaired_width.append(2 * 1.96 * np.hypot(sd_a, sd_b))
    assert covered / REPEATS >= 0.90, f"paired interval covered E[ΔFID]={expected:.3f} in {covered}/{REPEATS} repeats"
    assert np.mean(paired_width) < 0.6 * np.mean(unpaired_width)


def test_identical_sets_give_a_zero_difference_and_an_interval_around_it():
    rng = np.random.default_rng(4)
    real, fake = _sets(rng, 0.5)
    interval = paired_difference_interval(FID, real, fake, fake.copy(), draws=20, seed=0)
    assert interval.value == interval.low == interval.high == 0.0 and not interval.excludes_zero()


def _visits(rng: np.random.Generator, n_subjects: int = 40, visits: int = 4, separation: float = 1.0):
    """Subject-level labels (as a diagnosis), a strong subject effect shared by all visits, small visit noise."""
    labels = np.repeat(rng.integers(0, 2, n_subjects), visits).astype(float)
    scores = labels * separation + np.repeat(rng.normal(size=n_subjects), visits) + rng.normal(scale=0.3, size=n_subjects * visits)
    return scores[None, :, None], labels[:, None], np.repeat(np.arange(n_subjects), visits)


def test_subject_bootstrap_auc_covers_and_the_image_bootstrap_does_not():
    """The true AUC is Φ(separation / √(2 (1 + 0.3²))): positives and negatives are always different subjects."""
    from scipy.stats import norm

    from ldbench.auc import subject_bootstrap_auc

    truth = norm.cdf(1.0 / np.sqrt(2 * (1 + 0.09)))
    rng = np.random.default_rng(5)
    covered = image_covered = 0
    for repeat in range(REPEATS):
        probs, labels, subjects = _visits(rng)
        per_subject = subject_bootstrap_auc(probs, labels, subjects, n_boot=100, seed=repeat)
        covered += per_subject.low <= truth <= per_subject.high
        per_image = subject_bootstrap_auc(probs, labels, np.arange(len(labels)), n_boot=100, seed=repeat)  # every image its own subject
        image_covered += per_image.low <= truth <= per_image.high
    assert covered / REPEATS >= 0.90, f"subject-level interval covered AUC={truth:.3f} in {covered}/{REPEATS} repeats"
    assert image_covered / REPEATS < 0.85, f"image-level interval covered AUC={truth:.3f} in {image_covered}/{REPEATS} repeats"


def test_paired_auc_difference_of_a_classifier_with_itself_is_zero_and_detects_a_better_one():
    from ldbench.auc import paired_auc_difference

    rng = np.random.default_rng(6)
    probs, labels, subjects = _visits(rng, n_subjects=60, separation=1.0)
    same = paired_auc_difference(probs, probs.copy(), labels, subjects, n_boot=100, seed=0)
    assert same.value == same.low == same.high == 0.0
    sharper = probs + labels[None] * 1.5  # the same scores, moved further apart by label
    better = paired_auc_difference(sharper, probs, labels, subjects, n_boot=100, seed=0)
    assert better.value > 0 and better.low > 0


def test_paired_mean_difference_covers_the_true_gain_when_subjects_repeat():
    """Edit − null edit scores of several visits per subject share a subject effect: the subject-level
    interval covers the true mean gain at its nominal rate; pretending each image is its own subject does not."""
    from ldbench.auc import paired_mean_difference, subject_resamples

    rng = np.random.default_rng(8)
    n_subjects, visits, gain = 12, 3, 0.05
    subjects = np.repeat(np.arange(n_subjects), visits)
    covered = image_covered = percentile_covered = 0
    for repeat in range(REPEATS):
        null = rng.normal(size=n_subjects * visits)
        edit = null + gain + np.repeat(rng.normal(scale=0.1, size=n_subjects), visits) + rng.normal(scale=0.02, size=len(null))
        per_subject = paired_mean_difference(edit, null, subjects, n_boot=200, seed=repeat)
        covered += per_subject.low <= gain <= per_subject.high
        draws = [(edit - null)[rows].mean() for rows in subject_resamples(subjects, 200, repeat)]  # the same resamples
        percentile_covered += np.percentile(draws, 2.5) <= gain <= np.percentile(draws, 97.5)
        per_image = paired_mean_difference(edit, null, np.arange(len(null)), n_boot=200, seed=repeat)
        image_covered += per_image.low <= gain <= per_image.high
    assert covered / REPEATS >= 0.92, f"subject-level interval covered the gain in {covered}/{REPEATS} repeats"
    assert percentile_covered < covered, f"the percentile interval covered in {percentile_covered}, the t-interval in {covered}"
    assert image_covered / REPEATS < 0.80, f"image-level interval covered the gain in {image_covered}/{REPEATS} repeats"


def test_a_set_of_two_gets_no_interval_and_no_verdict():
    """A half-sample of two images is the pair itself: every draw would be equal and the interval of zero width,
    a verdict from nothing. Sets this small get the value and no interval (NaN), which reads as inconclusive."""
    from ldbench.radiomics import FRD
    from ldbench.report.ld_effect import interval_verdict

    rng = np.random.default_rng(6)
    real, fake = rng.normal(size=(10, 4)), rng.normal(1.0, 1.0, size=(2, 4))
    for distance in (FID, FRD):
        single = half_sampling_interval(distance, real, fake, draws=20, seed=0)
        paired = paired_difference_interval(distance, real, fake, fake + 1.0, draws=20, seed=0)
        assert np.isfinite(single.value) and np.isnan(single.sd) and np.isnan(paired.low) and np.isfinite(paired.value)
        assert interval_verdict(paired.low, paired.high) == "inconclusive"
    assert np.isfinite(half_sampling_interval(FID, real, rng.normal(size=(3, 4)), draws=20, seed=0).sd)
