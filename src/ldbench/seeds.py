"""Every random stream of the pipeline, derived from the config's ``seed`` and the stream's names.

``derive_seed(seed, "synthesize", "noise")`` hashes its keys, so streams of different stages or
purposes never share numbers and no stage keeps a table of offsets; a stream's per-image or
per-step generators are derived the same way (``derive_seed(stream, i)``). Changing the config
``seed`` changes every stream; everything else about a run leaves them as they are.
"""

from __future__ import annotations

import hashlib


def derive_seed(seed: int, *keys: str | int) -> int:
    """A 63-bit seed (valid for NumPy, torch and Python's ``random``) for the stream named by ``keys``."""
    text = "/".join([str(int(seed)), *map(str, keys)])
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big") >> 1
