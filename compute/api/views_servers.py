"""Server bodies per microversion, as Nova shows them (up to 2.47).

* ``basic``: ``{"id", "name", "links"}`` (GET /servers).
* ``detail``: GET /servers/{id} and /servers/detail. 2.3 adds the admin
  ``OS-EXT-SRV-ATTR`` launch attributes and ``delete_on_termination`` of
  attached volumes, 2.9 ``locked``, 2.16 ``host_status`` (admins), 2.19
  ``description``, 2.26 ``tags``.
* ``updated``: the answer of PUT /servers/{id} and rebuild: the detail without
  the extended attributes (and addresses without their type and MAC), plus
  ``locked`` (2.9) and ``description`` (2.19).
* the ``flavor`` of ``detail`` and ``updated``: ``{"id", "links"}``; from 2.47
  the flavor the instance keeps (``original_name``, ``vcpus``, ``ram``,
  ``disk``, ``ephemeral``, ``swap`` and, when the caller may list extra specs,
  ``extra_specs``).
"""
from __future__ import annotations

import datetime
import hashlib
from collections.abc import Mapping
from typing import Any

from compute import network_info
from compute import servers as servers_service
from compute import states
from compute.api import views

PROGRESS_STATUSES = ("ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING")
FAULT_STATUSES = ("ERROR", "DELETED")
NOVA_TIME = "%Y-%m-%dT%H:%M:%SZ"
STORE_TIME = "%Y-%m-%dT%H:%M:%S.%f"


def nova_time(value: str | None) -> str | None:
    """``2026-12-06T03:00:00.123456`` (the store's) -> ``2026-12-06T03:00:00Z``."""
    if not value:
        return None
    if len(value) == 26 and value[10] == "T" and value[19] == ".":
        return value[:19] + "Z"  # the store's format: no parsing needed
    return datetime.datetime.strptime(value, STORE_TIME).strftime(NOVA_TIME)


def host_id(project_id: str, host: str | None) -> str:
    """Nova's ``hostId``: opaque per project, "" while the server has no host."""
    if not host:
        return ""
    return hashlib.sha224((project_id + host).encode("utf-8")).hexdigest()


def addresses(instance: Mapping[str, Any], extended: bool) -> dict[str, list[dict[str, Any]]]:
    found = network_info.addresses(instance.get("network_info") or [])
    if extended:
        return found
    return {label: [{"version": a["version"], "addr": a["addr"]} for a in items]
            for label, items in found.items()}


