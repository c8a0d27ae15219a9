"""Natural images that ship inside PyPI wheels, for pre-training the embedded tiny base model.

No download happens: every image here is a file inside the scikit-image or scikit-learn wheel
(scikit-image's other ``data`` images are fetched with pooch on first use and are left out).
Medical and microscopy images that scikit-image also ships (retina, immunohistochemistry,
microaneurysms, cells, the Shepp-Logan phantom) are left out on purpose, so the base model knows
natural photographs only and the medical domain is new to it, as it is to SD 1.5.

Captions follow the image names ("a photo of a cat").  ``lfw_subset`` holds 100 faces followed by
100 background patches; only the faces are used.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable

import numpy as np
import torch

from .utils import LdbenchError


def _skimage(name: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        import skimage.data

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            image = getattr(skimage.data, name)()
        return image[0] if isinstance(image, tuple) else image  # stereo_motorcycle → left view

    return load


def _sklearn(filename: str) -> Callable[[], np.ndarray]:
    def load() -> np.ndarray:
        from sklearn.datasets import load_sample_image

        return load_sample_image(filename)

    return load


# (name, caption, loader). Every loader reads a file inside an installed wheel.
NATURAL_IMAGE_SOURCES: list[tuple[str, str, Callable[[], np.ndarray]]] = [
    ("skimage.astronaut", "a photo of an astronaut", _skimage("astronaut")),
    ("skimage.camera", "a photo of a man with a camera", _skimage("camera")),
    ("skimage.chelsea", "a photo of a cat", _skimage("chelsea")),
    ("skimage.coffee", "a photo of a cup of coffee", _skimage("coffee")),
    ("skimage.rocket", "a photo of a rocket", _skimage("rocket")),
    ("skimage.stereo_motorcycle", "a photo of a motorcycle", _skimage("stereo_motorcycle")),
    ("skimage.hubble_deep_field", "a photo of galaxies in deep space", _skimage("hubble_deep_field")),
    ("skimage.moon", "a photo of the surface of the moon", _skimage("moon")),
    ("skimage.coins", "a photo of coins", _skimage("coins")),
    ("skimage.clock", "a photo of a clock", _skimage("clock")),
    ("skimage.brick", "a photo of a brick wall", _skimage("brick")),
    ("skimage.grass", "a photo of grass", _skimage("grass")),
    ("skimage.gravel", "a photo of gravel", _skimage("gravel")),
    ("skimage.page", "a photo of a page of text", _skimage("page")),
    ("skimage.horse", "a silhouette of a horse", _skimage("horse")),
    ("sklearn.china", "a photo of a chinese temple", _sklearn("china.jpg")),
    ("sklearn.flower", "a photo of a flower", _sklearn("flower.jpg")),
]
FACE_CAPTION = "a photo of a face"
N_LFW_FACES = 100  # skimage.data.lfw_subset(): 100 faces, then 100 non-faces


def to_rgb_uint8(image: np.ndarray) -> np.ndarray:
    """Any 2-D/3-D bool, integer or float ([0, 1]) image → H×W×3 uint8 (gray repeated, alpha dropped)."""
    image = np.asarray(image)
    if image.dtype == bool:
        image = image.astype(np.uint8) * 255
    elif np.issubdtype(image.dtype, np.floating):
        image = np.clip(np.rint(image * 255.0), 0, 255).astype(np.uint8)
    elif image.dtype != np.uint8:
        image = np.clip(image, 0, 255).astype(np.uint8)
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    elif image.ndim == 3 and image.shape[2] == 1:
        image = np.repeat(image, 3, axis=2)
    elif image.ndim == 3 and image.shape[2] == 4:
        image = image[:, :, :3]
    if image.ndim != 3 or image.shape[2] != 3:
        raise LdbenchError(f"cannot convert an image of shape {image.shape} to RGB")
    return np.ascontiguousarray(image)


@functools.lru_cache(maxsize=1)
def _load_all() -> tuple[tuple[np.ndarray, str], ...]:
    out: list[tuple[np.ndarray, str]] = []
    for name, caption, load in NATURAL_IMAGE_SOURCES:
        try:
            image = load()
        except Exception as err:
            raise LdbenchError(
                f"could not load the packaged image {name} ({type(err).__name__}: {err}); "
                "scikit-image and scikit-learn must be installed from their wheels"
            ) from err
        image = to_rgb_uint8(image)
        image.setflags(write=False)
        out.append((image, caption))
    try:
        import skimage.data

        faces = skimage.data.lfw_subset()[:N_LFW_FACES]
    except Exception as err:
        raise LdbenchError(f"could not load scikit-image's lfw_subset ({type(err).__name__}: {err})") from err
    for face in faces:
        image = to_rgb_uint8(face)
        image.setflags(write=False)
        out.append((image, FACE_CAPTION))
    return tuple(out)


def load_natural_images() -> list[tuple[np.ndarray, str]]:
    """All packaged natural images as (H×W×3 uint8 array, caption); no network access.

    17 photos and textures from scikit-image / scikit-learn plus 100 LFW faces (25×25).
    Arrays are read-only and shared between calls.
    """
    return list(_load_all())


def describe_natural_images() -> dict:
    """What :func:`load_natural_images` returns, for a model's metadata."""
    images = load_natural_images()
    captions: dict[str, int] = {}
    for _, caption in images:
        captions[caption] = captions.get(caption, 0) + 1
    return {
        "sources": [name for name, _, _ in NATURAL_IMAGE_SOURCES] + [f"skimage.lfw_subset[:{N_LFW_FACES}]"],
        "n_images": len(images),
        "captions": captions,
    }


