"""`mlrig init` writes a config that loads and needs no edit: types, categoricals, task,
positive label and date parts inferred from the table."""

from __future__ import annotations

import pandas as pd
import yaml
from typer.testing import CliRunner

from mlrig.cli import app
from mlrig.components.config.loader import load
from tests.mlrig.init.helpers import init_table


def _table(folder):
    frame = pd.DataFrame(
        {
            "customer_id": [1, 2, 3, 4, 5, 6],
            "signup": [f"2024-01-0{d} 10:30" for d in range(1, 7)],
            "zip": ["02139", "02140", None, "02139", "10001", "10001"],
            "spend": [1.5, None, 3.25, 4.0, 2.0, 8.5],
            "visits": [3, 4, 1, 0, 2, 9],
            "churned": ["no", "no", "yes", "no", "no", "yes"],
        }
    )
    path = folder / "customers.csv"
    frame.to_csv(path, index=False)
    return path


def test_init_writes_a_config_that_loads(tmp_path):
    data = _table(tmp_path)
    out = tmp_path / "mlrig.yaml"
    args = ["init", str(data), "--target", "churned", "--entity", "customer_id",
            "--timestamp", "signup", "--out", str(out)]  # fmt: skip
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    cfg = load(out).config
    columns = cfg.dataset.tables["main"].columns
    assert columns["zip"].type == "str" and columns["zip"].nullable  # a code, not a number
    assert columns["spend"].type == "float" and columns["visits"].type == "int"
    assert columns["signup"].type == "datetime" and cfg.dataset.event_timestamp == "signup"
    assert cfg.dataset.task == "classification" and cfg.dataset.positive_label == "yes"
    assert "hour" in cfg.dataset.date_parts.parts
    assert cfg.dataset.request_features == ["zip", "spend", "visits"]  # key and time excluded
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 2 and "exists" in again.output


def test_init_names_a_missing_target_and_infers_regression(tmp_path):
    data = _table(tmp_path)
    bad = CliRunner().invoke(app, ["init", str(data), "--target", "nope",
                                   "--out", str(tmp_path / "a.yaml")])  # fmt: skip
    assert bad.exit_code == 2 and "--target: no column 'nope'" in bad.output
    frame = pd.DataFrame({"x": range(60), "y": [i * 1.5 + 0.1 for i in range(60)]})
    frame.to_csv(tmp_path / "reg.csv", index=False)
    ok = CliRunner().invoke(app, ["init", str(tmp_path / "reg.csv"), "--target", "y",
                                  "--out", str(tmp_path / "b.yaml")])  # fmt: skip
    assert ok.exit_code == 0, ok.output
    written = yaml.safe_load((tmp_path / "b.yaml").read_text())
    assert written["dataset"]["task"] == "regression"
    assert "distinct numbers" not in ok.output
    counts = pd.DataFrame({"x": range(60), "visits": [i % 6 for i in range(60)]})
    counts.to_csv(tmp_path / "counts.csv", index=False)
    few = CliRunner().invoke(app, ["init", str(tmp_path / "counts.csv"), "--target", "visits",
                                   "--out", str(tmp_path / "c.yaml")])  # fmt: skip
    said = " ".join(few.output.split())
    assert "'visits' holds 6 distinct numbers: each is a class" in said
    assert "set dataset.task: regression" in said
    assert load(tmp_path / "b.yaml").config.model.primary_metric == "rmse"


def test_a_few_numbers_that_never_repeat_are_amounts_not_classes(tmp_path):
    """statsmodels' longley: 16 years, each with its own employment count, had been read as 16
    classes of one row each (and trained to an accuracy of 0)."""
    frame = pd.DataFrame({"year": range(1947, 1963), "gnp": [234.3 + 10 * i for i in range(16)],
                          "employed": [60323 + 250 * i for i in range(16)]})  # fmt: skip
    said, out = init_table(frame, tmp_path, "longley.csv", "--target", "employed")
    assert load(out).config.dataset.task == "regression" and "distinct numbers" not in said


