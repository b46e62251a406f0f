"""A server's security groups: ``GET /servers/{id}/os-security-groups`` and the
``addSecurityGroup`` / ``removeSecurityGroup`` actions, with the compute API
talking to a real network service over HTTP (the in-process network server of
tests/unit/compute/test_compute_clients_network.Cloud). The server itself is
made through the API with the other neighbours faked (tests.fixtures.compute);
its ports are made in the network service with the server as their device."""
from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from compute_api_helpers import ADMIN, ADMIN_ROLES, Api, message, project
from oslo_config import cfg

from compute import conf as compute_conf
from compute.clients import network
from tests.fixtures import compute as fx

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))), "unit", "compute"))
from test_compute_clients_network import (  # noqa: E402
    SERVICE_TOKEN, Cloud, running_cloud)

MEMBER = "member,reader"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    yield from running_cloud(tmp_path_factory)


@pytest.fixture(scope="module")
def service(cloud: Cloud, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The compute API, its [neutron] client pointed at the cloud's network server."""
    tmp = tmp_path_factory.mktemp("compute")
    path = tmp / "compute.conf"
    path.write_text("[neutron]\nauth_type = admin_token\ntoken = %s\nendpoint = %s\n"
                    % (SERVICE_TOKEN, cloud.endpoint))
    conf = cfg.ConfigOpts()
    compute_conf.register_opts(conf)
    conf(["--config-file", str(path)], project="stratus-test", default_config_files=[])
    conf.set_override("state_path", str(tmp))
    conf.set_override("api_paste_config", fx.PASTE, group="api")
    svc = fx.ComputeService(conf)
    try:
        yield svc
    finally:
        svc.stop()


class Env:
    """Servers through the compute API, ports and groups in the network service; every
    compute request carries a token the network service knows as the same caller."""

    def __init__(self, fakes: fx.Servers, cloud: Cloud) -> None:
        self.fakes = fakes
        self.cloud = cloud

    def call(self, method: str, path: str, proj: str, roles: str = MEMBER,
             **kwargs: Any) -> Any:
        token = "tok-" + uuid.uuid4().hex
        self.cloud.gate.tokens[token] = (proj, roles)
        return self.fakes.call(method, path, proj, roles=roles,
                               headers={"X-Auth-Token": token}, **kwargs)

    def admin(self, method: str, path: str, **kwargs: Any) -> Any:
        return self.call(method, path, ADMIN, roles=ADMIN_ROLES, **kwargs)

    def action(self, server: dict[str, Any], body: Any, proj: str, status: int,
               roles: str = MEMBER) -> Any:
        return self.call("POST", "/servers/%s/action" % server["uuid"], proj, roles=roles,
                         json_body=body, status=status)

    def server(self, proj: str, ports: int = 1, **port: Any) -> dict[str, Any]:
        """An ACTIVE server of ``proj`` with ``ports`` ports on a network of its own."""
        instance = self.fakes.active(proj)
        if ports:
            net, _ = self.cloud.network(proj, cidr="10.%d.%d.0/24" % (
                uuid.uuid4().int % 200, uuid.uuid4().int % 250))
            for _ in range(ports):
                self.cloud.call("POST", "/v2.0/ports", proj, {"port": dict(
                    {"network_id": net["id"], "device_id": instance["uuid"],
                     "device_owner": "compute:nova", "project_id": proj}, **port)},
                    ADMIN_ROLES, 201)
        return instance

    def group(self, proj: str, name: str) -> dict[str, Any]:
        return dict(self.cloud.call("POST", "/v2.0/security-groups", proj, {
            "security_group": {"name": name, "description": name + " servers"}},
            status=201)["security_group"])

    def rule(self, group: dict[str, Any], proj: str, **rule: Any) -> dict[str, Any]:
        body = dict({"security_group_id": group["id"], "direction": "ingress"}, **rule)
        return dict(self.cloud.call("POST", "/v2.0/security-group-rules", proj,
                                    {"security_group_rule": body},
                                    status=201)["security_group_rule"])

    def port_groups(self, instance: dict[str, Any]) -> list[set[str]]:
        ports = self.cloud.call("GET", "/v2.0/ports?device_id=" + instance["uuid"], ADMIN,
                                roles=ADMIN_ROLES, status=200)["ports"]
        return [set(p["security_groups"]) for p in ports]

    def default_group(self, proj: str) -> dict[str, Any]:
        groups = self.cloud.call("GET", "/v2.0/security-groups?name=default", proj,
                                 status=200)["security_groups"]
        return dict(next(g for g in groups if g["project_id"] == proj))

    def shown_groups(self, instance: dict[str, Any], proj: str) -> list[str] | None:
        server = self.call("GET", "/servers/" + instance["uuid"], proj,
                           status=200).json["server"]
        if "security_groups" not in server:
            return None
        return [g["name"] for g in server["security_groups"]]


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, service: Any, api: Api, cloud: Cloud) -> Env:
    real_list_ports = network.list_ports
    boundary = fx.install_fakes(monkeypatch)
    # The ports come from the real network service here.
    monkeypatch.setattr(network, "list_ports", real_list_ports)
    return Env(fx.Servers(api, service, boundary), cloud)


