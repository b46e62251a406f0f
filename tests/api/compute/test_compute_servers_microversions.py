"""Servers at microversions 2.27 .. 2.47: device tags on networks and block
devices (2.32, dropped by 2.33/2.37, back in 2.42), ``networks`` required and
"auto"/"none" (2.37), an invalid status filter (2.38), and the embedded
flavor of show, list, update and rebuild (2.47)."""
from __future__ import annotations

import uuid
from typing import Any

import pytest
import sqlalchemy as sa
from compute_api_helpers import Api, message, project

from compute.db import models
from tests.fixtures import compute as fx

SERVICE_CONF = {"quota": {"instances": 40, "cores": 80}}


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch, service: Any, api: Api) -> fx.Servers:
    return fx.Servers(api, service, fx.install_fakes(monkeypatch))


def _network(fakes: fx.Servers) -> str:
    net = str(uuid.uuid4())
    fakes.boundary.networks.add(net)
    return net


def _volume(fakes: fx.Servers) -> str:
    volume = str(uuid.uuid4())
    fakes.boundary.volumes[volume] = {"id": volume, "status": "available"}
    return volume


def _tags(fakes: fx.Servers, instance_uuid: str) -> list[tuple[str | None, str | None]]:
    bdm = models.BlockDeviceMapping
    with fakes.db.reader() as session:
        return [(r.volume_id, r.tag) for r in session.scalars(
            sa.select(bdm).where(bdm.instance_uuid == instance_uuid).order_by(bdm.id))]


def _build_spec(fakes: fx.Servers) -> dict[str, Any]:
    (build,) = fakes.boundary.casts("build_instances")
    fakes.boundary.rpc.clear()
    return dict(build["request_spec"])


# -- 2.32 / 2.42: device tags ---------------------------------------------------------


@pytest.mark.parametrize("version", ["2.32", "2.42", "2.47"])
def test_tags_kept_with_the_networks_and_mappings(fakes: fx.Servers, version: str) -> None:
    net, volume = _network(fakes), _volume(fakes)
    resp = fakes.create(project(), version=version,
                        networks=[{"uuid": net, "tag": "nic-a"}],
                        block_device_mapping_v2=[
                            {"source_type": "image", "destination_type": "local",
                             "uuid": fakes.image["id"], "boot_index": 0, "tag": "root"},
                            {"source_type": "volume", "destination_type": "volume",
                             "uuid": volume, "tag": "data"}])
    server_id = resp.json["server"]["id"]
    spec = _build_spec(fakes)
    assert spec["requested_networks"] == [{"uuid": net, "tag": "nic-a"}]
    assert _tags(fakes, server_id) == [(None, "root"), (volume, "data")]
    assert [m["tag"] for m in spec["block_device_mapping"]] == ["root", "data"]


def test_network_tags_from_2_32_to_2_36(fakes: fx.Servers) -> None:
    p = project()
    for version in ("2.33", "2.36"):
        net = _network(fakes)
        fakes.create(p, version=version, networks=[{"uuid": net, "tag": "n"}])
        assert _build_spec(fakes)["requested_networks"] == [{"uuid": net, "tag": "n"}]


@pytest.mark.parametrize("version,where", [
    ("2.31", "networks"), ("2.31", "bdm"), ("2.33", "bdm"), ("2.36", "bdm"),
    ("2.37", "networks"), ("2.37", "bdm"), ("2.41", "networks"), ("2.41", "bdm")])
def test_tags_refused_where_nova_refuses_them(fakes: fx.Servers, version: str,
                                              where: str) -> None:
    net = _network(fakes)
    extra: dict[str, Any] = {"networks": [{"uuid": net}]}
    if where == "networks":
        extra["networks"] = [{"uuid": net, "tag": "t"}]
    else:
        extra["block_device_mapping_v2"] = [{"source_type": "volume", "uuid": _volume(fakes),
                                             "destination_type": "volume", "tag": "t"}]
    resp = fakes.create(project(), version=version, status=400, **extra)
    assert "tag" in message(resp)
    assert fakes.boundary.casts("build_instances") == []


@pytest.mark.parametrize("tag", ["", "a/b", "a,b", "x" * 61, 5])
def test_bad_tags_are_400(fakes: fx.Servers, tag: Any) -> None:
    net = _network(fakes)
    resp = fakes.create(project(), version="2.42", status=400,
                        networks=[{"uuid": net, "tag": tag}])
    assert resp.json["badRequest"]["code"] == 400
    fakes.create(project(), version="2.42", status=400, networks="none",
                 block_device_mapping_v2=[{"source_type": "volume", "uuid": _volume(fakes),
                                           "destination_type": "volume", "tag": tag}])


