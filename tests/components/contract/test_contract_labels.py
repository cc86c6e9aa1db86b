"""A target's classes: one class however its rows spell it ('yes', 'YES', ' Yes'), named as
most rows write it; labels that arrive later compare the same way."""

from __future__ import annotations

import pandas as pd

from mlrig.components.contract.contract import Contract, label_classes, spellings


def test_a_class_written_several_ways_is_one_class_named_as_most_rows_write_it():
    labels = pd.Series(["yes", "YES", "no", " Yes", "No", "yes", None, "no"])
    assert spellings(labels) == {"yes": ["yes", " Yes", "YES"], "no": ["no", "No"]}
    assert label_classes(labels, "classification") == ("binary", ["no", "yes"], "yes")
    assert label_classes(labels, "classification", "YES")[2] == "yes"  # the config's spelling
    contract = Contract.from_dict(
        {
            "task": "binary",
            "target": "y",
            "request_fields": {},
            "entity_keys": {},
            "derivations": [],
            "date_parts": None,
            "event_time": None,
            "timezone": "UTC",
            "classes": ["no", "yes"],
            "positive_label": "yes",
        }  # fmt: skip
    )
    assert contract.encode(pd.Series(["YES", "no ", "maybe", None])).tolist() == [1, 0, -1, -1]


def test_classes_that_differ_in_more_than_case_stay_apart_in_their_order():
    labels = pd.Series(["Adelie", "Gentoo", "Chinstrap", "gentoo", "Gentoo"])
    assert label_classes(labels, "classification") == (
        "multiclass", ["Adelie", "Chinstrap", "Gentoo"], None
    )  # fmt: skip
    assert label_classes(pd.Series([1, 0, 1.0, 2]), "classification")[1] == [0, 1, 2]
