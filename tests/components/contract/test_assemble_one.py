"""The one-row assemble path against assemble() itself: times by the one rule (DST gaps, repeated
hours, zones, out of range), derived columns, typed keys, date parts and the model's column types.
Features from a real Feast store are compared in tests/anytable (test_shop, test_flat)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pandas as pd
import pytest

from mlrig.components.contract.assemble import assemble
from mlrig.components.contract.assemble_one import Fallback, OneRow, RowAssembler, _utc
from mlrig.components.contract.contract import Contract
from mlrig.components.contract.timeutil import to_utc

NY = "America/New_York"
TIMES = [
    "2013-12-30T08:15:00", "2013-12-30 08:15", "2013-12-30", "2013-12-30T08:15:00.123456",
    "2013-12-30T08:15:00Z", "2013-12-30T08:15:00+01:00", "2013-12-30T08:15:00-0500",
    " 2013-06-01T12:00:00 ", "2013-03-10T02:30:00", "2013-11-03T01:30:00",  # DST gap, repeated
    "1500-01-01T00:00:00", "2999-01-01T00:00:00", None, float("nan"),
    datetime(2013, 3, 10, 2, 30), datetime(2013, 11, 3, 1, 30),
    datetime(2013, 7, 1, 9, 0, tzinfo=UTC), datetime(2013, 7, 1, 9, 0, tzinfo=timezone(timedelta(hours=-7))),
    datetime(1500, 1, 1), pd.Timestamp("2013-07-01 09:00", tz="Europe/Berlin"),
]  # fmt: skip


@pytest.mark.parametrize("value", TIMES, ids=[repr(v) for v in TIMES])
def test_one_time_reads_as_the_column_rule_reads_it(value):
    expected = to_utc(pd.Series([value]), NY).iloc[0]
    got = _utc(value, NY)
    assert (pd.isna(got) and pd.isna(expected)) or got == expected


@pytest.mark.parametrize("value", ["12/30/2013 08:15", "yesterday", 1_388_000_000, True])
def test_times_it_has_no_scalar_rule_for_go_to_assemble(value):
    with pytest.raises(Fallback):
        _utc(value, NY)


def _contract(**over) -> Contract:
    base = dict(
        task="binary",
        target="late",
        request_fields={"origin": {"type": "str", "required": True},
                        "dest": {"type": "str", "required": True},
                        "gate": {"type": "int", "required": False},
                        "delay": {"type": "float", "required": False},
                        "sched_dep": {"type": "datetime", "required": True},
                        "carrier": {"type": "str", "required": False}},
        entity_keys={"route": "str", "gate": "int"},
        derivations=[
            {"name": "route", "concat": {"columns": ["origin", "dest"], "sep": "-"}},
            {"name": "known_at", "add_minutes": {"to": "sched_dep", "minutes": ["delay"],
                                                 "constant": 30.0}},
            {"name": "slow", "greater_than": {"column": "delay", "value": 15.0}},
        ],
        date_parts={"column": "sched_dep", "parts": ["hour", "dayofweek", "month", "day",
                                                     "dayofyear", "weekofyear"],
                    "timezone": NY},
        event_time="sched_dep",
        timezone=NY,
        features=None,
        inputs=["carrier", "delay", "slow", "gate", "sched_dep_hour", "sched_dep_dayofweek",
                "sched_dep_month", "sched_dep_day", "sched_dep_dayofyear", "sched_dep_weekofyear",
                "route", "absent_number", "absent_text"],
        categorical=["carrier", "route", "absent_text"],
    )  # fmt: skip
    return Contract(**{**base, **over})


REQUESTS = [
    {"origin": "EWR", "dest": "IAH", "gate": 12, "delay": 20.5, "sched_dep": "2013-12-30T08:15:00",
     "carrier": "UA"},
    {"origin": "JFK", "dest": "LAX", "gate": None, "delay": None, "sched_dep": "2013-03-10T02:30",
     "carrier": None},
    {"origin": "LGA", "dest": "ORD", "gate": 7.0, "delay": 3, "sched_dep": "2013-11-03T01:30:00Z"},
    {"origin": "LGA", "dest": None, "gate": 3, "delay": 16, "sched_dep": "2013-01-01",
     "carrier": "9E"},
    {"origin": "EWR", "dest": "BOS", "sched_dep": datetime(2013, 7, 4, 23, 59, tzinfo=UTC),
     "route": "given-route", "slow": 1.0},
    {"origin": "EWR", "dest": "BOS", "gate": 2, "delay": 1e5, "sched_dep": "1500-01-01T00:00:00"},
    {"origin": "EWR", "dest": "BOS", "gate": 2.5, "delay": -5.0, "sched_dep": None},
]  # fmt: skip


def _same(got: dict, expected: dict) -> None:
    assert list(got) == list(expected)
    for name, value in expected.items():
        mine = got[name]
        if pd.isna(value) if not isinstance(value, list | dict) else False:
            assert pd.isna(mine), (name, mine, value)
        else:
            assert mine == value and type(mine) is type(value) or mine == pytest.approx(value), (
                name, mine, value)  # fmt: skip


@pytest.mark.parametrize("request_", REQUESTS, ids=range(len(REQUESTS)))
def test_one_request_assembles_as_assemble_does(request_):
    contract = _contract()
    now = datetime(2024, 5, 1, 12, tzinfo=UTC)
    expected = OneRow.of(assemble(contract, pd.DataFrame([request_]), None, now))
    got = RowAssembler(contract)._one(request_, None, now)  # the scalar rules, never the fallback
    assert list(got.inputs) == contract.inputs
    for name in contract.inputs:
        a, b = got.inputs[name], expected.inputs[name]
        assert (pd.isna(a) and pd.isna(b)) or a == b, (name, a, b)
        if name in contract.categorical and not pd.isna(a):
            assert isinstance(a, str)
    for name in ("route", "gate", "known_at", "slow", "sched_dep", "event_timestamp"):
        a, b = got.rows.get(name), expected.rows.get(name)
        assert (pd.isna(a) and pd.isna(b)) or a == b, (name, a, b)


def test_without_an_event_time_the_row_is_stamped_now():
    contract = _contract(event_time=None, date_parts=None, inputs=["delay"], categorical=[])
    now = datetime(2024, 5, 1, 12, tzinfo=UTC)
    got = RowAssembler(contract)._one({"origin": "A", "dest": "B", "delay": 3}, None, now)
    assert got.rows["event_timestamp"] == pd.Timestamp(now) and got.inputs == {"delay": 3.0}


def test_values_without_a_scalar_rule_take_assemble_and_give_its_answer():
    contract = _contract()
    odd = {"origin": "EWR", "dest": "IAH", "gate": "12", "delay": "20", "carrier": True,
           "sched_dep": "12/30/2013 08:15"}  # fmt: skip
    assembler = RowAssembler(contract)
    with pytest.raises(Fallback):
        assembler._one(odd, None, None)
    got = assembler.one(odd, None)
    expected = OneRow.of(assemble(contract, pd.DataFrame([odd]), None))
    assert got.inputs["sched_dep_hour"] == expected.inputs["sched_dep_hour"] == 8.0
    assert got.inputs["gate"] == 12.0 and got.inputs["delay"] == 20.0
    assert np.isnan(got.inputs["absent_number"])


@pytest.mark.parametrize("value", [1_672_531_200, 1_672_531_200.25, 1e20, None])
def test_a_unix_time_of_an_epoch_field_reads_as_the_column_rule_reads_it(value):
    expected = to_utc(pd.Series([value], dtype=object), NY, "s").iloc[0]
    got = _utc(value, NY, "s")
    assert (pd.isna(got) and pd.isna(expected)) or got == expected


@pytest.mark.parametrize(
    "value", ["2024-01-01T00:00:00.123456789Z", pd.Timestamp("2024-01-01T00:00:00.123456789")]
)
def test_nanoseconds_are_cut_to_the_microsecond_on_both_paths(value):
    """Feast joins times to the microsecond: a time with nanoseconds stopped the features stage."""
    expected = to_utc(pd.Series([value], dtype=object), NY).iloc[0]
    assert _utc(value, NY) == expected and expected.nanosecond == 0
    assert expected.microsecond == 123456
