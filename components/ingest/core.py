"""Ingest: raw tables in, a content-hashed snapshot out."""

from __future__ import annotations

import hashlib

import pandas as pd


def content_hash(frame: pd.DataFrame) -> str:
    """Order-sensitive hash of a table's columns and values (stable across runs)."""
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).values.tobytes())
    return digest.hexdigest()


def dataset_hash(hashes: dict[str, str]) -> str:
    """One hash for a set of tables."""
    joined = "\n".join(f"{name}:{h}" for name, h in sorted(hashes.items()))
    return hashlib.sha256(joined.encode()).hexdigest()


def sample(frame: pd.DataFrame, rows: int | None, seed: int) -> pd.DataFrame:
    """A reproducible row sample, kept in its original order."""
    if rows is None or rows >= len(frame):
        return frame
    return frame.sample(n=rows, random_state=seed).sort_index().reset_index(drop=True)
