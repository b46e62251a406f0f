"""The RPC clients over oslo.messaging's in-memory transport: each method
reaches the right topic and server with exactly its arguments, calls return
the daemon's answer, and block storage errors cross the bus with their type."""
from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import oslo_messaging
import pytest
from oslo_config import cfg

from common import context, rpc
from blockstorage import conf as bs_conf
from blockstorage import exception
from blockstorage import rpcapi

WAIT = 10.0  # upper bound for waits on other threads; never an assertion on speed


class Recorder:
    """What one daemon received: (method, keyword arguments + request id)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.got: list[tuple[str, dict[str, Any]]] = []
        self.event = threading.Event()

    def handle(self, method: str, ctxt: Any, kwargs: dict[str, Any]) -> Any:
        self.got.append((method, dict(kwargs, request_id=ctxt.request_id)))
        self.event.set()
        if method in ("initialize_connection", "attachment_update"):
            return {"driver_volume_type": "file",
                    "data": {"device_path": "/v/" + kwargs["volume_id"],
                             "served_by": self.name}}
        if method == "get_capabilities":
            return {"volume_backend_name": self.name}
        if method == "terminate_connection" and kwargs.get("volume_id") == "bad":
            raise exception.InvalidVolume(reason="not exported")
        return None

    def wait(self) -> tuple[str, dict[str, Any]]:
        assert self.event.wait(WAIT)
        self.event.clear()
        return self.got[-1]


def _endpoint(recorder: Recorder, methods: list[str]) -> Any:
    """A manager-like endpoint (oslo.messaging finds methods on the class) whose
    every method hands its call to ``recorder``."""
    def make(name: str) -> Any:
        def method(self: Any, ctxt: Any, **kwargs: Any) -> Any:
            return recorder.handle(name, ctxt, kwargs)
        return method

    attrs: dict[str, Any] = {"target": oslo_messaging.Target(version="1.0")}
    attrs.update({name: make(name) for name in methods})
    return type("Endpoint", (), attrs)()


SCHEDULER_METHODS = ["create_volume", "extend_volume", "retype"]
VOLUME_METHODS = ["create_volume", "delete_volume", "create_snapshot", "delete_snapshot",
                  "extend_volume", "copy_volume_to_image", "retype", "initialize_connection",
                  "terminate_connection", "attachment_update", "attachment_delete",
                  "get_capabilities"]
BACKUP_METHODS = ["create_backup", "restore_backup", "delete_backup"]


@pytest.fixture
def bus() -> Iterator[dict[str, Recorder]]:
    conf = cfg.ConfigOpts()
    bs_conf.register_opts(conf)
    conf([])
    conf.set_override("transport_url", "kombu+memory:////")
    conf.set_override("heartbeat_timeout_threshold", 0, group="oslo_messaging_rabbit")
    conf.set_override("driver", ["noop"], group="oslo_messaging_notifications")
    rpc.init(conf, exmods=rpcapi.EXMODS)
    recorders = {name: Recorder(name) for name in
                 ("scheduler", "node1@file", "node2@file", "backup")}
    servers = [
        rpc.get_server(oslo_messaging.Target(topic=rpcapi.SCHEDULER_TOPIC, server="ctl"),
                       [_endpoint(recorders["scheduler"], SCHEDULER_METHODS)]),
        rpc.get_server(oslo_messaging.Target(topic=rpcapi.VOLUME_TOPIC, server="node1@file"),
                       [_endpoint(recorders["node1@file"], VOLUME_METHODS)]),
        rpc.get_server(oslo_messaging.Target(topic=rpcapi.VOLUME_TOPIC, server="node2@file"),
                       [_endpoint(recorders["node2@file"], VOLUME_METHODS)]),
        rpc.get_server(oslo_messaging.Target(topic=rpcapi.BACKUP_TOPIC, server="bk1"),
                       [_endpoint(recorders["backup"], BACKUP_METHODS)]),
    ]
    for server in servers:
        server.start()
    try:
        yield recorders
    finally:
        for server in servers:
            server.stop()
            server.wait()
        rpc.cleanup()


def _ctxt() -> context.RequestContext:
    return context.RequestContext(user_id="u", project_id="p", roles=["member"])


def test_backend_of_drops_the_pool() -> None:
    assert rpcapi.backend_of("node1@file#pool") == "node1@file"
    assert rpcapi.backend_of("node1@file") == "node1@file"


def test_scheduler_casts(bus: dict[str, Recorder]) -> None:
    api = rpcapi.SchedulerAPI(timeout=WAIT)
    ctxt = _ctxt()
    api.create_volume(ctxt, "v1", {"volume_properties": {"size": 1}}, {"retry": {}})
    assert bus["scheduler"].wait() == ("create_volume", {
        "volume_id": "v1", "request_spec": {"volume_properties": {"size": 1}},
        "filter_properties": {"retry": {}}, "request_id": ctxt.request_id})
    api.extend_volume(ctxt, "v1", 3, {})
    assert bus["scheduler"].wait()[0:2] == ("extend_volume", {
        "volume_id": "v1", "new_size": 3, "request_spec": {},
        "request_id": ctxt.request_id})
    api.retype(ctxt, "v1", "t2", {})
    assert bus["scheduler"].wait()[1]["new_type_id"] == "t2"


def test_volume_casts_reach_the_volumes_backend_only(bus: dict[str, Recorder]) -> None:
    api = rpcapi.VolumeAPI(timeout=WAIT)
    ctxt = _ctxt()
    api.create_volume(ctxt, "node2@file#pool", "v1", {"a": 1}, {}, allow_reschedule=False)
    method, args = bus["node2@file"].wait()
    assert (method, args["volume_id"], args["request_spec"], args["allow_reschedule"]) == (
        "create_volume", "v1", {"a": 1}, False)
    api.delete_volume(ctxt, "node2@file", "v1", cascade=True)
    assert bus["node2@file"].wait()[1]["cascade"] is True
    api.create_snapshot(ctxt, "node2@file", "s1")
    assert bus["node2@file"].wait() == ("create_snapshot", {
        "snapshot_id": "s1", "request_id": ctxt.request_id})
    api.delete_snapshot(ctxt, "node2@file", "s1")
    assert bus["node2@file"].wait()[0] == "delete_snapshot"
    api.extend_volume(ctxt, "node2@file", "v1", 4)
    assert bus["node2@file"].wait()[1]["new_size"] == 4
    api.copy_volume_to_image(ctxt, "node2@file", "v1", {"id": "img"})
    assert bus["node2@file"].wait()[1]["image_meta"] == {"id": "img"}
    api.retype(ctxt, "node2@file", "v1", "t2")
    assert bus["node2@file"].wait()[1]["new_type_id"] == "t2"
    assert bus["node1@file"].got == []


def test_volume_calls_return_answers(bus: dict[str, Recorder]) -> None:
    api = rpcapi.VolumeAPI(timeout=WAIT)
    ctxt = _ctxt()
    connector = {"host": "compute1", "initiator": "iqn.x"}
    info = api.initialize_connection(ctxt, "node1@file#p", "v1", connector)
    assert info == {"driver_volume_type": "file",
                    "data": {"device_path": "/v/v1", "served_by": "node1@file"}}
    assert bus["node1@file"].got[-1][1]["connector"] == connector
    info = api.attachment_update(ctxt, "node1@file", "v2", connector, "a1")
    assert info["data"]["device_path"] == "/v/v2"
    assert bus["node1@file"].got[-1][1]["attachment_id"] == "a1"
    assert api.terminate_connection(ctxt, "node1@file", "v1", connector, force=True) is None
    assert bus["node1@file"].got[-1][1]["force"] is True
    api.attachment_delete(ctxt, "node1@file", "v2", "a1")
    assert bus["node1@file"].got[-1] == ("attachment_delete", {
        "volume_id": "v2", "attachment_id": "a1", "request_id": ctxt.request_id})
    assert api.get_capabilities(ctxt, "node2@file") == {"volume_backend_name": "node2@file"}


def test_errors_cross_with_their_type(bus: dict[str, Recorder]) -> None:
    api = rpcapi.VolumeAPI(timeout=WAIT)
    with pytest.raises(exception.InvalidVolume) as err:
        api.terminate_connection(_ctxt(), "node1@file", "bad", {})
    assert err.value.code == 400
    assert "not exported" in str(err.value)


def test_backup_casts(bus: dict[str, Recorder]) -> None:
    api = rpcapi.BackupAPI(timeout=WAIT)
    ctxt = _ctxt()
    api.create_backup(ctxt, "b1")
    assert bus["backup"].wait() == ("create_backup", {"backup_id": "b1",
                                                      "request_id": ctxt.request_id})
    api.restore_backup(ctxt, "b1", "v1", host="bk1")
    assert bus["backup"].wait()[1]["volume_id"] == "v1"
    api.delete_backup(ctxt, "b1", host="bk1")
    assert bus["backup"].wait()[0] == "delete_backup"
