import math
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from mlrig.serving.schemas import batch_model, request_model

Model = request_model({"tailnum": "str", "sched_dep": "datetime", "seats": "float", "n": "int"})
GOOD = {"tailnum": "N1", "sched_dep": "2013-12-30T08:15:00", "seats": 150, "n": 2}


def _fields(exc: ValidationError) -> set:
    return {err["loc"][0] for err in exc.errors() if err["loc"]}


def test_good_request_parses():
    req = Model.model_validate(GOOD)
    assert req.sched_dep == datetime(2013, 12, 30, 8, 15) and req.seats == 150.0


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"tailnum": None}, "tailnum"),
        ({"tailnum": 5}, "tailnum"),
        ({"tailnum": ""}, "tailnum"),
        ({"seats": math.nan}, "seats"),
        ({"seats": math.inf}, "seats"),
        ({"n": "2"}, "n"),
        ({"n": 2.5}, "n"),
        ({"n": math.inf}, "n"),
        ({"sched_dep": "yesterday"}, "sched_dep"),
        ({"sched_dep": "0"}, "sched_dep"),  # pydantic alone reads these as Unix time
        ({"sched_dep": 0}, "sched_dep"),
        ({"sched_dep": 1388400000.5}, "sched_dep"),
        ({"extra": 1}, "extra"),
    ],
)
def test_bad_requests_name_the_field(change, field):
    with pytest.raises(ValidationError) as info:
        Model.model_validate({**GOOD, **change})
    assert field in _fields(info.value)


def test_zoned_and_naive_iso_times_parse():
    zoned = Model.model_validate({**GOOD, "sched_dep": "2013-12-30T09:00:00-05:00"}).sched_dep
    assert zoned.utcoffset() is not None and zoned.hour == 9
    utc = Model.model_validate({**GOOD, "sched_dep": "2013-12-30T14:00:00Z"}).sched_dep
    assert utc == zoned


def test_missing_field_is_named():
    body = dict(GOOD)
    del body["seats"]
    with pytest.raises(ValidationError) as info:
        Model.model_validate(body)
    assert _fields(info.value) == {"seats"}


def test_integral_float_is_an_int_and_nullable_fields_may_be_null_or_absent():
    model = request_model({"n": "int", "note": {"type": "str", "required": False}})
    assert model.model_validate({"n": 4000.0}).n == 4000
    assert model.model_validate({"n": 1, "note": None}).note is None
    assert model.model_validate({"n": 1}).note is None


def test_columns_pydantic_cannot_name_are_fields_by_their_column_name():
    """'_reason' (pydantic: private), 'json' (a BaseModel method) and 'model_x' (its namespace)
    are request fields like any other: validated, named in errors, dumped by column name."""
    from mlrig.serving.schemas import renamed

    fields = {"_reason": "str", "json": "int", "model_x": "float", "Order ID": "int"}
    model = request_model(fields)
    body = {"_reason": "a", "json": 3, "model_x": 0.5, "Order ID": 7}
    assert model.model_validate(body).model_dump(by_alias=True) == {**body, "explain": False}
    assert set(renamed(model).values()) == {"_reason", "json", "model_x"}
    with pytest.raises(ValidationError) as info:
        model.model_validate({**body, "_reason": 5})
    assert _fields(info.value) == {"_reason"}
    inner = next(iter(renamed(model)))
    with pytest.raises(ValidationError) as info:  # only the column name is accepted
        model.model_validate({**body, inner: "b"})
    assert _fields(info.value) == {inner}


def test_a_request_may_ask_for_its_explanation_unless_the_table_has_a_column_of_that_name():
    model = request_model({"x": "int"})
    assert model.model_validate({"x": 1, "explain": True}).model_dump()["explain"] is True
    assert model.model_validate({"x": 1}).model_dump()["explain"] is False
    for loose in ("please", "yes", 1, 0):  # a switch is true or false, nothing read as one
        with pytest.raises(ValidationError) as info:
            model.model_validate({"x": 1, "explain": loose})
        assert _fields(info.value) == {"explain"}
    own = request_model({"x": "int", "explain": "str"})  # the table's own column stays its own
    assert own.model_validate({"x": 1, "explain": "why"}).model_dump()["explain"] == "why"


def test_a_bad_nullable_field_is_one_error_at_the_field():
    """pydantic reports a nullable int against each member of int | float, with the member in
    the location; the answer names the field once, as it does for a required one."""
    import json

    from pydantic import ValidationError

    from mlrig.serving.guard import user_body

    model = request_model({"age": {"type": "int", "required": False}, "x": "float"})
    batch = batch_model(model, 5)
    for bad, where in [(model, {"age": "unknown", "x": 1.0}),
                       (batch, {"rows": [{"x": 1.0}, {"age": "unknown", "x": 1.0}]})]:  # fmt: skip
        with pytest.raises(ValidationError) as exc:
            bad(**where)
        raw = json.dumps({"detail": exc.value.errors(include_url=False, include_context=False)})
        body = user_body(400, raw.encode())
        locs = [d["loc"] for d in body["detail"]]
        assert locs == ([["age"]] if bad is model else [["rows", 1, "age"]]), locs


def test_an_epoch_time_field_takes_a_unix_time_or_iso_text():
    model = request_model({"t": {"type": "datetime", "required": True, "epoch": "ms"}})
    assert model(t=1_672_531_200_000).t == datetime(2023, 1, 1, tzinfo=UTC)
    assert model(t="2023-01-01T00:00:00Z").t == datetime(2023, 1, 1, tzinfo=UTC)
    for bad in (True, "1672531200000", None, 1e30):
        with pytest.raises(ValidationError) as info:
            model(t=bad)
        assert _fields(info.value) == {"t"}


def test_a_field_of_years_takes_a_whole_year_or_iso_text_and_refuses_the_rest():
    from datetime import datetime

    import pydantic

    from mlrig.serving.schemas import _year

    field = pydantic.TypeAdapter(_year())
    assert field.validate_python(2017) == datetime(2017, 1, 1)  # naive: the dataset's zone
    assert field.validate_python("2017-03-01T00:00:00") == datetime(2017, 3, 1)
    for bad in (2017.5, 99999, True):
        with pytest.raises(pydantic.ValidationError):
            field.validate_python(bad)
