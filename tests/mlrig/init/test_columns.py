"""`mlrig init` judging columns: ids, constants, saved indexes, nested values, repeated rows and
free text are told apart from features, and said (mlrig/init/columns.py)."""

from __future__ import annotations

import pandas as pd
from typer.testing import CliRunner

from mlrig.cli import app
from mlrig.components.config.loader import load
from tests.mlrig.init.helpers import init_file, init_table


def test_a_bool_target_and_columns_without_information(tmp_path):
    """A true/false target needs no positive label (it is read as 1/0, and 'True' matches 1);
    a column with no values or one value everywhere is left out, and init says so."""
    frame = pd.DataFrame(
        {
            "Order ID": range(8),
            "Unit Price": [1.5, 2.0, 3.0, 8.0, 9.5, 1.0, 7.0, 2.5],
            "notes": [None] * 8,
            "shop": ["x"] * 7 + [None],
            "Returned?": ["True", "False", "False", "True", "True", "False", "True", "False"],
        }
    )
    frame.to_csv(tmp_path / "orders.csv", index=False)
    out = tmp_path / "mlrig.yaml"
    result = CliRunner().invoke(app, ["init", str(tmp_path / "orders.csv"), "--target",
                                      "Returned?", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "'notes' is left out of the config: it has no values" in said
    assert "'shop' is left out of the config: it holds 'x' in every row (or empty)" in said
    cfg = load(out).config
    assert set(cfg.dataset.tables["main"].columns) == {"Order ID", "Unit Price", "Returned?"}
    assert cfg.dataset.tables["main"].columns["Returned?"].type == "bool"
    assert cfg.dataset.positive_label is None
    from mlrig.components.contract.contract import label_classes

    labels = pd.Series([1.0, 0.0, 1.0])  # as validate reads true/false
    assert label_classes(labels, "classification")[1:] == ([0, 1], 1)
    for written in ("True", "true", True, 1):  # what a user may write as the positive label
        assert label_classes(labels, "classification", written)[2] == 1
    # the model's classes of a bool target are False and True: it answers true/false
    classes = label_classes(labels, "classification", None, "bool")[1:]
    assert classes == ([False, True], True) and all(type(c) is bool for c in classes[0])
    assert label_classes(labels, "classification", "True", "bool")[2] is True


def test_a_text_column_with_a_value_per_row_is_an_identifier_not_a_feature(tmp_path):
    """Ids and emails as categoricals: a level per row, unseen in every request. Left out, and
    init says how to carry them through batch scoring."""
    n = 60
    frame = pd.DataFrame(
        {
            "txn_id": [f"T{i:05d}" for i in range(n)],
            "amount": [i * 1.37 for i in range(n)],
            "channel": ["web", "app", "pos"] * (n // 3),
            "fraud": ["no"] * (n - 10) + ["yes"] * 10,
        }
    )
    frame.to_csv(tmp_path / "txns.csv", index=False)
    out = tmp_path / "mlrig.yaml"
    result = CliRunner().invoke(app, ["init", str(tmp_path / "txns.csv"), "--target", "fraud",
                                      "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "'txn_id' is left out of the config: each row has its own value (60 distinct" in said
    assert "mlrig score --keep 'txn_id'" in said
    assert set(load(out).config.dataset.tables["main"].columns) == {"amount", "channel", "fraud"}
    frame.to_csv(tmp_path / "indexed.csv")  # with pandas' index, under a blank header
    result = CliRunner().invoke(app, ["init", str(tmp_path / "indexed.csv"), "--target", "fraud",
                                      "--out", str(tmp_path / "b.yaml")])  # fmt: skip
    assert (
        "'Unnamed: 0' is left out of the config: a row number saved without a header"
        in " ".join(result.output.split())
    )
    assert "Unnamed: 0" not in load(tmp_path / "b.yaml").config.dataset.tables["main"].columns


def test_a_header_naming_two_columns_alike_is_said(tmp_path):
    (tmp_path / "dup.csv").write_text("a,b,a,y\n" + "".join(f"{i},x,{i * 2},{i % 2}\n"
                                                          for i in range(30)))  # fmt: skip
    said, out = init_file(tmp_path / "dup.csv", "--target", "y")
    assert "'a.1': the file has more than one column 'a'; a later one is read as 'a.1'" in said
    assert "a.1" in load(out).config.dataset.tables["main"].columns


def test_nested_columns_are_left_out_and_a_file_without_header_is_named(tmp_path):
    frame = pd.DataFrame({"tags": [["a", "b"][: 1 + i % 2] for i in range(30)],
                          "v": [float(i) for i in range(30)], "y": [i % 2 for i in range(30)]})  # fmt: skip
    frame.to_parquet(tmp_path / "nested.parquet")
    said, out = init_file(tmp_path / "nested.parquet", "--target", "y")
    assert "'tags' is left out of the config: it holds lists or records (JSON)" in said
    assert "tags" not in load(out).config.dataset.tables["main"].columns
    frame[["v", "y"]].to_csv(tmp_path / "bare.csv", index=False, header=False)
    bare = CliRunner().invoke(app, ["init", str(tmp_path / "bare.csv"), "--target", "y",
                                    "--out", str(tmp_path / "b.yaml")])  # fmt: skip
    assert bare.exit_code == 2
    assert "the file seems to have no header row" in " ".join(bare.output.split())


def test_free_text_is_a_text_input_not_an_identifier(tmp_path):
    """A review per row is unique like an id, but init says it is text and makes it a text
    input (read as topics), not a category and not left out."""
    n = 60
    frame = pd.DataFrame(
        {
            "review": [f"arrived late and the box was torn, order {i}" for i in range(n)],
            "amount": [i * 1.5 for i in range(n)],
            "refund": ["no"] * (n - 12) + ["yes"] * 12,
        }
    )
    said, out = init_table(frame, tmp_path, "reviews.csv", "--target", "refund")
    assert "'review' is free text (60 distinct in 60, 9 words a row on average)" in said
    assert "as 16 topics (text: true)" in said and "identifier" not in said
    config = load(out).config
    review = config.dataset.tables["main"].columns["review"]
    assert (review.type, review.text) == ("str", True)
    assert "review" in config.dataset.request_features


def test_memos_that_repeat_are_text_and_repeated_phrases_are_categories(tmp_path):
    """A transaction memo repeats now and then (60 of 100 distinct): still text. A place name
    of three words in ten spellings is a category."""
    n = 100
    frame = pd.DataFrame(
        {
            "memo": [f"card payment at store {i % 60} online" for i in range(n)],
            "city": [f"New York {i % 10}" for i in range(n)],
            "fraud": ["no"] * (n - 20) + ["yes"] * 20,
        }
    )
    said, out = init_table(frame, tmp_path, "tx.csv", "--target", "fraud")
    columns = load(out).config.dataset.tables["main"].columns
    assert columns["memo"].text and not columns["city"].text
    assert "'memo' is free text (60 distinct in 100" in said and "'city' is free" not in said


def test_a_number_per_row_named_as_an_id_is_an_identifier_other_unique_numbers_stay(tmp_path):
    n = 60
    frame = pd.DataFrame(
        {
            "orderId": [1000 + i for i in range(n)],  # a row number: says only when it was written
            "invoice_id": [7 + (i % 30) for i in range(n)],  # repeats: a grouping, kept
            "paid": [5000 + i for i in range(n)],  # unique, but its name is no id
            "fraud": ["no"] * (n - 10) + ["yes"] * 10,
        }
    )
    said, out = init_table(frame, tmp_path, "orders.csv", "--target", "fraud")
    assert "'orderId' is left out of the config: each row has its own value (60 distinct" in said
    assert set(load(out).config.dataset.tables["main"].columns) == {"invoice_id", "paid", "fraud"}


def test_rows_repeated_in_every_column_are_counted_and_kept(tmp_path):
    frame = pd.DataFrame({"x": [i * 0.5 for i in range(60)], "y": ["a", "b", "c"] * 20})
    said, out = init_table(pd.concat([frame, frame.head(7)]), tmp_path, "t.csv", "--target", "y")
    assert "7 of 67 rows repeat an earlier row in every column: they are kept" in said
    assert load(out).config.dataset.target == "y"


def test_a_row_number_without_an_id_name_is_left_out(tmp_path):
    """0, 1, 2, ... in any order with its own value in every row is a row number whatever its
    name ('listing'); whole numbers that repeat or leave gaps stay features."""
    n = 80
    frame = pd.DataFrame({"listing": [(i * 37) % n for i in range(n)],  # a permutation of 0..79
                          "sqm": [40 + 3 * i for i in range(n)],  # distinct, but with gaps
                          "rooms": [1 + i % 5 for i in range(n)],
                          "price": [1000.0 * (i % 13) + i for i in range(n)]})  # fmt: skip
    said, out = init_table(frame, tmp_path, "houses.csv", "--target", "price")
    columns = load(out).config.dataset.tables["main"].columns
    assert "listing" not in columns and {"sqm", "rooms"} <= set(columns)
    assert "'listing' is left out of the config: each row has its own value (80 distinct" in said
