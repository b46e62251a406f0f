"""Fakes for the instances panel tests: openstacksdk resources as the panels get
them, built from API bodies (no tests here)."""
from __future__ import annotations

from typing import Any
from unittest import mock

from openstack.block_storage.v3 import volume as sdk_volume
from openstack.compute.v2 import availability_zone, flavor, keypair, server_action
from openstack.compute.v2 import server as sdk_server
from openstack.identity.v3 import project
from openstack.image.v2 import image as sdk_image
from openstack.network.v2 import network, security_group

from tests.unit.dashboard.conftest import OTHER_PROJECT_ID, PROJECT_ID

IMAGE_ID = "img-0001"
FLAVORS = [flavor.Flavor(id="1", name="m1.tiny", vcpus=1, ram=128, disk=1),
           flavor.Flavor(id="2", name="m1.small", vcpus=1, ram=2048, disk=20)]


def server(sid: str = "srv-1", status: str = "ACTIVE", task: str | None = None,
           project_id: str = PROJECT_ID, volumes: tuple[str, ...] = (),
           **extra: Any) -> sdk_server.Server:
    body: dict[str, Any] = {
        "id": sid, "name": "vm-" + sid, "status": status, "tenant_id": project_id,
        "OS-EXT-STS:task_state": task, "OS-EXT-STS:power_state": 1,
        "OS-EXT-AZ:availability_zone": "nova", "key_name": "k1", "locked": False,
        "OS-EXT-SRV-ATTR:host": "node-1", "created": "2026-01-01T00:00:00Z",
        "image": {"id": IMAGE_ID, "links": []}, "flavor": {"id": "1", "links": []},
        "addresses": {"private": [{"addr": "10.0.0.5", "version": 4,
                                   "OS-EXT-IPS:type": "fixed"},
                                  {"addr": "172.24.4.9", "version": 4,
                                   "OS-EXT-IPS:type": "floating"}]},
        "security_groups": [{"name": "default"}], "metadata": {"role": "web"},
        "os-extended-volumes:volumes_attached": [{"id": v} for v in volumes]}
    body.update(extra)
    return sdk_server.Server(**body)


def other_server(sid: str = "srv-9") -> sdk_server.Server:
    return server(sid, project_id=OTHER_PROJECT_ID)


def image(iid: str = IMAGE_ID, name: str = "stratus-guest", **extra: Any) -> Any:
    attrs: dict[str, Any] = dict(id=iid, name=name, status="active", disk_format="qcow2",
                 size=50 * 1024 ** 2, min_ram=0, min_disk=0)
    attrs.update(extra)
    return sdk_image.Image(**attrs)


def volume(vid: str = "vol-1", name: str = "data", **extra: Any) -> Any:
    attrs: dict[str, Any] = dict(id=vid, name=name, status="available", is_bootable=False, size=1,
                 project_id=PROJECT_ID, attachments=[])
    attrs.update(extra)
    return sdk_volume.Volume(**attrs)


def net(nid: str, name: str, shared: bool = False, external: bool = False,
        project_id: str = PROJECT_ID) -> Any:
    return network.Network(id=nid, name=name, project_id=project_id, is_shared=shared,
                           is_router_external=external)


def action(request_id: str, name: str, start: str) -> Any:
    return server_action.ServerAction(request_id=request_id, action=name, start_time=start,
                                      user_id="u-demo", message=None)


def setup_lists(conn: mock.MagicMock, networks: list[Any] | None = None) -> None:
    """The launch form's choices."""
    conn.compute.availability_zones.return_value = [
        availability_zone.AvailabilityZone(name="nova", state={"available": True})]
    conn.image.images.return_value = [image(), image("img-k", "kernel", disk_format="aki"),
                                      image("img-q", "queued", status="queued")]
    conn.block_storage.volumes.return_value = [
        volume("vol-boot", "bootvol", is_bootable=True), volume("vol-data", "data")]
    conn.compute.flavors.return_value = FLAVORS
    conn.network.networks.return_value = networks if networks is not None else [
        net("net-1", "private"), net("net-pub", "public", external=True, project_id="admin"),
        net("net-sh", "shared-net", shared=True, project_id="admin"),
        net("net-x", "theirs", project_id=OTHER_PROJECT_ID)]
    conn.network.security_groups.return_value = [
        security_group.SecurityGroup(id="sg-1", name="default"),
        security_group.SecurityGroup(id="sg-2", name="web")]
    conn.compute.keypairs.return_value = [keypair.Keypair(name="k1")]


def projects() -> list[Any]:
    return [project.Project(id=PROJECT_ID, name="demo"),
            project.Project(id=OTHER_PROJECT_ID, name="other")]