def test_a_tag_of_60_characters(fakes: fx.Servers) -> None:
    net = _network(fakes)
    fakes.create(project(), version="2.42", networks=[{"uuid": net, "tag": "t" * 60}])
    assert _build_spec(fakes)["requested_networks"] == [{"uuid": net, "tag": "t" * 60}]


# -- 2.37: networks required, "auto" and "none" -----------------------------------------


def test_networks_required_from_2_37(fakes: fx.Servers) -> None:
    resp = fakes.create(project(), version="2.37", status=400)
    assert "'networks' is a required property" in message(resp)
    assert resp.json["badRequest"]["code"] == 400
    fakes.create(project(), version="2.36")
    assert _build_spec(fakes)["requested_networks"] == "auto"


@pytest.mark.parametrize("value", ["auto", "none"])
def test_auto_and_none(fakes: fx.Servers, value: str) -> None:
    fakes.create(project(), version="2.37", networks=value)
    assert _build_spec(fakes)["requested_networks"] == value
    fakes.create(project(), version="2.42", networks=value, max_count=2)
    assert _build_spec(fakes)["requested_networks"] == value


@pytest.mark.parametrize("value", ["auto", "none", "AUTO", "all", {}])
def test_auto_and_none_refused_before_2_37(fakes: fx.Servers, value: Any) -> None:
    resp = fakes.create(project(), version="2.36", networks=value, status=400)
    assert resp.json["badRequest"]["code"] == 400


@pytest.mark.parametrize("value", ["AUTO", "all", "", {}, None])
def test_other_strings_refused_at_2_37(fakes: fx.Servers, value: Any) -> None:
    body = fakes.body(networks="x")
    body["server"]["networks"] = value
    fakes.call("POST", "/servers", project(), version="2.37", json_body=body, status=400)


def test_network_uuid_must_be_a_uuid_from_2_37(fakes: fx.Servers) -> None:
    resp = fakes.create(project(), version="2.37", networks=[{"uuid": "not-a-uuid"}],
                        status=400)
    assert "uuid" in message(resp)
    # Before, the create refuses it too, with its own message.
    resp = fakes.create(project(), version="2.36", networks=[{"uuid": "not-a-uuid"}],
                        status=400)
    assert "network uuid is not in proper format" in message(resp)


# -- 2.38: an invalid status filter ------------------------------------------------------


@pytest.mark.parametrize("path", ["/servers", "/servers/detail"])
def test_invalid_status_is_400_from_2_38(fakes: fx.Servers, path: str) -> None:
    p = project()
    active = fakes.active(p)["uuid"]
    fakes.boot(p)  # BUILD
    for version in ("2.38", "2.47"):
        resp = fakes.call("GET", path + "?status=bogus", p, version=version, status=400)
        assert message(resp) == "Invalid status value"
        resp = fakes.call("GET", path + "?status=bogus", None, version=version, admin=True,
                          status=400)
        assert resp.json["badRequest"]["code"] == 400
        # As Nova: one real status among the values is enough.
        listed = fakes.call("GET", path + "?status=bogus&status=active", p, version=version,
                            status=200).json["servers"]
        assert [s["id"] for s in listed] == [active]
    for version in ("2.1", "2.37"):
        assert fakes.call("GET", path + "?status=bogus", p, version=version,
                          status=200).json["servers"] == []
        assert fakes.call("GET", path + "?status=bogus", None, version=version, admin=True,
                          status=200).json["servers"] == []


# -- 2.47: the embedded flavor -----------------------------------------------------------


def _flavor_of(fakes: fx.Servers, **fields: Any) -> dict[str, Any]:
    flavor = fakes.make_flavor(**fields)
    fakes.call("POST", "/flavors/%s/os-extra_specs" % flavor["id"], None, admin=True,
               json_body={"extra_specs": {"hw:cpu_policy": "shared", "quota:vif": "1"}},
               status=200)
    return flavor


def _server_flavors(fakes: fx.Servers, p: str, server_id: str,
                    version: str) -> list[dict[str, Any]]:
    """The flavor in show, the detail list, update and rebuild."""
    return [body["flavor"] for body in _server_bodies(fakes, p, server_id, version)]


