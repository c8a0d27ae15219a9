"""Stages ``train_evaluator``, ``real_features`` and ``evaluate``: FID and KID with intervals that cover.

Features: clean-fid's Inception when ``metrics.inception_weights`` names a local copy of its
torchscript, otherwise the evaluator network (``ldbench.evaluator``: trained on the real training
split for evaluation only, so no network grades a number it also produces); distances: clean-fid's
``frechet_distance`` and ``kernel_distance``; precision / recall / density / coverage by the
``prdc`` package; beside them the Fréchet Radiomics Distance (``ldbench.radiomics``: hand-crafted
radiomics, no network) on the first ``metrics.frd_images`` images of each set. Each image set's
features are computed once and cached (``.npz``), so the floor, the paired LD effect and the
metric-vs-n figure reuse them.

* ``real_features``: the real test split, and a disjoint real *pool* (train + val images) of the
  generated set's size. Test vs pool is the real floor at the generated set's n: FID is biased by
  n, so a model can only be compared to a floor at its own sample size.
* ``evaluate``: one synthetic set against the real test split, and its nearest-training distances
  against the test images' own (``ldbench.memorisation``).
* an LD model's ``evaluate`` also gives LD minus no LD on the same real test features, as a
  paired difference (``ld_effect``).
* a set sampled with further generation seeds (``synthesize``'s ``seeds.csv``) also gets FID / KID /
  FRD per seed at the seeds' common size, as a mean ± sd over seeds; an LD model's, LD minus no LD
  per seed (seed-paired: seed s of both shares its prompts and initial noise).

Every interval is the half-sampling interval of :data:`ldbench.metrics.HALF_SAMPLING`, and every
JSON says which extractor, library, sample counts and interval were used.
"""

from __future__ import annotations

import logging
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd

from ..classifier import extract_features
from ..drift import parse_delta
from ..evaluator import DESCRIPTION as EVALUATOR_DESCRIPTION
from ..evaluator import load_evaluator, save_evaluator, train_evaluator
from ..images import load_classifier_inputs, read_grays
from ..memorisation import REFERENCE_QUANTILE, memorisation, nearest_neighbours, pixel_space
from ..metrics import (
    FID,
    FID_COMPUTATION,
    HALF_SAMPLING,
    Distance,
    half_sampling_interval,
    inception_features,
    kid_distance,
    paired_difference_interval,
)
from ..radiomics import FRD, finite_columns, radiomics_features
from ..radiomics import describe as describe_frd
from ..seeds import derive_seed
from ..settings import TRAIN_SPLIT, DistanceSettings, EvaluateSettings, EvaluatorSettings
from ..utils import LdbenchError, atomic_path, read_json, write_json
from .common import read_slices, split_rows

log = logging.getLogger("ldbench")


def feature_extractor(settings: EvaluateSettings) -> str:
    """"inception" or "evaluator" from ``metrics.feature_extractor`` / ``metrics.inception_weights``."""
    choice, weights = settings.feature_extractor, settings.inception_weights
    if choice == "inception" and not weights:
        raise LdbenchError("metrics.feature_extractor is 'inception' but metrics.inception_weights is not set")
    return "inception" if choice == "inception" or (choice == "auto" and weights) else "evaluator"


def train_evaluator_stage(settings: EvaluatorSettings, slices_csv: Path, out_model: Path) -> None:
    """The evaluator network on the real training split, with its own seed (``ldbench.evaluator``)."""
    train = split_rows(read_slices(slices_csv), "train")
    model = train_evaluator(load_classifier_inputs(train["image"]), train, settings, derive_seed(settings.seed, "train_evaluator"))
    save_evaluator(model, out_model, settings)
    log.info("evaluator trained on %d real training images; features: %d-d, standardised by the training split", len(train),
             model.feature_mean.numel())


class Extractor:
    """The configured feature extractor, with the description every metric file carries."""

    def __init__(self, settings: DistanceSettings, evaluator_path: Path):
        self.kind = feature_extractor(settings)
        self.weights = settings.inception_weights
        if self.kind == "inception":
            self.description = f"inception: clean-fid InceptionV3 torchscript ({self.weights}), 'clean' mode, PIL bicubic resize to 299"
            self.resize = "PIL bicubic to 299×299 (clean-fid 'clean' mode)"
        else:
            self.evaluator = load_evaluator(evaluator_path)
            self.description = EVALUATOR_DESCRIPTION
            self.resize = "none (images at model resolution)"

    def __call__(self, paths) -> np.ndarray:
        if self.kind == "inception":
            return inception_features(list(paths), self.weights)
        return extract_features(self.evaluator, load_classifier_inputs(paths))


