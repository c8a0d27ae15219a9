"""Data layer: phantoms, dataset adapters, preprocessing to a slice table."""
