"""Realism of counterfactual edits: FID / KID against real target-class images, with controls at the same n."""

import numpy as np
import pandas as pd
import pytest

from ldbench.evaluator import save_evaluator, train_evaluator
from ldbench.images import load_classifier_inputs, save_png
from ldbench.metrics import REALISM_FLOOR, REALISM_SOURCE
from ldbench.settings import DatasetSettings, DistanceSettings, EditRealismSettings, EvaluatorSettings
from ldbench.stages.edit_realism import edit_realism
from ldbench.utils import LdbenchError

SIZE = 32
DISTANCES = DistanceSettings(feature_extractor="evaluator", inception_weights=None, kid_subset_size=50, kid_subsets=10, frd_images=None,
                             interval_draws=50, seed=0)
SETTINGS = EditRealismSettings(dataset=DatasetSettings(name="brain", kind="brain", modality="brain MRI"), editor="sdedit", distances=DISTANCES)


def _disc(rng, bright: bool) -> np.ndarray:
    """CN: a dark disc, AD: a bright one (the evaluator learns the difference)."""
    yy, xx = np.mgrid[:SIZE, :SIZE]
    disc = ((yy - SIZE / 2) ** 2 + (xx - SIZE / 2) ** 2 < (SIZE / 4) ** 2) * (0.9 if bright else 0.3)
    return (np.clip(disc + rng.normal(0, 0.05, (SIZE, SIZE)), 0, 1) * 255).astype(np.uint8)


def _dataset(tmp_path, n_edits=12):
    """A slice table of dark (CN) and bright (AD) discs, and a per_image.csv for the task CN → AD whose edits
    are new bright discs (perfect edits) and whose null edits and reconstructions are the sources themselves."""
    rng = np.random.default_rng(0)
    rows = []
    for split, n in (("train", 40), ("val", 16), ("test", 40)):
        for i in range(n):
            diagnosis = "AD" if i % 2 else "CN"
            path = tmp_path / "data" / f"{split}{i:03d}.png"
            save_png(path, _disc(rng, diagnosis == "AD"))
            rows.append({"image": str(path), "subject": f"{split}{i // 2}", "age": 70, "sex": "F", "split": split, "prompt": "",
                         "diagnosis": diagnosis, "label_AD": int(diagnosis == "AD")})
    slices = pd.DataFrame(rows)
    slices.to_csv(tmp_path / "slices.csv", index=False)
    sources = slices[(slices["split"] == "test") & (slices["diagnosis"] == "CN")].head(n_edits)
    records = []
    for ld, delta in (("noLD", 0.0), ("LD", 0.01)):
        for variant in ("edit", "null edit", "reconstruction"):
            for i, source in enumerate(sources.itertuples()):
                out = tmp_path / "cf" / f"{ld}-{variant}-{i}.png"
                save_png(out, _disc(rng, True) if variant == "edit" else _disc(rng, False))
                records.append({"task": "CN → AD", "ld": ld, "variant": variant, "delta": delta, "image": source.image,
                                "subject": source.subject, "output": str(out)})
    pd.DataFrame(records).to_csv(tmp_path / "per_image.csv", index=False)
    train = slices[slices["split"] == "train"]
    settings = EvaluatorSettings(arch="small_cnn", width=4, epochs=3, batch_size=8, lr=1e-2, seed=0)
    save_evaluator(train_evaluator(load_classifier_inputs(train["image"]), train, settings, seed=0), tmp_path / "evaluator.pt", settings)
    return tmp_path / "per_image.csv", tmp_path / "slices.csv", tmp_path / "evaluator.pt"


