import pandas as pd
import pytest

from mlrig.components.config.schema import ColumnSpec, Derivation
from mlrig.components.contract.acceptance import SchemaError, require_present, validate_table
from mlrig.components.contract.contract import RequestField
from mlrig.components.contract.derive import apply_derivations

SPEC = {
    "id": ColumnSpec(type="str", nullable=False),
    "n": ColumnSpec(type="int", min=0, max=10),
    "when": ColumnSpec(type="datetime"),
}


def test_bad_rows_are_quarantined_with_a_reason_and_none_are_lost():
    raw = pd.DataFrame(
        {
            "id": ["a", None, "c", "d", "e"],
            "n": ["1", "2", "x", "11", None],
            "when": ["2013-01-01T00:00:00Z"] * 4 + ["garbage"],
        }
    )
    ok, rejected, report = validate_table("t", raw, SPEC)
    assert len(ok) + len(rejected) == len(raw)
    assert ok.id.tolist() == ["a"]
    assert rejected["_reason"].tolist() == [
        "id: missing (not nullable)",
        "n: not a valid int",
        "n: above max 10.0",
        "when: not a valid datetime",
    ]
    assert report.rows_rejected == 4 and report.reasons["n: not a valid int"] == 1


def test_infinite_numbers_are_kept_aside_not_passed_to_training():
    """ "inf" parses as a float, and no model takes it: the row is rejected with its reason."""
    spec = {"x": ColumnSpec(type="float", nullable=False), "k": ColumnSpec(type="int")}
    raw = pd.DataFrame({"x": ["1.5", "inf", "-Infinity", "2"], "k": ["1", "2", "3", "inf"]})
    ok, rejected, _ = validate_table("t", raw, spec)
    assert ok.x.tolist() == [1.5]
    assert rejected["_reason"].tolist() == [
        "x: not a finite number",
        "x: not a finite number",
        "k: not a finite number",
    ]


def test_a_tables_own_reason_or_prediction_column_is_kept_beside_mlrigs():
    """A column named like one mlrig adds ('_reason' in rejected rows, 'prediction' in scored
    ones) is kept as '<name>_input', not overwritten."""
    from types import SimpleNamespace

    from mlrig.components.score.io import Scored

    spec = {"x": ColumnSpec(type="float"), "_reason": ColumnSpec(type="str")}
    raw = pd.DataFrame({"x": ["1", "y"], "_reason": ["mine", "also mine"]})
    ok, rejected, _ = validate_table("t", raw, spec)
    assert ok["_reason"].tolist() == ["mine"]
    assert rejected["_reason_input"].tolist() == ["also mine"]
    assert rejected["_reason"].tolist() == ["x: not a valid float"]

    contract = SimpleNamespace(
        request_fields={"k": RequestField("int"), "prediction": RequestField("float")}
    )
    requests = pd.DataFrame({"k": [1.0, 2.0], "prediction": [0.3, 0.9]})
    predicted = pd.DataFrame({"prediction": ["a", "b"], "model_version": [3, 3]})
    table = Scored(requests, predicted, pd.DataFrame(), pd.DataFrame(), {}).table(contract)
    assert list(table.columns) == ["k", "prediction_input", "prediction", "model_version"]
    assert table.k.tolist() == [1, 2] and str(table.k.dtype) == "Int64"
    assert table.prediction_input.tolist() == [0.3, 0.9] and table.prediction.tolist() == ["a", "b"]


def test_missing_columns_fail_with_their_names():
    with pytest.raises(SchemaError, match=r"missing columns \['when'\]"):
        validate_table("t", pd.DataFrame({"id": ["a"], "n": [1]}), SPEC)


def test_derivations_and_missing_target_split():
    frame = pd.DataFrame(
        {
            "t": pd.to_datetime(["2013-01-01T10:00Z", "2013-01-01T11:00Z"]),
            "m": [15.0, 30.0],
            "o": ["EWR", "JFK"],
            "d": ["IAH", "MIA"],
            "delay": [20.0, None],
        }
    )
    specs = [
        Derivation(name="ts", add_minutes={"to": "t", "minutes": ["m"], "constant": 5}),
        Derivation(name="route", concat={"columns": ["o", "d"]}),
        Derivation(name="late", greater_than={"column": "delay", "value": 15}),
    ]
    out = apply_derivations(frame, specs)
    assert out.ts.tolist() == [pd.Timestamp("2013-01-01T10:20Z"), pd.Timestamp("2013-01-01T11:35Z")]
    assert out.route.tolist() == ["EWR-IAH", "JFK-MIA"]
    assert out.late.iloc[0] == 1.0 and pd.isna(out.late.iloc[1])
    kept, dropped = require_present(out, "late", "target")
    assert len(kept) == 1 and dropped["_reason"].tolist() == ["late: missing (target)"]


