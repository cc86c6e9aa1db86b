"""Numbers written as text the way spreadsheets and exports write them: currency amounts
("$1,234.50", "1.234,50 €", "(12.00)"), percentages ("45%"), and placeholders that mean "no value"
("unknown", "-", "?").

A column's `number_format` (currency or percent) and `missing` list say how validate reads
it; `mlrig init` finds both (`sniff`). A percentage is read as the number written: "45%" is 45.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd

CURRENCY_SIGNS = "$€£¥₹₩₽₺₪₫฿₴₦₱¢"
_SIGNS = re.compile(
    rf"[{re.escape(CURRENCY_SIGNS)}]|^[A-Z]{{3}}\s*(?=[\d(+-])|(?<=\d)\s*[A-Z]{{3}}$"
)
_SPACES = re.compile(r"[\s\u00a0\u202f']")  # 1 234,50 and 1'234.50 group digits too
_PLAIN = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_NOT_FINITE = re.compile(r"^[+-]?(inf|infinity|nan)$", re.IGNORECASE)  # validate flags inf


def _grouped(group: str, decimal: str) -> re.Pattern[str]:
    return re.compile(rf"^[+-]?\d{{1,3}}({re.escape(group)}\d{{3}})+({re.escape(decimal)}\d+)?$")


MISSING_SHARE = 0.10  # at most this share of a numeric column's values may be placeholders
MISSING_TOKENS = 5  # and at most this many distinct ones
MISSING_TOKEN_LENGTH = 15


def _one(text: str, number_format: str | None, decimal: str) -> float | None:
    """One cell's number, or None where it is not one written in this format."""
    value = text.strip()
    negative = value.startswith("(") and value.endswith(")")
    if negative:
        value = value[1:-1]
    if number_format == "percent":
        if not value.endswith("%"):
            return None
        value = value[:-1]
    elif number_format == "currency":
        value = _SIGNS.sub("", value.strip())
    if number_format is not None:  # digits grouped in threes by spaces or the other mark
        value = _SPACES.sub("", value)
        group = "." if decimal == "," else ","
        if group in value:
            if not _grouped(group, decimal).match(value):
                return None  # 1.234,50 read with a decimal point: not a number of this format
            value = value.replace(group, "")
    if decimal == ",":
        value = value.replace(",", ".")
    if not _PLAIN.match(value):
        return None
    number = float(value)
    return -number if negative else number


def read_numbers(series: pd.Series, number_format: str | None, decimal: str = ".") -> pd.Series:
    """Text cells read as numbers of the format (NaN where one is not); numbers stay as they are."""
    if number_format is None and decimal == ".":
        return pd.to_numeric(series, errors="coerce")
    return series.map(
        lambda v: (
            (_one(v, number_format, decimal) if isinstance(v, str) else v) if pd.notna(v) else None
        )
    ).astype("float64")


def as_missing(series: pd.Series, tokens: list[str]) -> pd.Series:
    """The column with the cells that are one of `tokens` (any case, spaces around) as null."""
    if not tokens:
        return series
    folded = {t.strip().casefold() for t in tokens}
    hit = series.map(lambda v: isinstance(v, str) and v.strip().casefold() in folded)
    return series.astype(object).where(~hit, None)


@dataclass
class NumberText:
    """How a text column of numbers is read: its type, format and placeholders for no value."""

    type: str  # int | float
    number_format: str | None = None
    missing: list[str] = field(default_factory=list)
    missing_rows: int = 0

    def spec(self) -> dict[str, object]:
        """The column's config keys beside its type."""
        out: dict[str, object] = {}
        if self.number_format:
            out["number_format"] = self.number_format
        if self.missing:
            out["missing"] = self.missing
        return out

    def note(self, name: str, rows: int) -> str:
        """What `mlrig init` says about the column."""
        how = {
            "currency": "amounts (currency signs and digit grouping dropped)",
            "percent": "percentages ('45%' is read as 45)",
        }.get(self.number_format or "", "numbers")
        said = f"'{name}' is read as {how}"
        if self.missing:
            listed = ", ".join(repr(t) for t in self.missing)
            said += (
                f"; {listed} read as no value ({self.missing_rows} of {rows} rows; "
                f"the column's `missing` list in the config)"
            )
        return said


PROBE_ROWS = 2_000  # text columns are told apart on a sample first: most are plain text


def sniff(values: pd.Series, decimal: str = ".") -> NumberText | None:
    """A text column that holds numbers, written as currency or percentages or with a few
    placeholders for no value ("unknown", "-"); None when it is text."""
    present = values.dropna().astype(str).str.strip()
    present = present[present != ""]
    if not len(present):
        return None
    if len(present) > PROBE_ROWS:  # mostly text in a sample: text (a rare placeholder is kept)
        probe = present.sample(PROBE_ROWS, random_state=0)
        shares = [
            probe.map(lambda v, f=f: _one(v, f, decimal)).notna().mean()
            for f in (None, "currency", "percent")
        ]
        if max(shares) < 1 - 2 * MISSING_SHARE:
            return None
    return _sniff(present, decimal)


def _sniff(present: pd.Series, decimal: str) -> NumberText | None:
    plain = present.map(lambda v: _one(v, None, decimal)).notna()
    for number_format in ("percent", "currency", None):
        numbers = present.map(lambda v, f=number_format: _one(v, f, decimal))
        parsed = numbers.notna() | present.str.match(_NOT_FINITE)
        if number_format is not None and not (numbers.notna() & ~plain).any():
            continue  # no cell is written in this format
        if number_format is not None and parsed.mean() < 1 - MISSING_SHARE:
            continue
        rest = present[~parsed]
        firsts: dict[str, str] = {}
        for token in rest:  # one spelling per placeholder: they are matched in any case
            firsts.setdefault(token.casefold(), token)
        tokens = sorted(firsts.values())
        if parsed.mean() < 1 - MISSING_SHARE or len(tokens) > MISSING_TOKENS:
            return None
        if any(len(t) > MISSING_TOKEN_LENGTH or re.search(r"\d", t) for t in tokens):
            return None  # '12 kg', 'A7': text that carries a number is not a placeholder
        if number_format is None and not tokens:
            return None  # plain numbers: the column is already numeric
        if present[parsed].str.match(r"^[+-]?0\d").any():  # leading zeros: codes, not numbers
            return None
        finite = numbers.dropna()
        whole = bool((finite == finite.round()).all())
        kind = "int" if whole and number_format is None else "float"  # amounts: 5.50 comes next
        return NumberText(kind, number_format, tokens, int(len(rest)))
    return None
