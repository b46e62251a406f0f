"""POST /servers: what is written and cast, the checks against the flavor, image,
key pair, networks, zone, group and quotas, and Nova's 4xx for bad input."""
from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import oslo_messaging as messaging
import pytest
from compute_api_helpers import Api, message, project

from compute import states
from compute.db import models
from tests.fixtures import compute as fx

SERVICE_CONF = {"quota": {"instances": 4, "cores": 8, "metadata_items": 3,
                          "injected_files": 1, "injected_file_content_bytes": 10,
                          "injected_file_path_length": 20}}


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch, service: Any, api: Api) -> fx.Servers:
    return fx.Servers(api, service, fx.install_fakes(monkeypatch))


def test_create_writes_the_instance_and_casts_the_build(fakes: fx.Servers) -> None:
    p = project()
    resp = fakes.create(p, metadata={"a": "b"}, key_name=None,
                        accessIPv6="0000:0000:0000:0000:0000:babe:220.12.22.2",
                        accessIPv4="1.1.1.1", user_data=base64.b64encode(b"hi").decode())
    server = resp.json["server"]
    # At 2.1 the answer is never the whole server (Tempest's schema).
    assert set(server) == {"id", "links", "OS-DCF:diskConfig", "security_groups",
                           "adminPass"}
    assert server["security_groups"] == [{"name": "default"}]
    assert len(server["adminPass"]) == 12
    assert resp.headers["Location"] == "http://localhost/v2.1/servers/" + server["id"]
    instance = fakes.store.get(server["id"])
    assert instance["vm_state"] == states.BUILDING
    assert instance["task_state"] == states.SCHEDULING
    assert instance["power_state"] == 0 and instance["host"] is None
    assert instance["flavor"]["flavorid"] == fakes.flavor["id"]
    assert instance["flavor"]["extra_specs"] == {}
    assert instance["image_ref"] == fakes.image["id"]
    assert instance["metadata"] == {"a": "b"}
    assert instance["access_ip_v6"] == "::babe:dc0c:1602"
    assert instance["reservation_id"].startswith("r-")
    assert instance["system_metadata"]["image_os_distro"] == "cirros"
    assert instance["system_metadata"]["image_base_image_ref"] == fakes.image["id"]
    assert instance["hostname"] == instance["display_name"]
    (build,) = fakes.boundary.casts("build_instances")
    assert build["instance_uuids"] == [server["id"]]
    spec = build["request_spec"]
    assert spec["flavor"]["flavorid"] == fakes.flavor["id"]
    assert spec["image"]["id"] == fakes.image["id"]
    assert spec["requested_networks"] == "auto" and spec["security_groups"] == ["default"]
    assert spec["num_instances"] == 1 and spec["project_id"] == p and spec["group"] is None
    assert spec["block_device_mapping"][0]["source_type"] == "image"
    (action,) = fakes.store.list_actions(server["id"])
    assert action["action"] == "create"
    with fakes.db.reader() as session:
        bdms = session.query(models.BlockDeviceMapping).filter_by(
            instance_uuid=server["id"]).all()
        assert [(b.source_type, b.destination_type, b.boot_index) for b in bdms] == [
            ("image", "local", 0)]


def test_flavor_and_image_may_be_urls(fakes: fx.Servers) -> None:
    server_id = fakes.boot(project(),
                           imageRef="http://glance/v2/images/" + fakes.image["id"],
                           flavorRef="http://localhost/flavors/" + fakes.flavor["id"])
    assert fakes.store.get(server_id)["image_ref"] == fakes.image["id"]


def test_given_admin_pass_and_key_pair(fakes: fx.Servers) -> None:
    p = project()
    fakes.api.call("POST", "/v2.1/os-keypairs", p, status=200,
                   json_body={"keypair": {"name": "k1"}})
    resp = fakes.create(p, adminPass="s3cret!", key_name="k1")
    assert resp.json["server"]["adminPass"] == "s3cret!"
    instance = fakes.store.get(resp.json["server"]["id"])
    assert instance["key_name"] == "k1" and instance["key_data"].startswith("ssh-rsa ")
    resp = fakes.create(p, key_name="nope", status=400)
    assert message(resp) == "Invalid key_name provided."


