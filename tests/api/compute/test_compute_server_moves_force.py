"""Microversions 2.29 (evacuate ``force``), 2.30 (os-migrateLive ``force``) and
2.34 (live migration checks after the answer): what the API asks of the
conductor, and the bodies it refuses."""
from __future__ import annotations

from typing import Any

import pytest
from compute_api_helpers import message, project

from compute.db import hosts
from tests.fixtures import compute as fx

NO_HOST = "Can't force to a non-provided destination"


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch, service: Any, api: Any) -> fx.Servers:
    return fx.Servers(api, service, fx.install_fakes(monkeypatch))


def _server(fakes: fx.Servers, source_down: bool = False) -> dict[str, Any]:
    instance = fakes.active(project())
    fakes.up("node-2")
    if source_down:
        [service] = fakes.host_store.service_list(binary=hosts.COMPUTE_BINARY, host="node-1")
        fakes.host_store.service_update(service["uuid"], {"forced_down": True})
    return instance


def _act(fakes: fx.Servers, instance: dict[str, Any], version: str, body: Any,
         status: int) -> Any:
    return fakes.call("POST", "/servers/%s/action" % instance["uuid"], None, version=version,
                      admin=True, json_body=body, status=status)


def _live(host: str | None, **extra: Any) -> dict[str, Any]:
    return {"os-migrateLive": dict({"host": host, "block_migration": "auto"}, **extra)}


@pytest.mark.parametrize("version,body,force,async_", [
    ("2.30", _live("node-2", force=True), True, False),
    ("2.30", _live("node-2", force="yes"), True, False),
    ("2.30", _live("node-2", force=False), False, False),
    ("2.30", _live("node-2"), False, False),    # from 2.30 the scheduler checks the host
    ("2.29", _live("node-2"), True, False),     # before, a host named is forced
    ("2.30", _live(None), False, False),
    ("2.33", _live("node-2", force=True), True, False),
    ("2.34", _live("node-2", force=True), True, True),
    ("2.34", _live(None), False, True),
])
def test_live_migration_force_and_async(fakes: fx.Servers, version: str,
                                        body: dict[str, Any], force: bool,
                                        async_: bool) -> None:
    instance = _server(fakes)
    _act(fakes, instance, version, body, 202)
    [sent] = fakes.boundary.casts("live_migrate_instance")
    assert (sent["host"], sent["force"], sent["async_"]) == (
        body["os-migrateLive"]["host"], force, async_)


@pytest.mark.parametrize("version,body", [
    ("2.29", _live("node-2", force=True)),      # no force before 2.30
    ("2.30", _live("node-2", force="maybe")),
    ("2.30", _live(None, force=True)),
])
def test_live_migration_force_refusals(fakes: fx.Servers, version: str,
                                       body: dict[str, Any]) -> None:
    instance = _server(fakes)
    resp = _act(fakes, instance, version, body, 400)
    if body["os-migrateLive"]["host"] is None:
        assert message(resp) == NO_HOST
    assert fakes.boundary.casts("live_migrate_instance") == []
    assert fakes.store.get(instance["uuid"])["task_state"] is None


@pytest.mark.parametrize("version,body,force", [
    ("2.29", {"evacuate": {"host": "node-2", "force": True}}, True),
    ("2.29", {"evacuate": {"host": "node-2", "force": "false"}}, False),
    ("2.29", {"evacuate": {"host": "node-2"}}, False),
    ("2.28", {"evacuate": {"host": "node-2"}}, True),
    ("2.29", {"evacuate": {}}, False),
])
def test_evacuation_force(fakes: fx.Servers, version: str, body: dict[str, Any],
                          force: bool) -> None:
    instance = _server(fakes, source_down=True)
    resp = _act(fakes, instance, version, body, 200)
    assert resp.body == b""
    [sent] = fakes.boundary.casts("evacuate_instance")
    assert (sent["host"], sent["force"]) == (body["evacuate"].get("host"), force)


@pytest.mark.parametrize("version,body", [
    ("2.28", {"evacuate": {"host": "node-2", "force": True}}),
    ("2.29", {"evacuate": {"force": True}}),
    ("2.29", {"evacuate": {"host": "node-2", "force": "sometimes"}}),
])
def test_evacuation_force_refusals(fakes: fx.Servers, version: str,
                                   body: dict[str, Any]) -> None:
    instance = _server(fakes, source_down=True)
    resp = _act(fakes, instance, version, body, 400)
    if "host" not in body["evacuate"]:
        assert message(resp) == NO_HOST
    assert fakes.boundary.casts("evacuate_instance") == []
    assert fakes.store.get(instance["uuid"])["task_state"] is None
