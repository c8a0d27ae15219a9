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

DIAGNOSES = ["CN", "MCI", "AD", "MCI", "CN", "AD"]


def _search_inputs(tiny_components, tmp_path, diagnoses=DIAGNOSES) -> None:
    """slices.csv (val and test rows), a saved model and a real-data classifier, as the rule hands them over."""
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


def test_classifier_term_leaves_out_rows_outside_the_task(tiny_components, tmp_path, monkeypatch):
    """Brain MCI validation prompts are neither AD nor CN: ℓ_o must not count them as CN (label_AD = 0)."""
    import ldbench.stages.drift_search as stage

    diagnoses = DIAGNOSES
    _search_inputs(tiny_components, tmp_path)
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


def test_per_channel_search_fits_a_delta_vector_and_tabulates_it(tiny_components, tmp_path):
    """drift.shape channel: the search writes one δ per latent channel (within the grid's range) chosen among
    drift.channel_scales by the same score, grid.csv gains its rows, and the δ ablation its columns."""
    import json

    import ldbench.stages.drift_search as stage
    from ldbench.report.ablation import delta_ablation_frame, write_delta_ablation

    _search_inputs(tiny_components, tmp_path)
    config = load_config([REPO / "config.yaml"])
    config["drift"].update(grid={**config["drift"]["grid"], "per_step": [-0.1, 0.0, 0.1]}, n_samples=len(DIAGNOSES), shape="channel",
                           channel_scales=[0.5, 1.0])
    config["sampling"].update(steps=2)
    settings = DriftSearchSettings.from_config(config, "brain")
    stage.drift_search(settings, tmp_path / "model", tmp_path / "slices.csv", tmp_path / "clf.pt", tmp_path / "grid.csv",
                       tmp_path / "chosen.json", tmp_path / "sweep.npz")
    chosen = json.loads((tmp_path / "chosen.json").read_text())
    grid = pd.read_csv(tmp_path / "grid.csv")
    channel = grid[grid["shape"] == "channel"]
    assert list(channel["channel_scale"]) == [0.5, 1.0] and np.isfinite(channel["score"]).all()
    vector = chosen["channel"]["delta"]
    assert len(vector) == tiny_components.unet.config.in_channels and all(-0.1 <= v <= 0.1 for v in vector)
    assert chosen["channel"]["scale"] == channel.loc[channel["score"].idxmin(), "channel_scale"]
    assert chosen["delta"] in (-0.1, 0.0, 0.1)  # the scalar choice is made among the scalar rows only
    frame = delta_ablation_frame({("brain", "basic_ft", "LD"): tmp_path})
    write_delta_ablation(frame, tmp_path / "ablation")
    header = (tmp_path / "ablation.md").read_text()
    assert "| δ = -0.1 | δ = +0 | δ = +0.1 | per-channel δ ×0.5 | per-channel δ ×1 |" in header and header.count(" * |") == 2
