"""What init reads from a table's columns: each column's type, the task its target implies,
numbers written as text, the columns that say nothing (ids, constants, saved indexes, nested
values) and free text, and which of two labels is the positive one."""

from __future__ import annotations

import json
import re
from typing import Any

import pandas as pd

from mlrig.components.contract.contract import plain
from mlrig.components.contract.number_text import NumberText, as_missing, read_numbers, sniff
from mlrig.components.contract.timeutil import named_zone, to_utc

REGRESSION_MIN_DISTINCT = 20
IDENTIFIER_MIN_ROWS = 50  # a text column this long whose values are nearly all distinct: an id
IDENTIFIER_SHARE = 0.95
DATETIME_SHARE = 0.95
TYPE_SAMPLE = 5_000  # values a text column's type is first judged on
# dates (2017-03-05, 05/03/2017), year-months (2017-03) and dates with a month's name (Jan 1 2000,
# January 1, 2000, 1 Jan 2000, 01-Jan-2000)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATE_LIKE = re.compile(
    r"^\d{4}[-/]\d{1,2}[-/]\d{1,2}|^\d{1,2}/\d{1,2}/\d{4}|^\d{4}-\d{2}$"
    rf"|^{_MONTH} \d{{1,2}},? \d{{4}}|^\d{{1,2}}[ -]{_MONTH}[ -]\d{{4}}",
    re.IGNORECASE,
)


def column_type(values: pd.Series, typed: bool = False) -> str:
    """int, float, bool, datetime or str, from what the column holds. typed: the file gives its
    columns types (parquet, JSON), so whole numbers it stores as text stay text (codes)."""
    if pd.api.types.is_bool_dtype(values):
        return "bool"
    if pd.api.types.is_integer_dtype(values):
        return "int"
    if pd.api.types.is_float_dtype(values):
        present = values.dropna()
        integral = len(present) > 0 and bool((present == present.round()).all())
        return "int" if integral else "float"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "datetime"
    present = values.dropna()
    # text on a sample is text; any other type must hold for every value
    sample = present.sample(TYPE_SAMPLE, random_state=0) if len(present) > TYPE_SAMPLE else None
    if sample is not None and _text_type(sample, typed) == "str":
        return "str"
    return _text_type(present, typed)


def _text_type(present: pd.Series, typed: bool) -> str:
    present = present.astype(str).str.strip()
    if len(present) and present.str.lower().isin(["true", "false"]).all():
        return "bool"
    numbers = pd.to_numeric(present, errors="coerce")
    if len(present) and numbers.notna().all():
        if present.str.match(r"^[+-]?0\d").any():  # leading zeros: codes, not numbers
            return "str"
        whole = bool((numbers == numbers.round()).all())
        return ("str" if typed else "int") if whole else "float"
    dated = len(present) and present.str.match(_DATE_LIKE).mean() >= DATETIME_SHARE
    if dated and to_utc(present, "UTC").notna().mean() >= DATETIME_SHARE:
        return "datetime"
    return "str"


def infer_task(target: pd.Series, kind: str) -> str:
    """Numbers are amounts (regression) when they take more than REGRESSION_MIN_DISTINCT values,
    or more than two that seldom repeat (under two rows a value on average: statsmodels' longley,
    16 years of employment, had been read as 16 classes of one row each); else classes."""
    if kind not in ("int", "float"):
        return "classification"
    present = target.dropna()
    distinct = present.nunique()
    if distinct > REGRESSION_MIN_DISTINCT or (distinct > 2 and len(present) < 2 * distinct):
        return "regression"
    return "classification"


_COMMA_NUMBER = re.compile(r"^[+-]?(\d{1,3}(\.\d{3})+|\d+),\d+$")
_WHOLE_NUMBER = re.compile(r"^[+-]?\d+$")
_NOT_FINITE = re.compile(r"^[+-]?(inf|infinity|nan)$", re.IGNORECASE)  # neither mark says anything


