"""Rasa's model graph run node after node, without building a dask graph on every call.

Rasa 3.6 runs its model graph (the NLU pipeline on every message, the policies on every
prediction: four or more runs a turn) through `DaskGraphRunner.run`
(rasa/engine/runner/dask.py): each run prunes the schema to the targets, builds a dask graph of
the nodes, and hands it to dask's synchronous scheduler, which orders and executes the tasks in
the same thread. About a tenth of a turn's time in the Rasa server went to that machinery
rather than to the components (docs/turn-profile.md).

Here each set of targets is pruned and put in dependency order once; a run then calls the
same `GraphNode`s with the same arguments in that order, in the same thread, and returns the
same `{node name: output}` dict. Hooks (training's caching and fingerprints) live inside
`GraphNode.__call__`, so they run as before. tests/unit/test_graph_runner.py compares the
outputs with dask's on the trained model.
"""

from __future__ import annotations

from typing import Any

from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphSchema
from rasa.engine.runner.dask import DaskGraphRunner

_INSTALLED_MARK = "_pos_assistant_sequential_graph"

upstream_run = DaskGraphRunner.run


# Sets of targets a runner is asked for (a handful: parse, predict, ...); a bound all the same.
MAX_PLANS_PER_RUNNER = 64
_PLANS_ATTRIBUTE = "_pos_assistant_plans"

Plan = tuple[tuple[str, tuple[str, ...]], ...]


def _plan_for(runner: DaskGraphRunner, targets: tuple[str, ...]) -> Plan:
    plans: dict[tuple[str, ...], Plan] = runner.__dict__.setdefault(_PLANS_ATTRIBUTE, {})
    plan = plans.get(targets)
    if plan is None:
        plan = _plan(runner._graph_schema, targets)
        if len(plans) < MAX_PLANS_PER_RUNNER:
            plans[targets] = plan
    return plan


def _plan(schema: GraphSchema, targets: tuple[str, ...]) -> Plan:
    """The nodes the targets need, each after the nodes it reads: (name, parent names)."""
    minimal = schema.minimal_graph_schema(list(targets))
    order: list[tuple[str, tuple[str, ...]]] = []
    placed: set[str] = set()

    def place(name: str, path: tuple[str, ...]) -> None:
        if name in placed or name not in minimal.nodes:
            return  # done, or an input given at run time
        if name in path:
            raise GraphRunError(f"The graph has a cycle through '{name}'.")
        needs = tuple(minimal.nodes[name].needs.values())
        for parent in needs:
            place(parent, (*path, name))
        placed.add(name)
        order.append((name, needs))

    for name in minimal.nodes:
        place(name, ())
    return tuple(order)


def run(
    self: DaskGraphRunner,
    inputs: dict[str, Any] | None = None,
    targets: list[str] | None = None,
) -> dict[str, Any]:
    """`DaskGraphRunner.run`: the same outputs, node after node."""
    run_targets = tuple(targets if targets else self._graph_schema.target_names)
    plan = _plan_for(self, run_targets)
    # Each node returns (its name, its output), and reads its parents' pairs, as under dask.
    results: dict[str, Any] = {}
    for input_name, input_value in (inputs or {}).items():
        if isinstance(input_value, str) and any(input_value == name for name, _ in plan):
            raise GraphRunError(
                f"Input value '{input_value}' clashes with a node name. Make sure "
                f"that none of the input names passed to the `run` method are the "
                f"same as node names in the graph schema."
            )
        results[input_name] = (input_name, input_value)
    for name, needs in plan:
        # A parent nobody provided is passed as its name, as dask does (GraphNode warns or
        # raises GraphRunError for it).
        parents = [results.get(parent, parent) for parent in needs]
        results[name] = self._instantiated_nodes[name](*parents)
    return dict(results[target] for target in run_targets)


def install() -> None:
    """Installs the sequential run (idempotent)."""
    if getattr(DaskGraphRunner, _INSTALLED_MARK, False):
        return
    DaskGraphRunner.run = run  # type: ignore[method-assign]
    setattr(DaskGraphRunner, _INSTALLED_MARK, True)


def installed() -> bool:
    return bool(getattr(DaskGraphRunner, _INSTALLED_MARK, False))