def _add(name: str) -> dict[str, Any]:
    return {"addSecurityGroup": {"name": name}}


def _remove(name: str) -> dict[str, Any]:
    return {"removeSecurityGroup": {"name": name}}


def test_add_list_and_remove_every_group(env: Env) -> None:
    p = project()
    instance = env.server(p, ports=2)
    default = env.default_group(p)
    assert env.port_groups(instance) == [{default["id"]}] * 2
    web = env.group(p, "web")
    ssh = env.rule(web, p, protocol="tcp", port_range_min=22, port_range_max=22,
                   remote_ip_prefix="10.0.0.0/8")
    from_default = env.rule(web, p, protocol="icmp", remote_group_id=default["id"])
    any_udp = env.rule(web, p, protocol="udp")
    env.rule(web, p, direction="egress", protocol="tcp")  # Nova shows ingress rules only

    assert env.action(instance, _add("web"), p, 202).body == b""
    assert env.port_groups(instance) == [{default["id"], web["id"]}] * 2
    assert env.shown_groups(instance, p) == ["default", "web"]
    listed = env.call("GET", "/servers/%s/os-security-groups" % instance["uuid"], p,
                      roles="reader", status=200).json["security_groups"]
    assert [g["name"] for g in listed] == ["default", "web"]
    shown = listed[1]
    assert {k: shown[k] for k in ("id", "name", "description", "tenant_id")} == {
        "id": web["id"], "name": "web", "description": "web servers", "tenant_id": p}
    rules = {r["id"]: r for r in shown["rules"]}
    assert set(rules) == {ssh["id"], from_default["id"], any_udp["id"]}
    assert rules[ssh["id"]] == {
        "id": ssh["id"], "parent_group_id": web["id"], "ip_protocol": "tcp",
        "from_port": 22, "to_port": 22, "group": {}, "ip_range": {"cidr": "10.0.0.0/8"}}
    assert rules[from_default["id"]] == {
        "id": from_default["id"], "parent_group_id": web["id"], "ip_protocol": "icmp",
        "from_port": -1, "to_port": -1, "group": {"name": "default", "tenant_id": p},
        "ip_range": {}}
    assert (rules[any_udp["id"]]["from_port"], rules[any_udp["id"]]["to_port"],
            rules[any_udp["id"]]["ip_range"]) == (1, 65535, {"cidr": "0.0.0.0/0"})

    # Removing every group (Tempest's test_remove_server_all_security_groups): the
    # server then shows no security_groups at all.
    env.action(instance, _remove("default"), p, 202)
    assert env.port_groups(instance) == [{web["id"]}] * 2
    assert env.shown_groups(instance, p) == ["web"]
    env.action(instance, _remove(web["id"]), p, 202)  # by id
    assert env.port_groups(instance) == [set(), set()]
    assert env.shown_groups(instance, p) is None
    assert env.call("GET", "/servers/%s/os-security-groups" % instance["uuid"], p,
                    status=200).json == {"security_groups": []}
    # The server's list (and so the detail view) lists each group once.
    env.action(instance, _add(web["id"]), p, 202)
    env.action(instance, _add("web"), p, 202)  # already there: nothing changes
    assert env.port_groups(instance) == [{web["id"]}] * 2
    assert env.shown_groups(instance, p) == ["web"]
    detail = env.call("GET", "/servers/detail", p, status=200).json["servers"]
    assert [s["security_groups"] for s in detail] == [[{"name": "web"}]]


