"""Stage ``ageing``: InstructPix2Pix trained on longitudinal pairs, scored against the real follow-up.

The paper's ageing task with ground truth: an InstructPix2Pix model is fine-tuned from an
``ageing.methods`` model (without LD, or with LD: drifted forward process at
``drift.train_delta``, sampling at the LD model's searched δ) on the training split's (earlier →
later visit) pairs of the same subject, with the age difference in the instruction as a number
(the paper's best wording). On the test split's pairs the earlier scan is edited and compared
with the later scan, the real follow-up: SSIM, PSNR, L1 and LPIPS (when available), beside the
L1 of leaving the earlier scan unedited. The follow-up is another scan (its own contrast, gain, bias
field, noise and head position), so on the phantoms the edit is also compared with the *clean
truth*: the earlier scan re-rendered at the follow-up's age and diagnosis with everything else,
the scan included, unchanged. The same scores are given to two controls: the null edit (the same
noise, "make the … 0 years older") and the VAE reconstruction of the earlier scan. How many years
each output adds is read by the age regressor (``ldbench.age_regressor``, trained on the real
training split): its predicted age of the output minus that of the earlier scan, against the
years asked for (0 for the controls), beside the gain it reads on the real follow-up.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from ..age_regressor import AgeRegressor, load_age_regressor, predict_age
from ..editing import INSTRUCT_EDITOR, instruct_edit, reconstruct
from ..encoding import encode_images
from ..images import gray_uint8_to_unit, load_images, save_png, to_gray_uint8
from ..kinds import get_kind
from ..methods import MethodConfig, get_strategy
from ..metrics import l1_distance, lpips_or_none, lpips_status
from ..models import load_components
from ..runtime import compute_device
from ..seeds import derive_seed
from ..settings import AgeingSettings, GroundTruthSettings, TrainSettings
from ..train import LatentSet, train
from ..utils import LdbenchError, atomic_dir, read_json, write_csv, write_json
from .common import draw_rows, inference_delta, output_png, phantom_truths, similarity_to, training_levers

log = logging.getLogger("ldbench")


def years_asked(row) -> int:
    """The whole years an instruction asks for: the pair's age gap, rounded, at least 1."""
    return max(1, int(round(float(row["age_old"]) - float(row["age_young"]))))


#: ``ageing.encodings``: how an instruction states the years (the paper's three rows: a bin, a word, a number)
ENCODINGS = ("bin", "word", "number")
_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen",
          "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen", "twenty")
#: the bins of the years gap (our reading; the paper does not publish its bins)
YEAR_BINS = ((0, 0), (1, 2), (3, 4), (5, 9))


def years_phrase(years: int, encoding: str) -> str:
    """``years`` as the instruction states it: "3 years", "three years", "3 to 4 years" (bins 1–2, 3–4, 5–9, 10 or more)."""
    if encoding == "number":
        return f"{years} year{'s' if years != 1 else ''}"
    if encoding == "word":
        word = _WORDS[years] if years < len(_WORDS) else str(years)
        return f"{word} year{'s' if years != 1 else ''}"
    if encoding == "bin":
        for low, high in YEAR_BINS:
            if low <= years <= high:
                return f"{low} years" if low == high else f"{low} to {high} years"
        return f"{YEAR_BINS[-1][1] + 1} or more years"
    raise LdbenchError(f"ageing.encodings: unknown encoding {encoding!r}; expected one of {list(ENCODINGS)}")


def instruction(row, modality: str, encoding: str = "number") -> str:
    return f"make the {modality} {years_phrase(years_asked(row), encoding)} older"


def null_instruction(modality: str, encoding: str = "number") -> str:
    """The ageing editor's null edit: its instruction with no change asked. Training never shows 0 years
    (:func:`years_asked` rounds up to 1), so this asks for no change without having taught it."""
    return f"make the {modality} {years_phrase(0, encoding)} older"


