"""A pipeline task gets the config sections its stage reads, typed; reading another one fails,
naming it, instead of taking a default."""

from __future__ import annotations

import json

import pytest

from mlrig.components.config.loader import from_json
from mlrig.components.config.schema import SectionNotGiven
from mlrig.components.config.slices import STAGES, config_of, slices
from tests.conftest import load_demo


def test_a_task_sees_the_sections_it_was_given_as_the_full_config_has_them(demo_dir):
    loaded = load_demo(demo_dir)
    every = slices(loaded)
    given = {name: every[name] for name in STAGES["evaluate"]}
    task = from_json(config_of(every["root"], **given))
    assert task.config.model == loaded.config.model  # typed again, same values
    assert task.place.workdir == loaded.place.workdir and task.root == loaded.root


def test_reading_a_section_the_task_was_not_given_fails_naming_it(demo_dir):
    every = slices(load_demo(demo_dir))
    task = from_json(config_of(every["root"], **{n: every[n] for n in STAGES["evaluate"]}))
    with pytest.raises(SectionNotGiven, match="config section `dataset` was not given"):
        task.config.dataset  # noqa: B018
    with pytest.raises(SectionNotGiven, match="`monitor`"):
        task.config.monitor  # noqa: B018 (a section with a default: still refused)


def test_a_whole_config_json_is_read_as_before(demo_dir):
    loaded = load_demo(demo_dir)
    again = from_json(loaded.to_json())
    assert again.config.dataset == loaded.config.dataset
    assert "absent" not in json.loads(loaded.to_json())


def test_a_task_reads_its_mappings_in_one_order_whichever_order_kfp_handed_them_on(demo_dir):
    every = slices(load_demo(demo_dir))
    model = every["model"]
    model["candidates"] = {"ridge": {"alpha": [1.0]}, "lightgbm": {}}
    turned = {**model, "candidates": dict(reversed(list(model["candidates"].items())))}
    orders = []
    for section in (model, turned):  # a protobuf Struct's map keeps no order
        task = from_json(config_of(every["root"], model=section))
        orders.append(list(task.config.model.candidates))
    assert orders == [["lightgbm", "ridge"], ["lightgbm", "ridge"]]
    whole = from_json(load_demo(demo_dir).to_json())  # the direct path reads the same order
    columns = list(whole.config.dataset.tables[whole.config.dataset.main].columns)
    assert len(columns) > 3 and columns == sorted(columns)


def test_each_stage_readme_names_the_sections_its_task_is_given():
    import re

    from tests.conftest import REPO

    for stage, names in STAGES.items():
        if stage == "materialize":  # the features folder's second task
            continue
        readme = (REPO / "components" / stage / "README.md").read_text()
        line = re.search(r"config sections read\*\*: ([^\n]*)", readme).group(1)
        assert re.findall(r"`([a-z_]+)`", line.split("(")[0]) == list(names), stage


def test_a_task_rebuilds_its_config_from_its_own_arguments_leaving_artifacts_aside(demo_dir):
    from mlrig.components.config.slices import config_from_task

    every = slices(load_demo(demo_dir))
    arguments = {"root": every["root"], "model_section": every["model"], "workdir": every["workdir"],
                 "project": every["project"], "stores_section": every["stores"],
                 "model": object(), "holdout": object()}  # fmt: skip
    expected = config_of(every["root"], model=every["model"], project=every["project"],
                         stores=every["stores"], workdir=every["workdir"])  # fmt: skip
    assert json.loads(config_from_task(arguments)) == json.loads(expected)


def test_whole_number_choices_reach_the_task_as_written_through_kfps_struct(demo_dir):
    """KFP hands a dict parameter on as a protobuf Struct, whose numbers are all floats: the
    documented `num_leaves: [15, 31]` had reached LightGBM as 15.0 and failed the run."""
    from google.protobuf import json_format, struct_pb2

    loaded = load_demo(demo_dir)
    loaded.config.model.candidates = {
        "lightgbm": {"num_leaves": [15, 31], "learning_rate": [0.05, 0.1]},
        "random_forest": {"max_features": [1.0, 3]},  # 1.0: every column; 3: three of them
    }
    every = slices(loaded)
    struct = struct_pb2.Struct()
    struct.update(every["model"])
    handed = json_format.MessageToDict(struct)  # what the task receives
    task = from_json(config_of(every["root"], model=handed))
    spaces = task.config.model.candidates
    assert spaces["lightgbm"]["num_leaves"] == [15, 31]
    assert all(type(v) is int for v in spaces["lightgbm"]["num_leaves"])
    assert [type(v) for v in spaces["random_forest"]["max_features"]] == [float, int]