class ServerView:
    """Renders servers for one request (its links, microversion and caller)."""

    def __init__(self, links: views.Links, version: tuple[int, int], *, admin: bool,
                 host_status: bool = False, extra_specs: bool = False) -> None:
        """:param extra_specs: whether the embedded flavor (2.47) shows its extra
            specs (the caller may list a flavor's extra specs)."""
        self.links = links
        self.version = version
        self.admin = admin
        self.host_status = host_status
        self.extra_specs = extra_specs

    def _bookmark(self, collection: str, item_id: str) -> list[dict[str, str]]:
        return [{"rel": "bookmark",
                 "href": "%s/%s/%s" % (self.links.unversioned, collection, item_id)}]

    def basic(self, instance: Mapping[str, Any]) -> dict[str, Any]:
        return {"id": instance["uuid"], "name": instance["display_name"],
                "links": self.links.item("servers", instance["uuid"])}

    def _image(self, instance: Mapping[str, Any]) -> Any:
        image_ref = instance["image_ref"]
        if not image_ref:
            return ""
        return {"id": image_ref, "links": self._bookmark("images", image_ref)}

    def _flavor(self, instance: Mapping[str, Any]) -> dict[str, Any]:
        flavor = instance["flavor"] or {}
        if not flavor.get("flavorid"):
            return {}
        if self.version >= (2, 47):
            return self._embedded_flavor(flavor)
        return {"id": flavor["flavorid"],
                "links": self._bookmark("flavors", str(flavor["flavorid"]))}

    def _embedded_flavor(self, flavor: Mapping[str, Any]) -> dict[str, Any]:
        """The flavor the instance keeps (as at boot or its last resize), not the
        flavor's record now: it may have been changed or deleted since."""
        body: dict[str, Any] = {
            "original_name": flavor.get("name") or "",
            "vcpus": int(flavor.get("vcpus") or 0), "ram": int(flavor.get("memory_mb") or 0),
            "disk": int(flavor.get("root_gb") or 0),
            "ephemeral": int(flavor.get("ephemeral_gb") or 0),
            "swap": int(flavor.get("swap") or 0)}
        if self.extra_specs:
            body["extra_specs"] = {str(k): str(v)
                                   for k, v in (flavor.get("extra_specs") or {}).items()}
        return body

    def _fault(self, fault: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if not fault:
            return None
        body = {"code": fault["code"], "created": nova_time(fault["created_at"]),
                "message": fault["message"]}
        if fault.get("details") and (self.admin or fault["code"] != 500):
            body["details"] = fault["details"]
        return body

    def _common(self, instance: Mapping[str, Any], extras: Mapping[str, Any],
                extended_addresses: bool) -> dict[str, Any]:
        status = states.status(instance["vm_state"], instance["task_state"])
        body = self.basic(instance)
        body.update({
            "status": status, "tenant_id": instance["project_id"],
            "user_id": instance["user_id"], "metadata": dict(instance["metadata"]),
            "hostId": host_id(instance["project_id"], instance["host"]),
            "image": self._image(instance), "flavor": self._flavor(instance),
            "created": nova_time(instance["created_at"]),
            "updated": nova_time(instance["updated_at"] or instance["created_at"]),
            "addresses": addresses(instance, extended_addresses),
            "accessIPv4": instance["access_ip_v4"] or "",
            "accessIPv6": instance["access_ip_v6"] or "",
            "OS-DCF:diskConfig": "AUTO" if instance["auto_disk_config"] else "MANUAL",
        })
        if status in PROGRESS_STATUSES:
            body["progress"] = int(instance["progress"] or 0)
        if status in FAULT_STATUSES:
            fault = self._fault(extras.get("fault"))
            if fault is not None:
                body["fault"] = fault
        if self.version >= (2, 9):
            body["locked"] = bool(instance["locked"])
        if self.version >= (2, 19):
            body["description"] = instance["display_description"]
        if self.version >= (2, 26):
            body["tags"] = list(instance["tags"])
        return body

    def updated(self, instance: Mapping[str, Any], extras: Mapping[str, Any]) -> dict[str, Any]:
        return self._common(instance, extras, extended_addresses=False)

    def detail(self, instance: Mapping[str, Any], extras: Mapping[str, Any]) -> dict[str, Any]:
        body = self._common(instance, extras, extended_addresses=True)
        volumes = [{"id": v["id"]} if self.version < (2, 3) else dict(v)
                   for v in extras.get("volumes") or []]
        body.update({
            "key_name": instance["key_name"],
            "config_drive": instance["config_drive"] or "",
            "OS-EXT-AZ:availability_zone": extras.get("availability_zone") or "",
            "OS-SRV-USG:launched_at": instance["launched_at"],
            "OS-SRV-USG:terminated_at": instance["terminated_at"],
            "OS-EXT-STS:task_state": instance["task_state"],
            "OS-EXT-STS:vm_state": instance["vm_state"],
            "OS-EXT-STS:power_state": int(instance["power_state"] or 0),
            "os-extended-volumes:volumes_attached": volumes,
        })
        if instance["security_groups"]:
            body["security_groups"] = [{"name": n} for n in instance["security_groups"]]
        if self.admin:
            body.update(self._extended(instance))
        if self.version >= (2, 16) and self.host_status:
            body["host_status"] = extras.get("host_status") or ""
        return body

    def _extended(self, instance: Mapping[str, Any]) -> dict[str, Any]:
        """The admin-only OS-EXT-SRV-ATTR attributes."""
        body: dict[str, Any] = {
            "OS-EXT-SRV-ATTR:host": instance["host"],
            "OS-EXT-SRV-ATTR:hypervisor_hostname": instance["node"],
            "OS-EXT-SRV-ATTR:instance_name": servers_service.instance_name(instance)}
        if self.version >= (2, 3):
            sysmeta = instance["system_metadata"] or {}
            body.update({
                "OS-EXT-SRV-ATTR:reservation_id": instance["reservation_id"],
                "OS-EXT-SRV-ATTR:launch_index": int(instance["launch_index"] or 0),
                "OS-EXT-SRV-ATTR:kernel_id": sysmeta.get("image_kernel_id") or "",
                "OS-EXT-SRV-ATTR:ramdisk_id": sysmeta.get("image_ramdisk_id") or "",
                "OS-EXT-SRV-ATTR:hostname": instance["hostname"] or "",
                "OS-EXT-SRV-ATTR:root_device_name": instance["root_device_name"],
                "OS-EXT-SRV-ATTR:user_data": instance["user_data"]})
        return body

    def created(self, instance: Mapping[str, Any], admin_pass: str | None) -> dict[str, Any]:
        """The POST /servers answer: never the whole server (Tempest checks it)."""
        body = {"id": instance["uuid"], "links": self.links.item("servers", instance["uuid"]),
                "OS-DCF:diskConfig": "AUTO" if instance["auto_disk_config"] else "MANUAL"}
        if instance["security_groups"]:
            body["security_groups"] = [{"name": n} for n in instance["security_groups"]]
        if admin_pass is not None:
            body["adminPass"] = admin_pass
        return body