def _server_bodies(fakes: fx.Servers, p: str, server_id: str,
                   version: str) -> list[dict[str, Any]]:
    """The server as show, the detail list, update and rebuild answer."""
    shown = fakes.call("GET", "/servers/" + server_id, p, version=version,
                       status=200).json["server"]
    listed = fakes.call("GET", "/servers/detail", p, version=version,
                        status=200).json["servers"]
    updated = fakes.call("PUT", "/servers/" + server_id, p, version=version, status=200,
                         json_body={"server": {"name": "renamed"}}).json["server"]
    rebuilt = fakes.call("POST", "/servers/%s/action" % server_id, p, version=version,
                         status=202, json_body={"rebuild": {"imageRef": fakes.image["id"]}}
                         ).json["server"]
    fakes.set(server_id, vm_state="active", task_state=None)
    (in_list,) = [s for s in listed if s["id"] == server_id]
    return [shown, in_list, updated, rebuilt]


def test_tags_in_every_full_server_body_from_2_26(fakes: fx.Servers) -> None:
    # Tempest's 2.26+ schemas require them in update and rebuild answers too.
    p = project()
    server_id = fakes.active(p)["uuid"]
    fakes.call("PUT", "/servers/%s/tags/blue" % server_id, p, version="2.26", status=201)
    assert [b["tags"] for b in _server_bodies(fakes, p, server_id, "2.26")] == [["blue"]] * 4
    assert ["tags" in b for b in _server_bodies(fakes, p, server_id, "2.25")] == [False] * 4


def test_embedded_flavor_from_2_47(fakes: fx.Servers) -> None:
    p = project()
    flavor = _flavor_of(fakes, ram=256, vcpus=2, disk=3, **{"OS-FLV-EXT-DATA:ephemeral": 1,
                                                            "swap": 128})
    server_id = fakes.active(p, flavorRef=flavor["id"])["uuid"]
    embedded = {"original_name": flavor["name"], "vcpus": 2, "ram": 256, "disk": 3,
                "ephemeral": 1, "swap": 128,
                "extra_specs": {"hw:cpu_policy": "shared", "quota:vif": "1"}}
    assert _server_flavors(fakes, p, server_id, "2.47") == [embedded] * 4
    linked = {"id": flavor["id"], "links": [
        {"rel": "bookmark", "href": "http://localhost/flavors/" + flavor["id"]}]}
    assert _server_flavors(fakes, p, server_id, "2.46") == [linked] * 4
    # The list without details has no flavor at all.
    (basic,) = [s for s in fakes.call("GET", "/servers", p, version="2.47",
                                      status=200).json["servers"] if s["id"] == server_id]
    assert set(basic) == {"id", "name", "links"}


def test_embedded_flavor_is_the_one_the_instance_keeps(fakes: fx.Servers) -> None:
    p = project()
    flavor = _flavor_of(fakes, ram=256)
    server_id = fakes.active(p, flavorRef=flavor["id"])["uuid"]
    # The flavor is deleted: the server still shows what it was booted with.
    fakes.call("DELETE", "/flavors/" + flavor["id"], None, admin=True, status=202)
    shown = fakes.call("GET", "/servers/" + server_id, p, version="2.47",
                       status=200).json["server"]["flavor"]
    assert (shown["original_name"], shown["ram"]) == (flavor["name"], 256)
    # A resize changes what the instance keeps (the node writes the new flavor).
    kept = dict(fakes.store.get(server_id)["flavor"], name="bigger", memory_mb=1024,
                vcpus=4, root_gb=20, ephemeral_gb=0, swap=0, extra_specs={})
    fakes.set(server_id, flavor=kept)
    shown = fakes.call("GET", "/servers/" + server_id, p, version="2.47",
                       status=200).json["server"]["flavor"]
    assert shown == {"original_name": "bigger", "vcpus": 4, "ram": 1024, "disk": 20,
                     "ephemeral": 0, "swap": 0, "extra_specs": {}}


def test_extra_specs_only_where_the_policy_allows(fakes: fx.Servers,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    p = project()
    server_id = fakes.active(p, flavorRef=_flavor_of(fakes)["id"])["uuid"]
    enforcer = fakes.app.enforcer
    real = enforcer.authorize

    def authorize(ctxt: Any, action: str, target: dict[str, Any], fatal: bool = True) -> bool:
        if action == "os_compute_api:os-flavor-extra-specs:index" and not ctxt.is_admin:
            return False
        return bool(real(ctxt, action, target, fatal))

    monkeypatch.setattr(enforcer, "authorize", authorize)
    for flavor in _server_flavors(fakes, p, server_id, "2.47"):
        assert "extra_specs" not in flavor and flavor["ram"] == 512
    admin = fakes.call("GET", "/servers/" + server_id, None, version="2.47", admin=True,
                       status=200).json["server"]["flavor"]
    assert admin["extra_specs"] == {"hw:cpu_policy": "shared", "quota:vif": "1"}
