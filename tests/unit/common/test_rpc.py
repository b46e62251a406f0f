"""Tests for common.rpc: real round trips on the in-process kombu memory transport."""
from __future__ import annotations

import queue
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import oslo_messaging
import pytest
from oslo_config import cfg
from oslo_context import context as oslo_context

from common import context, exception, rpc

MEMORY_URL = "kombu+memory:////"
RABBIT_URL = "rabbit://guest:guest@127.0.0.1:5672/"
WAIT = 10.0  # upper bound for waits on other threads; never an assertion on speed


class Refused(exception.Conflict):
    msg_fmt = "Refused %(what)s."


class Manager:
    target = oslo_messaging.Target(version="1.1")

    def __init__(self) -> None:
        self.casts: queue.Queue[Any] = queue.Queue()
        self.private_called = False

    def echo(self, ctxt: context.RequestContext, value: Any) -> Any:
        return value

    def record(self, ctxt: context.RequestContext, value: Any) -> None:
        self.casts.put(value)

    def whoami(self, ctxt: context.RequestContext) -> dict[str, Any]:
        current = oslo_context.get_current()
        return {"type": type(ctxt).__name__, "request_id": ctxt.request_id,
                "global_request_id": ctxt.global_request_id,
                "user_name": ctxt.user_name, "roles": ctxt.roles,
                "current_request_id": current.request_id if current else None}

    @oslo_messaging.expected_exceptions(exception.NotFound, Refused)
    def fail(self, ctxt: context.RequestContext, kind: str) -> None:
        if kind == "notfound":
            raise exception.NotFound("No such thing.")
        raise Refused(what="that")

    def _secret(self, ctxt: context.RequestContext) -> str:
        self.private_called = True
        return "leaked"


def make_conf(url: str, **notifications: Any) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    rpc.register_opts(conf)
    conf([], project="stratus-test", default_config_files=[])
    conf.set_override("transport_url", url)
    # the memory transport has no AMQP heartbeats; avoid a warning per connection
    conf.set_override("heartbeat_timeout_threshold", 0, group="oslo_messaging_rabbit")
    for key, value in notifications.items():
        conf.set_override(key, value, group=rpc.NOTIFICATIONS_GROUP)
    return conf


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Manager, oslo_messaging.RPCClient]]:
    conf = make_conf(MEMORY_URL, topics=["notifications-" + uuid.uuid4().hex])
    rpc.init(conf, exmods=[__name__])
    manager = Manager()
    topic = "test-rpc-" + uuid.uuid4().hex
    server = rpc.get_server(oslo_messaging.Target(topic=topic, server="host1"), [manager])
    server.start()
    client = rpc.get_client(oslo_messaging.Target(topic=topic, version="1.0"))
    try:
        yield manager, client
    finally:
        server.stop()
        server.wait()
        rpc.cleanup()


def test_register_opts_on_private_conf() -> None:
    conf = cfg.ConfigOpts()
    rpc.register_opts(conf)
    rpc.register_opts(conf)  # idempotent
    conf([], default_config_files=[])
    assert conf.transport_url == "rabbit://"  # oslo.messaging's own default
    assert conf.oslo_messaging_tracing.tracing_enabled is False
    assert conf.oslo_messaging_metrics.metrics_enabled is False
    assert conf.oslo_messaging_notifications.driver == ["messagingv2"]


def test_call_returns_value(served: tuple[Manager, Any]) -> None:
    _manager, client = served
    ctxt = context.RequestContext(user_id="u1", project_id="p1")
    assert client.call(ctxt, "echo", value={"a": [1, 2]}) == {"a": [1, 2]}


def test_client_has_explicit_default_timeout(served: tuple[Manager, Any]) -> None:
    _manager, client = served
    assert client.timeout == rpc.DEFAULT_CALL_TIMEOUT
    assert client.prepare(timeout=5).timeout == 5
    long = rpc.prepare_long(client, version="1.1")
    assert long.timeout == rpc.LONG_CALL_TIMEOUT
    assert long.call_monitor_timeout == rpc.CALL_MONITOR_TIMEOUT


