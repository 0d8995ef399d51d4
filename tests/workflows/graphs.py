"""Building workflow graphs in Tracardi's node/edge shape for tests."""

from apps.workflows.actions import action_by_id


def node(node_id: str, action_id: str, name: str | None = None, debug: bool = False, **config):
    action = action_by_id(action_id)
    return {
        "id": node_id,
        "type": "startNode" if action_id == "start" else "flowNode",
        "position": {"x": 0, "y": 0},
        "data": {
            "start": action_id == "start",
            "debug": debug,
            "spec": action.spec(config),
            "metadata": {"name": name or node_id},
        },
    }


def edge(source: str, target: str, source_port: str = "payload", target_port: str = "payload"):
    return {
        "id": f"{source}:{source_port}->{target}:{target_port}",
        "source": source,
        "sourceHandle": source_port,
        "target": target,
        "targetHandle": target_port,
    }


def graph(nodes: list[dict], edges: list[dict]) -> dict:
    for index, item in enumerate(nodes):
        item["position"] = {"x": 40 + 220 * index, "y": 40 + 60 * (index % 2)}
    return {"nodes": nodes, "edges": edges}


def linear_graph(*steps: tuple) -> dict:
    """start -> n1 -> n2 ...; each step is (action id, config) joined on its payload port, or
    (action id, config, output port) to join the next node to another port."""
    nodes = [node("start", "start")]
    edges = []
    previous, previous_port = "start", "payload"
    for index, (action_id, config, *port) in enumerate(steps, start=1):
        node_id = f"n{index}"
        nodes.append(node(node_id, action_id, **config))
        edges.append(edge(previous, node_id, previous_port))
        previous, previous_port = node_id, (port[0] if port else "payload")
    return graph(nodes, edges)


def make_flow(
    *,
    event: dict | None = None,
    profile: dict | None = None,
    session: dict | None = None,
    now=None,
    effects=None,
    history=None,
    test_run: bool = False,
):
    """A Flow over plain dicts, for running actions and graphs without a database."""
    from datetime import UTC, datetime

    from apps.workflows.engine import Flow

    return Flow(
        event=event if event is not None else {"id": "e1", "type": "page-view", "properties": {}},
        profile=profile,
        session=session,
        workflow={"id": "w1", "name": "Test", "version": 1},
        now=now or datetime(2026, 3, 4, 12, 0, tzinfo=UTC),
        effects=effects,
        history=history,
        test_run=test_run,
    )


def run_action(action_id: str, config: dict, payload=None, **flow_kwargs):
    """Build the action from `config` (as a saved node would) and run it once.

    Returns (results as [(port, value)], flow)."""
    from apps.workflows.actions.base import Result

    action = action_by_id(action_id)(config)
    flow = make_flow(**flow_kwargs)
    returned = action.run(flow.event if payload is None else payload, flow)
    if returned is None:
        results = []
    elif isinstance(returned, Result):
        results = [(returned.port, returned.value)]
    else:
        results = [(result.port, result.value) for result in returned]
    return results, flow
