"""Packaged natural images, the crop dataset and VAE pre-training."""

from __future__ import annotations

import socket

import numpy as np
import pytest
import torch

from ldbench.natural_images import NaturalCropDataset, _load_all, load_natural_images
from ldbench.utils import LdbenchError


def _no_network(*args, **kwargs):
    raise RuntimeError("network access attempted")


@pytest.fixture(scope="module")
def images():
    return load_natural_images()


def test_images_load_without_network(monkeypatch):
    _load_all.cache_clear()
    monkeypatch.setattr(socket.socket, "connect", _no_network)
    monkeypatch.setattr(socket, "create_connection", _no_network)
    monkeypatch.setattr(socket, "getaddrinfo", _no_network)
    images = load_natural_images()
    assert len(images) >= 100
    captions = {caption for _, caption in images}
    assert {"a photo of a cat", "a photo of a face", "a photo of a rocket", "a photo of a flower"} <= captions
    for image, caption in images:
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3, caption
        assert min(image.shape[:2]) >= 25
    assert sum(caption == "a photo of a face" for _, caption in images) == 100


def test_crop_dataset_is_deterministic(images):
    a = NaturalCropDataset(images, size=32, length=50, seed=7)
    b = NaturalCropDataset(images, size=32, length=50, seed=7)
    c = NaturalCropDataset(images, size=32, length=50, seed=8)
    backwards = [b[i] for i in reversed(range(len(b)))][::-1]  # access order does not matter
    for i in range(len(a)):
        item = a[i]
        assert item["pixel_values"].shape == (3, 32, 32) and item["pixel_values"].dtype == torch.float32
        assert -1.0 <= float(item["pixel_values"].min()) and float(item["pixel_values"].max()) <= 1.0
        assert isinstance(item["caption"], str)
        assert torch.equal(item["pixel_values"], backwards[i]["pixel_values"])
        assert item["caption"] == backwards[i]["caption"]
    assert any(not torch.equal(a[i]["pixel_values"], c[i]["pixel_values"]) for i in range(10))
    assert len({a[i]["caption"] for i in range(len(a))}) > 5  # groups, not 100 faces, dominate
    with pytest.raises(IndexError):
        a[50]


def test_crop_dataset_grayscale_and_errors():
    gray = (np.arange(40 * 60) % 256).astype(np.uint8).reshape(40, 60)
    ds = NaturalCropDataset([(gray, "a gray ramp")], size=16, length=3, seed=0)
    x = ds[0]["pixel_values"]
    assert x.shape == (3, 16, 16) and torch.equal(x[0], x[1]) and torch.equal(x[1], x[2])
    with pytest.raises(LdbenchError):
        NaturalCropDataset([], size=16, length=3, seed=0)


def test_pretrain_vae_sets_scaling_factor(images):
    from ldbench.models import build_tiny_components
    from ldbench.vae_pretrain import pretrain_vae

    dataset = NaturalCropDataset(images, size=32, length=64, seed=0)
    results = []
    for _ in range(2):
        vae = build_tiny_components({}, seed=0).vae
        assert vae.config.scaling_factor == pytest.approx(0.18215)
        res = pretrain_vae(vae, dataset, steps=3, batch_size=4, lr=1e-3, seed=0, held_size=8)
        assert res["steps"] == 3
        assert np.isfinite(res["final_l1"]) and res["final_l1"] > 0
        assert vae.config.scaling_factor == pytest.approx(res["scaling_factor"])
        assert vae.config.scaling_factor != pytest.approx(0.18215)
        results.append((res, vae.state_dict()))
    (r1, s1), (r2, s2) = results
    assert r1["final_l1"] == r2["final_l1"] and r1["scaling_factor"] == r2["scaling_factor"]
    assert all(torch.equal(s1[k], s2[k]) for k in s1)