def test_perfect_edits_score_like_the_real_floor_and_beat_their_null_edit(tmp_path):
    result = edit_realism(SETTINGS, *_dataset(tmp_path), tmp_path / "realism.json")
    sets = {(s["ld"], s["variant"]): s for s in result["sets"]}
    assert set(sets) == {("", REALISM_SOURCE), ("", REALISM_FLOOR), *((ld, v) for ld in ("noLD", "LD") for v in ("edit", "null edit", "reconstruction"))}
    assert {s["n"] for s in sets.values()} == {12} and {s["n_reference"] for s in sets.values()} == {20}
    for s in sets.values():
        assert s["fid_ci95"][0] <= s["fid"] <= s["fid_ci95"][1]
    for ld in ("noLD", "LD"):
        # new bright discs are AD images: as far from the AD test images as real AD images are, far nearer than the CN sources
        assert sets[(ld, "edit")]["fid"] < 0.5 * sets[(ld, "null edit")]["fid"]
        assert sets[(ld, "edit")]["fid"] < 0.5 * sets[("", REALISM_SOURCE)]["fid"]
        assert abs(sets[(ld, "edit")]["fid"] - sets[("", REALISM_FLOOR)]["fid"]) < 0.1 * sets[("", REALISM_SOURCE)]["fid"]
    gains = {g["ld"]: g for g in result["gain_over_null_edit"]}
    assert set(gains) == {"noLD", "LD"} and gains["LD"]["delta"] == 0.01
    for gain in gains.values():  # edit − null edit: lower FID and KID, the interval says so
        assert gain["delta_fid_ci95"][1] < 0 and gain["delta_kid_ci95"][1] < 0
    assert result["feature_extractor"].startswith("evaluator") and (tmp_path / "realism.json").is_file()


def test_edit_realism_refuses_an_old_counterfactual_output(tmp_path):
    per_image, slices, evaluator = _dataset(tmp_path, n_edits=3)
    pd.read_csv(per_image).drop(columns="output").to_csv(per_image, index=False)
    with pytest.raises(LdbenchError, match="no 'output' column"):
        edit_realism(SETTINGS, per_image, slices, evaluator, tmp_path / "realism.json")


def test_ageing_realism_scores_edits_against_the_follow_ups(tmp_path):
    """Follow-ups are bright discs, earlier scans dark ones: an edit that brightens scores near the floor, a null edit does not."""
    from ldbench.stages.edit_realism import ageing_realism

    _, _, evaluator = _dataset(tmp_path / "data", n_edits=3)  # an evaluator that tells dark from bright discs
    rng = np.random.default_rng(1)
    pairs, records = [], []
    for split, n in (("train", 16), ("test", 12)):
        for i in range(n):
            young, old = tmp_path / f"{split}_young{i}.png", tmp_path / f"{split}_old{i}.png"
            save_png(young, _disc(rng, False))
            save_png(old, _disc(rng, True))
            pairs.append({"subject": f"{split}{i}", "split": split, "image_young": str(young), "image_old": str(old)})
            if split == "test":
                for variant in ("edit", "null edit", "reconstruction"):
                    out = tmp_path / f"out_{variant}_{i}.png"
                    save_png(out, _disc(rng, variant == "edit"))
                    records.append({"variant": variant, "image_young": str(young), "image_old": str(old), "ld": "LD", "delta": 0.01,
                                    "output": str(out)})
    pd.DataFrame(pairs).to_csv(tmp_path / "pairs.csv", index=False)
    pd.DataFrame(records).to_csv(tmp_path / "per_image.csv", index=False)
    result = ageing_realism(DISTANCES, tmp_path / "per_image.csv", tmp_path / "pairs.csv", evaluator, tmp_path / "ageing.json")
    sets = {(s["ld"], s["variant"]): s for s in result["sets"]}
    assert {s["n"] for s in sets.values()} == {12} and sets[("", REALISM_SOURCE)]["n_reference"] == 12
    assert sets[("LD", "edit")]["fid"] < 0.5 * sets[("LD", "null edit")]["fid"]
    assert abs(sets[("LD", "edit")]["fid"] - sets[("", REALISM_FLOOR)]["fid"]) < 0.1 * sets[("", REALISM_SOURCE)]["fid"]
    (gain,) = result["gain_over_null_edit"]
    assert gain["delta_fid_ci95"][1] < 0