def test_an_equals_derivation_marks_a_class_in_any_spelling():
    """1 where the column holds the class (True, 'true', 1 and 1.0 alike), 0 elsewhere, null
    where null; the one-row serving path computes it the same way."""
    from mlrig.components.contract.assemble_one import RowAssembler

    frame = pd.DataFrame({"fraud": ["yes", "no", None, "YES"], "flag": [True, 1.0, "false", None]})
    specs = [Derivation(name="fraud_yes", equals={"column": "fraud", "value": "yes"}),
             Derivation(name="flagged", equals={"column": "flag", "value": "true"})]  # fmt: skip
    out = apply_derivations(frame, specs)
    assert out["fraud_yes"].tolist()[:2] == [1.0, 0.0] and pd.isna(out["fraud_yes"][2])
    assert out["fraud_yes"][3] == 1.0  # as the target's classes: 'YES' is 'yes'
    assert out["flagged"].tolist()[:3] == [1.0, 1.0, 0.0] and pd.isna(out["flagged"][3])
    for row in frame.to_dict("records"):
        for spec in specs:
            one = RowAssembler._derived(None, row, spec)  # type: ignore[arg-type]
            want = apply_derivations(pd.DataFrame([row]), [spec])[spec.name][0]
            assert (pd.isna(one) and pd.isna(want)) or one == want


def test_serving_derivations_skip_what_the_request_lacks():
    specs = [
        Derivation(name="ts", add_minutes={"to": "t", "minutes": ["m"]}),
        Derivation(name="route", concat={"columns": ["o", "d"]}),
    ]
    out = apply_derivations(pd.DataFrame({"o": ["A"], "d": ["B"]}), specs, skip_unavailable=True)
    assert out.route.tolist() == ["A-B"] and "ts" not in out


def test_a_table_with_too_many_rejects_or_no_rows_stops_the_run():
    from mlrig.components.contract.acceptance import TableReport, ValidationStop, check_rejections

    fine = TableReport(rows_in=100, rows_ok=70, rows_rejected=30, reasons={"x: missing": 30})
    check_rejections("t", fine, 0.5)
    bad = TableReport(rows_in=100, rows_ok=30, rows_rejected=70, reasons={"x: missing": 70})
    with pytest.raises(ValidationStop, match=r"table 't': 70% of rows rejected .*x: missing"):
        check_rejections("t", bad, 0.5)
    empty = TableReport(rows_in=0, rows_ok=0, rows_rejected=0)
    with pytest.raises(ValidationStop, match="no rows left of 0 .the source is empty"):
        check_rejections("t", empty, 0.5)


def test_unix_times_are_times_only_where_the_column_declares_its_epoch():
    frame = pd.DataFrame({"t": [1_672_531_200, 1_672_617_600, "2023-01-03"]})
    ok, rejected, _ = validate_table("x", frame, {"t": ColumnSpec(type="datetime", epoch="s")})
    assert [str(t) for t in ok["t"]] == [
        "2023-01-01 00:00:00+00:00", "2023-01-02 00:00:00+00:00", "2023-01-03 00:00:00+00:00"
    ]  # fmt: skip
    assert rejected.empty
    ok, rejected, _ = validate_table("x", frame, {"t": ColumnSpec(type="datetime")})
    assert len(ok) == 1 and len(rejected) == 2  # kept aside, not read as nanoseconds of 1970
    assert set(rejected["_reason"]) == {
        "t: a number, not a time (if the column holds Unix times, set its epoch: s, ms, us or ns)"
    }
    with pytest.raises(ValueError, match="epoch: only for datetime columns"):
        ColumnSpec(type="int", epoch="s")


def test_times_in_named_zones_are_kept_aside_with_why_and_utc_gmt_am_pm_are_read():
    frame = pd.DataFrame({"t": ["2024-03-10 10:00:00 EST", "2024-03-10 10:00:00 CET",
                                "2024-03-10 10:00:00 UTC", "2024-03-10T10:00:00 GMT",
                                "Sun, 10 Mar 2024 10:00:00 +0100", "03/10/2024 10:00 PM"]})  # fmt: skip
    ok, rejected, _ = validate_table(
        "x", frame, {"t": ColumnSpec(type="datetime")}, "Europe/Berlin"
    )
    assert [str(t) for t in ok["t"]] == [
        "2024-03-10 10:00:00+00:00", "2024-03-10 10:00:00+00:00", "2024-03-10 09:00:00+00:00",
        "2024-03-10 21:00:00+00:00",  # 10 PM in Berlin
    ]  # fmt: skip
    assert rejected.t.tolist() == ["2024-03-10 10:00:00 EST", "2024-03-10 10:00:00 CET"]
    assert set(rejected["_reason"]) == {
        "t: a time in a named zone (EST, CET, IST mean different offsets in different places); "
        "write its offset, -05:00, or the time in UTC"
    }
