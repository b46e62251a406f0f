"""The documents a guest reads about itself, built from an instance dict (as
:class:`compute.db.instances.InstanceStore` returns it): the OpenStack tree
(``openstack/<version>/meta_data.json``, ``user_data``, ``password``,
``vendor_data.json``, ``network_data.json``, ``vendor_data2.json``) and the EC2
tree (``<version>/meta-data/…``, ``<version>/user-data``), as Nova serves them.

The metadata API (:mod:`compute.metadata.app`) answers paths with
:meth:`InstanceMetadata.lookup`; the config drive
(:mod:`compute.metadata.configdrive`) writes :meth:`InstanceMetadata.files`.

Directory listings are Nova's: one entry a line, sub-directories with a
trailing ``/``, no final newline. JSON documents are ``application/json``,
everything else ``text/plain``.
"""
from __future__ import annotations

import base64
import binascii
import dataclasses
import json
import os
import posixpath
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from oslo_config import cfg
from oslo_log import log as logging

from compute.metadata import netdata

LOG = logging.getLogger(__name__)

EC2_VERSIONS = ("1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10",
                "2007-12-15", "2008-02-01", "2008-09-01", "2009-04-04")
OPENSTACK_VERSIONS = ("2012-08-10", "2013-04-04", "2013-10-17", "2015-10-15",
                      "2016-06-30", "2016-10-06", "2017-02-22", "2018-08-27")
LATEST = "latest"
# What each OpenStack version added.
GRIZZLY, HAVANA, LIBERTY = "2013-04-04", "2013-10-17", "2015-10-15"
NEWTON_ONE, NEWTON_TWO = "2016-06-30", "2016-10-06"
# EC2 versions written to a config drive (Nova's default skips the older ones).
CONFIG_DRIVE_EC2_VERSIONS = ("2009-04-04", LATEST)

OPENSTACK_DIR = "openstack"
CONTENT_DIR = "content"
MD_JSON = "meta_data.json"
UD_NAME = "user_data"
PASSWORD_NAME = "password"
VD_JSON = "vendor_data.json"
NW_JSON = "network_data.json"
VD2_JSON = "vendor_data2.json"

JSON_TYPE = "application/json"
TEXT_TYPE = "text/plain"

# The guest's encrypted password: at most 256 bytes, kept in system_metadata in
# chunks of 255 characters (password_0 … password_3), as Nova keeps it.
MAX_PASSWORD_SIZE = 256
PASSWORD_CHUNKS = 4
PASSWORD_CHUNK_SIZE = 255

_HOSTNAME_BAD = re.compile(r"[^a-z0-9-]+")


class InvalidPath(Exception):
    """No document at this path (the API answers 404)."""


@dataclasses.dataclass(frozen=True)
class Document:
    body: bytes
    content_type: str


@dataclasses.dataclass(frozen=True)
class Settings:
    """Deployment choices the documents depend on."""

    dhcp_domain: str = "novalocal"
    default_availability_zone: str = "nova"
    vendordata: Mapping[str, Any] = dataclasses.field(default_factory=dict)


def load_vendordata(path: str | None) -> dict[str, Any]:
    """The static vendor data file's object; ``{}`` (with a warning) when it is
    missing, unreadable or not a JSON object."""
    if not path:
        return {}
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError) as err:
        LOG.warning("Vendor data file %(path)s could not be read: %(err)s",
                    {"path": path, "err": err})
        return {}
    if not isinstance(data, dict):
        LOG.warning("Vendor data file %s does not hold a JSON object; ignored", path)
        return {}
    return data


def settings_from_conf(conf: cfg.ConfigOpts) -> Settings:
    """Settings from ``[metadata]`` and ``[DEFAULT] default_availability_zone``
    (the vendor data file is read now)."""
    try:
        zone = str(conf.default_availability_zone or "nova")
    except cfg.NoSuchOptError:
        zone = "nova"
    return Settings(dhcp_domain=conf.metadata.dhcp_domain or "",
                    default_availability_zone=zone,
                    vendordata=load_vendordata(conf.metadata.vendordata_jsonfile_path))


