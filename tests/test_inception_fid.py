"""FID (Inception) through clean-fid's own torchscript path, on a stand-in torchscript file.

The real inception-2015-12-05.pt cannot be downloaded here; a scripted module with the same
interface (``layers`` mapping a normalised 299² batch to 2048 pooled features) exercises the
loading, resizing and labelling code exactly as the real file would.
"""

import json
import zlib

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from ldbench.settings import EvaluateSettings
from ldbench.stages.evaluate import evaluate, feature_extractor, real_features
from ldbench.utils import LdbenchError


class _Layers(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 2048, kernel_size=8, stride=8)

    def forward(self, x):
        return torch.nn.functional.adaptive_avg_pool2d(self.conv(x), 1)


class _StandIn(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.layers = _Layers()

    def forward(self, x, return_features: bool = False):
        return self.layers(x).view(x.shape[0], 2048)


@pytest.fixture
def inception_file(tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "my_inception.pt"
    torch.jit.script(_StandIn()).save(str(path))
    return path


def _images(folder, n, seed, shift=0):
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(n):
        path = folder / f"{i}.png"
        Image.fromarray(np.clip(rng.normal(100 + shift, 30, (32, 32)), 0, 255).astype(np.uint8)).save(path)
        paths.append(str(path))
    return paths


def _settings(weights, choice="auto"):
    return EvaluateSettings(feature_extractor=choice, inception_weights=str(weights) if weights else None, kid_subset_size=4,
                            kid_subsets=5, frd_images=None, interval_draws=4, n_generated=6, prdc_k=2, seed=0)


def test_inception_features_through_clean_fid(tmp_path, inception_file):
    from ldbench.metrics import inception_features

    paths = _images(tmp_path / "real", 3, 0)
    feats = inception_features(paths, inception_file)
    assert feats.shape == (3, 2048) and np.isfinite(feats).all() and not np.allclose(feats[0], feats[1])


def test_evaluate_uses_and_labels_the_inception_path(tmp_path, inception_file, monkeypatch):
    """The FID/KID arithmetic on 2048-d features costs minutes on 2 cores (matrix square roots):
    the extractor is replaced by an 8-d stand-in here, its wiring is tested above."""
    import ldbench.stages.evaluate as evaluate_module

    calls = []

    def fake_features(paths, weights):
        calls.append(str(weights))
        return np.stack([np.random.default_rng(zlib.crc32(p.encode())).normal(size=8) for p in paths])

    monkeypatch.setattr(evaluate_module, "inception_features", fake_features)
    real = _images(tmp_path / "real", 6, 0)
    pool = _images(tmp_path / "pool", 8, 2)
    fake = _images(tmp_path / "fake", 6, 1, shift=40)
    slices = pd.DataFrame({"image": real + pool, "subject": range(14), "age": 70, "sex": "F", "split": ["test"] * 6 + ["train"] * 8, "prompt": "p"})
    slices.to_csv(tmp_path / "slices.csv", index=False)
    pd.DataFrame({"image": fake, "delta": 0.05, "inference_shift": "per_step", "sampling_steps": 20}).to_csv(tmp_path / "samples.csv", index=False)
    settings = _settings(inception_file)
    floor = real_features(settings, tmp_path / "slices.csv", tmp_path / "no_evaluator.pt", tmp_path / "real.npz", tmp_path / "floor.json")
    assert floor["n_pool"] == 6 and floor["n_real"] == 6 and "disjoint" in floor["real_floor"]  # the pool at the generated set's size
    result = evaluate(settings, tmp_path / "samples.csv", tmp_path / "slices.csv", tmp_path / "real.npz", tmp_path / "no_evaluator.pt",
                      tmp_path / "m.json", tmp_path / "m.npz")
    assert calls == [str(inception_file)] * 4  # test, pool, train, generated
    assert result["feature_extractor"].startswith("inception: clean-fid InceptionV3")
    assert "299" in result["resize"] and result["n_real"] == 6 and result["fid"] > 0 and result["inference_shift"] == "per_step"
    assert set(result["prdc"]) >= {"precision", "recall", "density", "coverage"} and 0 <= result["prdc"]["coverage"] <= 1
    assert result["fid_ci95"][0] <= result["fid"] <= result["fid_ci95"][1] and "half-samples" in result["interval"]

    from ldbench.metrics import Interval
    from ldbench.report.tables import display_table1, table1_frame

    for ld in ("noLD", "LD"):
        (tmp_path / f"m_{ld}.json").write_text(json.dumps({**result, "delta": 0.0}))
        (tmp_path / f"auc_{ld}.json").write_text(json.dumps({"auc_mean": 0.7, "auc_std": 0.0, "n_test": 6}))
    frame = table1_frame({("brain", "basic_ft", ld): tmp_path / f"m_{ld}.json" for ld in ("noLD", "LD")},
                         {("brain", f"basic_ft-{ld}"): tmp_path / f"auc_{ld}.json" for ld in ("noLD", "LD")}, {},
                         {("brain", f"basic_ft-{ld}"): Interval(0.7, 0.6, 0.8, 0.05) for ld in ("noLD", "LD")})
    assert "brain: FID (Inception) / KID / AUC" in display_table1(frame).columns


def test_evaluate_refuses_real_features_of_another_extractor(tmp_path, inception_file):
    from ldbench.stages.evaluate import save_features

    save_features(tmp_path / "real.npz", "evaluator: an older network", test=np.zeros((4, 8)), pool=np.zeros((4, 8)))
    pd.DataFrame({"image": _images(tmp_path / "fake", 3, 1), "delta": 0.0}).to_csv(tmp_path / "samples.csv", index=False)
    with pytest.raises(LdbenchError, match="re-run real_features"):
        evaluate(_settings(inception_file), tmp_path / "samples.csv", tmp_path / "slices.csv", tmp_path / "real.npz", tmp_path / "x.pt",
                 tmp_path / "m.json", tmp_path / "m.npz")


def test_extractor_choice_and_bad_weights(tmp_path):
    assert feature_extractor(_settings(None)) == "evaluator"
    assert feature_extractor(_settings("x.pt")) == "inception"
    assert feature_extractor(_settings("x.pt", "evaluator")) == "evaluator"
    with pytest.raises(LdbenchError, match="inception_weights is not set"):
        feature_extractor(_settings(None, "inception"))
    from ldbench.metrics import inception_features

    bogus = tmp_path / "inception.pt"
    bogus.write_bytes(b"not a torchscript")
    with pytest.raises(LdbenchError, match="is not clean-fid's Inception torchscript"):
        inception_features([], bogus)
    with pytest.raises(LdbenchError, match="does not exist"):
        inception_features([], tmp_path / "missing.pt")
