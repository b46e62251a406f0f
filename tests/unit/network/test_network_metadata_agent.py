"""The metadata agent's request handling against a real local HTTP server
standing in for the compute metadata API, and the whole chain through a real
namespace proxy process (in the test's own namespace) and the agent's UNIX socket."""
from __future__ import annotations

import hashlib
import hmac
import http.server
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from oslo_config import cfg

from network.agents.metadata import agent as metadata_agent
from network.agents.metadata import config as metadata_config

SECRET = "s3cret"
ROUTER = "router-1"


class Upstream:
    """Plays the compute metadata API: records requests, answers ``status``."""

    def __init__(self) -> None:
        self.status = 200
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                outer.requests.append({"method": self.command, "path": self.path,
                                       "headers": dict(self.headers.items()),
                                       "body": self.rfile.read(length) if length else b""})
                body = ("instance %s" % self.headers.get("X-Instance-ID")).encode()
                self.send_response(outer.status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer  # noqa: N815

            def log_message(self, *args: Any) -> None:
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Lookup:
    """The server's ``get_ports_for_metadata``."""

    def __init__(self) -> None:
        self.ports: dict[str, list[dict[str, Any]]] = {
            "10.0.0.5": [{"device_owner": "network:dhcp", "device_id": "dhcp-x",
                          "project_id": "p1"},
                         {"device_owner": "compute:nova", "device_id": "vm-1",
                          "project_id": "p1"}],
            "10.0.0.6": [{"device_owner": "network:router_interface", "device_id": ROUTER,
                          "project_id": "p1"}]}
        self.calls: list[tuple[str, str | None, str | None]] = []

    def get_ports_for_metadata(self, ctxt: Any, ip_address: str,
                               router_id: str | None = None,
                               network_id: str | None = None) -> list[dict[str, Any]]:
        self.calls.append((ip_address, router_id, network_id))
        if ip_address == "boom":
            raise RuntimeError("server unreachable")
        return self.ports.get(ip_address, [])


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    server = Upstream()
    yield server
    server.stop()


def _conf(state: str, port: int) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    conf.register_opts([cfg.StrOpt("state_path", default=state)])
    metadata_config.register_opts(conf)
    conf([], default_config_files=[])
    conf.set_override("nova_metadata_port", port, group="metadata")
    conf.set_override("metadata_proxy_shared_secret", SECRET, group="metadata")
    conf.set_override("nova_metadata_timeout", 5.0, group="metadata")
    return conf


def _headers(ip: str = "10.0.0.5") -> dict[str, str]:
    return {"X-Forwarded-For": ip, "X-Neutron-Router-ID": ROUTER}


def test_signed_forward_of_a_known_instance(upstream: Upstream, tmp_path: Any) -> None:
    lookup = Lookup()
    proxy = metadata_agent.MetadataProxy(_conf(str(tmp_path), upstream.port), lookup)
    status, headers, body = proxy.handle("GET", "/latest/meta-data/instance-id?x=1",
                                         _headers(), None)
    assert (status, body) == (200, b"instance vm-1")
    assert ("Content-Type", "text/plain") in headers
    seen = upstream.requests[-1]
    assert seen["path"] == "/latest/meta-data/instance-id?x=1"
    assert seen["headers"]["X-Instance-ID"] == "vm-1"
    assert seen["headers"]["X-Tenant-ID"] == "p1"
    assert seen["headers"]["X-Forwarded-For"] == "10.0.0.5"
    assert seen["headers"]["X-Instance-ID-Signature"] == hmac.new(
        SECRET.encode(), b"vm-1", hashlib.sha256).hexdigest()
    assert lookup.calls[-1] == ("10.0.0.5", ROUTER, None)
    # POST bodies (e.g. the password) go through; the network id header works too.
    status, _, _ = proxy.handle("POST", "/openstack/latest/password",
                                {"X-Forwarded-For": "10.0.0.5",
                                 "X-Neutron-Network-ID": "net-1",
                                 "Content-Type": "text/plain"}, b"pw")
    assert status == 200 and upstream.requests[-1]["body"] == b"pw"
    assert lookup.calls[-1] == ("10.0.0.5", None, "net-1")


def test_unknown_instances_and_bad_requests(upstream: Upstream, tmp_path: Any) -> None:
    proxy = metadata_agent.MetadataProxy(_conf(str(tmp_path), upstream.port), Lookup())
    assert proxy.handle("GET", "/", _headers("10.9.9.9"), None)[0] == 404
    assert proxy.handle("GET", "/", _headers("10.0.0.6"), None)[0] == 404  # not compute:*
    assert proxy.handle("GET", "/", {"X-Forwarded-For": "10.0.0.5"}, None)[0] == 400
    assert proxy.handle("GET", "/", {"X-Neutron-Router-ID": ROUTER}, None)[0] == 400
    assert upstream.requests == []


def test_upstream_answers_are_mapped_as_neutron_does(upstream: Upstream,
                                                     tmp_path: Any) -> None:
    proxy = metadata_agent.MetadataProxy(_conf(str(tmp_path), upstream.port), Lookup())
    for given, expected in ((403, 403), (404, 404), (409, 409), (503, 503), (400, 400)):
        upstream.status = given
        assert proxy.handle("GET", "/", _headers(), None)[0] == expected, given
    upstream.status = 500
    status, _, body = proxy.handle("GET", "/", _headers(), None)
    assert status == 500 and metadata_agent.REMOTE_500.encode() in body
    upstream.status = 418  # unexpected: Neutron's generic error
    status, _, body = proxy.handle("GET", "/", _headers(), None)
    assert status == 500 and metadata_agent.UNKNOWN_ERROR.encode() in body
    status, _, body = proxy.handle("GET", "/", _headers("boom"), None)  # RPC failed
    assert status == 500 and metadata_agent.UNKNOWN_ERROR.encode() in body


def test_upstream_down_is_the_unknown_error(tmp_path: Any) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens there once closed
    proxy = metadata_agent.MetadataProxy(_conf(str(tmp_path), port), Lookup())
    status, _, body = proxy.handle("GET", "/", _headers(), None)
    assert status == 500 and metadata_agent.UNKNOWN_ERROR.encode() in body


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as resp:
            return int(resp.status), resp.read()
    except urllib.error.HTTPError as err:
        return int(err.code), err.read()


def _wait_port(port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("nothing listens on %d" % port)


def test_chain_through_a_proxy_process_and_the_unix_socket(upstream: Upstream) -> None:
    # A short directory: UNIX socket paths are limited to 107 bytes.
    state = tempfile.mkdtemp(prefix="stratus-md-")
    conf = _conf(state, upstream.port)
    beats: list[int] = []
    conf.set_override("report_interval", 0.05, group="agent")
    agent = metadata_agent.MetadataAgent(conf, Lookup(), lambda: beats.append(1))
    agent.start()
    pid_file = os.path.join(state, "proxy.pid")
    port = _free_port()
    pid = None
    try:
        assert agent.socket_path == os.path.join(state, "metadata_proxy")
        done = subprocess.run(
            [sys.executable, "-m", "network.agents.metadata.ns_proxy", "--router-id", ROUTER,
             "--socket", agent.socket_path, "--port", str(port), "--bind", "127.0.0.1",
             "--pid-file", pid_file, "--log-file", os.path.join(state, "proxy.log")],
            capture_output=True, text=True, timeout=30)
        assert done.returncode == 0, done.stderr
        with open(pid_file, encoding="ascii") as f:
            pid = int(f.read())
        _wait_port(port)
        # The proxy runs in the test's namespace here: the agent sees 127.0.0.1.
        agent._proxy._plugin.ports["127.0.0.1"] = [  # type: ignore[attr-defined]
            {"device_owner": "compute:nova", "device_id": "vm-9", "project_id": "p2"}]
        status, body = _get("http://127.0.0.1:%d/latest/meta-data/instance-id" % port)
        assert (status, body) == (200, b"instance vm-9")
        seen = upstream.requests[-1]["headers"]
        assert seen["X-Forwarded-For"] == "127.0.0.1" and seen["X-Tenant-ID"] == "p2"
        assert agent._proxy._plugin.calls[-1] == (  # type: ignore[attr-defined]
            "127.0.0.1", ROUTER, None)
        assert beats  # heartbeats run beside the socket
        agent.stop()
        assert not os.path.exists(agent.socket_path)
        status, body = _get("http://127.0.0.1:%d/" % port)
        assert status == 503 and b"unavailable" in body
    finally:
        agent.stop()
        if pid is not None:
            os.kill(pid, signal.SIGTERM)
        shutil.rmtree(state, ignore_errors=True)


def test_proxy_fails_fast_when_its_port_is_taken() -> None:
    state = tempfile.mkdtemp(prefix="stratus-md-")
    try:
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            port = busy.getsockname()[1]
            done = subprocess.run(
                [sys.executable, "-m", "network.agents.metadata.ns_proxy", "--network-id",
                 "n", "--socket", os.path.join(state, "s"), "--port", str(port),
                 "--bind", "127.0.0.1", "--pid-file", os.path.join(state, "pid")],
                capture_output=True, text=True, timeout=30)
        assert done.returncode != 0 and "Address already in use" in done.stderr
        assert not os.path.exists(os.path.join(state, "pid"))
    finally:
        shutil.rmtree(state, ignore_errors=True)