def save_features(path: Path, extractor: str, **arrays: np.ndarray) -> None:
    with atomic_path(path) as tmp, open(tmp, "wb") as handle:
        np.savez(handle, extractor=np.array(extractor), **arrays)


def load_features(path: Path) -> dict:
    try:
        with np.load(path) as data:
            return {key: (str(data[key]) if key == "extractor" else data[key]) for key in data.files}
    except (OSError, ValueError) as err:
        raise LdbenchError(f"{path}: not a feature cache written by ldbench ({err})") from err


def _kid(settings: DistanceSettings, *sets: np.ndarray):
    """The configured KID, its subset size capped by the smallest set; and that size."""
    subset = min(settings.kid_subset_size, *map(len, sets))
    return kid_distance(subset, settings.kid_subsets, derive_seed(settings.seed, "evaluate", "kid")), subset


def fid_kid(settings: DistanceSettings, real: np.ndarray, fake: np.ndarray, *purpose: str) -> dict:
    """FID and KID of two feature sets, each with its half-sampling interval (seeded by ``purpose``)."""
    kid, subset = _kid(settings, real, fake)
    draws = settings.interval_draws
    return {
        **half_sampling_interval(FID, real, fake, draws, derive_seed(settings.seed, "evaluate", *purpose, "fid")).to_dict("fid"),
        **half_sampling_interval(kid, real, fake, draws, derive_seed(settings.seed, "evaluate", *purpose, "kid")).to_dict("kid"),
        "kid_subset_size": subset, "kid_subsets": settings.kid_subsets,
    }


def paired_fid_kid(settings: DistanceSettings, real: np.ndarray, a: np.ndarray, b: np.ndarray, *purpose: str) -> dict:
    """FID and KID of ``a`` minus those of ``b`` against the same real features, index-paired
    (:func:`ldbench.metrics.paired_difference_interval`): ``delta_fid`` / ``delta_kid`` with their intervals."""
    kid, subset = _kid(settings, real, a, b)
    draws = settings.interval_draws
    fid = paired_difference_interval(FID, real, a, b, draws, derive_seed(settings.seed, "evaluate", *purpose, "fid"))
    kid = paired_difference_interval(kid, real, a, b, draws, derive_seed(settings.seed, "evaluate", *purpose, "kid"))
    return {**fid.to_dict("delta_fid"), **kid.to_dict("delta_kid"), "kid_subset_size": subset}


def radiomics_of(settings: DistanceSettings, paths: pd.Series) -> np.ndarray | None:
    """Raw radiomics of the first ``frd_images`` images of a set; None when FRD is off."""
    if settings.frd_images is None:
        return None
    return radiomics_features(list(paths.iloc[: settings.frd_images]))


def radiomics(settings: DistanceSettings, **sets: pd.Series) -> dict[str, np.ndarray]:
    """``radiomics_<name>`` of each set, for a feature cache; nothing when FRD is off."""
    if settings.frd_images is None:
        return {}
    return {f"radiomics_{name}": radiomics_of(settings, paths) for name, paths in sets.items()}


def frd(settings: DistanceSettings, real: np.ndarray | None, fake: np.ndarray | None, *purpose: str) -> dict:
    """FRD of two radiomics sets with its half-sampling interval and the sizes it was computed at; nothing without radiomics."""
    if real is None or fake is None:
        return {}
    real, fake = finite_columns(real, fake)
    interval = half_sampling_interval(FRD, real, fake, settings.interval_draws, derive_seed(settings.seed, "evaluate", *purpose, "frd"))
    return {**interval.to_dict("frd"), "frd_n_real": len(real), "frd_n_generated": len(fake), "frd_features": real.shape[1],
            "frd_computation": describe_frd()}


def paired_frd(settings: DistanceSettings, real: np.ndarray | None, a: np.ndarray | None, b: np.ndarray | None, *purpose: str) -> dict:
    """FRD of ``a`` minus that of ``b`` (a log ratio) against the same real radiomics, index-paired: ``delta_frd``."""
    if real is None or a is None or b is None:
        return {}
    interval = paired_difference_interval(FRD, *finite_columns(real, a, b), settings.interval_draws,
                                          derive_seed(settings.seed, "evaluate", *purpose, "frd"))
    return interval.to_dict("delta_frd")


