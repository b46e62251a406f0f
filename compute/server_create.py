"""Building servers (``POST /servers``): a request is checked against the
flavor, the image, the key pair, the networks, the availability zone, the
server group and the quotas, then ``min_count..max_count`` instances are
written in one reservation and handed to the conductor (``build_instances``).

Every check happens before the first row is written; what can only be checked
after (the quota recheck against concurrent requests, the server group's
member quota, volume reservations) undoes the rows it wrote when it fails.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import ipaddress
import re
import secrets
import string
import uuid as uuid_mod
from collections.abc import Mapping
from typing import Any

from oslo_log import log as logging

from common import exception as common_exception
from common import rpc
from compute import availability_zones
from compute import exception
from compute import network_info
from compute import server_bdm
from compute import servers as servers_service
from compute import states
from compute.clients import image as image_client
from compute.virt import power_state

LOG = logging.getLogger(__name__)
GiB = 1024 ** 3
PASSWORD_LENGTH = 12
_PASSWORD_CHARS = string.ascii_letters + string.digits
_RESERVATION_CHARS = string.ascii_lowercase + string.digits
_TRUE = ("1", "t", "true", "on", "y", "yes")


@dataclasses.dataclass
class CreateRequest:
    """A server create request, as the API validated it."""

    name: str
    flavor_ref: str
    image_ref: str | None = None
    networks: list[dict[str, Any]] | str | None = None
    key_name: str | None = None
    user_data: str | None = None
    metadata: dict[str, str] = dataclasses.field(default_factory=dict)
    availability_zone: str | None = None
    security_groups: list[str] = dataclasses.field(default_factory=lambda: ["default"])
    access_ip_v4: str | None = None
    access_ip_v6: str | None = None
    admin_pass: str | None = None
    min_count: int = 1
    max_count: int = 1
    config_drive: bool = False
    auto_disk_config: bool | None = None
    scheduler_hints: dict[str, Any] = dataclasses.field(default_factory=dict)
    description: str | None = None
    block_devices: list[dict[str, Any]] = dataclasses.field(default_factory=list)
    personality: list[dict[str, str]] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class CreateResult:
    instances: list[dict[str, Any]]
    reservation_id: str
    admin_pass: str


def last_segment(ref: Any) -> str:
    """An id from an id or a URL (``http://.../flavors/1`` -> ``1``)."""
    return str(ref).rstrip("/").rsplit("/", 1)[-1]


def is_uuid(value: str) -> bool:
    try:
        uuid_mod.UUID(value)
    except ValueError:
        return False
    return True


def image_id(ref: str | None) -> str | None:
    """The image id of an ``imageRef`` (uuid or image URL); None for ``""``.

    :raises: InvalidImageRef (400).
    """
    if ref is None or ref == "":
        return None
    found = last_segment(ref)
    if not is_uuid(found):
        raise exception.InvalidImageRef()
    return found


def sanitize_hostname(name: str, default: str) -> str:
    """A DNS label from a server name, as Nova makes one."""
    text = name.encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[ _.]", "-", text)
    text = re.sub(r"[^\w-]+", "", text).lower().strip("-")[:63].strip("-")
    return text or default


def generate_password(length: int = PASSWORD_LENGTH) -> str:
    return "".join(secrets.choice(_PASSWORD_CHARS) for _ in range(length))


def reservation_id() -> str:
    return "r-" + "".join(secrets.choice(_RESERVATION_CHARS) for _ in range(8))


def flavor_record(flavor: Mapping[str, Any]) -> dict[str, Any]:
    """The flavor as instances embed it (JSON-ready, with its extra specs)."""
    keys = ("id", "flavorid", "name", "memory_mb", "vcpus", "root_gb", "ephemeral_gb",
            "swap", "rxtx_factor", "vcpu_weight", "disabled", "is_public", "description")
    record = {key: flavor.get(key) for key in keys}
    record["extra_specs"] = dict(flavor.get("extra_specs") or {})
    return record


def image_system_metadata(image: Mapping[str, Any]) -> dict[str, str]:
    """Nova's ``image_*`` system metadata: the image's properties and the keys a
    snapshot inherits (min_ram, min_disk, disk and container formats)."""
    found: dict[str, str] = {}
    skip = (image_client.READ_ONLY | image_client.CORE_KEYS) - {
        "min_ram", "min_disk", "disk_format", "container_format"}
    for key, value in image.items():
        if key in skip or value is None or isinstance(value, (dict, list)):
            continue
        found["image_" + key] = str(value)[:255]
    if image.get("id"):
        found["image_base_image_ref"] = str(image["id"])
    return found


def canonical_ip(value: str | None) -> str | None:
    if not value:
        return None
    return str(ipaddress.ip_address(value))


def _bool_property(value: Any) -> bool:
    return str(value).strip().lower() in _TRUE


class ServerBuilder:
    """The create flow, on top of the server service's stores and clients."""

    def __init__(self, servers: servers_service.ServerService) -> None:
        self.servers = servers
        self.conf = servers.conf
        self.store = servers.store
        self.bdms = server_bdm.BlockDeviceWriter(servers.conf, servers.db)

    # -- the references
    def _flavor(self, ctxt: Any, ref: str) -> dict[str, Any]:
        try:
            flavor = self.servers.flavors.get(ctxt, last_segment(ref))
        except exception.FlavorNotFound as err:
            raise exception.InvalidFlavorRef() from err
        if flavor["disabled"]:
            raise exception.InvalidFlavorRef()
        return flavor

    def get_image(self, ctxt: Any, image_ref: str) -> dict[str, Any]:
        """An image a server may boot from (or be rebuilt with): found and active.

        :raises: RequestedImageNotFound, ImageNotActive (400).
        """
        try:
            image = image_client.get_image_cached(self.conf, ctxt, image_ref)
        except (exception.ImageNotFound, exception.ImageBadRequest) as err:
            raise exception.RequestedImageNotFound() from err
        except exception.ImageNotAuthorized as err:
            raise common_exception.Invalid(err.message) from err
        if image.get("status") != "active":
            raise exception.ImageNotActive(image_id=image_ref)
        return image

    @staticmethod
    def check_flavor_fits(ctxt: Any, flavor: Mapping[str, Any], image: Mapping[str, Any],
                          boot_from_volume: bool) -> None:
        """Nova's flavor-against-image rules (RAM, root disk sizes, zero disk).

        :raises: FlavorMemoryTooSmall, FlavorDiskSmallerThanImage,
            FlavorDiskSmallerThanMinDisk (400), BootFromVolumeRequiredForZeroDiskFlavor (403).
        """
        if boot_from_volume:
            return
        if int(image.get("min_ram") or 0) > int(flavor["memory_mb"]):
            raise exception.FlavorMemoryTooSmall()
        root_gb = int(flavor["root_gb"])
        if root_gb == 0:
            target = {"project_id": ctxt.project_id, "user_id": ctxt.user_id}
            if not ctxt.can("os_compute_api:servers:create:zero_disk_flavor", target,
                            fatal=False):
                raise exception.BootFromVolumeRequiredForZeroDiskFlavor()
            return
        for key in ("size", "virtual_size"):
            size = int(image.get(key) or 0)
            if size > root_gb * GiB:
                raise exception.FlavorDiskSmallerThanImage(flavor_size=root_gb * GiB,
                                                           image_size=size)
        min_disk = int(image.get("min_disk") or 0)
        if min_disk > root_gb:
            raise exception.FlavorDiskSmallerThanMinDisk(flavor_size=root_gb * GiB,
                                                         image_min_disk=min_disk * GiB)

    @staticmethod
    def check_volume_fits(flavor: Mapping[str, Any], image: Mapping[str, Any],
                          root: Mapping[str, Any] | None) -> None:
        """Nova's rules for a volume-backed server's image: the flavor's RAM, and
        the size of a root volume still to create against the image's min_disk.

        :raises: FlavorMemoryTooSmall, VolumeSmallerThanMinDisk (400).
        """
        if int(image.get("min_ram") or 0) > int(flavor["memory_mb"]):
            raise exception.FlavorMemoryTooSmall()
        size = (root or {}).get("volume_size")
        min_disk = int(image.get("min_disk") or 0) * GiB
        if size is not None and (root or {}).get("source_type") != "volume" \
                and min_disk > int(size) * GiB:
            raise exception.VolumeSmallerThanMinDisk(volume_size=int(size) * GiB,
                                                     image_min_disk=min_disk)

    def _key(self, ctxt: Any, key_name: str | None) -> dict[str, Any] | None:
        if key_name is None:
            return None
        try:
            return self.servers.keypairs.get(ctxt.user_id, key_name)
        except exception.KeypairNotFound as err:
            raise exception.InvalidKeyName() from err

    def _check_limits(self, ctxt: Any, req: CreateRequest, limits: Mapping[str, int]) -> None:
        """Metadata items and personality files against their quotas (403)."""
        if 0 <= limits["metadata_items"] < len(req.metadata):
            raise exception.MetadataLimitExceeded(allowed=limits["metadata_items"])
        if 0 <= limits["injected_files"] < len(req.personality):
            raise exception.OnsetFileLimitExceeded()
        for item in req.personality:
            if 0 <= limits["injected_file_path_length"] < len(item["path"]):
                raise exception.OnsetFilePathLimitExceeded(
                    allowed=limits["injected_file_path_length"])
            try:
                content = base64.b64decode(item["contents"], validate=True)
            except (binascii.Error, ValueError) as err:
                raise common_exception.Invalid(
                    "Personality content for %s cannot be decoded" % item["path"]) from err
            if 0 <= limits["injected_file_content_bytes"] < len(content):
                raise exception.OnsetFileContentLimitExceeded(
                    allowed=limits["injected_file_content_bytes"])
        if req.user_data is not None:
            try:
                base64.b64decode(req.user_data, validate=True)
            except (binascii.Error, ValueError) as err:
                raise common_exception.Invalid("Userdata content cannot be decoded") from err

    def _zone(self, ctxt: Any, value: str | None) -> tuple[str | None, list[str], list[str]]:
        """``az``, ``az:host`` or ``az:host:node`` -> (zone, forced hosts, forced nodes)."""
        if not value:
            return None, [], []
        zone, _sep, rest = value.partition(":")
        host, _sep, node = rest.partition(":")
        if host or node:
            ctxt.can("os_compute_api:servers:create:forced_host",
                     {"project_id": ctxt.project_id, "user_id": ctxt.user_id})
        if zone and not availability_zones.is_valid_zone(self.conf, self.servers.db, zone):
            raise common_exception.Invalid("The requested availability zone is not available")
        return zone or None, [host] if host else [], [node] if node else []

    def _group(self, ctxt: Any, hints: Mapping[str, Any]) -> dict[str, Any] | None:
        group_uuid = hints.get("group")
        if not group_uuid:
            return None
        try:
            group = self.servers.groups.get(str(group_uuid))
        except exception.InstanceGroupNotFound as err:
            raise common_exception.Invalid(err.message) from err
        if not ctxt.is_admin and group["project_id"] != ctxt.project_id:
            raise common_exception.Invalid(
                exception.InstanceGroupNotFound(group_uuid=group_uuid).message)
        return group

    def _networks(self, ctxt: Any, req: CreateRequest) -> list[dict[str, Any]] | str:
        requested = req.networks
        if requested in (None, [], network_info.AUTO):
            requested = network_info.AUTO
        elif isinstance(requested, list):
            for item in requested:
                if item.get("port") and req.max_count > 1:
                    raise common_exception.Invalid(
                        "Unable to launch multiple instances with a single configured port "
                        "ID. Please launch your instance one by one with different ports.")
                if item.get("fixed_ip") and req.max_count > 1:
                    raise common_exception.Invalid(
                        "max_count cannot be greater than 1 if an fixed_ip is specified.")
                if not item.get("port") and not item.get("uuid"):
                    raise common_exception.Invalid("Bad network format: missing 'uuid'")
                if not item.get("port") and not is_uuid(str(item["uuid"])):
                    raise common_exception.Invalid(
                        "Bad networks format: network uuid is not in proper format (%s)"
                        % item["uuid"])
        resolved = network_info.validate_networks(self.conf, ctxt, requested)
        if requested == network_info.NONE:
            return network_info.NONE
        return resolved or network_info.AUTO

    def _count(self, ctxt: Any, flavor: Mapping[str, Any], low: int, high: int,
               limits: Mapping[str, int]) -> int:
        """The most instances in [low, high] the quotas allow (Nova builds fewer than
        max_count rather than none).

        :raises: TooManyInstances (403) when even ``low`` is over quota.
        """
        def check(n: int) -> bool:
            deltas = {"instances": n, "cores": n * int(flavor["vcpus"]),
                      "ram": n * int(flavor["memory_mb"])}
            try:
                self.servers.quotas.check(ctxt.project_id, ctxt.user_id, deltas,
                                          limits=limits)
            except exception.TooManyInstances:
                if n == low:
                    raise
                return False
            return True

        if check(high):
            return high
        check(low)
        while low < high - 1:
            middle = (low + high) // 2
            if check(middle):
                low = middle
            else:
                high = middle
        return low

    # -- the flow
    def create(self, ctxt: Any, req: CreateRequest) -> CreateResult:
        """Check, write and cast one create request.

        :raises: the 400/403/409 errors of each check; ServiceUnavailable when the
            conductor cannot be reached (nothing is left behind then).
        """
        if req.min_count > req.max_count:
            raise common_exception.Invalid("min_count must be <= max_count")
        flavor = self._flavor(ctxt, req.flavor_ref)
        devices = server_bdm.parse(req.block_devices)
        root = devices.root
        boot_image = image_id(req.image_ref)
        if devices.boot_from_volume:
            boot_image = None
        elif root is not None:
            boot_image = str(root["image_id"])
        elif boot_image is None:
            raise exception.MissingImageRef()
        if devices.existing_volumes and req.max_count > 1:
            raise exception.InvalidBDM(
                details="Unable to launch multiple instances with a single volume.")
        image = self.get_image(ctxt, boot_image) if boot_image else {}
        volume_image = self.bdms.check(ctxt, devices, lambda ref: self.get_image(ctxt, ref))
        if devices.boot_from_volume:
            image = volume_image
            self.check_volume_fits(flavor, image, root)
        self.check_flavor_fits(ctxt, flavor, image, devices.boot_from_volume)
        auto_disk = req.auto_disk_config
        if auto_disk is None:
            auto_disk = _bool_property(image.get("auto_disk_config"))
        elif auto_disk and str(image.get("auto_disk_config")).lower() == "disabled":
            raise common_exception.Invalid(
                "Requested image %s has automatic disk resize disabled." % boot_image)
        key = self._key(ctxt, req.key_name)
        # The quota limits of the project and user, read once for every check below.
        limits = self.servers.quotas.limits(ctxt.project_id, ctxt.user_id)
        self._check_limits(ctxt, req, limits)
        zone, force_hosts, force_nodes = self._zone(ctxt, req.availability_zone)
        group = self._group(ctxt, req.scheduler_hints)
        networks = self._networks(ctxt, req)
        count = self._count(ctxt, flavor, req.min_count, req.max_count, limits)
        mappings = list(devices.mappings)
        if boot_image and root is None:
            mappings.insert(0, server_bdm.image_root(boot_image))
        spec = {"flavor": flavor_record(flavor), "image": image, "availability_zone": zone,
                "scheduler_hints": dict(req.scheduler_hints),
                "group": group["id"] if group else None, "requested_networks": networks,
                "security_groups": list(req.security_groups), "block_device_mapping": mappings,
                "num_instances": count, "project_id": ctxt.project_id,
                "user_id": ctxt.user_id, "force_hosts": force_hosts,
                "force_nodes": force_nodes, "ignore_hosts": [],
                "injected_files": list(req.personality)}
        result = CreateResult([], reservation_id(), req.admin_pass or generate_password())
        base = {"project_id": ctxt.project_id, "user_id": ctxt.user_id,
                "display_description": req.description, "vm_state": states.BUILDING,
                "task_state": states.SCHEDULING, "power_state": int(power_state.NOSTATE),
                "image_ref": boot_image or "", "flavor": flavor_record(flavor),
                "key_name": req.key_name, "key_data": key["public_key"] if key else None,
                "user_data": req.user_data, "config_drive": "True" if req.config_drive else "",
                "access_ip_v4": canonical_ip(req.access_ip_v4),
                "access_ip_v6": canonical_ip(req.access_ip_v6),
                "reservation_id": result.reservation_id, "availability_zone": zone,
                "auto_disk_config": auto_disk, "progress": 0, "locked": False,
                "security_groups": list(req.security_groups), "request_spec": spec,
                "system_metadata": image_system_metadata(image), "network_info": []}
        attachments = self._write(ctxt, req, base, count, mappings, group, result, limits)
        uuids = [i["uuid"] for i in result.instances]
        try:
            self.servers.conductor().build_instances(ctxt, uuids, spec)
        except rpc.UNAVAILABLE as err:
            LOG.error("Conductor unreachable; undoing the create of %(uuids)s: %(err)s",
                      {"uuids": uuids, "err": err})
            self._undo(ctxt, result.instances, attachments)
            raise common_exception.ServiceUnavailable(
                reason="the compute conductor did not take the request") from err
        return result

    def _write(self, ctxt: Any, req: CreateRequest, base: Mapping[str, Any], count: int,
               mappings: list[dict[str, Any]], group: Mapping[str, Any] | None,
               result: CreateResult, limits: Mapping[str, int]) -> list[str]:
        """Write the instances, their mappings, actions and group membership, then
        recheck the quotas; :returns: the volume attachments made."""
        attachments: list[str] = []
        try:
            for index in range(count):
                uuid = str(uuid_mod.uuid4())
                name = req.name if count == 1 else "%s-%d" % (req.name, index + 1)
                values = dict(base, uuid=uuid, display_name=name, launch_index=index,
                              hostname=sanitize_hostname(name, "server-" + uuid))
                result.instances.append(self.store.create(values, metadata=req.metadata))
                self.servers.record_action(ctxt, uuid, "create")
                attachments.extend(self.bdms.write(ctxt, uuid, mappings))
                if group is not None:
                    self.servers.groups.add_member(group["id"], uuid)
            flavor = base["flavor"]
            self.servers.quotas.check(
                ctxt.project_id, ctxt.user_id,
                {"instances": count, "cores": count * int(flavor["vcpus"]),
                 "ram": count * int(flavor["memory_mb"])}, recheck=True, limits=limits)
        except Exception:
            self._undo(ctxt, result.instances, attachments)
            raise
        return attachments

    def _undo(self, ctxt: Any, instances: list[dict[str, Any]], attachments: list[str]) -> None:
        for instance in instances:
            self.store.destroy(instance["uuid"])
        self.bdms.release(ctxt, attachments)
