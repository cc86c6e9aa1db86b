"""`mlrig init` from a database (by table or query) and from an HTTP API, not only a file: the
config's source is the one init read, and a relative SQLite file is found from any folder."""

from __future__ import annotations

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from mlrig.cli import app
from mlrig.components.config.loader import load
from mlrig.components.sources.readers import read_source
from tests.helpers import json_api
from tests.sqlite_tables import write_table

ROWS = [{"customer": 1 + i % 9, "store": str(1 + i % 4), "placed_at": f"2025-01-{1 + i % 28:02d}",
         "basket": 10.0 + i % 17, "returned": "yes" if i % 5 == 0 else "no"} for i in range(90)]  # fmt: skip


def _init(folder, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, ["init", *args, "--out", str(folder / "mlrig.yaml"), "--force"]
    )
    return result.exit_code, " ".join(result.output.split())


def test_a_database_table_or_query_becomes_the_configs_source(tmp_path, monkeypatch):
    with sqlite3.connect(tmp_path / "shop.db") as db:
        db.execute("CREATE TABLE orders (customer INT, store TEXT, placed_at TEXT, basket REAL,"
                   " returned TEXT)")  # fmt: skip
        db.executemany(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?)", [tuple(r.values()) for r in ROWS]
        )
    db.close()
    monkeypatch.chdir(tmp_path)
    code, said = _init(tmp_path, "sqlite:///shop.db", "--table", "orders", "--target", "returned",
                       "--entity", "customer", "--timestamp", "placed_at")  # fmt: skip
    assert code == 0, said
    assert "wrote" in said and "'store' holds whole numbers that the file stores as text" in said
    cfg = load(tmp_path / "mlrig.yaml").config
    source = cfg.dataset.tables["main"].source
    assert (source.kind, source.url, source.query) == ("sql", "sqlite:///shop.db",
                                                       "SELECT * FROM orders")  # fmt: skip
    columns = cfg.dataset.tables["main"].columns
    assert (columns["store"].type, columns["placed_at"].type) == ("str", "datetime")
    assert cfg.dataset.positive_label == "yes"
    # a stage runs in another folder: the relative SQLite file is the config folder's
    monkeypatch.chdir(tmp_path.parent)
    assert len(read_source("main", source, tmp_path)) == len(ROWS)

    code, said = _init(tmp_path, f"sqlite:///{tmp_path / 'shop.db'}", "--query",
                       "SELECT * FROM orders WHERE basket > 12", "--target", "returned")  # fmt: skip
    assert code == 0, said
    query = load(tmp_path / "mlrig.yaml").config.dataset.tables["main"].source.query
    assert query == "SELECT * FROM orders WHERE basket > 12"


@pytest.mark.parametrize(("args", "message"), [
    (["postgresql://u:secret@db/shop", "--table", "t"], "postgresql://u:***@db/shop: the URL holds a password"),
    (["sqlite:///shop.db"], "a database source needs --table NAME or --query"),
    (["sqlite:///shop.db", "--table", "orders; DROP TABLE x"], "not a plain table name"),
    (["orders.csv", "--table", "orders"], "--table/--query: the source is not a database URL"),
    (["orders.csv", "--records-path", "data"], "--records-path/--header/--next-path: only for an http(s)"),
    (["https://x.test/o", "--header", "Authorization: Bearer abc"], "--header: Authorization holds a credential"),
    (["https://x.test/o", "--header", "Accept"], "--header: 'Accept' is not 'Name: value'"),
])  # fmt: skip
def test_a_source_that_cannot_be_read_as_asked_is_named(tmp_path, args, message):
    code, said = _init(tmp_path, *args, "--target", "returned")
    assert code == 2 and message in said, said


@pytest.fixture
def api():
    with json_api(json.dumps({"data": {"orders": ROWS}}).encode(), token="s3cret") as url:
        yield url


def test_an_http_api_answering_json_records(tmp_path, api):
    url = f"{api}/v1/orders"
    code, said = _init(tmp_path, url, "--records-path", "data.orders", "--target", "returned")
    assert code == 0, said
    cfg = load(tmp_path / "mlrig.yaml").config
    source = cfg.dataset.tables["main"].source
    assert (source.kind, source.url, source.records_path) == ("http", url, "data.orders")
    assert cfg.project == "orders-returned" and len(read_source("main", source, tmp_path)) == len(
        ROWS
    )
    assert cfg.dataset.tables["main"].columns["store"].type == "str"  # JSON typed it as text


def test_an_api_behind_a_token_reads_it_from_the_environment(tmp_path, api, monkeypatch):
    url, token = f"{api}/private/orders", "Authorization: Bearer ${API_TOKEN}"
    args = [url, "--records-path", "data.orders", "--header", token, "--target", "returned"]
    monkeypatch.delenv("API_TOKEN", raising=False)
    code, said = _init(tmp_path, *args)
    assert code == 2 and "${API_TOKEN} is not set (set API_TOKEN, or API_TOKEN_FILE" in said
    monkeypatch.setenv("API_TOKEN", "wrong")
    code, said = _init(tmp_path, *args)
    assert code == 2 and "401" in said
    monkeypatch.setenv("API_TOKEN", "s3cret")
    code, said = _init(tmp_path, *args)
    assert code == 0, said
    written = (tmp_path / "mlrig.yaml").read_text()
    assert "s3cret" not in written and "Bearer ${API_TOKEN}" in written
    source = load(tmp_path / "mlrig.yaml").config.dataset.tables["main"].source
    assert len(read_source("main", source, tmp_path)) == len(ROWS)