def over_seeds(values: list[float]) -> dict:
    """Mean and sample SD over generation seeds (SD NaN with one seed)."""
    values = np.asarray(values, dtype=np.float64)
    return {"mean": float(values.mean()), "sd": float(values.std(ddof=1)) if len(values) > 1 else float("nan")}


def seed_metrics(settings: DistanceSettings, seeds_csv: Path, real: dict, generated: np.ndarray, radiomics_generated: np.ndarray | None,
                 extractor: Extractor) -> dict:
    """FID / KID (and FRD) of each generation seed's set against the real test split, at the seeds' common size.

    Seed 0 is the set's own first images (features already computed); the others are extracted here.
    """
    listing = pd.read_csv(seeds_csv)
    seeds = sorted(listing["seed"].unique())
    n = int(listing.groupby("seed").size().min())
    kid = _kid(settings, real["test"], generated[:n])[0]
    n_frd = min(settings.frd_images, n) if radiomics_generated is not None else 0
    distances: dict[str, Distance] = {"fid": FID, "kid": kid, **({"frd": FRD} if n_frd else {})}
    values: dict[str, list[float]] = {name: [] for name in distances}
    for seed in seeds:
        paths = listing.loc[listing["seed"] == seed, "image"].iloc[:n]
        features = generated[:n] if seed == 0 else extractor(paths)
        values["fid"].append(FID.value(real["test"], features))
        values["kid"].append(kid.value(real["test"], features))
        if n_frd:
            fake = radiomics_generated[:n_frd] if seed == 0 else radiomics_features(list(paths.iloc[:n_frd]))
            values["frd"].append(FRD.value(*finite_columns(real["radiomics_test"], fake)))
    log.info("over %d generation seeds (n=%d): FID %s", len(seeds), n, ", ".join(f"{v:.3f}" for v in values["fid"]))
    return {"seeds": [int(s) for s in seeds], "n_generated": n, **({"frd_n_generated": n_frd} if n_frd else {}),
            **{name: {"per_seed": v, **over_seeds(v)} for name, v in values.items()},
            "pairing": "seed s of every model shares its prompts (the set's first n) and initial noise"}


def seed_differences(ours: dict, twin: dict) -> dict:
    """Per-seed metric of this set minus its twin's (same seeds, same prompts and noise per seed): mean ± sd over seeds."""
    if ours["seeds"] != twin.get("seeds") or ours["n_generated"] != twin.get("n_generated"):
        raise LdbenchError(f"generation seeds differ from the no-LD twin's ({ours['seeds']} at n={ours['n_generated']} vs "
                           f"{twin.get('seeds')} at n={twin.get('n_generated')}); re-run its synthesize and evaluate")
    differences = {}
    for name in ("fid", "kid", "frd"):
        if name in ours and name in twin:
            per_seed = np.subtract(ours[name]["per_seed"], twin[name]["per_seed"]).tolist()
            differences[f"delta_{name}"] = {"per_seed": per_seed, **over_seeds(per_seed)}
    return differences


def prdc(settings: EvaluateSettings, real: np.ndarray, fake: np.ndarray) -> dict:
    """Precision, recall, density and coverage (Naeem et al. 2020; the ``prdc`` package) of ``fake`` against ``real``."""
    from prdc import compute_prdc

    k = min(settings.prdc_k, len(real) - 1, len(fake) - 1)
    if k < 1:
        raise LdbenchError(f"precision / recall need at least 2 real and 2 generated images, got {len(real)} and {len(fake)}")
    values = compute_prdc(real_features=real, fake_features=fake, nearest_k=k)
    return {**{key: float(v) for key, v in values.items()}, "nearest_k": k,
            "library": f"prdc {version('prdc')} (compute_prdc, Euclidean k-NN balls on the evaluation features)"}


def provenance(settings: DistanceSettings, extractor: str, resize: str | None = None) -> dict:
    return {
        "feature_extractor": extractor, **({"resize": resize} if resize else {}), "dtype": "float64",
        "library": f"clean-fid {version('clean-fid')} (frechet_distance, kernel_distance)", "fid_computation": FID_COMPUTATION,
        "interval": HALF_SAMPLING.format(draws=settings.interval_draws), "seed": settings.seed,
    }


