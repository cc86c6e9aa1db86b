"""A folder of named parquet tables plus a manifest: how stages hand tabular data to each other."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa

MANIFEST = "manifest.json"


def write_tables(folder: str | Path, tables: dict[str, pd.DataFrame], meta: dict[str, Any]) -> None:
    """Write each table as <name>.parquet and the manifest (meta + row counts)."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for name, frame in tables.items():
        frame.to_parquet(out / f"{name}.parquet", index=False)
    release_arrow_memory()
    manifest = {**meta, "tables": {n: {"rows": len(f)} for n, f in tables.items()}}
    if isinstance(meta.get("tables"), dict):
        for name, info in meta["tables"].items():
            manifest["tables"].setdefault(name, {}).update(info)
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str))


def read_tables(folder: str | Path) -> dict[str, pd.DataFrame]:
    """Read every table the manifest names."""
    src = Path(folder)
    out = {name: pd.read_parquet(src / f"{name}.parquet") for name in read_manifest(src)["tables"]}
    release_arrow_memory()
    return out


def release_arrow_memory() -> None:
    """Hand back to the system what Arrow's allocator kept after a conversion to or from pandas.
    It keeps freed memory for reuse: after reading a 3.3M-row training set, 1.1 GB of the
    process's 2.2 GB was memory Arrow no longer used."""
    pa.default_memory_pool().release_unused()


def read_manifest(folder: str | Path) -> dict[str, Any]:
    return json.loads((Path(folder) / MANIFEST).read_text())


def write_json(folder: str | Path, name: str, data: Any) -> None:
    """A JSON file in an artifact folder, written atomically (temp file, then rename)."""
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str))
    tmp.replace(path)


def read_json(folder: str | Path, name: str) -> Any:
    return json.loads((Path(folder) / name).read_text())


def clear_of(frame: pd.DataFrame, taken: list[str]) -> pd.DataFrame:
    """A table's own column named like one mlrig adds beside it (its own 'prediction', or
    '_reason') renamed '<name>_input': both are kept, neither overwrites the other."""
    names: dict[str, str] = {}
    for name in frame.columns:
        if name in taken:
            new = f"{name}_input"
            while new in frame.columns or new in taken:
                new += "_"
            names[name] = new
    return frame.rename(columns=names)
