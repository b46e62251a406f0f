"""Interface hot-plug through the node manager with the fake driver: attach
then detach, the guest and the instance's network_info gain and lose the port."""
from __future__ import annotations

from typing import Any

import pytest
from oslo_messaging.rpc import dispatcher as messaging

from compute import exception
from compute.node import manager as node_manager
from compute.virt import exception as virt_exception
from compute.virt import fake
from tests.fixtures import compute_node as fx

LIMITS = {"memory_mb": 4096, "vcpus": 8, "disk_gb": 100}


def _build(cloud: fx.Cloud, node: node_manager.ComputeManager) -> tuple[dict[str, Any], Any]:
    inst = cloud.conductor.new_instance(node.host)
    ctxt = fx.ctxt()
    cloud.conductor.start_action(inst["uuid"], "create", ctxt.request_id)
    node.build_and_run_instance(ctxt, inst["uuid"], {}, LIMITS, node.host)
    return cloud.conductor.instance_get(ctxt, inst["uuid"]), ctxt


def _call(method: Any, *args: Any) -> Any:
    try:
        return method(*args)
    except messaging.ExpectedException as err:
        raise err.exc_info[1] from None


def _driver(node: node_manager.ComputeManager) -> fake.FakeDriver:
    assert isinstance(node.driver, fake.FakeDriver)
    return node.driver


def test_attach_then_detach(cloud: fx.Cloud, node: node_manager.ComputeManager) -> None:
    got, ctxt = _build(cloud, node)
    first = got["network_info"][0]["id"]
    cloud.conductor.start_action(got["uuid"], "attach_interface", ctxt.request_id)
    entry = _call(node.attach_interface, ctxt, got["uuid"], "net-2", None, "10.0.0.99")
    assert entry["network"]["id"] == "net-2"
    assert [v.port_id for v in _driver(node).get_vifs(got["uuid"])] == [first, entry["id"]]
    row = cloud.conductor.instance_get(ctxt, got["uuid"])
    assert [v["id"] for v in row["network_info"]] == [first, entry["id"]]
    assert entry["id"] in cloud.neighbours.ports_of(got["uuid"])

    node.detach_interface(ctxt, got["uuid"], entry["id"])
    assert [v.port_id for v in _driver(node).get_vifs(got["uuid"])] == [first]
    row = cloud.conductor.instance_get(ctxt, got["uuid"])
    assert [v["id"] for v in row["network_info"]] == [first]
    assert entry["id"] not in cloud.neighbours.ports_of(got["uuid"])
    assert cloud.conductor.faults(got["uuid"]) is None


def test_a_failed_plug_releases_the_port(cloud: fx.Cloud,
                                         node: node_manager.ComputeManager) -> None:
    got, ctxt = _build(cloud, node)
    _driver(node).fail_next("attach_interface",
                            virt_exception.InterfaceAttachFailed(port_id="p", reason="x"))
    with pytest.raises(exception.InterfaceAttachFailed):
        _call(node.attach_interface, ctxt, got["uuid"], "net-2", None, None)
    assert cloud.neighbours.ports_of(got["uuid"]) == [got["network_info"][0]["id"]]
    row = cloud.conductor.instance_get(ctxt, got["uuid"])
    assert len(row["network_info"]) == 1


def test_detach_of_an_unknown_port_is_a_fault(cloud: fx.Cloud,
                                              node: node_manager.ComputeManager) -> None:
    got, ctxt = _build(cloud, node)
    node.detach_interface(ctxt, got["uuid"], "no-such-port")
    fault = cloud.conductor.faults(got["uuid"])
    assert fault is not None and fault["code"] == 404
    assert len(_driver(node).get_vifs(got["uuid"])) == 1