def real_features(settings: EvaluateSettings, slices_csv: Path, evaluator_path: Path, out_npz: Path, out_json: Path) -> dict:
    """Features of the real test split and of a disjoint real pool of the generated set's size; the floor between them."""
    slices = read_slices(slices_csv)
    test = split_rows(slices, "test")
    train = split_rows(slices, "train")
    pool = slices[slices["split"].isin(["train", "val"])].reset_index(drop=True)
    n_generated = len(train) if settings.n_generated == TRAIN_SPLIT else settings.n_generated
    n_pool = min(n_generated, len(pool))
    if n_pool < 2:
        raise LdbenchError(f"{slices_csv}: the train + val splits hold {len(pool)} image(s); the real floor needs at least 2")
    if n_pool < n_generated:
        log.warning("real floor at n=%d: train + val hold fewer images than the %d generated per model", n_pool, n_generated)
    pool = pool.iloc[np.random.default_rng(derive_seed(settings.seed, "evaluate", "real_pool")).choice(len(pool), n_pool, replace=False)]
    extractor = Extractor(settings, evaluator_path)
    test_f, pool_f, train_f = extractor(test["image"]), extractor(pool["image"]), extractor(train["image"])
    test_nn_pixel, _ = nearest_neighbours(pixel_space(read_grays(test["image"])), pixel_space(read_grays(train["image"])))
    test_nn_features, _ = nearest_neighbours(test_f, train_f)
    radiomic = radiomics(settings, test=test["image"], pool=pool["image"])
    save_features(out_npz, extractor.description, test=test_f, pool=pool_f, train=train_f, test_nn_pixel=test_nn_pixel,
                  test_nn_features=test_nn_features, **radiomic)
    floor = {
        **fid_kid(settings, test_f, pool_f, "real_floor"), "prdc": prdc(settings, test_f, pool_f),
        **frd(settings, radiomic.get("radiomics_test"), radiomic.get("radiomics_pool"), "real_floor"),
        "n_real": len(test_f), "n_pool": n_pool, "n_generated": n_generated,
        "real_floor": (f"real test split ({len(test_f)} images) vs {n_pool} real train + val images, disjoint from it: "
                       "what a perfect model would score at the generated set's size"),
        **provenance(settings, extractor.description, extractor.resize),
    }
    log.info("real floor at n=%d: FID %.3f  KID %.4f", n_pool, floor["fid"], floor["kid"])
    write_json(out_json, floor)
    return floor


def evaluate(settings: EvaluateSettings, samples_csv: Path, slices_csv: Path, real_npz: Path, evaluator_path: Path, out_json: Path,
             out_npz: Path, baseline: tuple[Path, Path] | None = None) -> dict:
    """FID / KID of one synthetic set against the real test split, with half-sampling intervals.

    ``baseline`` (features, metrics) of an LD model's no-LD twin adds the paired LD effect.
    """
    real = load_features(real_npz)
    fake = pd.read_csv(samples_csv)
    extractor = Extractor(settings, evaluator_path)
    if extractor.description != real["extractor"]:
        raise LdbenchError(f"{real_npz} holds features of {real['extractor']!r}, not of {extractor.description!r}; re-run real_features")
    fake_f = extractor(fake["image"])
    radiomic = radiomics(settings, generated=fake["image"])
    if radiomic and "radiomics_test" not in real:
        raise LdbenchError(f"{real_npz} holds no radiomics features (written with metrics.frd_images null or by an older ldbench); re-run real_features")
    save_features(out_npz, extractor.description, generated=fake_f, **radiomic)
    result = {
        **fid_kid(settings, real["test"], fake_f, "model"), "prdc": prdc(settings, real["test"], fake_f),
        **frd(settings, real.get("radiomics_test"), radiomic.get("radiomics_generated"), "model"),
        "n_real": len(real["test"]), "n_generated": len(fake_f), "delta": parse_delta(fake["delta"].iloc[0]),
        **_inference_drift(fake, samples_csv),
        **provenance(settings, extractor.description, extractor.resize),
    }
    log.info("FID %.3f [%.3f, %.3f]  KID %.4f  (%s; n_real=%d, n_generated=%d)", result["fid"], *result["fid_ci95"], result["kid"],
             extractor.kind, result["n_real"], result["n_generated"])
    result["memorisation"] = memorisation_report(real, fake_f, fake["image"], split_rows(read_slices(slices_csv), "train")["image"])
    seeds_csv = Path(samples_csv).parent / "seeds.csv"
    if seeds_csv.is_file():
        result["generation_seeds"] = seed_metrics(settings, seeds_csv, real, fake_f, radiomic.get("radiomics_generated"), extractor)
    if baseline:
        twin = load_features(baseline[0])
        if radiomic and "radiomics_generated" not in twin:
            raise LdbenchError(f"{baseline[0]} holds no radiomics features; re-run its evaluate")
        radiomic_sets = (real.get("radiomics_test"), radiomic.get("radiomics_generated"), twin.get("radiomics_generated"))
        twin_metrics = read_json(baseline[1])
        result["ld_effect"] = ld_effect(settings, real["test"], fake_f, twin["generated"], twin_metrics["delta"], radiomic_sets)
        if "generation_seeds" in result and "generation_seeds" in twin_metrics:
            result["ld_effect"]["over_seeds"] = seed_differences(result["generation_seeds"], twin_metrics["generation_seeds"])
    write_json(out_json, result)
    return result