def test_a_paged_api_is_read_whole_and_configured_so(tmp_path):
    half = len(ROWS) // 2
    pages = {"/orders?page=1": {"items": ROWS[:half], "next": "/orders?page=2"},
             "/orders?page=2": {"items": ROWS[half:], "next": None}}  # fmt: skip
    with json_api({k: json.dumps(v).encode() for k, v in pages.items()}) as url:
        code, said = _init(tmp_path, f"{url}/orders?page=1", "--records-path", "items",
                           "--next-path", "next", "--target", "returned")  # fmt: skip
        assert code == 0, said
        assert f"{len(ROWS)} rows" in said
        source = load(tmp_path / "mlrig.yaml").config.dataset.tables["main"].source
        assert source.next_path == "next"
        assert len(read_source("main", source, tmp_path)) == len(ROWS)


def test_a_csv_over_http_is_fetched_once_and_keeps_its_codes(tmp_path):
    lines = ["order_id,zip,amount,returned"] + [
        f"{i},{'0' if i % 2 else '1'}{2139 + i % 7},{10 + i % 13}.5,{i % 3 == 0}" for i in range(60)
    ]
    hits: list[str] = []
    with json_api({"/export/orders.csv": "\n".join(lines).encode()}, hits=hits) as url:
        code, said = _init(tmp_path, f"{url}/export/orders.csv", "--target", "returned")
        assert code == 0, said
        assert hits == ["/export/orders.csv"]  # the header is not fetched on its own
        cfg = load(tmp_path / "mlrig.yaml").config
        columns = cfg.dataset.tables["main"].columns
        assert columns["amount"].type == "float" and columns["zip"].type == "str"
        frame = read_source("main", cfg.dataset.tables["main"].source, tmp_path, ["zip"])
        assert frame["zip"].str.startswith("0").sum() == 30  # leading zeros kept


def test_json_lines_over_http(tmp_path):
    lines = "\n".join(json.dumps(r) for r in ROWS).encode()
    with json_api({"/export/orders.ndjson": lines}) as url:
        code, said = _init(tmp_path, f"{url}/export/orders.ndjson", "--target", "returned")
        assert code == 0, said
        cfg = load(tmp_path / "mlrig.yaml").config
        source = cfg.dataset.tables["main"].source
        assert (source.format, cfg.project) == ("jsonl", "orders-returned")
        assert len(read_source("main", source, tmp_path)) == len(ROWS)
        assert cfg.dataset.tables["main"].columns["store"].type == "str"  # JSON typed it as text


@pytest.mark.parametrize("kind", ["csv", "parquet", "jsonl", "sqlite"])
def test_init_reads_at_most_max_rows_and_says_so(tmp_path, kind):
    """A table longer than --max-rows: init infers from its first rows (a file read from its
    start, a query fetched in one chunk), says so, and the config reads the whole table."""
    import pandas as pd

    frame = pd.DataFrame(ROWS * 4)  # 360 rows
    if kind == "sqlite":
        write_table(tmp_path / "shop.db", "orders", frame)
        spec = ["sqlite:///" + str(tmp_path / "shop.db"), "--table", "orders"]
    else:
        path = tmp_path / f"orders.{kind}"
        {"csv": lambda: frame.to_csv(path, index=False),
         "parquet": lambda: frame.to_parquet(path, index=False, row_group_size=50),
         "jsonl": lambda: frame.to_json(path, orient="records", lines=True)}[kind]()  # fmt: skip
        spec = [str(path)]
    code, said = _init(tmp_path, *spec, "--target", "returned", "--max-rows", "100")
    assert code == 0, said
    assert "wrote" in said and ": 100 rows" in said
    assert "the config is inferred from the first 100 rows (--max-rows)" in said
    source = load(tmp_path / "mlrig.yaml").config.dataset.tables["main"].source
    assert len(read_source("main", source, tmp_path)) == 360  # the run reads them all
    code, said = _init(tmp_path, *spec, "--target", "returned", "--max-rows", "360")
    assert code == 0 and "--max-rows" not in said and ": 360 rows" in said


def test_a_paged_api_is_read_only_as_far_as_max_rows(tmp_path):
    pages = {f"/orders?page={p}": {"items": ROWS, "next": f"/orders?page={p + 1}" if p < 3 else None}
             for p in (1, 2, 3)}  # fmt: skip
    hits: list[str] = []
    with json_api({k: json.dumps(v).encode() for k, v in pages.items()}, hits=hits) as url:
        args = [f"{url}/orders?page=1", "--records-path", "items", "--next-path", "next",
                "--target", "returned"]  # fmt: skip
        code, said = _init(tmp_path, *args, "--max-rows", "1000")  # 270 rows: all of them
        assert code == 0 and hits == [f"/orders?page={p}" for p in (1, 2, 3)], said
        assert "--max-rows" not in said
        hits.clear()
        code, said = _init(tmp_path, *args, "--max-rows", "100")  # two pages hold 101
        assert code == 0 and hits == ["/orders?page=1", "/orders?page=2"], said
        assert ": 100 rows" in said and "the first 100 rows (--max-rows)" in said
