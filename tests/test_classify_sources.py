"""Data-utility rows are fair: equal sizes, no image twice, training length counted in real epochs."""

import pandas as pd
import pytest

from ldbench.settings import ClassifierSettings, ClassifierTask, ClassifySettings
from ldbench.stages.classify import training_rows


def _settings():
    return ClassifySettings(task=ClassifierTask(targets=("label_AD",), rows_query="diagnosis != 'MCI'"),
                            classifier=ClassifierSettings(arch="small_cnn", width=8, epochs=3, batch_size=4, lr=1e-3),
                            seeds=(0,), seed=0)


@pytest.fixture
def data(tmp_path):
    n = 20
    diagnosis = ["AD", "CN", "MCI", "CN"] * (n // 4)
    train = pd.DataFrame({"image": [f"real/{i}.png" for i in range(n)], "subject": [f"s{i // 2}" for i in range(n)], "age": 70, "sex": "F",
                          "split": "train", "prompt": "p", "diagnosis": diagnosis, "label_AD": [float(d == "AD") for d in diagnosis]})
    test = train.assign(image=[f"test/{i}.png" for i in range(n)], split="test")
    twin = train.drop(columns=["split"]).assign(image=[f"synthetic/{i}.png" for i in range(n)])  # synthesize's train_split twin
    twin.to_csv(tmp_path / "samples.csv", index=False)
    return pd.concat([train, test], ignore_index=True), [tmp_path / "samples.csv"]


def test_sources_have_the_real_size_or_twice_it_and_steps_to_match(data):
    slices, samples = data
    real, real_steps = training_rows(_settings(), "real", slices, [])
    assert len(real) == 15 and real_steps == 3 * (15 // 4)  # CN/AD rows; 3 epochs of the real set
    synthetic, steps = training_rows(_settings(), "basic_ft-LD", slices, samples)
    assert len(synthetic) == len(real) and steps == real_steps and synthetic["image"].is_unique
    mixed, steps = training_rows(_settings(), "mixed+basic_ft-LD", slices, samples)
    assert len(mixed) == len(real) and steps == real_steps and mixed["image"].is_unique
    assert mixed["image"].str.startswith("real/").sum() == len(real) // 2
    twins_of_real_half = {p.replace("real/", "synthetic/") for p in mixed["image"] if p.startswith("real/")}
    assert not twins_of_real_half & set(mixed["image"])  # no slice appears both as itself and as its synthetic twin
    doubled, steps = training_rows(_settings(), "real+basic_ft-LD", slices, samples)
    assert len(doubled) == 2 * len(real) and steps == 2 * real_steps and doubled["image"].is_unique
    control, steps = training_rows(_settings(), "real-2x", slices, [])
    assert control.equals(real) and steps == 2 * real_steps  # real only, as many steps as the doubled set
