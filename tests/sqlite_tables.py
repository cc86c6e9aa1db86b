"""Writing a test's SQLite table without touching process-wide state.

pandas' ``to_sql`` on a plain ``sqlite3`` connection registers its own datetime adapters and
converters for the whole process, replacing the ones Feast's SQLite online store registered:
every later online write and read in that process then disagrees with a server reading the same
store. Through an SQLAlchemy engine pandas registers nothing.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import sqlalchemy


def write_table(database: Path, name: str, frame: pd.DataFrame) -> None:
    """Write frame as table name of the SQLite file database (created when missing)."""
    engine = sqlalchemy.create_engine(f"sqlite:///{database}")
    try:
        frame.to_sql(name, engine, index=False)
    finally:
        engine.dispose()