def test_group_lookup_errors(env: Env) -> None:
    p = project()
    instance = env.server(p)
    resp = env.action(instance, _add("nope"), p, 404)
    assert "nope" in message(resp)
    env.action(instance, _remove("nope"), p, 404)
    env.action(instance, _add(str(uuid.uuid4())), p, 404)
    # Another project's group is not found by its name.
    other = project()
    env.group(other, "theirs")
    env.action(instance, _add("theirs"), p, 404)
    # Two groups of the project with one name: Nova's NoUniqueMatch.
    env.group(p, "dup")
    env.group(p, "dup")
    resp = env.action(instance, _add("dup"), p, 409)
    assert "dup" in message(resp)
    env.action(instance, _remove("dup"), p, 409)
    # A group of the project that is on none of the server's ports.
    env.group(p, "idle")
    resp = env.action(instance, _remove("idle"), p, 404)
    assert "idle" in message(resp) and instance["uuid"] in message(resp)
    assert env.shown_groups(instance, p) == ["default"]


def test_servers_the_groups_cannot_be_applied_to(env: Env) -> None:
    p = project()
    env.group(p, "web")
    bare = env.server(p, ports=0)
    resp = env.action(bare, _add("web"), p, 404)
    assert bare["uuid"] in message(resp)
    env.action(bare, _remove("default"), p, 404)
    assert env.call("GET", "/servers/%s/os-security-groups" % bare["uuid"], p,
                    status=200).json == {"security_groups": []}
    # A port without port security takes no groups (Nova's SecurityGroupCannotBeApplied).
    open_port = env.server(p, port_security_enabled=False, security_groups=[])
    env.action(open_port, _add("web"), p, 400)
    assert env.port_groups(open_port) == [set()]


def test_bad_bodies(env: Env) -> None:
    p = project()
    instance = env.server(p)
    for body in ({"addSecurityGroup": {}}, {"addSecurityGroup": None},
                 {"addSecurityGroup": {"name": ""}}, {"addSecurityGroup": {"name": "  "}},
                 {"addSecurityGroup": {"name": 5}}, {"removeSecurityGroup": "default"},
                 {"removeSecurityGroup": {"name": None}}):
        env.action(instance, body, p, 400)
    assert env.shown_groups(instance, p) == ["default"]


def test_policy_and_projects(env: Env) -> None:
    p = project()
    instance = env.server(p)
    env.group(p, "web")
    base = "/servers/%s/os-security-groups" % instance["uuid"]
    env.call("GET", base, p, roles="reader", status=200)
    env.action(instance, _add("web"), p, 403, roles="reader")
    env.action(instance, _remove("default"), p, 403, roles="reader")
    # Another project's server is not found.
    other = project()
    env.call("GET", base, other, status=404)
    env.action(instance, _add("web"), other, 404)
    env.call("GET", "/servers/%s/os-security-groups" % uuid.uuid4(), p, status=404)
    # An admin of another project: the name is looked up in the server's project.
    env.action(instance, _add("web"), ADMIN, 202, roles=ADMIN_ROLES)
    assert env.shown_groups(instance, p) == ["default", "web"]
    assert [g["name"] for g in env.admin("GET", base, status=200).json[
        "security_groups"]] == ["default", "web"]


def test_locked_server_is_not_checked_as_on_nova(env: Env) -> None:
    """Nova changes a locked server's groups (they belong to its ports, in the
    network service): the lock does not refuse these actions."""
    p = project()
    instance = env.server(p)
    env.group(p, "web")
    env.fakes.set(instance["uuid"], locked=True, locked_by="admin")
    env.action(instance, _add("web"), p, 202)
    env.action(instance, _remove("web"), p, 202)
    assert env.shown_groups(instance, p) == ["default"]