def test_cast_arrives(served: tuple[Manager, Any]) -> None:
    manager, client = served
    client.cast(context.RequestContext(), "record", value="hello")
    assert manager.casts.get(timeout=WAIT) == "hello"


def test_common_exception_keeps_its_type(served: tuple[Manager, Any]) -> None:
    _manager, client = served
    with pytest.raises(exception.NotFound) as info:
        client.call(context.RequestContext(), "fail", kind="notfound")
    assert info.value.code == 404
    assert str(info.value).startswith("No such thing.")


def test_service_exception_module_allowed(served: tuple[Manager, Any]) -> None:
    _manager, client = served
    with pytest.raises(Refused) as info:
        client.call(context.RequestContext(), "fail", kind="refused")
    assert isinstance(info.value, exception.Conflict)
    assert str(info.value).startswith("Refused that.")


def test_private_method_not_callable(served: tuple[Manager, Any]) -> None:
    manager, client = served
    with pytest.raises(oslo_messaging.RemoteError) as info:
        client.call(context.RequestContext(), "_secret")
    assert info.value.exc_type == "NoSuchMethod"
    assert manager.private_called is False


def test_context_travels_to_server(served: tuple[Manager, Any]) -> None:
    _manager, client = served
    global_id = "req-" + str(uuid.uuid4())
    ctxt = context.RequestContext(user_id="u1", user_name="alice", roles=["member"],
                                  global_request_id=global_id)
    seen = client.call(ctxt, "whoami")
    assert seen == {"type": "RequestContext", "request_id": ctxt.request_id,
                    "global_request_id": global_id, "user_name": "alice",
                    "roles": ["member"], "current_request_id": ctxt.request_id}


def test_version_cap_enforced(served: tuple[Manager, Any]) -> None:
    _manager, client = served
    capped = rpc.get_client(client.target, version_cap="1.0")
    assert not capped.can_send_version("1.1")
    with pytest.raises(oslo_messaging.RPCVersionCapError):
        capped.prepare(version="1.1").call(context.RequestContext(), "echo", value=1)
    assert client.prepare(version="1.1").call(context.RequestContext(), "echo", value=2) == 2


def test_notify_reaches_listener(served: tuple[Manager, Any]) -> None:
    received: queue.Queue[tuple[str, dict[str, Any], Any]] = queue.Queue()

    class Endpoint:
        def info(self, ctxt: dict[str, Any], publisher_id: str, event_type: str,
                 payload: dict[str, Any], metadata: dict[str, Any]) -> None:
            received.put((event_type, payload, ctxt.get("request_id")))

    transport = rpc._STATE.notification_transport
    conf = rpc._STATE.conf
    assert transport is not None and conf is not None
    topic = conf.oslo_messaging_notifications.topics[0]
    listener = oslo_messaging.get_notification_listener(
        transport, [oslo_messaging.Target(topic=topic)], [Endpoint()])
    listener.start()
    try:
        ctxt = context.RequestContext()
        rpc.notify(ctxt, "widget.create.end", {"id": "w1"}, publisher_id="test.host1")
        assert received.get(timeout=WAIT) == ("widget.create.end", {"id": "w1"},
                                              ctxt.request_id)
    finally:
        listener.stop()
        listener.wait()


def test_not_initialised_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rpc, "_STATE", rpc._State())
    with pytest.raises(RuntimeError):
        rpc.get_client(oslo_messaging.Target(topic="x"))
    with pytest.raises(RuntimeError):
        rpc.get_notifier()
    rpc.cleanup()  # harmless without init


