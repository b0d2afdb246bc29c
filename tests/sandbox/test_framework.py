"""The framework pieces on their own: routes, store, operations, list helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sandbox.discovery import RouteTable, load
from sandbox.effects import effect, make_effect
from sandbox.errors import ApiError
from sandbox.faults import Faults
from sandbox.latency import LatencyModel
from sandbox.listing import location_matches, paginate
from sandbox.runtime import Runtime
from sandbox.store import Store


def test_routes_follow_discovery_templates() -> None:
    usage = load("serviceusage.v1")
    routes = RouteTable(list(usage.methods.values()))
    method, params = routes.match("POST", "/v1/projects/123/services/compute.googleapis.com:enable")  # type: ignore[misc]
    assert (method.id, params) == (
        "serviceusage.services.enable",
        {"name": "projects/123/services/compute.googleapis.com"},
    )
    method, params = routes.match("GET", "/v1/operations/acf.p2-1-abc")  # type: ignore[misc]
    assert (method.id, params) == (
        "serviceusage.operations.get",
        {"name": "operations/acf.p2-1-abc"},
    )
    method, _ = routes.match("POST", "/v1/projects/p/services:batchEnable")  # type: ignore[misc]
    assert method.id == "serviceusage.services.batchEnable" and not method.is_read
    assert routes.match("DELETE", "/v1/projects/p/services/x") is None

    compute = load("compute.v1")
    routes = RouteTable(list(compute.methods.values()))
    method, params = routes.match(  # type: ignore[misc]
        "POST", "/compute/v1/projects/p/regions/r/operations/op-1/wait"
    )
    assert method.id == "compute.regionOperations.wait" and method.is_read
    assert params == {"project": "p", "region": "r", "operation": "op-1"}


def test_store_transactions_roll_back_on_error(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    store.put("c", "a", {"v": 1})
    with pytest.raises(RuntimeError), store.transaction():
        store.put("c", "b", {"v": 2})
        store.delete("c", "a")
        raise RuntimeError("boom")
    assert [key for key, _ in store.items("c")] == ["a"]
    assert [store.next_value("n"), store.next_value("n")] == [1, 2]
    store.close()
    reopened = Store(tmp_path / "s.sqlite3")
    assert reopened.get("c", "a") == {"v": 1} and reopened.next_value("n") == 3


def test_derived_values_are_rebuilt_only_when_the_document_changed(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite3")
    built: list[Any] = []

    def total(doc: dict[str, Any] | None) -> int:
        built.append(doc)
        return sum((doc or {}).values())

    assert [store.derived("c", "k", total) for _ in range(3)] == [0, 0, 0]
    store.put("c", "k", {"a": 1, "b": 2})
    assert [store.derived("c", "k", total) for _ in range(2)] == [3, 3]
    with pytest.raises(RuntimeError), store.transaction():
        store.put("c", "k", {"a": 10})
        assert store.derived("c", "k", total) == 10
        raise RuntimeError("boom")
    assert store.derived("c", "k", total) == 3, "a rolled-back change is not served"
    assert built == [None, {"a": 1, "b": 2}, {"a": 10}, {"a": 1, "b": 2}]


@effect("test.record")
def _record(rt: Runtime, args: dict[str, Any]) -> dict[str, Any] | None:
    if args.get("fail"):
        raise ApiError(400, "effect refused", "FAILED_PRECONDITION")
    rt.store.put("test", args["key"], {"applied": True})
    return {"key": args["key"]}


def _runtime(tmp_path: Path, faults: Faults | None = None) -> Runtime:
    latency = LatencyModel("realistic", time_scale=1.0, seed=1)
    return Runtime(store=Store(tmp_path / "s.sqlite3"), latency=latency, faults=faults or Faults())


def test_operations_complete_on_the_clock_not_on_polls(tmp_path: Path) -> None:
    rt = _runtime(tmp_path)
    rt.operations.start(
        api="t", name="op-1", method="x", duration=60, effect=make_effect("test.record", key="k")
    )
    for _ in range(5):
        assert not rt.operations.get("t", "op-1")["done"]  # type: ignore[index]
    assert rt.store.get("test", "k") is None
    rt.advance(61)
    record = rt.operations.get("t", "op-1")
    assert record is not None and record["done"] and record["result"] == {"key": "k"}
    assert rt.store.get("test", "k") == {"applied": True}


def test_failing_effects_and_injected_failures_end_operations_in_error(tmp_path: Path) -> None:
    faults = Faults({"rules": [{"method": "bad", "operation": {"status": "INTERNAL"}}]})
    rt = _runtime(tmp_path, faults)
    rt.operations.start(
        api="t",
        name="a",
        method="x",
        duration=0,
        effect=make_effect("test.record", key="a", fail=True),
    )
    rt.operations.start(
        api="t",
        name="b",
        method="bad",
        duration=0,
        effect=make_effect("test.record", key="b"),
        failure_effect=make_effect("test.record", key="cleanup"),
    )
    a, b = rt.operations.get("t", "a"), rt.operations.get("t", "b")
    assert a is not None and a["error"] == {"code": 9, "message": "effect refused"}
    assert b is not None and b["error"]["code"] == 13
    assert rt.store.get("test", "b") is None and rt.store.get("test", "cleanup") is not None


def test_list_helpers() -> None:
    assert location_matches("-", "us-central1") and location_matches("us-central1", "us-central1")
    assert not location_matches("europe-west4", "us-central1")
    items = list(range(7))
    first, token = paginate(items, 3, None)
    second, token2 = paginate(items, 3, token)
    third, token3 = paginate(items, 3, token2)
    assert (first, second, third, token3) == ([0, 1, 2], [3, 4, 5], [6], "")
    with pytest.raises(ApiError):
        paginate(items, 3, "not a token!")