def _pairs(pairs_csv: Path, split: str) -> pd.DataFrame:
    pairs = pd.read_csv(pairs_csv)
    rows = pairs[pairs["split"] == split].reset_index(drop=True)
    if rows.empty:
        raise LdbenchError(f"{pairs_csv}: no longitudinal pairs in split {split!r}; the ageing task needs subjects with two or more visits")
    return rows


def clean_truths(truth: GroundTruthSettings | None, pairs: pd.DataFrame) -> np.ndarray | None:
    """Phantoms: each pair's earlier scan re-rendered at the later visit's age and diagnosis (same anatomy,
    same scan); None for real data."""
    if truth is None:
        return None
    missing = {"visit_young", "diagnosis_old"} - set(pairs.columns)
    if missing:
        raise LdbenchError(f"the pair table lacks {sorted(missing)} (written by an older ldbench); re-run preprocess")
    changes = [{"age": float(r["age_old"]), "diagnosis": str(r["diagnosis_old"])} for r in pairs.to_dict("records")]
    found = phantom_truths(truth, get_kind(truth.phantom.kind), pairs["subject"], pairs["visit_young"], pairs["image_young"], changes)
    return np.stack([gt.truth for gt in found])


def predicted_years(regressor: AgeRegressor, source_u8: np.ndarray, outputs: dict[str, np.ndarray], follow_up_u8: np.ndarray,
                    asked: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """Per variant: the regressor's age of the source and the output, the gain it reads, the years asked for
    (the edit: the instruction's; the controls: 0) and the absolute error; and the gain it reads on the real
    follow-up (what the same regressor sees in real ageing of these subjects)."""
    def age(u8: np.ndarray) -> np.ndarray:
        return predict_age(regressor, gray_uint8_to_unit(u8))

    source, follow_up = age(source_u8), age(follow_up_u8)
    found = {}
    for variant, out in outputs.items():
        gain = age(out) - source
        found[variant] = {"age_pred_source": source, "age_pred_output": source + gain, "age_gain_pred": gain, "years_asked": asked[variant],
                          "age_gain_error": np.abs(gain - asked[variant]), "age_gain_follow_up": follow_up - source}
    return found


def ageing(settings: AgeingSettings, dataset: str, model_dir: Path, chosen_json: Path | None, pairs_csv: Path, age_regressor: Path,
           age_regressor_validation: Path, work_dir: Path, out_dir: Path) -> pd.DataFrame:
    modality, ld = settings.modality, settings.variant
    train_pairs = _pairs(pairs_csv, "train")
    test_pairs = _pairs(pairs_csv, "test")
    components = load_components(model_dir).to(compute_device())
    strategy = get_strategy("instruct_pix2pix", MethodConfig(lr=settings.lr))

    young, _ = encode_images(components, load_images(train_pairs["image_young"]), desc="encode earlier visits")
    old_mean, old_std = encode_images(components, load_images(train_pairs["image_old"]), desc="encode later visits")
    data = LatentSet(old_mean, old_std, [instruction(r, modality, settings.encoding) for r in train_pairs.to_dict("records")], source=young)
    train_settings = TrainSettings(steps=settings.steps, batch_size=settings.batch_size, lr=settings.lr, seed=derive_seed(settings.seed, "ageing", "train"),
                                   delta=settings.delta, loss_target=settings.loss_target,
                                   mixed_precision=settings.training.mixed_precision, checkpoint_every=settings.training.checkpoint_every,
                                   **training_levers(settings.training.performance))
    log.info("InstructPix2Pix on %d training pairs (%s, years as a %s), e.g. %r", len(data), ld, settings.encoding, data.prompts[0])
    summary_train = train(components, strategy, data, train_settings, work_dir)

    delta = inference_delta(chosen_json)
    rows = draw_rows(test_pairs, min(settings.n_images, len(test_pairs)), derive_seed(settings.seed, "ageing", "test_pairs")).drop_duplicates(["image_young", "image_old"])
    rows = rows.reset_index(drop=True)
    sources = load_images(rows["image_young"])
    seed = derive_seed(settings.seed, "ageing", "edit")

    def edit(instructions: list[str], desc: str) -> np.ndarray:
        return to_gray_uint8(instruct_edit(components, sources, instructions, delta, seed, steps=settings.sampling_steps,
                                           text_guidance=settings.text_guidance, image_guidance=settings.image_guidance,
                                           batch_size=settings.sampling_batch_size, inference_shift=settings.inference_shift, desc=desc))

    outputs = {  # the edit and its controls: the same noise asked for 0 years, and the VAE alone
        "edit": edit([instruction(r, modality, settings.encoding) for r in rows.to_dict("records")], "ageing"),
        "null edit": edit([null_instruction(modality, settings.encoding)] * len(rows), "ageing null"),
        "reconstruction": to_gray_uint8(reconstruct(components, sources, settings.sampling_batch_size)),
    }
    source_u8, truth_u8 = to_gray_uint8(sources), to_gray_uint8(load_images(rows["image_old"]))
    asked = np.array([years_asked(r) for r in rows.to_dict("records")], dtype=np.float64)
    years = predicted_years(load_age_regressor(age_regressor), source_u8, outputs, truth_u8,
                            {variant: asked if variant == "edit" else np.zeros_like(asked) for variant in outputs})
    clean = clean_truths(settings.ground_truth, rows)
    lpips = lpips_or_none(settings.lpips_backbone)
    per_image = pd.DataFrame([{
        "variant": variant, "image_young": rows["image_young"][i], "image_old": rows["image_old"][i], "subject": str(rows["subject"][i]),
        "years": float(rows["age_old"][i] - rows["age_young"][i]), "ld": ld, "delta": delta,
        **similarity_to(truth_u8[i], out[i], lpips, "truth"), "l1_source_to_truth": l1_distance(truth_u8[i], source_u8[i]),
        **(similarity_to(clean[i], out[i], lpips, "clean_truth") if clean is not None else {}),
        **({"l1_source_to_clean_truth": l1_distance(clean[i], source_u8[i])} if clean is not None else {}),
        **{name: float(values[i]) for name, values in years[variant].items()},
        "output": str(Path(out_dir) / output_png(variant, i)),
    } for variant, out in outputs.items() for i in range(len(rows))])
    edited = outputs["edit"]
    summary = {
        "dataset": dataset, "method": settings.method, "ld": ld, "editor": INSTRUCT_EDITOR, "base": str(model_dir), "delta_train": train_settings.delta, "delta": delta,
        "train_pairs": len(train_pairs), "test_pairs": len(rows), "steps": train_settings.steps, "lr": train_settings.lr,
        "final_loss": summary_train["final_loss"], "encoding": settings.encoding,
        "instruction": instruction({"age_young": 0, "age_old": 3}, "{modality}", settings.encoding) + " (years: the pair's gap, rounded, at least 1)",
        "sampling_steps": settings.sampling_steps, "inference_shift": settings.inference_shift, "text_guidance": settings.text_guidance, "image_guidance": settings.image_guidance,
        "seed": settings.seed, "ground_truth": "the subject's later visit (real follow-up scan)",
        "clean_truth": ("the earlier scan re-rendered by the phantom at the later visit's age and diagnosis; anatomy, scan and "
                        "head position unchanged" if clean is not None else None),
        "lpips": lpips_status(lpips), "variants": list(outputs), "null_instruction": null_instruction("{modality}", settings.encoding),
        "age_regressor": str(age_regressor), "age_regressor_validation": read_json(age_regressor_validation),
    }
    with atomic_dir(Path(out_dir)) as tmp:
        write_csv(tmp / "per_image.csv", per_image)
        write_json(tmp / "summary.json", summary)
        np.savez_compressed(tmp / "examples.npz", source=source_u8[:4], edit=edited[:4], truth=truth_u8[:4],
                            **({"clean_truth": clean[:4]} if clean is not None else {}))
        for variant, out in outputs.items():
            for i, pixels in enumerate(out):
                save_png(tmp / output_png(variant, i), pixels)
    return per_image