def test_a_time_column_without_timestamp_gives_date_parts_and_says_so(tmp_path):
    """A time column that is not the event time is not silently left out: its date parts are
    model inputs, and init says how to make it the event time instead."""
    data = _table(tmp_path)
    frame = pd.read_csv(data, dtype={"zip": str})
    frame["last_seen"] = [f"2024-02-0{d}" for d in range(1, 7)]
    frame.to_csv(data, index=False)
    out = tmp_path / "mlrig.yaml"
    result = CliRunner().invoke(app, ["init", str(data), "--target", "churned", "--out", str(out)])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())
    assert "'signup' holds times" in said and "--timestamp signup" in said
    assert "'last_seen' holds times and is not a model input" in said
    cfg = load(out).config
    assert cfg.dataset.event_timestamp is None
    assert cfg.dataset.date_parts.column == "signup" and "hour" in cfg.dataset.date_parts.parts
    from mlrig.components.contract.contract import draft

    assert "signup" in draft(cfg, None).request_fields  # sent with the request for its parts


def test_a_semicolon_csv_with_decimal_commas_gets_its_separator_and_decimal_mark(tmp_path):
    rows = ["id;price;weight;plan;churned"]
    rows += [f"{i};{i},5;1.2{i % 10}{i // 10},25;{'ab'[i % 2]};{'yes' if i % 3 else 'no'}"
             for i in range(60)]  # fmt: skip
    (tmp_path / "export.csv").write_text("\n".join(rows) + "\n")
    out = tmp_path / "mlrig.yaml"
    result = CliRunner().invoke(app, ["init", str(tmp_path / "export.csv"), "--target", "churned",
                                      "--entity", "id", "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "left out" not in result.output  # 60 distinct prices are numbers, not ids
    cfg = load(out).config
    main = cfg.dataset.tables["main"]
    assert (main.source.sep, main.source.decimal) == (";", ",")
    assert main.columns["price"].type == "float" and main.columns["weight"].type == "float"
    assert main.columns["plan"].type == "str"
    from mlrig.components.sources.readers import read_source

    assert main.source.encoding == "utf-8"
    frame = read_source("main", main.source, tmp_path, ["plan", "churned"])
    assert frame.price.tolist()[:2] == [0.5, 1.5] and frame.weight.iloc[12] == 1221.25


def test_a_windows_encoded_csv_gets_its_encoding(tmp_path):
    rows = ["city;n;churned"] + [f"{['Montréal', 'Zürich'][i % 2]};{i};{'ja' if i % 3 else 'nein'}"
                                 for i in range(20)]  # fmt: skip
    (tmp_path / "export.csv").write_bytes("\r\n".join(rows).encode("cp1252"))
    out = tmp_path / "mlrig.yaml"
    result = CliRunner().invoke(app, ["init", str(tmp_path / "export.csv"), "--target", "churned",
                                      "--out", str(out)])  # fmt: skip
    assert result.exit_code == 0, result.output
    main = load(out).config.dataset.tables["main"]
    assert (main.source.encoding, main.source.sep) == ("cp1252", ";")
    from mlrig.components.sources.readers import read_source

    assert set(read_source("main", main.source, tmp_path, ["city"]).city) == {"Montréal", "Zürich"}


def test_numbers_written_as_text_are_numbers_and_a_yes_no_target_is_positive_on_yes(tmp_path):
    """A spreadsheet export: prices with currency signs and grouping, percentages, an age with
    'unknown' and '-' for no value. Each becomes a number (not an identifier, not 70
    categories), init says how it reads each, and validate reads them so. 'yes' is the positive
    class of a yes/no target even when it is the common one."""
    rows = 60
    frame = pd.DataFrame(
        {
            "price": [f"${1000 + 37.5 * i:,.2f}" for i in range(rows)],
            "discount": [f"{i % 40}%" for i in range(rows)],
            "age": [str(20 + i) for i in range(rows - 3)] + ["unknown", "-", "Unknown"],
            "paid": ["yes"] * 45 + ["no"] * 15,
        }
    )
    said, out = init_table(frame, tmp_path, "orders.csv", "--target", "paid")
    assert "'price' is read as amounts" in said and "'discount' is read as percentages" in said
    assert "'-', 'unknown' read as no value (3 of 60 rows" in said
    cfg = load(out).config
    columns = cfg.dataset.tables["main"].columns
    assert (columns["price"].type, columns["price"].number_format) == ("float", "currency")
    assert (columns["discount"].type, columns["discount"].number_format) == ("float", "percent")
    assert (columns["age"].type, columns["age"].missing) == ("int", ["-", "unknown"])
    assert cfg.dataset.positive_label == "yes"
    from mlrig.components.contract.acceptance import validate_table
    from mlrig.components.contract.contract import draft
    from mlrig.components.score.core import request_columns

    ok, rejected, _ = validate_table("main", frame, columns)
    assert rejected.empty and ok["price"][1] == 1037.5 and ok["age"].isna().sum() == 3
    # a batch to score is read by the same rules: they travel in the model's contract
    batch = request_columns(draft(cfg, None))
    assert batch["price"].number_format == "currency" and batch["age"].missing == ["-", "unknown"]


def test_a_date_that_is_not_the_event_time_gives_its_year(tmp_path):
    """A house's build date: its year is the signal. The event time's year is not a part while
    the rows fall in one year (a constant)."""
    frame = pd.DataFrame(
        {
            "built": [f"{1950 + i}-0{1 + i % 9}-15" for i in range(40)],
            "sold": [f"2024-0{1 + i % 9}-0{1 + i % 9}" for i in range(40)],
            "area": [50.0 + i for i in range(40)],
            "price": [1000.0 * i for i in range(40)],
        }
    )
    frame.to_csv(tmp_path / "houses.csv", index=False)
    out = tmp_path / "mlrig.yaml"
    args = ["init", str(tmp_path / "houses.csv"), "--target", "price", "--out", str(out)]
    assert CliRunner().invoke(app, args).exit_code == 0
    assert load(out).config.dataset.date_parts.parts[0] == "year"
    timed = CliRunner().invoke(app, [*args, "--timestamp", "sold", "--force"])
    assert timed.exit_code == 0, timed.output
    assert "year" not in load(out).config.dataset.date_parts.parts


def test_an_event_time_over_several_years_gives_its_year_for_the_trend(tmp_path):
    """Later events fall past the years the model saw; trees read them as its latest year, which
    is what a drifting level or a label whose use changed needs (forward-chaining CV judges it)."""
    frame = pd.DataFrame({"day": pd.date_range("2021-06-01", periods=60, freq="14D"),
                          "x": range(60), "y": [i % 2 for i in range(60)]})  # fmt: skip
    _, out = init_table(frame, tmp_path, "days.csv", "--target", "y", "--timestamp", "day")
    assert load(out).config.dataset.date_parts.parts[0] == "year"


def _sales(days: int, stores: int) -> pd.DataFrame:
    dates = pd.date_range("2024-01-01", periods=days, freq="D").strftime("%Y-%m-%d")
    return pd.DataFrame(
        [
            {"store": s, "date": d, "promo": (s + i) % 3 == 0, "sales": 100.0 * s + i % 7}
            for s in range(1, stores + 1)
            for i, d in enumerate(dates)
        ]
    )


def test_events_by_entity_get_their_own_history_as_features(tmp_path):
    """A store's daily sales with --entity and --timestamp: init adds an aggregate view of the
    table's own past per store (windows fitted to the data's pace), keeps the table's columns
    as model inputs, and says what the view assumes about the target."""
    said, out = init_table(_sales(120, 3), tmp_path, "sales.csv", "--target", "sales",
                           "--entity", "store", "--timestamp", "date")  # fmt: skip
    assert (
        "features.views.store_history: per store, its earlier events over the last 7, 28 " in said
    )
    assert "mean and max of 'sales'" in said and "known only later, remove" in said
    cfg = load(out).config
    (view,) = cfg.features.views
    assert (view.kind, view.table, view.entity, view.timestamp) == ("aggregate", "main", "store",
                                                                    "date")  # fmt: skip
    assert [a.window_days for a in view.aggregations] == [[7.0, 28.0], [7.0, 28.0]]
    assert view.aggregations[1].column == "sales" and view.recency
    assert cfg.dataset.request_features == ["promo"]


def test_entities_seen_once_or_twice_get_no_history_view(tmp_path):
    """Orders keyed by order id: every key is one event, so there is no past to aggregate and the
    table stays flat (every column a request field)."""
    _, out = init_table(_sales(2, 40), tmp_path, "sales.csv", "--target", "sales", "--entity",
                        "store", "--timestamp", "date")  # fmt: skip
    cfg = load(out).config
    assert cfg.features.views == [] and cfg.dataset.request_features == ["promo"]


def test_an_entity_key_with_empty_cells_is_required_and_said(tmp_path):
    """Rows without their entity's key cannot be joined or served: the key is required, so
    validate keeps them aside, and init says how many there are."""
    frame = _sales(30, 3).astype({"store": "object"})
    frame.loc[[4, 40], "store"] = None
    said, out = init_table(frame, tmp_path, "sales.csv", "--target", "sales", "--entity",
                           "store", "--timestamp", "date")  # fmt: skip
    assert "'store' (an entity key) is empty in 2 of 90 rows: validate keeps them aside" in said
    assert load(out).config.dataset.tables["main"].columns["store"].nullable is False


def test_a_target_class_written_several_ways_is_one_class_and_said(tmp_path):
    n = 60
    frame = pd.DataFrame(
        {
            "x": [i % 7 for i in range(n)],
            "bought": [["yes", "YES", "no", "No ", "no"][i % 5] for i in range(n)],
        }
    )
    said, out = init_table(frame, tmp_path, "case.csv", "--target", "bought")
    assert load(out).config.dataset.positive_label == "yes"  # binary, not three or four classes
    assert "'bought' writes a class more than one way ('yes', 'YES'): one class, 'yes'" in said
    assert "('no', 'No '): one class, 'no'" in said


def test_the_project_is_named_after_the_table_and_the_target():
    from mlrig.init.draft import project_name

    assert project_name("data/customers.csv", "churned") == "customers-churned"
    assert project_name("hotels/train.parquet", "price") == "hotels-price"  # not "train"
    assert project_name("sales/part-0.parquet", "units") == "sales-units"
    assert project_name("orders", "returned") == "orders-returned"  # a SQL table
    assert project_name("query", "Returned Flag") == "returned-flag"  # a query: the target alone


def test_lightgbm_is_a_default_candidate_beside_a_linear_model(tmp_path):
    from mlrig.init.draft import build_config

    frame = pd.DataFrame({"x": range(60), "y": [0, 1] * 30})
    cfg, _, _ = build_config(frame, str(tmp_path / "t.csv"), "y")
    assert set(cfg["model"]["candidates"]) == {"lightgbm", "logistic_regression"}


def test_the_columns_init_leaves_out_are_written_down_for_batches(tmp_path):
    from mlrig.init.draft import build_config

    frame = pd.DataFrame({"x": [i % 7 for i in range(60)], "y": [0, 1] * 30,
                          "snapshot_date": ["2024-10-01"] * 60})  # fmt: skip
    cfg, left_out, _ = build_config(frame, str(tmp_path / "t.csv"), "y")
    assert "snapshot_date" in left_out
    assert cfg["dataset"]["tables"]["main"]["left_out"] == ["snapshot_date"]


def test_a_target_of_three_classes_or_more_is_judged_by_accuracy_and_said(tmp_path):
    """Two classes keep ROC-AUC; more are judged by how often the model names the class (with
    written spellings folded first: 'yes'/'YES' and 'no' are two classes, not three)."""
    n = 60
    frame = pd.DataFrame(
        {
            "x": [i % 7 for i in range(n)],
            "sky": [["sun", "rain", "fog", "sun", "rain"][i % 5] for i in range(n)],
            "bought": [["yes", "YES", "no", "no", "no"][i % 5] for i in range(n)],
        }
    )
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    said, out = init_table(frame.drop(columns="bought"), tmp_path / "a", "s.csv", "--target", "sky")
    assert load(out).config.model.primary_metric == "accuracy"
    assert "'sky' has more than two classes: runs are judged by accuracy" in said
    said, out = init_table(frame.drop(columns="sky"), tmp_path / "b", "y.csv", "--target", "bought")
    assert load(out).config.model.primary_metric == "roc_auc"
    assert "judged by accuracy" not in said
