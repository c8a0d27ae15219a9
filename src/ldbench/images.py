"""Image I/O shared by training, sampling and evaluation: PNG ↔ tensors in the model's range."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError

from .utils import LdbenchError, atomic_path


def read_gray(path: str | Path) -> np.ndarray:
    """8-bit grayscale pixels of an image file, with a clear error for a missing or corrupt file."""
    try:
        with Image.open(path) as img:
            return np.asarray(img.convert("L"), dtype=np.uint8)
    except FileNotFoundError as err:
        raise LdbenchError(f"{path}: image file not found") from err
    except (UnidentifiedImageError, OSError) as err:
        raise LdbenchError(f"{path}: not a readable image ({err})") from err


def load_images(paths: Sequence[str | Path], size: int | None = None) -> torch.Tensor:
    """Grayscale files → float tensor (N, 3, H, W) in [−1, 1], gray replicated to SD's three channels."""
    arrays = []
    for path in paths:
        pixels = read_gray(path)
        if size is not None and pixels.shape != (size, size):
            pixels = np.asarray(Image.fromarray(pixels).resize((size, size), Image.BICUBIC))
        arrays.append(pixels)
    return gray_uint8_to_model(np.stack(arrays))


def gray_uint8_to_model(images: np.ndarray) -> torch.Tensor:
    """(N, H, W) uint8 grayscale → the model's input (N, 3, H, W) in [−1, 1], gray replicated to SD's three channels."""
    gray = torch.from_numpy(np.asarray(images)).float().div(127.5).sub(1.0)
    return gray[:, None].expand(-1, 3, -1, -1).contiguous()


def to_gray_uint8(images: torch.Tensor) -> np.ndarray:
    """Model output (N, 3, H, W) in [−1, 1] → (N, H, W) uint8 grayscale (channel mean)."""
    gray = images.float().clamp(-1, 1).mean(dim=1)
    return ((gray + 1.0) * 127.5).round().to(torch.uint8).cpu().numpy()


def gray_uint8_to_unit(images: np.ndarray) -> torch.Tensor:
    """(N, H, W) uint8 → (N, 1, H, W) float in [0, 1], the classifier's input."""
    return torch.from_numpy(np.ascontiguousarray(images)).float().div(255.0)[:, None]


def read_grays(paths: Sequence[str | Path]) -> np.ndarray:
    """Image files → (N, H, W) uint8 grayscale."""
    return np.stack([read_gray(p) for p in paths])


def load_classifier_inputs(paths: Sequence[str | Path]) -> torch.Tensor:
    """Image files → (N, 1, H, W) float in [0, 1], the classifier's and feature extractor's input."""
    return gray_uint8_to_unit(read_grays(paths))


def save_png(path: str | Path, pixels: np.ndarray) -> None:
    with atomic_path(path) as tmp:
        Image.fromarray(pixels).save(tmp, format="PNG", optimize=False)


def image_grid(images: Sequence[np.ndarray], ncols: int, pad: int = 2, value: int = 255) -> np.ndarray:
    """Tile equally sized grayscale images into one array (for figures)."""
    h, w = images[0].shape[:2]
    nrows = (len(images) + ncols - 1) // ncols
    grid = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad), value, dtype=np.uint8)
    for k, img in enumerate(images):
        r, c = divmod(k, ncols)
        grid[r * (h + pad) : r * (h + pad) + h, c * (w + pad) : c * (w + pad) + w] = img
    return grid