def instance_metadata(conf: cfg.ConfigOpts, instance: Mapping[str, Any],
                      block_devices: Sequence[Mapping[str, Any]] = (),
                      network_info: Sequence[Mapping[str, Any]] | None = None,
                      content: Sequence[tuple[str, bytes]] = ()) -> InstanceMetadata:
    """The documents of ``instance`` as the metadata API serves them and the
    compute node writes them to a config drive (one way to gather them for both).

    :param instance: the instance record (as the instance store or the conductor
        returns it: key, user data, metadata, hostname, zone, network_info).
    :param block_devices: its block device mappings (the tagged ones become
        meta_data.json ``devices``; untagged ones are ignored).
    :param network_info: the ports when newer than the record's ``network_info``
        (a build spawning before the stored copy is read back).
    """
    if network_info is not None:
        instance = dict(instance, network_info=list(network_info))
    return InstanceMetadata(instance, settings_from_conf(conf), content=content,
                            block_devices=block_devices)


def password_from_system_metadata(system_metadata: Mapping[str, Any] | None) -> str:
    """The stored encrypted password ("" when none)."""
    sysmeta = system_metadata or {}
    return "".join(str(sysmeta.get("password_%d" % i) or "") for i in range(PASSWORD_CHUNKS))


def password_to_system_metadata(password: str) -> dict[str, str]:
    """The system_metadata keys that store ``password`` ("" clears it)."""
    return {"password_%d" % i: password[i * PASSWORD_CHUNK_SIZE:(i + 1) * PASSWORD_CHUNK_SIZE]
            for i in range(PASSWORD_CHUNKS)}


def decode_user_data(value: str | bytes | None) -> bytes | None:
    """The instance's user data (stored base64-encoded) as raw bytes."""
    if value is None:
        return None
    raw = value.encode("utf-8") if isinstance(value, str) else value
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        LOG.debug("user_data is not base64; served as stored")
        return raw


def ec2_instance_id(instance: Mapping[str, Any]) -> str:
    return "i-%08x" % int(instance.get("id") or 0)


def ec2_image_id(image_ref: str | None) -> str:
    """An ``ami-%08x`` id derived from the image's uuid (no EC2 id mapping is kept)."""
    digits = re.sub(r"[^0-9a-f]", "", (image_ref or "").lower())[:8]
    return "ami-%08x" % int(digits or "0", 16)


def hostname_of(instance: Mapping[str, Any]) -> str:
    """The instance's short hostname (its ``hostname``, else one made from its name)."""
    name = instance.get("hostname")
    if not name:
        name = _HOSTNAME_BAD.sub("-", str(instance.get("display_name") or "").lower())
        name = name.strip("-")[:63] or "server-%s" % instance.get("uuid", "")
    return str(name)


def listing(data: Any) -> str:
    """A directory or leaf as Nova prints it (sorted keys, sub-directories with
    a ``/``, the ``_name`` of an entry instead of its key where it has one)."""
    if isinstance(data, dict):
        lines = []
        for key in sorted(data):
            if key == "_name":
                continue
            value = data[key]
            if isinstance(value, dict):
                lines.append(str(value["_name"]) if "_name" in value else key + "/")
            else:
                lines.append(key)
        return "\n".join(lines)
    if isinstance(data, (list, tuple)):
        return "\n".join(str(item) for item in data)
    return str(data)


def root_listing() -> Document:
    """``GET /``: the EC2 versions and ``latest``."""
    return Document(listing(list(EC2_VERSIONS) + [LATEST]).encode(), TEXT_TYPE)


def _json(data: Any) -> bytes:
    return json.dumps(data).encode("utf-8")


# The ``bus`` Nova's device metadata names for a disk bus (a virtio disk is a PCI
# device), and the bus a device name's prefix implies when the mapping names none.
_DISK_BUSES = {"virtio": "pci", "scsi": "scsi", "ide": "ide", "usb": "usb", "xen": "xen",
               "sata": "scsi"}