def _inference_drift(samples: pd.DataFrame, path: Path) -> dict:
    """Where the set's δ entered and over how many steps, as ``synthesize`` recorded it."""
    missing = {"inference_shift", "sampling_steps"} - set(samples.columns)
    if missing:
        raise LdbenchError(f"{path} lacks {sorted(missing)}: written by an older ldbench; re-run synthesize")
    return {"inference_shift": str(samples["inference_shift"].iloc[0]), "sampling_steps": int(samples["sampling_steps"].iloc[0])}


def memorisation_report(real: dict, fake_f: np.ndarray, fake_images: pd.Series, train_images: pd.Series, closest: int = 8) -> dict:
    """Nearest-training distances of the generated set in pixels and features, against the test images' own."""
    if "train" not in real:
        raise LdbenchError("the real feature cache has no training-split features (written by an older ldbench); re-run real_features")
    gen_nn_pixel, gen_idx = nearest_neighbours(pixel_space(read_grays(fake_images)), pixel_space(read_grays(train_images)))
    gen_nn_features, _ = nearest_neighbours(fake_f, real["train"])
    order = np.argsort(gen_nn_pixel, kind="stable")[:closest]
    report = {
        "pixel": memorisation(gen_nn_pixel, real["test_nn_pixel"]).to_dict(),
        "features": memorisation(gen_nn_features, real["test_nn_features"]).to_dict(),
        "closest": [{"generated": str(fake_images.iloc[i]), "training": str(train_images.iloc[gen_idx[i]]), "pixel_distance": float(gen_nn_pixel[i])}
                    for i in order],
        "distances": ("L2 to the nearest training-split image: pixels as per-pixel RMS in [0, 1] units, features as the evaluation "
                      f"features; threshold: the real test images' own {REFERENCE_QUANTILE:.0%} quantile"),
    }
    log.info("memorisation: %.1f %% of generated images nearer a training image than the test images' %d %% quantile (pixels), "
             "%d exact copies", 100 * report["pixel"]["fraction_below"], round(100 * REFERENCE_QUANTILE), report["pixel"]["exact_copies"])
    return report


def ld_effect(settings: EvaluateSettings, real: np.ndarray, ld: np.ndarray, no_ld: np.ndarray, no_ld_delta: float,
              radiomic: tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None] = (None, None, None)) -> dict:
    """FID / KID (and FRD from the ``radiomic`` (real, LD, no LD) sets) with LD minus without, paired: same real
    half-samples, same generated indices.

    synthesize draws every model's prompts and initial noise from the same seeded streams, so
    image i of the LD set and image i of the noLD set share their prompt and noise.
    """
    effect = {**paired_fid_kid(settings, real, ld, no_ld, "ld_effect"), **paired_frd(settings, *radiomic, "ld_effect")}
    log.info("LD − no LD: ΔFID %.3f %s  ΔKID %.4f %s", effect["delta_fid"], effect["delta_fid_ci95"], effect["delta_kid"], effect["delta_kid_ci95"])
    return {
        **effect, "delta_no_ld": no_ld_delta,
        "pairing": ("LD minus no LD on the same real test features; index-paired generated sets (same prompt and initial "
                    "noise per index), each half-sample shares its real and generated indices between the two"),
    }