class NaturalCropDataset(torch.utils.data.Dataset):
    """Deterministic random crops of a list of (image, caption) pairs.

    Item ``i`` depends on ``(seed, i)`` only: a caption group is drawn uniformly (so the 100 faces
    count as one group, like any single photo), then an image of that group, a square crop whose
    side is 0.3–1.0 of the image's short side (never below ``min(short side, size/2)`` pixels, so
    the 25-px faces are used whole), an antialiased bilinear resize to ``size`` and a horizontal
    flip with probability 1/2.
    """

    def __init__(
        self,
        images: list[tuple[np.ndarray, str]],
        size: int,
        length: int,
        seed: int,
        scale: tuple[float, float] = (0.3, 1.0),
    ):
        if not images:
            raise LdbenchError("NaturalCropDataset: no images")
        if int(size) < 1 or int(length) < 1:
            raise LdbenchError(f"NaturalCropDataset: size ({size}) and length ({length}) must be positive")
        self.images = [(to_rgb_uint8(img), str(cap)) for img, cap in images]
        self.size = int(size)
        self.length = int(length)
        self.seed = int(seed)
        self.scale = (float(scale[0]), float(scale[1]))
        groups: dict[str, list[int]] = {}
        for k, (_, caption) in enumerate(self.images):
            groups.setdefault(caption, []).append(k)
        self.groups = list(groups.values())  # insertion order: deterministic

    def __len__(self) -> int:
        return self.length

    def crop_params(self, i: int) -> dict:
        """Which image, crop box and flip item ``i`` uses."""
        rng = np.random.default_rng(np.random.SeedSequence([self.seed & 0xFFFFFFFF, self.seed >> 32 & 0xFFFFFFFF, int(i)]))
        group = self.groups[int(rng.integers(len(self.groups)))]
        k = group[int(rng.integers(len(group)))]
        h, w = self.images[k][0].shape[:2]
        short = min(h, w)
        lo = max(self.scale[0] * short, min(short, self.size / 2))
        hi = max(lo, self.scale[1] * short)
        side = round(float(rng.uniform(lo, hi)))
        side = max(1, min(side, short))
        top = int(rng.integers(h - side + 1))
        left = int(rng.integers(w - side + 1))
        flip = bool(rng.random() < 0.5)
        return {"image": k, "top": top, "left": left, "side": side, "flip": flip}

    def __getitem__(self, i: int) -> dict:
        if not 0 <= int(i) < self.length:
            raise IndexError(i)
        p = self.crop_params(int(i))
        image, caption = self.images[p["image"]]
        crop = image[p["top"] : p["top"] + p["side"], p["left"] : p["left"] + p["side"]]
        x = torch.from_numpy(np.array(crop, copy=True)).permute(2, 0, 1)[None].float()
        if p["side"] != self.size:
            x = torch.nn.functional.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False, antialias=True)
        x = (x[0] / 127.5 - 1.0).clamp(-1.0, 1.0)
        if p["flip"]:
            x = x.flip(-1)
        return {"pixel_values": x.contiguous(), "caption": caption}