def test_serializer_round_trip() -> None:
    serializer = rpc.RequestContextSerializer()
    ctxt = context.RequestContext(user_id="u", project_id="p", auth_token="tok",
                                  user_name="alice", project_name="demo",
                                  roles=["reader"], service_token="svc",
                                  service_roles=["service"],
                                  global_request_id="req-" + str(uuid.uuid4()))
    wire = serializer.serialize_context(ctxt)
    back = serializer.deserialize_context(wire)
    assert isinstance(back, context.RequestContext)
    for attr in ("user_id", "project_id", "auth_token", "user_name", "project_name",
                 "roles", "service_token", "service_roles", "request_id",
                 "global_request_id"):
        assert getattr(back, attr) == getattr(ctxt, attr), attr
    assert serializer.serialize_context(None) == {}


def test_elevated_context_keeps_identity_over_the_wire() -> None:
    ctxt = context.RequestContext(user_id="u", user_name="alice", roles=["member"],
                                  service_token="svc")
    admin = ctxt.elevated()
    assert oslo_context.get_current() is ctxt  # elevating does not replace it
    assert ctxt.roles == ["member"] and not ctxt.is_admin
    serializer = rpc.RequestContextSerializer()
    back = serializer.deserialize_context(serializer.serialize_context(admin))
    assert (back.user_name, back.service_token, back.is_admin) == ("alice", "svc", True)
    assert back.roles == ["member", "admin"]
    assert back.request_id == ctxt.request_id


def test_allowed_remote_exmods() -> None:
    assert rpc.allowed_remote_exmods() == ["common.exception"]
    assert rpc.allowed_remote_exmods(["compute.exception", "common.exception"]) == [
        "common.exception", "compute.exception"]


@pytest.mark.parametrize("value,expected", [
    (None, None), ("zed", "1.3"), ("1.7", "1.7"), ("auto", "1.5")])
def test_version_cap(value: str | None, expected: str | None) -> None:
    conf = cfg.ConfigOpts()
    rpc.register_upgrade_level(conf, "scheduler")
    conf([], default_config_files=[])
    conf.set_override("scheduler", value, group="upgrade_levels")
    assert rpc.version_cap(conf, "scheduler", {"zed": "1.3"}, auto=lambda: "1.5") == expected


def test_version_cap_auto_without_callable_means_no_cap() -> None:
    conf = cfg.ConfigOpts()
    rpc.register_upgrade_level(conf, "conductor")
    conf([], default_config_files=[])
    conf.set_override("conductor", "auto", group="upgrade_levels")
    assert rpc.version_cap(conf, "conductor", {}) is None


def test_version_cap_rejects_junk() -> None:
    conf = cfg.ConfigOpts()
    rpc.register_upgrade_level(conf, "node")
    conf([], default_config_files=[])
    conf.set_override("node", "banana", group="upgrade_levels")
    with pytest.raises(rpc.InvalidUpgradeLevel):
        rpc.version_cap(conf, "node", {"zed": "1.3"})


def _broker_up(host: str = "127.0.0.1", port: int = 5672) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def test_round_trip_on_rabbitmq(monkeypatch: pytest.MonkeyPatch) -> None:
    if not _broker_up():
        pytest.skip("RabbitMQ is not reachable at 127.0.0.1:5672")
    monkeypatch.setattr(rpc, "_STATE", rpc._State())
    conf = make_conf(RABBIT_URL)
    conf.set_override("heartbeat_timeout_threshold", 60, group="oslo_messaging_rabbit")
    rpc.init(conf, exmods=[__name__])
    topic = "test-rpc-" + uuid.uuid4().hex
    manager = Manager()
    server = rpc.get_server(oslo_messaging.Target(topic=topic, server="host1"), [manager])
    server.start()
    try:
        client = rpc.get_client(oslo_messaging.Target(topic=topic, version="1.0"))
        ctxt = context.RequestContext()
        assert client.prepare(timeout=30).call(ctxt, "echo", value=41) == 41
        assert client.call(ctxt, "whoami")["request_id"] == ctxt.request_id
        with pytest.raises(Refused):
            client.call(ctxt, "fail", kind="refused")
    finally:
        server.stop()
        server.wait()
        rpc.cleanup()
