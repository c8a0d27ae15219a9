"""Distribution metrics on feature sets, with clean-fid's own Fréchet and kernel distances.

Which features go in is the caller's choice and is recorded beside every number
(``feature_extractor``): the evaluation-only network's (``ldbench.evaluator``) or Inception's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from cleanfid import fid as cleanfid_fid

from .utils import LdbenchError

log = logging.getLogger("ldbench")

INCEPTION_FILE = "inception-2015-12-05.pt"  # the name clean-fid downloads its torchscript under


def _check(name: str, feats: np.ndarray) -> np.ndarray:
    feats = np.asarray(feats, dtype=np.float64)
    if feats.ndim != 2 or len(feats) < 2:
        raise LdbenchError(f"{name}: need a 2-D array of at least 2 feature vectors, got shape {feats.shape}")
    if not np.isfinite(feats).all():
        raise LdbenchError(f"{name}: features contain NaN or inf")
    return feats


#: how every reported FID is computed (each metric file's ``library``)
FID_COMPUTATION = ("FID: clean-fid's frechet_distance; where its scipy sqrtm of Σ₁Σ₂ comes out complex (singular covariances: "
                   "fewer images than feature dimensions), the same Fréchet distance by symmetric eigendecomposition "
                   "(ldbench.metrics.frechet_distance, equal to clean-fid's wherever both are defined)")


def fid_from_features(real: np.ndarray, fake: np.ndarray) -> float:
    """Fréchet distance between Gaussians fitted to two feature sets (clean-fid's ``frechet_distance``, see :data:`FID_COMPUTATION`)."""
    real, fake = _check("real features", real), _check("generated features", fake)
    mu1, mu2 = real.mean(0), fake.mean(0)
    s1, s2 = np.cov(real, rowvar=False), np.cov(fake, rowvar=False)
    try:
        return float(cleanfid_fid.frechet_distance(mu1, s1, mu2, s2))
    except ValueError as err:  # clean-fid refuses a square root whose imaginary part exceeds 1e-3
        if "Imaginary component" not in str(err):
            raise
        log.warning("clean-fid's sqrtm is complex at n=%d / %d images with %d features (%s): FID by symmetric eigendecomposition",
                    len(real), len(fake), real.shape[1], err)
        return frechet_distance(real, fake)


def kid_subsets(real: np.ndarray, fake: np.ndarray, subset_size: int, num_subsets: int, seed: int) -> np.ndarray:
    """KID (cubic polynomial kernel MMD²) of each random subset pair, by clean-fid's ``kernel_distance``.

    clean-fid draws its subsets from NumPy's global generator and returns only their mean; calling
    it once per subset from the same seeded state draws the very same subsets, so the mean of these
    values is clean-fid's KID and their spread gives its standard deviation.
    """
    real, fake = _check("real features", real), _check("generated features", fake)
    state = np.random.get_state()
    np.random.seed(seed % 2**32)
    try:
        return np.array([cleanfid_fid.kernel_distance(real, fake, num_subsets=1, max_subset_size=subset_size) for _ in range(num_subsets)])
    finally:
        np.random.set_state(state)


def kid_from_features(real: np.ndarray, fake: np.ndarray, subset_size: int, num_subsets: int, seed: int) -> float:
    """Kernel Inception Distance: clean-fid's ``kernel_distance``, seeded for reproducibility."""
    return float(kid_subsets(real, fake, subset_size, num_subsets, seed).mean())


def frechet_distance(real: np.ndarray, fake: np.ndarray) -> float:
    """:func:`fid_from_features` without ``scipy.linalg.sqrtm``: tr √(Σ₁Σ₂) = Σ √λ(√Σ₁ Σ₂ √Σ₁).

    Two symmetric eigendecompositions instead of a general matrix square root: the same number
    (tests/test_metrics.py) at a fraction of the cost, for the hundreds of half-samples an
    interval takes and the subsets of the metric-vs-n figure. With fewer images than feature
    dimensions (FRD's ~400 radiomics) the Gram form is cheaper still: with A, B the centred sets,
    Σ₁Σ₂ has the eigenvalues of (BAᵀ)(BAᵀ)ᵀ / ((n₁−1)(n₂−1)), so tr √(Σ₁Σ₂) is the sum of the
    singular values of the n₂ × n₁ matrix BAᵀ over √((n₁−1)(n₂−1)).
    """
    real, fake = _check("real features", real), _check("generated features", fake)
    centred_real, centred_fake = real - real.mean(0), fake - fake.mean(0)
    diff = real.mean(0) - fake.mean(0)
    if len(real) + len(fake) < real.shape[1]:
        dof1, dof2 = len(real) - 1, len(fake) - 1
        singular = np.linalg.svd(centred_fake @ centred_real.T, compute_uv=False)
        trace_root = singular.sum() / np.sqrt(dof1 * dof2)
        return float(diff @ diff + (centred_real**2).sum() / dof1 + (centred_fake**2).sum() / dof2 - 2 * trace_root)
    s1 = np.atleast_2d(centred_real.T @ centred_real / (len(real) - 1))
    s2 = np.atleast_2d(centred_fake.T @ centred_fake / (len(fake) - 1))
    w, v = np.linalg.eigh(s1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    trace_root = np.sqrt(np.clip(np.linalg.eigvalsh(root1 @ s2 @ root1), 0, None)).sum()
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2 * trace_root)


def _off_diagonal_mean(square: np.ndarray) -> float:
    """Mean over i ≠ j: the within-set term of an unbiased (U-statistic) estimate."""
    return float((square.sum() - np.trace(square)) / (len(square) * (len(square) - 1)))


def mmd2_unbiased(real: np.ndarray, fake: np.ndarray) -> float:
    """KID's quantity on whole sets: unbiased MMD² with clean-fid's cubic kernel (x·y/d + 1)³.

    clean-fid's KID averages this estimate over random equal-size subsets; both estimate the same
    population MMD², so on half-samples one kernel matrix per draw replaces a hundred subsets.
    Within-set sums leave the diagonal out; the cross term keeps every pair, as clean-fid does.
    """
    real, fake = _check("real features", real), _check("generated features", fake)
    d = real.shape[1]
    k_rr, k_ff, k_rf = (real @ real.T / d + 1) ** 3, (fake @ fake.T / d + 1) ** 3, (real @ fake.T / d + 1) ** 3
    return _off_diagonal_mean(k_rr) + _off_diagonal_mean(k_ff) - 2 * float(k_rf.mean())


@dataclass(frozen=True)
class Distance:
    """A distance as reported, and the form computed on each half-sample of its interval.

    ``reported`` is the library's own implementation (clean-fid), named in every metric file;
    ``resampled`` has the same expected value and is cheap enough to repeat hundreds of times.
    ``log``: the metric is the natural log of the distance (FRD). Half-samples score larger distances
    than the full sets (the bias falls with n), and a log compresses larger values, so their spread
    in log units understates the full-size one: by the delta method sd(log X) ≈ sd(X) / X, the
    half-samples' log spread is rescaled by their typical distance over the full-size one
    (geometric mean: a few extreme half-samples, as when a feature is nearly constant in the real
    set, do not swamp it; see :func:`_log_deviations`).
    """

    reported: Callable[[np.ndarray, np.ndarray], float]
    resampled: Callable[[np.ndarray, np.ndarray], float]
    log: bool = False

    def value(self, real: np.ndarray, fake: np.ndarray) -> float:
        """The metric as reported, without an interval."""
        full = self.reported(real, fake)
        return _log(full) if self.log else full


FID = Distance(reported=fid_from_features, resampled=frechet_distance)


def kid_distance(subset_size: int, num_subsets: int, seed: int) -> Distance:
    """clean-fid's KID (subset size capped by the sets it is given); half-samples use :func:`mmd2_unbiased`."""
    reported = lambda real, fake: kid_from_features(real, fake, min(subset_size, len(real), len(fake)), num_subsets, seed)
    return Distance(reported=reported, resampled=mmd2_unbiased)


@dataclass(frozen=True)
class Interval:
    """A metric value with a normal-theory interval whose spread comes from half-samples."""

    value: float
    low: float
    high: float
    sd: float

    def to_dict(self, name: str) -> dict[str, float | list[float]]:
        return {name: self.value, f"{name}_ci95": [self.low, self.high], f"{name}_sd": self.sd}

    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


#: the controls of an edited set's realism (``ldbench.stages.edit_realism``): the unedited sources, and real images at the same n
REALISM_SOURCE, REALISM_FLOOR = "source (unedited)", "real floor"

HALF_SAMPLING = (
    "95 % interval of the metric's expected value at these sample sizes: value ± 1.96 sd, the sd over "
    "{draws} half-samples drawn without replacement from each set (half-sampling: for a mean it equals "
    "the sd at the full size; for FID/KID it is conservative, see tests/test_intervals.py); on each "
    "half-sample FID is the same Fréchet distance by symmetric eigendecomposition, KID the unbiased MMD² "
    "of the whole half-sample (clean-fid's kernel; the expectation KID's subset average estimates)"
)


def _half(n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.permutation(n)[: max(2, n // 2)]


#: the smallest set whose half-samples vary: a half-sample of 2 images is the pair itself
MIN_INTERVAL_SET = 3


def _no_interval(value: float) -> Interval:
    return Interval(value=float(value), low=float("nan"), high=float("nan"), sd=float("nan"))


def half_sampling_interval(distance: Distance, real: np.ndarray, fake: np.ndarray, draws: int, seed: int,
                           z: float = 1.959964) -> Interval:
    """Interval for E[distance] at (len(real), len(fake)): the reported value ± z·sd over half-samples.

    Resampling *with* replacement puts duplicates in both sets, which shrinks covariances and
    inflates FID, so a percentile bootstrap interval can miss FID itself; half-samples drawn
    without replacement hold no duplicates, and their spread matches the full-size sd.
    """
    real, fake = _check("real features", real), _check("generated features", fake)
    full = distance.reported(real, fake)
    if min(len(real), len(fake)) < MIN_INTERVAL_SET:
        return _no_interval(_log(full) if distance.log else full)
    rng = np.random.default_rng(seed)
    values = np.array([distance.resampled(real[_half(len(real), rng)], fake[_half(len(fake), rng)]) for _ in range(draws)])
    if distance.log:
        return _interval(_log(full), _log_deviations(values, full), z)
    return _interval(full, values, z)


def paired_difference_interval(distance: Distance, real: np.ndarray, fake_a: np.ndarray, fake_b: np.ndarray, draws: int,
                               seed: int, z: float = 1.959964) -> Interval:
    """Interval for E[distance(real, a)] − E[distance(real, b)] with pairing kept in every half-sample.

    Each draw takes one real half-sample for both sets; when the two generated sets are index-paired
    (same prompt and initial noise per index, equal length) they also share their half-sample indices,
    so the variation that the two sets have in common cancels.
    """
    real, fake_a, fake_b = _check("real features", real), _check("generated features", fake_a), _check("generated features", fake_b)
    full_a, full_b = distance.reported(real, fake_a), distance.reported(real, fake_b)
    if min(len(real), len(fake_a), len(fake_b)) < MIN_INTERVAL_SET:
        return _no_interval(_log(full_a) - _log(full_b) if distance.log else full_a - full_b)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(draws):
        r = real[_half(len(real), rng)]
        ia = _half(len(fake_a), rng)
        ib = ia if len(fake_a) == len(fake_b) else _half(len(fake_b), rng)
        values.append((distance.resampled(r, fake_a[ia]), distance.resampled(r, fake_b[ib])))
    a, b = np.array(values).T
    if distance.log:  # log A − log B; its sd by the delta method, as in half_sampling_interval
        return _interval(_log(full_a) - _log(full_b), _log_deviations(a, full_a) - _log_deviations(b, full_b), z)
    return _interval(full_a - full_b, a - b, z)


def _log(distance: float) -> float:
    return float(np.log(distance)) if distance > 0 else float("-inf")


def _log_deviations(values: np.ndarray, full: float) -> np.ndarray:
    """Half-sample log distances about their mean, rescaled to the full-size distance: ×(geometric mean of the
    half-samples / full), the delta method's sd(X)/X with X the full-size value. In simulation (tests/test_intervals.py)
    the plain log spread covers in 88–92 % of repeats, the half-samples' sd(X) / full-size X in 97–99 % but without
    bound when a few half-samples are extreme; this covers in the simulations too. NaN where a distance is not positive."""
    if full <= 0 or (values <= 0).any():
        return np.full_like(values, np.nan)
    logs = np.log(values)
    return (logs - logs.mean()) * np.exp(logs.mean() - np.log(full))


def _interval(value: float, draws: np.ndarray, z: float) -> Interval:
    sd = float(draws.std(ddof=1)) if len(draws) > 1 else float("nan")
    return Interval(value=float(value), low=float(value - z * sd), high=float(value + z * sd), sd=sd)


def l1_distance(a: np.ndarray, b: np.ndarray) -> float:
    """Mean absolute pixel difference of paired uint8 images, in [0, 1] units."""
    return float(np.mean(np.abs(a.astype(np.float64) - b.astype(np.float64))) / 255.0)


def _pairwise_l1(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Mean absolute pixel difference of every image of ``a`` with every image of ``b`` (uint8 in, [0, 1] units out)."""
    a = a.reshape(len(a), -1).astype(np.float64) / 255.0
    b = b.reshape(len(b), -1).astype(np.float64) / 255.0
    return np.stack([np.abs(row - b).mean(axis=1) for row in a])  # one row at a time: SD-size images stay in memory


def energy_distance(generated: np.ndarray, real: np.ndarray) -> float:
    """Energy distance 2E|X−Y| − E|X−X′| − E|Y−Y′| between two image sets, from per-image L1 ([0, 1] units).

    Zero in expectation only when the two distributions agree: unlike the paired L1 to a real image,
    which a blurry per-pixel median minimises, it charges a generator for too little diversity
    (E|X−X′|). Within-set means leave out each image's distance to itself (unbiased).
    """
    if len(generated) < 2 or len(real) < 2:
        raise LdbenchError(f"energy distance needs at least 2 images per set, got {len(generated)} and {len(real)}")
    return (2 * float(_pairwise_l1(generated, real).mean()) - _off_diagonal_mean(_pairwise_l1(generated, generated))
            - _off_diagonal_mean(_pairwise_l1(real, real)))


def _pair(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.ndim != 2:
        raise LdbenchError(f"image metrics need two grayscale images of equal shape, got {a.shape} and {b.shape}")
    return a.astype(np.float64), b.astype(np.float64)


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """SSIM of two uint8 grayscale images (scikit-image defaults: 7×7 uniform window; data range 255)."""
    from skimage.metrics import structural_similarity

    a, b = _pair(a, b)
    return float(structural_similarity(a, b, data_range=255.0))


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    """PSNR in dB of two uint8 grayscale images (scikit-image, data range 255); inf for identical images."""
    from skimage.metrics import peak_signal_noise_ratio

    a, b = _pair(a, b)
    return float("inf") if np.array_equal(a, b) else float(peak_signal_noise_ratio(a, b, data_range=255.0))


def masked_l1(a: np.ndarray, b: np.ndarray, mask: np.ndarray) -> float:
    """Mean absolute difference (in [0, 1] units) over the pixels where ``mask`` is true; nan if none."""
    a, b = _pair(a, b)
    mask = np.asarray(mask, dtype=bool)
    return float(np.abs(a - b)[mask].mean() / 255.0) if mask.any() else float("nan")


def inception_features(paths, weights: str | Path, batch_size: int = 32) -> np.ndarray:
    """clean-fid's own "clean" Inception features (PIL bicubic resize to 299², pool3, 2048-d).

    ``weights`` is a local copy of the torchscript clean-fid would download; it is loaded through
    clean-fid's ``InceptionV3W`` from a temporary folder that names it as clean-fid expects.
    """
    import tempfile

    import torch
    from cleanfid.fid import get_files_features
    from cleanfid.inception_torchscript import InceptionV3W

    weights = Path(weights)
    if not weights.is_file():
        raise LdbenchError(f"metrics.inception_weights: {weights} does not exist")
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    with tempfile.TemporaryDirectory() as folder:
        (Path(folder) / INCEPTION_FILE).symlink_to(weights.resolve())
        try:
            model = InceptionV3W(folder, download=False, resize_inside=False).to(device).eval()
        except Exception as err:  # torch.jit raises several types for a file that is not the torchscript
            raise LdbenchError(f"metrics.inception_weights: {weights} is not clean-fid's Inception torchscript ({err})") from err
    feats = get_files_features([str(p) for p in paths], model=model, num_workers=0, batch_size=batch_size,
                               device=device, mode="clean", verbose=False)
    return _check(f"Inception features of {len(paths)} images", feats)


#: torchvision's ``alexnet-owt-7be5be79.pth``: torch.hub names its files by the first hex digits of their SHA-256
ALEXNET_FILE = "alexnet-owt-7be5be79.pth"
ALEXNET_SHA256_PREFIX = "7be5be79"


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Lpips:
    """LPIPS v0.1 (Zhang et al. 2018): the ``lpips`` package's calibrated linear layers on an AlexNet trunk.

    The linear layers ship inside the lpips wheel; the ImageNet AlexNet trunk does not and cannot
    be downloaded offline, so it is read from ``backbone_weights`` (torchvision's
    ``alexnet-owt-7be5be79.pth`` state dict). Without that file there is no LPIPS, only a
    statement that it is unavailable (:func:`lpips_or_none`).
    """

    def __init__(self, backbone_weights: str | Path):
        import lpips
        import torch
        import torchvision

        path = Path(backbone_weights)
        if not path.is_file():
            raise LdbenchError(f"metrics.lpips_backbone: {path} does not exist")
        if not _sha256(path).startswith(ALEXNET_SHA256_PREFIX):
            raise LdbenchError(f"metrics.lpips_backbone: {path} is not torchvision's {ALEXNET_FILE} (its SHA-256 does not start with "
                               f"{ALEXNET_SHA256_PREFIX}, as torch.hub checks); LPIPS is calibrated on exactly those weights")
        trunk = torchvision.models.alexnet()
        try:
            trunk.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
        except Exception as err:  # wrong file, wrong architecture, truncated download
            raise LdbenchError(f"metrics.lpips_backbone: {path} is not a torchvision AlexNet state dict ({err})") from err
        self.model = lpips.LPIPS(net="alex", pretrained=True, pnet_rand=True, verbose=False).eval()
        for block in (self.model.net.slice1, self.model.net.slice2, self.model.net.slice3, self.model.net.slice4, self.model.net.slice5):
            for index, layer in block.named_children():
                layer.load_state_dict(trunk.features[int(index)].state_dict())
        self.description = f"LPIPS v0.1 (lpips {_version('lpips')}, AlexNet trunk from {path})"

    def __call__(self, a: np.ndarray, b: np.ndarray) -> float:
        import torch

        a, b = _pair(a, b)
        to_tensor = lambda x: torch.from_numpy(x / 127.5 - 1.0).float()[None, None].expand(1, 3, -1, -1)
        with torch.no_grad():
            return float(self.model(to_tensor(a), to_tensor(b)).item())


LPIPS_UNAVAILABLE = "unavailable: LPIPS needs pretrained AlexNet weights (metrics.lpips_backbone), not set"


def lpips_or_none(backbone_weights: str | Path | None) -> Lpips | None:
    return Lpips(backbone_weights) if backbone_weights else None


def lpips_status(lpips: Lpips | None) -> str:
    """What every table says about LPIPS: how it was computed, or that it was not."""
    return lpips.description if lpips else LPIPS_UNAVAILABLE


def _version(package: str) -> str:
    from importlib.metadata import version

    return version(package)
