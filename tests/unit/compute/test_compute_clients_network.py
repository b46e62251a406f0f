"""compute.clients.network against the real network API: the in-process network
server (tests.fixtures.network) behind a real HTTP server on a free local port,
with a stand-in for keystonemiddleware that maps tokens to projects and roles."""
from __future__ import annotations

import json
import pathlib
import socket
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import webtest
from oslo_config import cfg

from common import context
from common.clients import base
from common.wsgi import server as wsgi_server
from compute import clients
from compute import exception
from compute.clients import network as neutron
from tests.fixtures import network as fx

SERVICE_TOKEN = "svc-token"
ADMIN_ROLES = "admin,member,reader"


class TokenGate:
    """Stands in for auth_token: a known token becomes the fake auth's X-Test-*
    headers (project, roles); every request is recorded."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.tokens: dict[str, tuple[str, str]] = {SERVICE_TOKEN: ("service", "admin,service")}
        self.seen: list[dict[str, Any]] = []

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        self.seen.append({"method": environ["REQUEST_METHOD"], "path": environ["PATH_INFO"],
                          "query": environ.get("QUERY_STRING", ""),
                          "token": environ.get("HTTP_X_AUTH_TOKEN"),
                          "service_token": environ.get("HTTP_X_SERVICE_TOKEN"),
                          "request_id": environ.get("HTTP_X_OPENSTACK_REQUEST_ID")})
        for key in ("HTTP_X_TEST_PROJECT", "HTTP_X_TEST_ROLES", "HTTP_X_TEST_USER"):
            environ.pop(key, None)
        found = self.tokens.get(environ.get("HTTP_X_AUTH_TOKEN", ""))
        if found is not None:
            environ["HTTP_X_TEST_PROJECT"], environ["HTTP_X_TEST_ROLES"] = found
        return self.app(environ, start_response)


class Cloud:
    """The network server over HTTP, a direct (webtest) door for setting things up,
    and the compute side's configuration."""

    def __init__(self, tmp: pathlib.Path) -> None:
        conf = fx.make_conf(str(tmp / "network"), DEFAULT={
            "notify_nova_on_port_status_changes": False,
            "notify_nova_on_port_data_changes": False})
        self.service = fx.NetworkService(conf)
        self.gate = TokenGate(self.service.pipeline)
        self.http = wsgi_server.Server(self.gate, "127.0.0.1", 0, threads=4)
        self.http.start()
        self.endpoint = "http://127.0.0.1:%d" % self.http.port
        self.direct = webtest.TestApp(self.service.pipeline)
        path = tmp / "compute.conf"
        path.write_text("[neutron]\nauth_type = admin_token\ntoken = %s\nendpoint = %s\n"
                        % (SERVICE_TOKEN, self.endpoint))
        base.reset()
        self.conf = cfg.ConfigOpts()
        clients.register_opts(self.conf)
        self.conf(["--config-file", str(path)], project="stratus-test",
                  default_config_files=[])

    def stop(self) -> None:
        self.http.stop()
        self.service.stop()
        base.reset()

    def user(self, project: str, roles: str = "member,reader") -> context.RequestContext:
        token = "user-" + uuid.uuid4().hex
        self.gate.tokens[token] = (project, roles)
        return context.RequestContext(auth_token=token, user_id="u-" + project,
                                      project_id=project, roles=roles.split(","),
                                      is_admin="admin" in roles.split(","))

    def call(self, method: str, path: str, project: str, body: Any = None,
             roles: str = "member,reader", status: int | None = None) -> Any:
        headers = {"X-Test-Project": project, "X-Test-Roles": roles}
        kwargs: dict[str, Any] = {"method": method, "headers": headers, "expect_errors": True}
        if body is not None:
            kwargs["body"] = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        resp = self.direct.request(path, **kwargs)
        if status is not None:
            assert resp.status_int == status, resp.text
        return resp.json if resp.body else None

    def network(self, project: str, cidr: str = "10.0.0.0/24", shared: bool = False,
                name: str = "private", **subnet: Any) -> tuple[dict[str, Any], dict[str, Any]]:
        roles = ADMIN_ROLES if shared else "member,reader"
        body: dict[str, Any] = {"name": name}
        if shared:
            body["shared"] = True
        net = self.call("POST", "/v2.0/networks", project, {"network": body}, roles,
                        201)["network"]
        sub = self.call("POST", "/v2.0/subnets", project, {"subnet": dict(
            {"network_id": net["id"], "ip_version": 4, "cidr": cidr}, **subnet)}, roles,
            201)["subnet"]
        return net, sub


