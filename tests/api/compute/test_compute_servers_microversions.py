"""Servers at microversions 2.27 .. 2.47: device tags on networks and block
devices (2.32, dropped by 2.33/2.37, back in 2.42), ``networks`` required and
"auto"/"none" (2.37), an invalid status filter (2.38), and the embedded
flavor of show, list, update and rebuild (2.47)."""
from __future__ import annotations

import uuid
from typing import Any, Iterator

import pytest
import sqlalchemy as sa
from compute_api_helpers import Api, message, project

from compute.api import microversion
from compute.db import models
from tests.fixtures import compute as fx

SERVICE_CONF = {"quota": {"instances": 40, "cores": 80}}


@pytest.fixture(autouse=True)
def latest(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The versions are tested before the API claims them (the lead raises MAX).
    monkeypatch.setattr(microversion, "MAX_VERSION", max(microversion.MAX_VERSION, (2, 47)))
    yield


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
