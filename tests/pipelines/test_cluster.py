"""A task's resources as sized() sets them: what kfp's own setters set, checked as they check."""

import pytest
from kfp import dsl

from mlrig.pipelines.cluster import sized


@dsl.component(base_image="python:3.11")
def _step() -> str:
    return "done"


def _kfp_sized(cpu: str, memory: str, memory_limit: str, cpu_limit: str) -> dsl.PipelineTask:
    task = _step()
    task.set_cpu_request(cpu).set_memory_request(memory)
    return task.set_memory_limit(memory_limit).set_cpu_limit(cpu_limit)


@pytest.mark.parametrize(
    "cpu, memory, memory_limit, cpu_limit",
    [("500m", "2G", "8G", "2"), ("1", "256M", "4Gi", "1500m"), ("0.25", "1500M", "3G", "4")],
)
def test_sized_sets_the_resources_kfps_setters_set(cpu, memory, memory_limit, cpu_limit):
    @dsl.pipeline(name="sized")
    def both() -> None:
        ours = sized(_step(), cpu, memory, memory_limit=memory_limit, cpu_limit=cpu_limit)
        theirs = _kfp_sized(cpu, memory, memory_limit, cpu_limit)
        assert ours.container_spec.resources == theirs.container_spec.resources
        assert ours.container_spec.resources.memory_limit is not None

    assert both  # the pipeline was built, with its assertions run inside


def test_sized_leaves_out_the_limits_it_is_not_given():
    @dsl.pipeline(name="requests-only")
    def requests_only() -> None:
        ours = sized(_step(), cpu="100m", memory="256M").container_spec.resources
        theirs = _step().set_cpu_request("100m").set_memory_request("256M")
        assert ours == theirs.container_spec.resources
        assert (ours.cpu_limit, ours.memory_limit) == (None, None)

    assert requests_only


@pytest.mark.parametrize("cpu, memory", [("two cores", "1G"), ("1", "1.5G")])
def test_sized_refuses_what_kfp_refuses(cpu, memory):
    with pytest.raises(ValueError, match="Invalid (cpu|memory) string"):

        @dsl.pipeline(name="bad")
        def bad() -> None:
            sized(_step(), cpu=cpu, memory=memory)