_NAME_BUSES = (("xvd", "xen"), ("vd", "virtio"), ("sd", "scsi"), ("hd", "ide"))


def _disk_bus(mapping: Mapping[str, Any], name: str) -> str | None:
    bus = mapping.get("disk_bus")
    if not bus:
        bus = next((b for prefix, b in _NAME_BUSES if name.startswith(prefix)), None)
    return _DISK_BUSES.get(str(bus)) if bus else None


def device_metadata(network_info: Sequence[Mapping[str, Any]],
                    block_devices: Sequence[Mapping[str, Any]],
                    root_device_name: str | None = None) -> list[dict[str, Any]]:
    """meta_data.json ``devices`` (Nova's device role tagging, 2.32/2.42): one
    entry per tagged NIC (``type`` nic, ``mac``, ``tags``) then per tagged block
    device (``type`` disk, ``serial``: the volume id, ``path``: its device in the
    guest, ``bus`` when known, ``tags``), in request order. Untagged devices are
    not listed; no bus address is known here, so none is given."""
    devices: list[dict[str, Any]] = []
    for vif in network_info:
        if vif.get("tag"):
            devices.append({"type": "nic", "mac": vif.get("address"), "tags": [vif["tag"]]})
    for mapping in block_devices:
        if not mapping.get("tag"):
            continue
        name = str(mapping.get("device_name") or "")
        if not name and mapping.get("boot_index") == 0:
            name = str(root_device_name or "")
        name = name.removeprefix("/dev/")
        device: dict[str, Any] = {"type": "disk", "serial": mapping.get("volume_id"),
                                  "path": "/dev/" + name if name else None}
        bus = _disk_bus(mapping, name)
        if bus:
            device["bus"] = bus
        device["tags"] = [mapping["tag"]]
        devices.append(device)
    return devices