def project() -> str:
    return uuid.uuid4().hex


def running_cloud(factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    """A :class:`Cloud` for one test module (the modules' ``cloud`` fixtures),
    stopped when the module is done."""
    env = Cloud(factory.mktemp("cloud"))
    try:
        yield env
    finally:
        env.stop()


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    yield from running_cloud(tmp_path_factory)


def test_networks_and_subnets_as_the_user(cloud: Cloud) -> None:
    proj = project()
    net, sub = cloud.network(proj)
    other_net, _ = cloud.network(project(), cidr="10.1.0.0/24")
    ctxt = cloud.user(proj)
    assert neutron.get_network(cloud.conf, ctxt, net["id"])["subnets"] == [sub["id"]]
    assert [n["id"] for n in neutron.list_networks(
        cloud.conf, ctxt, {"project_id": proj, "shared": False})] == [net["id"]]
    assert neutron.list_networks(cloud.conf, ctxt, {"id": [other_net["id"]]}) == []
    assert [s["id"] for s in neutron.list_subnets(
        cloud.conf, ctxt, {"network_id": net["id"]})] == [sub["id"]]
    with pytest.raises(exception.NetworkNotFound) as caught:
        neutron.get_network(cloud.conf, ctxt, other_net["id"])
    assert caught.value.code == 404
    assert other_net["id"] in caught.value.message


def test_user_calls_carry_user_token_service_token_and_request_id(cloud: Cloud) -> None:
    proj = project()
    net, _ = cloud.network(proj)
    ctxt = cloud.user(proj)
    neutron.get_network(cloud.conf, ctxt, net["id"])
    seen = cloud.gate.seen[-1]
    assert seen["token"] == ctxt.auth_token
    assert seen["service_token"] == SERVICE_TOKEN
    assert seen["request_id"] == ctxt.global_id
    neutron.list_ports(cloud.conf, ctxt, {"network_id": net["id"]}, admin=True)
    seen = cloud.gate.seen[-1]
    assert (seen["token"], seen["service_token"]) == (SERVICE_TOKEN, None)
    assert seen["request_id"] == ctxt.global_id
    assert seen["query"] == "network_id=" + net["id"]


def test_port_lifecycle_and_binding_needs_the_service(cloud: Cloud) -> None:
    proj = project()
    net, sub = cloud.network(proj)
    ctxt = cloud.user(proj)
    port = neutron.create_port(cloud.conf, ctxt, {"port": {
        "network_id": net["id"], "device_id": "vm-1", "device_owner": "compute:nova",
        "fixed_ips": [{"ip_address": "10.0.0.50"}]}})
    assert port["project_id"] == proj
    assert port["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.0.0.50"}]
    assert [p["id"] for p in neutron.list_ports(cloud.conf, ctxt, {"device_id": "vm-1"})] \
        == [port["id"]]
    # binding:* is admin-or-service in the network policy: the user is refused.
    with pytest.raises(exception.NetworkForbidden) as caught:
        neutron.update_port(cloud.conf, ctxt, port["id"], {"binding:host_id": "node1"})
    assert caught.value.code == 403
    bound = neutron.update_port(cloud.conf, ctxt, port["id"], {"binding:host_id": "node1"},
                                admin=True)
    assert (bound["binding:host_id"], bound["binding:vif_type"]) == ("node1", "bridge")
    assert neutron.get_port(cloud.conf, ctxt, port["id"], admin=True)[
        "binding:vif_details"]["bridge_name"] == "brq" + net["id"][:11]
    neutron.delete_port(cloud.conf, ctxt, port["id"])
    neutron.delete_port(cloud.conf, ctxt, port["id"])  # already gone: fine
    with pytest.raises(exception.PortNotFound) as missing:
        neutron.get_port(cloud.conf, ctxt, port["id"])
    assert missing.value.code == 404
    with pytest.raises(exception.PortNotFound):
        neutron.update_port(cloud.conf, ctxt, port["id"], {"name": "x"})


