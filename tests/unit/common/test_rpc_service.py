"""Tests for common.rpc_service: heartbeats, periodic tasks, serving, stopping."""
from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import oslo_messaging
import pytest
from oslo_config import cfg

from common import context, rpc, rpc_service, service

WAIT = 10.0  # upper bound for waits on other threads; never an assertion on speed


class Counter:
    """Counts calls and lets a test wait until ``n`` happened."""

    def __init__(self) -> None:
        self.calls: list[Any] = []
        self._cond = threading.Condition()

    def add(self, item: Any) -> None:
        with self._cond:
            self.calls.append(item)
            self._cond.notify_all()

    def wait_for(self, n: int) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: len(self.calls) >= n, timeout=WAIT)


class Manager:
    target = oslo_messaging.Target(version="1.0")

    def __init__(self) -> None:
        self.ticks = Counter()
        self.flaky_runs = Counter()
        self.hooks: list[str] = []

    def init_host(self) -> None:
        self.hooks.append("init_host")

    def cleanup_host(self) -> None:
        self.hooks.append("cleanup_host")

    def ping(self, ctxt: context.RequestContext) -> str:
        return "pong"

    @rpc_service.periodic_task(spacing=0.01, run_immediately=True)
    def _tick(self, ctxt: context.RequestContext) -> None:
        self.ticks.add(ctxt.request_id)

    @rpc_service.periodic_task(spacing=lambda conf: conf.report_interval)
    def _flaky(self, ctxt: context.RequestContext) -> None:
        self.flaky_runs.add(ctxt)
        if len(self.flaky_runs.calls) == 1:
            raise RuntimeError("first run fails")

    @rpc_service.periodic_task(spacing=0)
    def _disabled(self, ctxt: context.RequestContext) -> None:
        raise AssertionError("disabled task ran")


@pytest.fixture
def conf() -> Iterator[cfg.ConfigOpts]:
    conf = cfg.ConfigOpts()
    rpc.register_opts(conf)
    rpc_service.register_opts(conf)
    conf([], project="stratus-test", default_config_files=[])
    conf.set_override("transport_url", "kombu+memory:////")
    conf.set_override("heartbeat_timeout_threshold", 0, group="oslo_messaging_rabbit")
    conf.set_override("report_interval", 0.02)
    rpc.init(conf)
    try:
        yield conf
    finally:
        rpc.cleanup()


def _service(conf: cfg.ConfigOpts, manager: Manager,
             report: Callable[..., None] | None) -> rpc_service.RPCService:
    return rpc_service.RPCService(conf, manager, "test-svc-" + uuid.uuid4().hex,
                                  "host1", report_state=report)


def test_serves_beats_runs_tasks_and_stops(conf: cfg.ConfigOpts,
                                           caplog: pytest.LogCaptureFixture) -> None:
    manager = Manager()
    beats = Counter()

    def report(ctxt: context.RequestContext, binary: str, host: str, topic: str) -> None:
        beats.add((type(ctxt).__name__, binary, host, topic))

    svc = _service(conf, manager, report)
    caplog.set_level(logging.ERROR, logger="common.rpc_service")
    svc.start()
    try:
        client = rpc.get_client(oslo_messaging.Target(topic=svc.topic, version="1.0"))
        assert client.call(context.RequestContext(), "ping") == "pong"
        assert beats.wait_for(2)
        assert beats.calls[0] == ("RequestContext", "stratus-" + svc.topic, "host1", svc.topic)
        assert manager.ticks.wait_for(3)
        assert len(set(manager.ticks.calls[:3])) == 3  # a fresh request id per run
        assert manager.flaky_runs.wait_for(2)  # survived its first failure
    finally:
        svc.stop()
    failures = [r for r in caplog.records if "Periodic task _flaky failed" in r.getMessage()]
    assert len(failures) == 1
    assert [loop.name for loop in svc.loops] == ["heartbeat", "_flaky", "_tick"]
    assert manager.hooks == ["init_host", "cleanup_host"]


def test_stop_is_clean_and_idempotent(conf: cfg.ConfigOpts) -> None:
    manager = Manager()
    svc = _service(conf, manager, None)
    svc.start()
    assert manager.ticks.wait_for(1)
    svc.stop()
    assert all(not loop.thread.is_alive() for loop in svc.loops)
    runs = len(manager.ticks.calls)
    svc.stop()
    assert len(manager.ticks.calls) == runs
    assert manager.hooks == ["init_host", "cleanup_host"]


def test_failing_heartbeat_logged_once(conf: cfg.ConfigOpts,
                                       caplog: pytest.LogCaptureFixture) -> None:
    attempts = Counter()
    healthy = threading.Event()

    def report(ctxt: context.RequestContext, binary: str, host: str, topic: str) -> None:
        attempts.add(binary)
        if not healthy.is_set():
            raise ConnectionError("database went away")

    svc = _service(conf, Manager(), report)
    caplog.set_level(logging.INFO, logger="common.rpc_service")
    svc.start()
    try:
        assert attempts.wait_for(3)
        healthy.set()
        seen = len(attempts.calls)
        assert attempts.wait_for(seen + 2)
    finally:
        svc.stop()
    messages = [r.getMessage() for r in caplog.records]
    assert sum("heartbeat of" in m and "failed" in m for m in messages) == 1
    assert sum("recorded again" in m for m in messages) == 1


def test_periodic_tasks_discovery() -> None:
    names = [name for name, _method, _spec in rpc_service.periodic_tasks(Manager())]
    assert names == ["_disabled", "_flaky", "_tick"]


class _ImmediateLauncher(service.Launcher):
    """Returns from wait() at once, running the stoppers as a signal would."""

    def wait(self) -> None:
        for stop in reversed(self._stoppers):
            stop()


def test_run_rpc_starts_then_stops_service_and_rpc(conf: cfg.ConfigOpts) -> None:
    manager = Manager()
    svc = _service(conf, manager, None)
    rpc_service.run_rpc(conf, svc, launcher=_ImmediateLauncher())
    assert manager.hooks == ["init_host", "cleanup_host"]
    assert not rpc.initialized()
