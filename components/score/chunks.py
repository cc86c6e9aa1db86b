"""A batch file's rows as batch scoring takes them: a chunk at a time, so memory follows the
chunk, not the file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from mlrig.components.config import env
from mlrig.components.config.schema import FileSource
from mlrig.components.contract.contract import Contract
from mlrig.components.score.core import BatchError
from mlrig.components.sources.chunks import file_rows, read_chunks

# rows read, scored and written at a time (MLRIG_SCORE_CHUNK_ROWS). The checks of one chunk run
# beside the model's predictions on the one before; the first is checked alone, so a smaller
# chunk starts the model sooner (1M flights, 2 cores: 16.6-17.0 s at 125k, 17.8 s at 250k)
CHUNK_ROWS = 125_000


def chunk_rows() -> int:
    """Rows scored at a time: MLRIG_SCORE_CHUNK_ROWS, else CHUNK_ROWS."""
    given = env.get(env.SCORE_CHUNK_ROWS)
    try:
        rows = int(given) if given else CHUNK_ROWS
    except ValueError:
        raise BatchError(f"{env.SCORE_CHUNK_ROWS}: '{given}' is not a number of rows") from None
    if rows < 1:
        raise BatchError(f"{env.SCORE_CHUNK_ROWS}: {rows} rows; a chunk holds at least one")
    return rows


def input_chunks(
    input_path: str, root: Path, main: Any, contract: Contract
) -> tuple[int | None, Iterator[pd.DataFrame]]:
    """The file's row count (None for text formats) and its rows, chunk_rows() at a time, read
    as ingest reads a file (CSV, parquet or JSON records): the text and time fields stay text,
    so codes such as zip "01003" keep their zeros (read as numbers they would be categories the
    model never saw); a CSV's separator is sniffed, its decimal mark and encoding are the
    training file's (main: the training table's source)."""
    text = [n for n, spec in contract.request_fields.items() if spec.type in ("str", "datetime")]
    same = (
        {"decimal": main.decimal, "encoding": main.encoding} if isinstance(main, FileSource) else {}
    )
    source = FileSource(kind="file", path=input_path, **same)  # as the training file
    chunks = read_chunks("input", source, root, text, chunk_rows())
    return file_rows(source, root), chunks
