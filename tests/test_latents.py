"""The per-dataset latent cache: encoded once, read back by slice path, stale files refused clearly."""

import numpy as np
import pandas as pd
import pytest
import torch

from ldbench.encoding import encode_images
from ldbench.images import load_images, save_png
from ldbench.settings import LatentsSettings
from ldbench.stages.latents import encode_latents, load_latents
from ldbench.utils import LdbenchError


@pytest.fixture
def dataset(tmp_path, tiny_components):
    rng = np.random.default_rng(0)
    rows = []
    for i in range(5):
        path = tmp_path / f"slice{i}.png"
        save_png(path, rng.integers(0, 256, (16, 16), dtype=np.uint8))
        rows.append({"image": str(path), "subject": f"s{i}", "age": 70 + i, "sex": "F", "split": "train" if i < 4 else "test", "prompt": "p"})
    pd.DataFrame(rows).to_csv(tmp_path / "slices.csv", index=False)
    tiny_components.save_pretrained(tmp_path / "base")
    return tmp_path


def test_cache_holds_the_train_split_and_equals_encoding_in_place(dataset, tiny_components):
    out = dataset / "latents" / "brain.pt"
    encode_latents(LatentsSettings(image_size=16), dataset / "slices.csv", str(dataset / "base"), out)
    rows = pd.read_csv(dataset / "slices.csv")
    train = rows[rows["split"] == "train"].iloc[::-1].reset_index(drop=True)  # any order, any subset
    mean, std = load_latents(out, train, 16)
    expected_mean, expected_std = encode_images(tiny_components, load_images(train["image"], 16))
    torch.testing.assert_close(mean, expected_mean)
    torch.testing.assert_close(std, expected_std)
    assert not list(out.parent.glob(".*"))  # written atomically: no temporary file left


def test_stale_or_foreign_cache_is_refused_with_the_reason(dataset):
    out = dataset / "brain.pt"
    encode_latents(LatentsSettings(image_size=16), dataset / "slices.csv", str(dataset / "base"), out)
    rows = pd.read_csv(dataset / "slices.csv")
    with pytest.raises(LdbenchError, match=r"no latents for 1 slice\(s\), e\.g\. .*slice4\.png"):
        load_latents(out, rows, 16)  # the test slice was never encoded
    with pytest.raises(LdbenchError, match="16-px images, the config asks for 32 px"):
        load_latents(out, rows[rows["split"] == "train"], 32)
    (dataset / "junk.pt").write_text("not a tensor file")
    with pytest.raises(LdbenchError, match="junk.pt: not a latent cache"):
        load_latents(dataset / "junk.pt", rows, 16)
    with pytest.raises(LdbenchError, match="latent cache not found"):
        load_latents(dataset / "missing.pt", rows, 16)