def test_multiple_create_names_and_reservation(fakes: fx.Servers) -> None:
    p = project()
    resp = fakes.create(p, name="multi", min_count=2, max_count="2",
                        return_reservation_id=True)
    reservation = resp.json["reservation_id"]
    assert set(resp.json) == {"reservation_id"}
    rows = fakes.store.get_all(project_id=p, equal={"reservation_id": reservation},
                               sort=(("launch_index", "asc"),))
    assert [r["display_name"] for r in rows] == ["multi-1", "multi-2"]
    assert [r["launch_index"] for r in rows] == [0, 1]
    (build,) = fakes.boundary.casts("build_instances")
    assert sorted(build["instance_uuids"]) == sorted(r["uuid"] for r in rows)
    assert build["request_spec"]["num_instances"] == 2
    listed = fakes.call("GET", "/servers?reservation_id=" + reservation, p, status=200)
    assert len(listed.json["servers"]) == 2
    fakes.create(p, min_count=3, max_count=2, status=400)


def test_quota_builds_what_fits_and_refuses_the_rest(fakes: fx.Servers) -> None:
    p = project()
    # instances quota 4: max_count 6 with min_count 1 builds 4.
    resp = fakes.create(p, min_count=1, max_count=6, return_reservation_id=True)
    rows = fakes.store.get_all(project_id=p, equal={
        "reservation_id": resp.json["reservation_id"]})
    assert len(rows) == 4
    resp = fakes.create(p, status=403)
    assert message(resp) == ("Quota exceeded for instances: Requested 1, but already used "
                             "4 of 4 instances")
    big = fakes.make_flavor(vcpus=9)
    resp = fakes.create(project(), flavorRef=big["id"], status=403)
    assert "Quota exceeded for cores: Requested 9" in message(resp)


def test_metadata_and_personality_limits(fakes: fx.Servers) -> None:
    p = project()
    resp = fakes.create(p, metadata={k: "v" for k in "abcd"}, status=403)
    assert message(resp) == "Maximum number of metadata items exceeds 3"
    file = {"path": "/etc/motd", "contents": base64.b64encode(b"hello").decode()}
    fakes.create(p, personality=[file])
    resp = fakes.create(p, personality=[file, file], status=403)
    assert message(resp) == "Personality file limit exceeded"
    too_long = {"path": "/" + "x" * 30, "contents": file["contents"]}
    assert "path exceeds maximum 20" in message(fakes.create(p, personality=[too_long],
                                                             status=403))
    big = {"path": "/a", "contents": base64.b64encode(b"x" * 11).decode()}
    assert "content exceeds maximum 10" in message(fakes.create(p, personality=[big],
                                                                status=403))
    fakes.create(p, personality=[{"path": "/a", "contents": "%%%"}], status=400)


