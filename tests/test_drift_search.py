"""The δ grid search's classifier term scores only the classification task's rows."""

import numpy as np
import pandas as pd
import pytest
import torch
import torch.nn.functional as F
from PIL import Image
from workflow_helpers import REPO

from ldbench.classifier import build, load_classifier, save_classifier
from ldbench.config import load_config
from ldbench.images import gray_uint8_to_unit, to_gray_uint8
from ldbench.settings import ClassifierSettings, DriftSearchSettings


def test_classifier_term_leaves_out_rows_outside_the_task(tiny_components, tmp_path, monkeypatch):
    """Brain MCI validation prompts are neither AD nor CN: ℓ_o must not count them as CN (label_AD = 0)."""
    import ldbench.stages.drift_search as stage

    diagnoses = ["CN", "MCI", "AD", "MCI", "CN", "AD"]
    rows = []
    for i, dx in enumerate(diagnoses):
        path = tmp_path / f"{i}.png"
        Image.fromarray(np.full((16, 16), 40 * i, np.uint8)).save(path)
        rows.append({"image": str(path), "subject": f"s{i}", "visit": "d0", "age": 70, "sex": "F", "split": "val", "prompt": "p",
                     "diagnosis": dx, "label_AD": int(dx == "AD")})
    rows += [{**rows[i], "subject": f"t{i}", "split": "test"} for i in range(3)]
    pd.DataFrame(rows).to_csv(tmp_path / "slices.csv", index=False)
    tiny_components.save_pretrained(tmp_path / "model", metadata={"modality_phrase": "brain MRI", "train_delta": 0.05,
                                                                   "training": {"loss_target": "drifted_noise"}})
    torch.manual_seed(0)
    save_classifier(build("small_cnn", 1, 4), tmp_path / "clf.pt", ClassifierSettings("small_cnn", 4, 1, 2, 1e-3), ["label_AD"])

    generated = torch.rand(2, len(diagnoses), 3, 16, 16, generator=torch.Generator().manual_seed(1)) * 2 - 1
    monkeypatch.setattr(stage, "generate", lambda *args, **kwargs: generated)
    config = load_config([REPO / "config.yaml"])
    config["drift"].update(grid={**config["drift"]["grid"], "per_step": [0.0, 0.05]}, n_samples=len(diagnoses))
    settings = DriftSearchSettings.from_config(config, "brain")
    stage.drift_search(settings, tmp_path / "model", tmp_path / "slices.csv", tmp_path / "clf.pt", tmp_path / "grid.csv",
                       tmp_path / "chosen.json", tmp_path / "sweep.npz")

    grid = pd.read_csv(tmp_path / "grid.csv")
    drawn = pd.read_csv(tmp_path / "slices.csv").query("split == 'val'")  # all six drawn; their order follows the seeded draw
    classifier, _ = load_classifier(tmp_path / "clf.pt")
    order = stage.draw_rows(drawn.reset_index(drop=True), len(diagnoses), stage.derive_seed(settings.seed, "drift_search", "rows"))
    in_task = (order["diagnosis"] != "MCI").to_numpy()
    for k, images in enumerate(generated):
        with torch.no_grad():
            logits = classifier(gray_uint8_to_unit(to_gray_uint8(images)))[:, 0]
        labels = torch.tensor(order["label_AD"].to_numpy(), dtype=torch.float32)
        expected = F.binary_cross_entropy_with_logits(logits[in_task], labels[in_task]).item()
        assert grid["l_out"][k] == pytest.approx(expected, rel=1e-5)
        with_mci = F.binary_cross_entropy_with_logits(logits, labels).item()
        assert grid["l_out"][k] != pytest.approx(with_mci, rel=1e-5)