class InstanceMetadata:
    """Every metadata document of one instance (built once; cheap to keep)."""

    def __init__(self, instance: Mapping[str, Any], settings: Settings | None = None,
                 content: Sequence[tuple[str, bytes]] = (),
                 block_devices: Sequence[Mapping[str, Any]] = ()) -> None:
        """:param content: injected files ``(guest path, data)``, listed in
            meta_data.json ``files`` and served under ``openstack/content/``.
        :param block_devices: the instance's block device mappings (their
            ``tag``, ``volume_id``, ``device_name``, ``disk_bus``, ``boot_index``):
            the tagged ones are listed in meta_data.json ``devices``."""
        self.instance = dict(instance)
        self.settings = settings or Settings()
        self.uuid = str(self.instance["uuid"])
        self.project_id = str(self.instance.get("project_id") or "")
        self.user_data = decode_user_data(self.instance.get("user_data"))
        self.password = password_from_system_metadata(self.instance.get("system_metadata"))
        self.random_seed = base64.b64encode(os.urandom(512)).decode("ascii")
        self.content = {"%04d" % i: (path, data) for i, (path, data) in enumerate(content)}
        self.network_info = list(self.instance.get("network_info") or [])
        self.devices = device_metadata(self.network_info, block_devices,
                                       self.instance.get("root_device_name"))

    # -- shared facts
    @property
    def hostname(self) -> str:
        short = hostname_of(self.instance)
        domain = self.settings.dhcp_domain
        return "%s.%s" % (short, domain) if domain else short

    @property
    def availability_zone(self) -> str:
        return str(self.instance.get("availability_zone")
                   or self.settings.default_availability_zone)

    def _key(self) -> tuple[str, str, str] | None:
        name = self.instance.get("key_name")
        if not name:
            return None
        sysmeta = self.instance.get("system_metadata") or {}
        kind = str(self.instance.get("key_type") or sysmeta.get("key_type") or "ssh")
        return str(name), str(self.instance.get("key_data") or ""), kind

    # -- the OpenStack tree
    def meta_data(self, version: str = LATEST) -> dict[str, Any]:
        version = _os_version(version)
        inst = self.instance
        data: dict[str, Any] = {
            "uuid": self.uuid,
            "meta": {str(k): str(v) for k, v in (inst.get("metadata") or {}).items()},
            "hostname": self.hostname,
            "name": inst.get("display_name") or "",
            "launch_index": int(inst.get("launch_index") or 0),
            "availability_zone": self.availability_zone,
        }
        key = self._key()
        if key is not None:
            data["public_keys"] = {key[0]: key[1]}
            if version >= NEWTON_ONE:
                data["keys"] = [{"name": key[0], "type": key[2], "data": key[1]}]
        if self.content:
            data["files"] = [{"path": path, "content_path": "/%s/%s" % (CONTENT_DIR, cid)}
                             for cid, (path, _data) in sorted(self.content.items())]
        if version >= GRIZZLY:
            data["random_seed"] = self.random_seed
        if version >= LIBERTY:
            data["project_id"] = self.project_id
        if version >= NEWTON_ONE:
            data["devices"] = [dict(device) for device in self.devices]
        return data

    def network_data(self) -> dict[str, Any]:
        return netdata.network_data(self.network_info)

    def vendor_data(self) -> dict[str, Any]:
        return dict(self.settings.vendordata)

    def vendor_data2(self) -> dict[str, Any]:
        return {}  # no dynamic vendor data services

    def openstack_names(self, version: str) -> list[str]:
        """What ``openstack/<version>/`` holds, in Nova's order."""
        version = _os_version(version)
        names = [MD_JSON]
        if self.user_data is not None:
            names.append(UD_NAME)
        for since, name in ((GRIZZLY, PASSWORD_NAME), (HAVANA, VD_JSON), (LIBERTY, NW_JSON),
                            (NEWTON_TWO, VD2_JSON)):
            if version >= since:
                names.append(name)
        return names

    def openstack_item(self, version: str, name: str) -> Document:
        """:raises: InvalidPath."""
        if name not in self.openstack_names(version):
            raise InvalidPath(name)
        if name == UD_NAME:
            assert self.user_data is not None
            return Document(self.user_data, TEXT_TYPE)
        if name == PASSWORD_NAME:
            return Document(self.password.encode("utf-8"), TEXT_TYPE)
        builders = {MD_JSON: lambda: self.meta_data(version), NW_JSON: self.network_data,
                    VD_JSON: self.vendor_data, VD2_JSON: self.vendor_data2}
        return Document(_json(builders[name]()), JSON_TYPE)

    # -- the EC2 tree
    def ec2_metadata(self, version: str = LATEST) -> dict[str, Any]:
        """``{"meta-data": {...}, "user-data": bytes}`` (no user-data key without any)."""
        index = _ec2_index(version)
        inst = self.instance
        fixed = netdata.fixed_ips(self.network_info, 4)
        floating = netdata.floating_ips(self.network_info)
        md: dict[str, Any] = {
            "ami-id": ec2_image_id(inst.get("image_ref")),
            "ami-launch-index": int(inst.get("launch_index") or 0),
            "ami-manifest-path": "FIXME",
            "instance-id": ec2_instance_id(inst),
            "hostname": self.hostname,
            "reservation-id": inst.get("reservation_id") or "",
            "security-groups": _group_names(inst.get("security_groups")),
        }
        if fixed:
            md["local-ipv4"] = fixed[0]
        if index >= _ec2_index("2007-01-19"):
            md["local-hostname"] = self.hostname
            md["public-hostname"] = self.hostname
            if floating:
                md["public-ipv4"] = floating[0]
        if index >= _ec2_index("2007-08-29"):
            md["instance-type"] = (inst.get("flavor") or {}).get("name") or ""
        if index >= _ec2_index("2007-12-15"):
            root = inst.get("root_device_name") or "/dev/vda"
            md["block-device-mapping"] = {"ami": root.removeprefix("/dev/"), "root": root}
        if index >= _ec2_index("2008-02-01"):
            md["placement"] = {"availability-zone": self.availability_zone}
        if index >= _ec2_index("2008-09-01"):
            md["instance-action"] = "none"
        key = self._key()
        if key is not None:
            md["public-keys"] = {"0": {"_name": "0=" + key[0], "openssh-key": key[1]}}
        tree: dict[str, Any] = {"meta-data": md}
        if self.user_data is not None:
            tree["user-data"] = self.user_data
        return tree

    # -- paths
    def lookup(self, path: str) -> Document:
        """The document or listing at ``path`` (``/openstack/latest/meta_data.json``,
        ``/latest/meta-data/``, …). :raises: InvalidPath."""
        tokens = split_path(path)
        if not tokens:
            return root_listing()
        if tokens[0] == OPENSTACK_DIR:
            return self._openstack_lookup(tokens[1:])
        _ec2_index(tokens[0])
        data: Any = self.ec2_metadata(tokens[0])
        for token in tokens[1:]:
            if not isinstance(data, dict) or token not in data or token == "_name":
                raise InvalidPath(path)
            data = data[token]
        if isinstance(data, bytes):
            return Document(data, TEXT_TYPE)
        return Document(listing(data).encode("utf-8"), TEXT_TYPE)

    def _openstack_lookup(self, tokens: list[str]) -> Document:
        if not tokens:
            return Document(listing(list(OPENSTACK_VERSIONS) + [LATEST]).encode(), TEXT_TYPE)
        if tokens[0] == CONTENT_DIR and len(tokens) == 2 and tokens[1] in self.content:
            return Document(self.content[tokens[1]][1], TEXT_TYPE)
        if len(tokens) == 1:
            return Document(listing(self.openstack_names(tokens[0])).encode(), TEXT_TYPE)
        if len(tokens) == 2:
            return self.openstack_item(tokens[0], tokens[1])
        raise InvalidPath("/".join(tokens))

    # -- the config drive
    def files(self) -> Iterator[tuple[str, bytes]]:
        """``(path, data)`` of every file of the config drive, as Nova writes it."""
        for version in CONFIG_DRIVE_EC2_VERSIONS:
            tree = self.ec2_metadata(version)
            if "user-data" in tree:
                yield "ec2/%s/user-data" % version, tree["user-data"]
            md = tree["meta-data"]
            if "public-keys" in md:
                md["public-keys"]["0"].pop("_name", None)
            yield "ec2/%s/meta-data.json" % version, _json(md)
        for version in list(OPENSTACK_VERSIONS) + [LATEST]:
            for name in self.openstack_names(version):
                if name == PASSWORD_NAME:
                    continue  # set by the guest through the metadata API only
                yield ("%s/%s/%s" % (OPENSTACK_DIR, version, name),
                       self.openstack_item(version, name).body)
        for cid, (_path, data) in sorted(self.content.items()):
            yield "%s/%s/%s" % (OPENSTACK_DIR, CONTENT_DIR, cid), data


def split_path(path: str) -> list[str]:
    """``/openstack//latest/`` -> ``["openstack", "latest"]`` (``..`` resolved)."""
    normalized = posixpath.normpath("/" + (path or ""))
    return [token for token in normalized.split("/") if token]


def _os_version(version: str) -> str:
    if version == LATEST:
        return OPENSTACK_VERSIONS[-1]
    if version not in OPENSTACK_VERSIONS:
        raise InvalidPath(version)
    return version


def _ec2_index(version: str) -> int:
    if version == LATEST:
        return len(EC2_VERSIONS) - 1
    if version not in EC2_VERSIONS:
        raise InvalidPath(version)
    return EC2_VERSIONS.index(version)


def _group_names(groups: Any) -> list[str]:
    names = []
    for group in groups or []:
        name = group.get("name") if isinstance(group, dict) else group
        if name:
            names.append(str(name))
    return names
