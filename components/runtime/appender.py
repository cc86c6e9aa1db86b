"""One parquet file written a chunk at a time (a row group each), so a table larger than memory
is never held whole. The first chunk fixes the schema (a column with no values yet is text);
each later chunk is cast to it, and a column whose values change type between chunks is
refused, naming it and the rows, instead of being coerced."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd


class ChunkTypeError(ValueError):
    """A later chunk's column cannot take the type the first chunk gave it."""


class ParquetAppender:
    """Append DataFrames of the same columns to one parquet file; use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = 0
        self._writer: Any = None
        self._schema: Any = None

    def __enter__(self) -> ParquetAppender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def write(self, frame: pd.DataFrame) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        table = pa.Table.from_pandas(frame, preserve_index=False)
        if self._writer is None:
            self._schema = _settled(table.schema)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(self.path, self._schema)
        self._writer.write_table(self._conformed(table))
        self.rows += len(frame)

    def _conformed(self, table: Any) -> Any:
        import pyarrow as pa

        if list(table.schema.names) != list(self._schema.names):
            raise ChunkTypeError(
                f"rows from {self.rows:,}: columns {table.schema.names}, where the first rows "
                f"had {self._schema.names}"
            )
        columns = []
        for field in self._schema:
            column = table.column(field.name)
            try:
                columns.append(column.cast(field.type) if column.type != field.type else column)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                raise ChunkTypeError(
                    f"column '{field.name}': read as {field.type} in the first rows and as "
                    f"{column.type} from row {self.rows:,}; give the column one type throughout "
                    "the file"
                ) from None
        return pa.Table.from_arrays(columns, schema=self._schema)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _settled(schema: Any) -> Any:
    """The file's schema: a column without any value in the first chunk (null type) is text,
    the type a later chunk's values can be kept as. pandas' metadata (written without an
    index) is kept: a nullable int column reads back as Int64, not floats."""
    import pyarrow as pa

    fields = [pa.field(f.name, pa.string()) if pa.types.is_null(f.type) else f for f in schema]
    return pa.schema(fields, metadata=schema.metadata)