def decimal_commas(frame: pd.DataFrame) -> tuple[pd.DataFrame, bool]:
    """Text columns of numbers written with a decimal comma (3,5 or 1.234,5) as numbers with a
    point, and whether there were any: a CSV separated by ';' often writes them so."""
    out = frame.copy()
    found = False
    for name in frame.columns:
        present = frame[name].dropna().astype(str).str.strip()
        if not len(present) or present.map(lambda v: bool(_WHOLE_NUMBER.match(v))).all():
            continue
        comma = present.map(lambda v: bool(_COMMA_NUMBER.match(v)))
        other = present.map(lambda v: bool(_WHOLE_NUMBER.match(v) or _NOT_FINITE.match(v)))
        if (comma | other).all() and comma.any():
            found = True
            out[name] = frame[name].map(
                lambda v: v if pd.isna(v) else str(v).strip().replace(".", "").replace(",", ".")
            )
    return out, found


def numbers_as_text(
    frame: pd.DataFrame,
    keys: list[str],
    sep: str | None,
    decimal_comma: bool,
    kinds: dict[str, str],
) -> tuple[pd.DataFrame, dict[str, NumberText], bool]:
    """Text columns that hold numbers (currency, percentages, a few placeholders such as
    'unknown'), read as numbers; how each is written; and whether the file's decimal mark is a
    comma (1.234,50 € says so where ';' separates the fields)."""
    out = frame.copy()
    found: dict[str, NumberText] = {}
    for name in frame.columns:
        if name in keys or kinds[name] != "str":
            continue
        decimal = "," if decimal_comma else "."
        sniffed = sniff(frame[name], decimal)
        if sniffed is None and not decimal_comma and sep not in (None, ","):
            sniffed = sniff(frame[name], ",")
            if sniffed is not None and sniffed.number_format:
                decimal, decimal_comma = ",", True
            else:
                sniffed = None
        if sniffed is not None:
            found[str(name)] = sniffed
            values = as_missing(frame[name], sniffed.missing)
            out[name] = read_numbers(values, sniffed.number_format, decimal)
    return out, found, decimal_comma


def uninformative(
    frame: pd.DataFrame, keep: list[str], kinds: dict[str, str] | None = None
) -> tuple[dict[str, str], list[str]]:
    """Columns that cannot help a model (no values, or one value in every row), with why, and
    the free-text columns (model inputs read as text, which would otherwise look like ids); the
    target, entity keys and event time (keep) are never among them. kinds: each column's
    column_type, where the caller has them."""
    out: dict[str, str] = {}
    text: list[str] = []
    for name in frame.columns:
        if name in keep:
            continue
        present = frame[name].dropna()
        kind = (kinds or {}).get(name) or column_type(present)
        if len(present) == 0:
            out[str(name)] = "it has no values"
            continue
        distinct = present.astype(str).str.strip().nunique()
        if _nested(present):
            out[str(name)] = (
                "it holds lists or records (JSON), not one value per row; flatten "
                "it into columns to use it"
            )
        elif kind == "str" and (zone := _named_zone(present)):
            out[str(name)] = (
                f"times in a named zone ({zone}), which means different offsets in different "
                "places: write each with its offset (-05:00) or in UTC, and init reads it as a time"
            )
        elif _saved_index(str(name), present, distinct, kind):
            out[str(name)] = "a row number saved without a header (pandas' index)"
        elif distinct == 1:
            empty = " (or empty)" if len(present) < len(frame) else ""
            out[str(name)] = f"it holds '{present.iloc[0]}' in every row{empty}"
        elif kind == "str" and _is_free_text(present):
            text.append(str(name))
        elif _identifier(present, distinct, kind) or _numbered(str(name), present, distinct, kind):
            out[str(name)] = (
                f"each row has its own value ({distinct} distinct in {len(present)}): an "
                f"identifier, not a feature; `mlrig score --keep '{name}'` carries it to the "
                "predictions"
            )
    return out, text