def test_address_errors_map_to_conflict_and_invalid(cloud: Cloud) -> None:
    proj = project()
    net, _ = cloud.network(proj, cidr="10.2.0.0/29")
    ctxt = cloud.user(proj)
    neutron.create_port(cloud.conf, ctxt, {"network_id": net["id"],
                                           "fixed_ips": [{"ip_address": "10.2.0.3"}]})
    with pytest.raises(exception.FixedIpAlreadyInUse) as in_use:
        neutron.create_port(cloud.conf, ctxt, {"network_id": net["id"],
                                               "fixed_ips": [{"ip_address": "10.2.0.3"}]})
    assert in_use.value.code == 409 and "10.2.0.3" in in_use.value.message
    with pytest.raises(exception.InvalidFixedIp) as invalid:
        neutron.create_port(cloud.conf, ctxt, {"network_id": net["id"],
                                               "fixed_ips": [{"ip_address": "192.0.2.9"}]})
    assert invalid.value.code == 400 and "192.0.2.9" in invalid.value.message
    with pytest.raises(exception.NetworkBadRequest) as bad:
        neutron.create_port(cloud.conf, ctxt, {"network_id": net["id"], "bogus": 1})
    assert bad.value.code == 400
    # A /29 has 5 usable addresses (gateway one of them): the pool runs dry.
    with pytest.raises(exception.NoMoreFixedIps):
        for _ in range(6):
            neutron.create_port(cloud.conf, ctxt, {"network_id": net["id"]})
    with pytest.raises(exception.NetworkNotFound):
        neutron.create_port(cloud.conf, ctxt, {"network_id": str(uuid.uuid4())})


def test_port_quota_maps_to_port_limit(cloud: Cloud) -> None:
    proj = project()
    net, _ = cloud.network(proj)
    cloud.call("PUT", "/v2.0/quotas/" + proj, "admin", {"quota": {"port": 1}}, ADMIN_ROLES,
               200)
    ctxt = cloud.user(proj)
    neutron.create_port(cloud.conf, ctxt, {"network_id": net["id"]})
    with pytest.raises(exception.PortLimitExceeded) as over:
        neutron.create_port(cloud.conf, ctxt, {"network_id": net["id"]})
    assert over.value.code == 403


def test_security_groups_and_floating_ips_lists(cloud: Cloud) -> None:
    proj = project()
    ctxt = cloud.user(proj)
    groups = neutron.list_security_groups(cloud.conf, ctxt, {"project_id": proj})
    assert [g["name"] for g in groups] == ["default"]
    assert neutron.list_floating_ips(cloud.conf, ctxt, {"port_id": ["nope"]}) == []


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_service_is_503(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "compute.conf"
    path.write_text("[neutron]\nauth_type = admin_token\ntoken = t\nendpoint = "
                    "http://127.0.0.1:%d\n" % _closed_port())
    conf = cfg.ConfigOpts()
    clients.register_opts(conf)
    conf(["--config-file", str(path)], project="stratus-test", default_config_files=[])
    try:
        with pytest.raises(exception.NetworkServiceUnavailable) as caught:
            neutron.list_networks(conf, None)
        assert caught.value.code == 503
    finally:
        base.reset()
