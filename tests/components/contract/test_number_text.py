"""Numbers written as text (currency, percentages, placeholders for no value): how validate reads
a column that says how it is written, and how `mlrig init` finds out."""

from __future__ import annotations

import pandas as pd
import pytest

from mlrig.components.config.schema import ColumnSpec
from mlrig.components.contract.acceptance import validate_table
from mlrig.components.contract.number_text import as_missing, read_numbers, sniff


def test_currency_amounts_in_both_decimal_conventions():
    us = pd.Series(["$3,186.62", "(1,000)", "$-2", "USD 12", "1 234.5 €", 5.5, None, "abc"])
    assert read_numbers(us, "currency").tolist()[:6] == [3186.62, -1000.0, -2.0, 12.0, 1234.5, 5.5]
    assert read_numbers(us, "currency")[6:].isna().all()
    europe = pd.Series(["1.234,50 €", "12,5 €", "€ 3"])
    assert read_numbers(europe, "currency", ",").tolist() == [1234.5, 12.5, 3.0]
    # digits grouped wrongly for the decimal mark are not a number of that format
    assert read_numbers(pd.Series(["1.234,50 €", "$1,23"]), "currency").isna().all()


def test_percentages_are_read_as_the_number_written():
    values = read_numbers(pd.Series(["45%", "4.5 %", "45", None]), "percent")
    assert values.tolist()[:2] == [45.0, 4.5] and values[2:].isna().all()


def test_placeholders_are_no_value_in_any_case():
    out = as_missing(pd.Series(["Unknown", " - ", "5", None, 3]), ["unknown", "-"])
    assert out.tolist() == [None, None, "5", None, 3]


@pytest.mark.parametrize(
    ("values", "decimal", "expected"),
    [
        (["$3,186.62", "$1.00", "(12.50)", None] * 5, ".", ("float", "currency", [])),
        (["1.234,50 €", "12,00 €"] * 5, ",", ("float", "currency", [])),
        (["28%", "3%"] * 20 + ["-"], ".", ("float", "percent", ["-"])),
        (["85", "34"] * 20 + ["unknown", "-"], ".", ("int", None, ["-", "unknown"])),
        (["85.5", "34"] * 20 + ["N.A.", "inf"], ".", ("float", None, ["N.A."])),
    ],
)
def test_init_finds_how_numbers_are_written(values, decimal, expected):
    found = sniff(pd.Series(values), decimal)
    assert found is not None and (found.type, found.number_format, found.missing) == expected


@pytest.mark.parametrize(
    "values",
    [
        ["a", "b", "c"],  # text
        ["1", "2", "3"],  # already numbers
        ["007", "12"] * 10 + ["n"],  # codes keep their zeros
        ["85", "34"] * 5 + ["unknown", "-", "?"] * 3,  # too many placeholders: text
        ["12", "14"] * 20 + ["12 kg"],  # a number with a unit is not a placeholder
        ["1.234,50 €", "12,00 €"],  # a decimal comma read with a point
    ],
)
def test_text_stays_text(values):
    assert sniff(pd.Series(values)) is None


def test_validate_reads_the_columns_format_and_keeps_aside_what_is_not_a_number():
    frame = pd.DataFrame(
        {
            "price": ["1.234,50 €", "12,00 €", "free", "3 €"],
            "discount": ["5%", "12,5%", "10%", "n/a"],
            "age": ["41", "unknown", "-", "x"],
        }
    )
    columns = {
        "price": ColumnSpec(type="float", number_format="currency"),
        "discount": ColumnSpec(type="float", number_format="percent"),
        "age": ColumnSpec(type="int", missing=["unknown", "-"]),
    }
    ok, rejected, report = validate_table("t", frame, columns, decimal=",")
    assert ok[["price", "discount"]].to_dict("list") == {"price": [1234.5, 12.0],
                                                         "discount": [5.0, 12.5]}  # fmt: skip
    assert ok["age"][0] == 41 and ok["age"].isna().tolist() == [False, True]
    assert rejected["_reason"].tolist() == ["price: not a valid float",
                                            "discount: not a valid float"]  # fmt: skip
    assert rejected["age"].tolist() == ["-", "x"]  # kept as it arrived
    assert report.missing_values == {"age": 1}


def test_a_number_format_on_text_is_refused():
    with pytest.raises(ValueError, match="number_format: only for int or float columns"):
        ColumnSpec(type="str", number_format="currency")