@pytest.mark.parametrize("server,status", [
    ({"name": "x" * 256}, 400), ({"name": ""}, 400), ({"name": "   "}, 400),
    ({"name": " lead"}, 400), ({"name": None}, 400),
    ({"flavorRef": None}, 400), ({"flavorRef": "-1"}, 400), ({"flavorRef": "nope"}, 400),
    ({"imageRef": "not-a-uuid"}, 400), ({"imageRef": str(uuid.uuid4())}, 400),
    ({"imageRef": None}, 400), ({"imageRef": ""}, 400),
    ({"metadata": {"a": "b" * 256}}, 400), ({"metadata": {"k" * 256: "v"}}, 400),
    ({"metadata": {"": "v"}}, 400), ({"metadata": {"a": 1}}, 400), ({"metadata": []}, 400),
    ({"accessIPv4": "1.1.1.1.1"}, 400), ({"accessIPv6": "2001:::1"}, 400),
    ({"networks": "auto"}, 400), ({"networks": [{"uuid": "a-b-c-d-e-f-g-h-i-j",
                                                 "fixed_ip": "10.0.1.1"}]}, 400),
    ({"networks": [{"uuid": str(uuid.uuid4())}]}, 400),
    ({"networks": [{"port": "not-a-uuid"}]}, 400), ({"networks": [{}]}, 400),
    ({"networks": [{"uuid": str(uuid.uuid4()), "bogus": 1}]}, 400),
    ({"user_data": "not base64!"}, 400), ({"user_data": "a" * 65536}, 400),
    ({"min_count": 0}, 400), ({"max_count": "x"}, 400),
    ({"OS-DCF:diskConfig": "SOMETIMES"}, 400), ({"config_drive": "maybe"}, 400),
    ({"security_groups": [{"name": "x", "extra": 1}]}, 400),
    ({"description": "at 2.19 only"}, 400), ({"bogus": 1}, 400),
    ({"availability_zone": "no-such-zone"}, 400),
    ({"block_device_mapping_v2": [{"source_type": "nope", "uuid": "x"}]}, 400),
    ({"block_device_mapping_v2": [{"source_type": "image", "uuid": str(uuid.uuid4()),
                                   "destination_type": "volume", "boot_index": 0}],
      "imageRef": None}, 400),
    ({"block_device_mapping_v2": [{"source_type": "volume", "uuid": str(uuid.uuid4()),
                                   "boot_index": 0}], "imageRef": None}, 400),
])
def test_bad_requests(fakes: fx.Servers, server: dict[str, Any], status: int) -> None:
    resp = fakes.create(project(), status=status, **server)
    assert message(resp)
    assert not fakes.boundary.casts("build_instances")


@pytest.mark.parametrize("body", [None, [], {"server": []}, {"server": {}}, {"srv": {}}])
def test_malformed_bodies(fakes: fx.Servers, body: Any) -> None:
    fakes.call("POST", "/servers", project(), json_body=body, status=400)


def test_messages_of_the_references(fakes: fx.Servers) -> None:
    p = project()
    assert message(fakes.create(p, flavorRef="-1", status=400)) == \
        "Invalid flavorRef provided."
    assert message(fakes.create(p, imageRef=str(uuid.uuid4()), status=400)) == \
        "Can not find requested image"
    assert message(fakes.create(p, imageRef=None, status=400)) == \
        "Missing imageRef attribute"
    queued = fakes.boundary.add_image(status="queued")
    assert message(fakes.create(p, imageRef=queued["id"], status=400)) == \
        "Image %s is not active." % queued["id"]
    net = str(uuid.uuid4())
    assert message(fakes.create(p, networks=[{"uuid": net}], status=400)) == \
        "Network %s could not be found." % net


def test_flavor_must_fit_the_image(fakes: fx.Servers) -> None:
    p = project()
    big = fakes.boundary.add_image(size=2 * 1024 ** 3)
    resp = fakes.create(p, imageRef=big["id"], status=400)
    assert message(resp).startswith("Flavor's disk is too small for requested image.")
    needy = fakes.boundary.add_image(min_ram=4096)
    resp = fakes.create(p, imageRef=needy["id"], status=400)
    assert message(resp) == "Flavor's memory is too small for requested image."
    wide = fakes.boundary.add_image(min_disk=5)
    assert "minimum size is" in message(fakes.create(p, imageRef=wide["id"], status=400))
    zero = fakes.make_flavor(disk=0)
    resp = fakes.create(p, flavorRef=zero["id"], status=403)
    assert message(resp) == "Only volume-backed servers are allowed for flavors with zero disk."
    fakes.create(None, flavorRef=zero["id"], admin=True)


def test_networks_ports_and_counts(fakes: fx.Servers) -> None:
    p = project()
    net = str(uuid.uuid4())
    fakes.boundary.networks.add(net)
    server_id = fakes.boot(p, networks=[{"uuid": net, "fixed_ip": "10.0.0.5"}])
    spec = fakes.store.get(server_id)["request_spec"]
    assert spec["requested_networks"] == [{"uuid": net, "fixed_ip": "10.0.0.5"}]
    port = str(uuid.uuid4())
    resp = fakes.create(p, networks=[{"port": port}], max_count=2, status=400)
    assert "single configured port" in message(resp)
    fakes.create(p, networks=[{"uuid": net, "fixed_ip": "10.0.0.6"}], max_count=2,
                 status=400)


