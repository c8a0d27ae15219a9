"""Readers for real datasets (OASIS-3, ADNI, CheXpert) → one frame per image/volume."""
