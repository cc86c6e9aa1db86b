"""What `mlrig init` says beside the config it writes: the columns a user might expect to be
model inputs and what became of them, time columns, the task, and a target's spellings."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

from mlrig.components.contract.contract import spellings
from mlrig.components.contract.number_text import NumberText
from mlrig.init.columns import free_text
from mlrig.init.history import note as history_note
from mlrig.init.times import day_order_notes, epoch_notes


def notes(
    frame: pd.DataFrame,
    config: dict[str, Any],
    left_out: dict[str, str],
    numbers: dict[str, NumberText],
) -> list[str]:
    """What `mlrig init` did with columns a user might expect to be model inputs (printed beside
    the written config): the ones left out and the text read as numbers (build_config's), the
    time columns, the task."""
    said = [f"'{name}' is left out of the config: {why}" for name, why in left_out.items()]
    said += [how.note(name, len(frame)) for name, how in numbers.items()]
    said += _text_notes(frame, config) + _code_notes(frame, config)
    said += _duplicate_notes(frame) + _repeated_row_notes(frame)
    said += _empty_key_notes(frame, config)
    said += [
        history_note(v, config["dataset"]["target"])
        for v in config.get("features", {}).get("views", [])
    ]
    said += epoch_notes(frame, config) + day_order_notes(frame, config) + time_notes(config)
    return said + _spelling_notes(frame, config) + _task_note(frame, config) + _metric_note(config)


def _text_notes(frame: pd.DataFrame, config: dict[str, Any]) -> list[str]:
    """Free-text columns (text: true): what the model makes of them."""
    columns = config["dataset"]["tables"]["main"]["columns"]
    said = []
    for name, spec in columns.items():
        if spec.get("text"):
            present = frame[name].dropna().astype(str)
            words = free_text(present)  # the mean init judged it by
            said.append(
                f"'{name}' is free text ({present.nunique()} distinct in {len(present)}, "
                f"{words:.0f} words a row on average): the model reads its words and "
                "word pairs as 16 topics (text: true); remove that line to leave it "
                "out"
            )
    return said


def _code_notes(frame: pd.DataFrame, config: dict[str, Any]) -> list[str]:
    """Text columns of whole numbers kept as text: a typed file (parquet, JSON) stores them so."""
    columns = config["dataset"]["tables"]["main"]["columns"]
    said = []
    for name, spec in columns.items():
        present = frame[name].dropna()
        if spec["type"] != "str" or not len(present) or pd.api.types.is_numeric_dtype(present):
            continue
        whole = r"[+-]?[1-9]\d*|0"
        head = present.head(1_000).astype(str).str.strip()  # most text columns fail here
        if not head.str.fullmatch(whole).all():
            continue
        text = present.astype(str).str.strip()
        if text.str.fullmatch(whole).all():
            said.append(
                f"'{name}' holds whole numbers that the file stores as text: kept as text, "
                f"a code ({text.nunique()} distinct); set its type to int if they are "
                "amounts or counts"
            )
    return said


def _empty_key_notes(frame: pd.DataFrame, config: dict[str, Any]) -> list[str]:
    """Entity keys with empty cells: validate keeps those rows aside, so say how many."""
    out = []
    for entity in config.get("features", {}).get("entities", []):
        empty = int(frame[entity["join_key"]].isna().sum())
        if empty:
            out.append(
                f"'{entity['join_key']}' (an entity key) is empty in {empty} of {len(frame)} "
                "rows: validate keeps them aside with the reason, since a request must name its "
                f"{entity['join_key']}"
            )
    return out


def _duplicate_notes(frame: pd.DataFrame) -> list[str]:
    """A header naming two columns alike: pandas reads the second 'a' as 'a.1'. Say so, since
    the config, requests and batch files then use that name."""
    names = {str(c) for c in frame.columns}
    out = []
    for name in names:
        match = re.fullmatch(r"(.+)\.(\d+)", name)
        if match and match.group(1) in names:
            first = match.group(1)
            out.append(
                f"'{name}': the file has more than one column '{first}'; a later one is read "
                f"as '{name}' (rename it in the file to say what it holds)"
            )
    return sorted(out)


def _repeated_row_notes(frame: pd.DataFrame) -> list[str]:
    """Rows that repeat an earlier row in every column: an export run twice, or real repeats."""
    repeated = int(frame.duplicated().sum())
    if not repeated:
        return []
    return [
        f"{repeated} of {len(frame)} rows repeat an earlier row in every column: they are kept "
        "(a copy may land in both training and the holdout, which flatters the holdout); drop "
        "them from the file if the export wrote them twice"
    ]


def _metric_note(config: dict[str, Any]) -> list[str]:
    """A many-class target's runs judged by accuracy: say so, and how to judge by ROC-AUC."""
    if config["model"].get("primary_metric") != "accuracy":
        return []
    return [
        f"'{config['dataset']['target']}' has more than two classes: runs are judged by "
        "accuracy (model.primary_metric), how often the model names the class; ROC-AUC would "
        "weigh a rare class as much as a common one. Set it to roc_auc or log_loss to choose "
        "by the probabilities instead"
    ]


def _task_note(frame: pd.DataFrame, config: dict[str, Any]) -> list[str]:
    """A numeric target read as classes: say so, and how to make it a regression."""
    ds = config["dataset"]
    kind = ds["tables"]["main"]["columns"][ds["target"]]["type"]
    distinct = frame[ds["target"]].dropna().nunique()
    if ds["task"] != "classification" or kind not in ("int", "float") or distinct <= 2:
        return []
    return [
        f"'{ds['target']}' holds {distinct} distinct numbers: each is a class (classification). "
        "If they are amounts or counts, set dataset.task: regression"
    ]


def time_notes(config: dict[str, Any]) -> list[str]:
    """What `mlrig init` did with the table's time columns."""
    ds = config["dataset"]
    columns = ds["tables"]["main"]["columns"]
    dated = (ds.get("date_parts") or {}).get("column")
    notes = []
    if dated and dated != ds.get("event_timestamp"):
        notes.append(
            f"'{dated}' holds times: its date parts ({', '.join(ds['date_parts']['parts'])}) are "
            f"model inputs. If it is when each row's event happened, pass --timestamp {dated}: "
            "the holdout and CV then keep time order, and features are joined as of it."
        )
    for name, spec in columns.items():
        if spec["type"] == "datetime" and name not in (dated, ds["target"]):
            notes.append(
                f"'{name}' holds times and is not a model input (date parts come from "
                f"one column, dataset.date_parts: '{dated}')"
            )
    return notes


def _spelling_notes(frame: pd.DataFrame, config: dict[str, Any]) -> list[str]:
    """A class written more than one way ('yes', 'YES', ' Yes'): one class, said so."""
    ds = config["dataset"]
    if (
        ds["task"] != "classification"
        or ds["tables"]["main"]["columns"][ds["target"]]["type"] != "str"
    ):
        return []
    out = []
    for name, spelled in spellings(frame[ds["target"]]).items():
        if len(spelled) > 1:
            ways = ", ".join(repr(v) for v in spelled)
            out.append(
                f"'{ds['target']}' writes a class more than one way ({ways}): one class, "
                f"'{name}' (labels compare without case and surrounding spaces)"
            )
    return out