def _named_zone(present: pd.Series) -> str | None:
    """The zone name most values end in (EST, CET), where nearly all are such times."""
    head = present.head(TYPE_SAMPLE).astype(str)
    named = named_zone(head)
    if named.mean() < DATETIME_SHARE:
        return None
    return str(head[named].str.strip().str.split().str[-1].str.upper().mode().iloc[0])


def headerless_hint(frame: pd.DataFrame) -> str:
    """A header of numbers (as a file without a header row reads): say what is likely wrong."""
    names = pd.Series([str(c) for c in frame.columns])
    numbers = pd.to_numeric(names, errors="coerce").notna()
    if numbers.mean() < 0.5:
        return ""
    return (
        "; the first row holds values, not names: the file seems to have no header row. "
        "Add one (the names, separated as the values are) as its first line"
    )


def _nested(present: pd.Series) -> bool:
    """Cells of lists or records, as a source reads them: JSON text starting with [ or {."""
    head = present.head(200).astype(str).str.strip()
    if not head.str.match(r"^[\[{]").all():
        return False
    try:
        return all(isinstance(json.loads(v), list | dict) for v in head)
    except ValueError:
        return False


def _saved_index(name: str, present: pd.Series, distinct: int, kind: str) -> bool:
    """A column with no header ('Unnamed: 0' as pandas names it) holding a different whole
    number in every row: the index of a frame written with to_csv(index=True)."""
    if not (name == "" or re.fullmatch(r"Unnamed: \d+", name)) or distinct < len(present):
        return False
    return kind == "int"


def _identifier(present: pd.Series, distinct: int, kind: str) -> bool:
    """Text that is (nearly) unique per row: ids, emails, names. Numbers and times are not."""
    if len(present) < IDENTIFIER_MIN_ROWS or distinct < IDENTIFIER_SHARE * len(present):
        return False
    return kind == "str"


_ID_NAME = re.compile(r"(?i:(^|[_\s.-])id$|^id[_\s.-]|(^|_)(uuid|guid|key)$)|[a-z](Id|ID)$")


def _numbered(name: str, present: pd.Series, distinct: int, kind: str) -> bool:
    """Whole numbers with their own value in every row, named as an id (`tx_id`, `orderId`) or
    counting the rows from 0 or 1 (in any order, `listing`): a row number, which as a model
    input only says when the row was written."""
    if kind != "int" or len(present) < IDENTIFIER_MIN_ROWS or distinct < len(present):
        return False
    if _ID_NAME.search(name):
        return True
    numbers = pd.to_numeric(present, errors="coerce")
    if not numbers.notna().all() or numbers.min() not in (0, 1):
        return False
    return bool(numbers.max() - numbers.min() + 1 == len(present))


TEXT_SHARE = 0.5  # free text: at least this share of its values distinct (a memo repeats some)


def _is_free_text(present: pd.Series) -> bool:
    """Sentences, most of them different: a description, a review, a memo. Phrases that repeat
    ('New York City', a product category) stay categories."""
    if len(present) < IDENTIFIER_MIN_ROWS or not free_text(present):
        return False
    return present.astype(str).str.strip().nunique() >= TEXT_SHARE * len(present)


def free_text(present: pd.Series) -> float:
    """Mean words per value when the values read as sentences (three words or more on average),
    else 0: a review or a comment, not an id, an email or a name."""
    words = present.head(2000).astype(str).str.split().str.len().mean()
    return float(words) if words >= 3 else 0.0


AFFIRMATIVE = {"yes", "y", "positive", "pos", "t", "on"}
NEGATIVE = {"no", "n", "negative", "neg", "f", "off"}


def positive_of(counts: pd.Series) -> Any:
    """A binary target's positive label: 'yes' of yes/no (y/n, positive/negative, ...), else the
    rarer class (counts: label -> rows, most first)."""
    folded = {str(v).strip().casefold(): v for v in counts.index}
    yes = [v for k, v in folded.items() if k in AFFIRMATIVE]
    if len(yes) == 1 and any(k in NEGATIVE for k in folded):
        return plain(yes[0])
    return plain(counts.index[-1])


# names a file or a table is often given that say nothing of what it holds
