"""Device role tagging (2.32/2.42) from the request to the guest: the tags of
requested networks and ports kept on the instance's network_info (at
allocation and across refreshes, against the real network API), the tags of
block device mappings read back, and meta_data.json ``devices`` as the
metadata API and the config drive serve it."""
from __future__ import annotations

import json
import os
import sys
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import webtest

from common.db import engine
from common.db import migration
from compute import network_info as ni
from compute import server_bdm
from compute.cmd import manage
from compute.db import instances
from compute.metadata import app as metadata_app
from compute.metadata import content
from tests.unit.compute import test_compute_metadata_app as app_tests
from tests.unit.compute import test_compute_metadata_content as samples

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_compute_clients_network import Cloud, project, running_cloud  # noqa: E402

HOST = "node-1"


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cloud]:
    yield from running_cloud(tmp_path_factory)


@pytest.fixture()
def db(tmp_path: Any) -> Iterator[engine.Database]:
    url = "sqlite:///%s/compute.sqlite" % tmp_path
    migration.sync(manage.MIGRATIONS, url)
    database = engine.Database(engine.create_engine(url))
    yield database
    database.dispose()


def _vif(mac: str, tag: str | None = None) -> dict[str, Any]:
    vif: dict[str, Any] = {"id": str(uuid.uuid4()), "address": mac,
                           "network": {"id": "n", "subnets": []}}
    if tag is not None:
        vif["tag"] = tag
    return vif


def test_allocation_keeps_the_requested_tags_and_refresh_keeps_them(cloud: Cloud) -> None:
    proj = project()
    ctxt = cloud.user(proj)
    net, _ = cloud.network(proj, cidr="10.21.0.0/24", name="tagged")
    mine = cloud.call("POST", "/v2.0/ports", proj, {"port": {"network_id": net["id"]}},
                      status=201)["port"]
    inst = {"uuid": str(uuid.uuid4()), "project_id": proj}
    requested = ni.validate_networks(cloud.conf, ctxt, [
        {"port": mine["id"], "tag": "mgmt"}, {"uuid": net["id"]},
        {"uuid": net["id"], "tag": "data"}])
    assert [r.get("tag") for r in requested] == ["mgmt", None, "data"]
    info = ni.allocate_for_instance(cloud.conf, ctxt, inst, requested, [], HOST)
    assert [v.get("tag") for v in info] == ["mgmt", None, "data"]
    assert info[0]["id"] == mine["id"]
    assert json.loads(json.dumps(info)) == info
    fresh = ni.get_instance_nw_info(cloud.conf, ctxt, inst["uuid"], info)
    assert [(v["id"], v.get("tag")) for v in fresh] == [(v["id"], v.get("tag")) for v in info]
    devices = content.device_metadata(fresh, [])
    assert devices == [{"type": "nic", "mac": mine["mac_address"], "tags": ["mgmt"]},
                       {"type": "nic", "mac": info[2]["address"], "tags": ["data"]}]
    ni.deallocate_for_instance(cloud.conf, ctxt, inst["uuid"], info)


def test_device_metadata_of_disks() -> None:
    volume = str(uuid.uuid4())
    mappings = [{"tag": "root", "volume_id": None, "device_name": None, "disk_bus": None,
                 "boot_index": 0},
                {"tag": None, "volume_id": str(uuid.uuid4()), "device_name": "vdc",
                 "disk_bus": None, "boot_index": None},
                {"tag": "db", "volume_id": volume, "device_name": "/dev/sdb",
                 "disk_bus": None, "boot_index": None},
                {"tag": "logs", "volume_id": None, "device_name": "vdd", "disk_bus": "ide",
                 "boot_index": None}]
    assert content.device_metadata([_vif("fa:16:3e:00:00:01")], mappings, "/dev/vda") == [
        {"type": "disk", "serial": None, "path": "/dev/vda", "bus": "pci", "tags": ["root"]},
        {"type": "disk", "serial": volume, "path": "/dev/sdb", "bus": "scsi", "tags": ["db"]},
        {"type": "disk", "serial": None, "path": "/dev/vdd", "bus": "ide", "tags": ["logs"]}]
    # A mapping with no device name yet: no path, no bus.
    assert content.device_metadata([], [{"tag": "x", "boot_index": None}]) == [
        {"type": "disk", "serial": None, "path": None, "tags": ["x"]}]


def test_devices_by_metadata_version_and_on_the_config_drive() -> None:
    volume = str(uuid.uuid4())
    nics = [_vif("fa:16:3e:00:00:01", "eth-a"), _vif("fa:16:3e:00:00:02")]
    md = content.InstanceMetadata(
        samples.instance(network_info=nics),
        block_devices=[{"tag": "data", "volume_id": volume, "device_name": "vdb",
                        "boot_index": None}])
    expected = [{"type": "nic", "mac": "fa:16:3e:00:00:01", "tags": ["eth-a"]},
                {"type": "disk", "serial": volume, "path": "/dev/vdb", "bus": "pci",
                 "tags": ["data"]}]
    for version in ("2016-06-30", "2018-08-27", "latest"):
        path = "/openstack/%s/meta_data.json" % version
        assert json.loads(md.lookup(path).body)["devices"] == expected
    assert "devices" not in json.loads(md.lookup("/openstack/2015-10-15/meta_data.json").body)
    files = dict(md.files())
    assert json.loads(files["openstack/latest/meta_data.json"])["devices"] == expected
    assert json.loads(files["openstack/2016-06-30/meta_data.json"])["devices"] == expected
    # Nothing tagged: an empty list.
    plain = content.InstanceMetadata(samples.instance())
    assert json.loads(plain.lookup("/openstack/latest/meta_data.json").body)["devices"] == []


def test_metadata_api_lists_the_tagged_mappings_of_the_database(db: engine.Database) -> None:
    store = instances.InstanceStore(db)
    inst = app_tests._create(store, network_info=[_vif("fa:16:3e:00:00:09", "nic-1")])
    other = app_tests._create(store)
    volume = str(uuid.uuid4())
    writer = server_bdm.BlockDeviceWriter(app_tests._conf(), db)
    root = dict(server_bdm.image_root(str(uuid.uuid4())), tag="boot")
    blank = dict(server_bdm.image_root(str(uuid.uuid4())), boot_index=None,
                 source_type="blank", image_id=None, device_name="vdc")
    writer.write(None, inst["uuid"], [root, blank])
    with db.writer() as session:  # an attached volume, as the node records it
        session.execute(server_bdm._INSERT, {
            "uuid": str(uuid.uuid4()), "instance_uuid": inst["uuid"],
            "source_type": "volume", "destination_type": "volume", "volume_id": volume,
            "device_name": "/dev/vdb", "boot_index": None, "tag": "db"})
    writer.write(None, other["uuid"], [dict(root, tag="not-mine")])
    assert [m["tag"] for m in server_bdm.tagged_block_devices(db, inst["uuid"])] == [
        "boot", "db"]
    client = webtest.TestApp(metadata_app.MetadataApp(app_tests._conf(), store))
    resp = client.get("/openstack/latest/meta_data.json",
                      headers=app_tests._headers(inst), status=200)
    assert resp.json["devices"] == [
        {"type": "nic", "mac": "fa:16:3e:00:00:09", "tags": ["nic-1"]},
        {"type": "disk", "serial": None, "path": "/dev/vda", "bus": "pci", "tags": ["boot"]},
        {"type": "disk", "serial": volume, "path": "/dev/vdb", "bus": "pci", "tags": ["db"]}]
