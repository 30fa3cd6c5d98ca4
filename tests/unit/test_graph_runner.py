"""The model graph run node after node gives what Rasa's dask run gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import ExecutionContext, GraphComponent, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage

from pos_assistant import graph_runner

CALLS: list[str] = []


class Step(GraphComponent):
    """Records its call and joins what it was given."""

    def __init__(self, name: str) -> None:
        self._name = name

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> Step:
        return cls(config["name"])

    def run(self, **parts: Any) -> str:
        CALLS.append(self._name)
        return self._name + "(" + ",".join(f"{k}={parts[k]}" for k in sorted(parts)) + ")"


def _node(name: str, needs: dict[str, str], target: bool = False) -> SchemaNode:
    return SchemaNode(
        needs=needs,
        uses=Step,
        constructor_name="create",
        fn="run",
        config={"name": name},
        is_target=target,
    )


SCHEMA = GraphSchema(
    {
        "tokens": _node("tokens", {"text": "__message__"}),
        "features": _node("features", {"tokens": "tokens"}),
        "intent": _node("intent", {"features": "features", "tokens": "tokens"}),
        "entities": _node("entities", {"tokens": "tokens"}),
        "parsed": _node("parsed", {"intent": "intent", "entities": "entities"}, target=True),
        "policy": _node("policy", {"tracker": "__tracker__"}, target=True),
        "unused": _node("unused", {"x": "features"}),
    }
)


@pytest.fixture
def runner(tmp_path: Path) -> DaskGraphRunner:
    storage = LocalModelStorage(tmp_path)
    return DaskGraphRunner(SCHEMA, storage, ExecutionContext(SCHEMA, "model"))


@pytest.mark.parametrize(
    ("inputs", "targets"),
    [
        ({"__message__": "你好"}, ["parsed"]),
        ({"__message__": "押金", "__tracker__": "t"}, ["parsed", "policy"]),
        ({"__tracker__": "t"}, ["policy"]),
        ({"__message__": "x"}, ["features", "entities"]),
    ],
)
def test_the_outputs_are_dasks(runner: DaskGraphRunner, inputs: dict, targets: list) -> None:
    CALLS.clear()
    expected = graph_runner.upstream_run(runner, dict(inputs), list(targets))
    dask_calls = sorted(CALLS)
    CALLS.clear()
    assert graph_runner.run(runner, dict(inputs), list(targets)) == expected
    assert sorted(CALLS) == dask_calls  # the same nodes, each once, nothing pruned differently
    assert "unused" not in CALLS


def test_each_node_runs_after_the_nodes_it_reads(runner: DaskGraphRunner) -> None:
    CALLS.clear()
    graph_runner.run(runner, {"__message__": "x"}, ["parsed"])
    for later, earlier in [("features", "tokens"), ("intent", "features"), ("parsed", "intent")]:
        assert CALLS.index(earlier) < CALLS.index(later)


def test_a_missing_input_fails_as_under_dask(runner: DaskGraphRunner) -> None:
    with pytest.raises(GraphRunError):
        graph_runner.upstream_run(runner, {}, ["policy"])
    with pytest.raises(GraphRunError):
        graph_runner.run(runner, {}, ["policy"])


def test_an_input_named_like_a_node_is_refused(runner: DaskGraphRunner) -> None:
    with pytest.raises(GraphRunError):
        graph_runner.run(runner, {"__message__": "tokens"}, ["parsed"])