def test_description_and_diskconfig(fakes: fx.Servers) -> None:
    server_id = str(fakes.create(project(), version="2.19", description="my vm",
                                 **{"OS-DCF:diskConfig": "AUTO"}).json["server"]["id"])
    instance = fakes.store.get(server_id)
    assert instance["display_description"] == "my vm" and instance["auto_disk_config"]


def test_scheduler_hint_group(fakes: fx.Servers) -> None:
    p = project()
    group = fakes.app.servers.groups.create(p, "user-" + p, "sg", "affinity")
    server_id = str(fakes.create(p, hints={"group": group["id"]}).json["server"]["id"])
    assert fakes.app.servers.groups.get(group["id"])["members"] == [server_id]
    (build,) = fakes.boundary.casts("build_instances")
    assert build["request_spec"]["group"] == group["id"]
    missing = str(uuid.uuid4())
    resp = fakes.create(p, hints={"group": missing}, status=400)
    assert message(resp) == "Instance group %s could not be found." % missing
    fakes.create(project(), hints={"group": group["id"]}, status=400)
    fakes.create(p, hints={"group": "not-a-uuid"}, status=400)


def test_availability_zone_and_forced_host(fakes: fx.Servers) -> None:
    fakes.up("az-host")
    server_id = fakes.boot(project(), availability_zone="nova")
    assert fakes.store.get(server_id)["availability_zone"] == "nova"
    fakes.create(project(), availability_zone="nova:az-host", status=403)
    resp = fakes.create(None, availability_zone="nova:az-host", admin=True)
    spec = fakes.store.get(resp.json["server"]["id"])["request_spec"]
    assert spec["force_hosts"] == ["az-host"] and spec["availability_zone"] == "nova"


def test_boot_from_volume(fakes: fx.Servers) -> None:
    volume = str(uuid.uuid4())
    fakes.boundary.volumes[volume] = {"id": volume, "status": "available"}
    bdm = [{"source_type": "volume", "destination_type": "volume", "uuid": volume,
            "boot_index": "0", "delete_on_termination": True}]
    resp = fakes.create(project(), imageRef=None, block_device_mapping_v2=bdm)
    instance = fakes.store.get(resp.json["server"]["id"])
    assert instance["image_ref"] == ""
    assert len(fakes.boundary.attachments) == 1
    shown = fakes.call("GET", "/servers/" + instance["uuid"], None, admin=True,
                       version="2.3").json["server"]
    assert shown["image"] == ""
    assert shown["os-extended-volumes:volumes_attached"] == [
        {"id": volume, "delete_on_termination": True}]
    fakes.boundary.volumes[volume]["status"] = "in-use"
    resp = fakes.create(project(), imageRef=None, block_device_mapping_v2=bdm, status=400)
    assert message(resp).startswith("Block Device Mapping is Invalid")


def test_conductor_unreachable_leaves_nothing(fakes: fx.Servers) -> None:
    p = project()
    fakes.boundary.rpc_error = messaging.MessagingTimeout("no conductor")
    resp = fakes.api.app.request("/v2.1/servers", method="POST", expect_errors=True,
                                 headers={"X-Test-Project": p,
                                          "Content-Type": "application/json"},
                                 body=json.dumps(fakes.body()).encode())
    assert resp.status_int == 503
    assert fakes.store.get_all(project_id=p) == []


def test_personas(fakes: fx.Servers) -> None:
    p = project()
    fakes.create(p, roles="reader", status=403)
    fakes.create(p, roles="other", status=403)
    server_id = fakes.boot(p)
    fakes.call("GET", "/servers/" + server_id, p, roles="reader", status=200)
    fakes.call("GET", "/servers/detail", p, roles="reader", status=200)
    fakes.call("GET", "/servers", p, roles="other", status=403)
    fakes.call("GET", "/servers/" + server_id, p, roles="other", status=403)
