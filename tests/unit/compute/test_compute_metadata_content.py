"""Metadata documents built from instance dicts: the OpenStack and EC2 trees,
network_data.json from a network_info cache, paths and listings."""
from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from compute.metadata import content
from compute.metadata import netdata

UUID = "8b1b4b9e-3c5a-4a63-9f0e-2c1f7d0e6a11"
IMAGE = "5f2a9c10-1111-2222-3333-444455556666"
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGf0 me@host"
PORT1 = "1d6c5e0a-6f7b-4a1c-8d2e-000000000001"
PORT2 = "2e7d6f1b-7a8c-4b2d-9e3f-000000000002"
NET1 = "aaaaaaaa-0000-0000-0000-000000000001"
NET2 = "bbbbbbbb-0000-0000-0000-000000000002"


def _ip(address: str | None, kind: str, version: int, **extra: Any) -> dict[str, Any]:
    return {"address": address, "type": kind, "version": version, "meta": {}, **extra}


def network_info() -> list[dict[str, Any]]:
    """Two ports as compute/network_info.py builds them: a DHCP IPv4 subnet with a
    floating IP plus an IPv6 (SLAAC) subnet; a static IPv4 subnet with a route."""
    v4 = {"cidr": "10.0.0.0/24", "version": 4, "gateway": _ip("10.0.0.1", "gateway", 4),
          "dns": [_ip("10.0.0.2", "dns", 4)], "routes": [],
          "ips": [_ip("10.0.0.5", "fixed", 4,
                      floating_ips=[_ip("172.24.4.10", "floating", 4)])],
          "meta": {"dhcp_server": "10.0.0.2"}}
    v6 = {"cidr": "2001:db8::/64", "version": 6, "gateway": _ip("2001:db8::1", "gateway", 6),
          "dns": [], "routes": [], "ips": [_ip("2001:db8::5", "fixed", 6, floating_ips=[])],
          "meta": {"ipv6_address_mode": "slaac"}}
    static = {"cidr": "192.168.7.0/24", "version": 4, "gateway": _ip(None, "gateway", None),
              "dns": [_ip("10.0.0.2", "dns", 4), _ip("9.9.9.9", "dns", 4)],
              "routes": [{"cidr": "10.99.0.0/16", "gateway": _ip("192.168.7.254", "gateway", 4),
                          "interface": None, "meta": {}}],
              "ips": [_ip("192.168.7.20", "fixed", 4, floating_ips=[])], "meta": {}}
    return [
        {"id": PORT1, "address": "fa:16:3e:00:00:01", "type": "bridge",
         "devname": "tap" + PORT1[:11], "active": True, "preserve_on_delete": False,
         "network": {"id": NET1, "label": "private", "bridge": "brq" + NET1[:11], "mtu": 1450,
                     "meta": {"mtu": 1450}, "subnets": [v4, v6]}},
        {"id": PORT2, "address": "fa:16:3e:00:00:02", "type": "bridge",
         "devname": "tap" + PORT2[:11], "active": True, "preserve_on_delete": True,
         "network": {"id": NET2, "label": "lan", "bridge": "brq" + NET2[:11], "mtu": None,
                     "meta": {}, "subnets": [static]}},
    ]


def instance(**values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": 42, "uuid": UUID, "project_id": "p1", "user_id": "u1", "display_name": "Web 1",
        "hostname": "web-1", "availability_zone": None, "launch_index": 0,
        "image_ref": IMAGE, "flavor": {"name": "m1.tiny", "memory_mb": 128},
        "key_name": "mykey", "key_data": KEY,
        "user_data": base64.b64encode(b"#!/bin/sh\necho hi\n").decode(),
        "reservation_id": "r-abcdef12", "root_device_name": "/dev/vda",
        "security_groups": ["default", "web"], "metadata": {"role": "web"},
        "system_metadata": {}, "network_info": network_info()}
    base.update(values)
    return base


def _text(md: content.InstanceMetadata, path: str) -> str:
    doc = md.lookup(path)
    assert doc.content_type == content.TEXT_TYPE
    return doc.body.decode()


def _json(md: content.InstanceMetadata, path: str) -> Any:
    doc = md.lookup(path)
    assert doc.content_type == content.JSON_TYPE
    return json.loads(doc.body)


def test_meta_data_json_latest() -> None:
    md = content.InstanceMetadata(instance())
    data = _json(md, "/openstack/latest/meta_data.json")
    assert data["uuid"] == UUID and data["name"] == "Web 1"
    assert data["hostname"] == "web-1.novalocal"
    assert data["launch_index"] == 0 and data["availability_zone"] == "nova"
    assert data["project_id"] == "p1" and data["meta"] == {"role": "web"}
    assert data["public_keys"] == {"mykey": KEY}
    assert data["keys"] == [{"name": "mykey", "type": "ssh", "data": KEY}]
    assert data["devices"] == []
    assert len(base64.b64decode(data["random_seed"])) == 512
    assert "admin_pass" not in data and "files" not in data
    # The same document (and seed) while the object is kept.
    assert _json(md, "/openstack/2018-08-27/meta_data.json") == data


def test_meta_data_by_version() -> None:
    md = content.InstanceMetadata(instance(key_name=None, key_data=None, metadata={}),
                                  content.Settings(dhcp_domain="", vendordata={}))
    folsom = _json(md, "/openstack/2012-08-10/meta_data.json")
    assert "random_seed" not in folsom and "project_id" not in folsom
    assert "public_keys" not in folsom and "keys" not in folsom and "devices" not in folsom
    assert folsom["meta"] == {} and folsom["hostname"] == "web-1"
    liberty = _json(md, "/openstack/2015-10-15/meta_data.json")
    assert "random_seed" in liberty and liberty["project_id"] == "p1"
    assert "devices" not in liberty


def test_openstack_listings() -> None:
    md = content.InstanceMetadata(instance())
    assert _text(md, "/openstack") == "\n".join(list(content.OPENSTACK_VERSIONS) + ["latest"])
    assert _text(md, "/openstack/") == _text(md, "/openstack")
    assert _text(md, "/openstack/latest").split("\n") == [
        "meta_data.json", "user_data", "password", "vendor_data.json", "network_data.json",
        "vendor_data2.json"]
    assert _text(md, "/openstack/2012-08-10/") == "meta_data.json\nuser_data"
    no_ud = content.InstanceMetadata(instance(user_data=None))
    assert "user_data" not in _text(no_ud, "/openstack/latest").split("\n")


def test_user_data_raw_and_absent() -> None:
    md = content.InstanceMetadata(instance())
    doc = md.lookup("/openstack/latest/user_data")
    assert doc.body == b"#!/bin/sh\necho hi\n" and doc.content_type == "text/plain"
    assert md.lookup("/latest/user-data").body == b"#!/bin/sh\necho hi\n"
    none = content.InstanceMetadata(instance(user_data=None))
    for path in ("/openstack/latest/user_data", "/latest/user-data"):
        with pytest.raises(content.InvalidPath):
            none.lookup(path)
    assert "user-data" not in _text(none, "/latest").split("\n")
    binary = base64.b64encode(bytes(range(256))).decode()
    assert content.InstanceMetadata(instance(user_data=binary)).user_data == bytes(range(256))


def test_vendor_data_and_password_documents() -> None:
    settings = content.Settings(vendordata={"cloud": {"name": "stratus"}})
    md = content.InstanceMetadata(instance(), settings)
    assert _json(md, "/openstack/latest/vendor_data.json") == {"cloud": {"name": "stratus"}}
    assert _json(md, "/openstack/latest/vendor_data2.json") == {}
    assert _json(content.InstanceMetadata(instance()),
                 "/openstack/latest/vendor_data.json") == {}
    assert md.lookup("/openstack/latest/password").body == b""
    stored = content.password_to_system_metadata("x" * 256)
    assert set(stored) == {"password_0", "password_1", "password_2", "password_3"}
    assert content.password_from_system_metadata(stored) == "x" * 256
    with_pw = content.InstanceMetadata(instance(system_metadata=stored))
    assert with_pw.lookup("/openstack/latest/password").body == b"x" * 256
    with pytest.raises(content.InvalidPath):  # not before 2013-04-04
        md.lookup("/openstack/2012-08-10/password")


def test_vendordata_file(tmp_path: Any) -> None:
    good = tmp_path / "vd.json"
    good.write_text('{"a": 1}')
    assert content.load_vendordata(str(good)) == {"a": 1}
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2")
    assert content.load_vendordata(str(bad)) == {}
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    assert content.load_vendordata(str(listed)) == {}
    assert content.load_vendordata(str(tmp_path / "missing.json")) == {}
    assert content.load_vendordata(None) == {}


def test_network_data_json() -> None:
    md = content.InstanceMetadata(instance())
    data = _json(md, "/openstack/latest/network_data.json")
    assert data["links"] == [
        {"id": "tap" + PORT1[:11], "vif_id": PORT1, "type": "bridge", "mtu": 1450,
         "ethernet_mac_address": "fa:16:3e:00:00:01"},
        {"id": "tap" + PORT2[:11], "vif_id": PORT2, "type": "bridge", "mtu": None,
         "ethernet_mac_address": "fa:16:3e:00:00:02"}]
    dhcp, v6, static = data["networks"]
    assert dhcp == {"id": "network0", "type": "ipv4_dhcp", "link": "tap" + PORT1[:11],
                    "network_id": NET1}
    assert v6["id"] == "network1" and v6["type"] == "ipv6_slaac"
    assert v6["ip_address"] == "2001:db8::5" and v6["netmask"] == "ffff:ffff:ffff:ffff::"
    assert v6["routes"] == [{"network": "::", "netmask": "::", "gateway": "2001:db8::1"}]
    assert static == {
        "id": "network2", "type": "ipv4", "link": "tap" + PORT2[:11], "network_id": NET2,
        "ip_address": "192.168.7.20", "netmask": "255.255.255.0",
        "routes": [{"network": "10.99.0.0", "netmask": "255.255.0.0",
                    "gateway": "192.168.7.254"}],
        "services": [{"type": "dns", "address": "10.0.0.2"},
                     {"type": "dns", "address": "9.9.9.9"}]}
    assert data["services"] == [{"type": "dns", "address": "10.0.0.2"},
                                {"type": "dns", "address": "9.9.9.9"}]


def test_network_data_without_ports_and_ip_helpers() -> None:
    assert netdata.network_data([]) == {"links": [], "networks": [], "services": []}
    assert netdata.network_data(None) == {"links": [], "networks": [], "services": []}
    nw = network_info()
    assert netdata.fixed_ips(nw) == ["10.0.0.5", "2001:db8::5", "192.168.7.20"]
    assert netdata.fixed_ips(nw, 4) == ["10.0.0.5", "192.168.7.20"]
    assert netdata.fixed_ips(nw, 6) == ["2001:db8::5"]
    assert netdata.floating_ips(nw) == ["172.24.4.10"]


def test_ec2_meta_data_listing_and_leaves() -> None:
    md = content.InstanceMetadata(instance())
    assert _text(md, "/") == "\n".join(list(content.EC2_VERSIONS) + ["latest"])
    assert _text(md, "/latest") == "meta-data/\nuser-data"
    listing = _text(md, "/latest/meta-data/").split("\n")
    assert listing == sorted(listing)
    for entry in ("ami-id", "ami-launch-index", "hostname", "instance-id", "instance-type",
                  "local-hostname", "local-ipv4", "public-ipv4", "public-keys/", "placement/",
                  "reservation-id", "security-groups", "block-device-mapping/"):
        assert entry in listing, entry
    assert _text(md, "/latest/meta-data/instance-id") == "i-0000002a"
    assert _text(md, "/latest/meta-data/ami-id") == "ami-5f2a9c10"
    assert _text(md, "/latest/meta-data/ami-launch-index") == "0"
    assert _text(md, "/latest/meta-data/instance-type") == "m1.tiny"
    assert _text(md, "/latest/meta-data/hostname") == "web-1.novalocal"
    assert _text(md, "/latest/meta-data/local-hostname") == "web-1.novalocal"
    assert _text(md, "/latest/meta-data/local-ipv4") == "10.0.0.5"
    assert _text(md, "/latest/meta-data/public-ipv4") == "172.24.4.10"
    assert _text(md, "/latest/meta-data/reservation-id") == "r-abcdef12"
    assert _text(md, "/latest/meta-data/security-groups") == "default\nweb"
    assert _text(md, "/latest/meta-data/placement/") == "availability-zone"
    assert _text(md, "/latest/meta-data/placement/availability-zone") == "nova"
    assert _text(md, "/latest/meta-data/block-device-mapping/") == "ami\nroot"
    assert _text(md, "/latest/meta-data/block-device-mapping/ami") == "vda"
    assert _text(md, "/latest/meta-data/public-keys/") == "0=mykey"
    assert _text(md, "/latest/meta-data/public-keys/0/") == "openssh-key"
    assert _text(md, "/latest/meta-data/public-keys/0/openssh-key") == KEY
    assert _text(md, "/2009-04-04/meta-data/instance-id") == "i-0000002a"


def test_ec2_by_version_and_missing_values() -> None:
    md = content.InstanceMetadata(instance(network_info=[], key_name=None,
                                           availability_zone="az1"))
    listing = _text(md, "/latest/meta-data").split("\n")
    assert "local-ipv4" not in listing and "public-ipv4" not in listing
    assert "public-keys/" not in listing
    assert _text(md, "/latest/meta-data/placement/availability-zone") == "az1"
    old = _text(md, "/1.0/meta-data").split("\n")
    assert "instance-type" not in old and "placement/" not in old
    assert "local-hostname" not in old
    for path in ("/latest/meta-data/public-ipv4", "/latest/meta-data/public-keys/0",
                 "/2010-01-01/meta-data/", "/latest/meta-data/hostname/x",
                 "/latest/meta-data/public-keys/0/_name"):
        with pytest.raises(content.InvalidPath):
            md.lookup(path)


def test_unknown_paths() -> None:
    md = content.InstanceMetadata(instance())
    for path in ("/openstack/2011-01-01/meta_data.json", "/openstack/latest/nothing",
                 "/openstack/latest/meta_data.json/x", "/foo", "/openstack/content/0000"):
        with pytest.raises(content.InvalidPath):
            md.lookup(path)


def test_hostname_fallback_and_ids() -> None:
    md = content.InstanceMetadata(instance(hostname=None, display_name="My Server_01!"))
    assert md.hostname == "my-server-01.novalocal"
    assert content.ec2_image_id(None) == "ami-00000000"
    assert content.ec2_instance_id({"id": 255}) == "i-000000ff"


def test_injected_files_and_config_drive_files() -> None:
    md = content.InstanceMetadata(instance(), content=[("/etc/motd", b"hello\n")])
    data = _json(md, "/openstack/latest/meta_data.json")
    assert data["files"] == [{"path": "/etc/motd", "content_path": "/content/0000"}]
    assert md.lookup("/openstack/content/0000").body == b"hello\n"
    files = dict(md.files())
    for version in list(content.OPENSTACK_VERSIONS) + ["latest"]:
        assert "openstack/%s/meta_data.json" % version in files
        assert "openstack/%s/user_data" % version in files
        assert "openstack/%s/password" % version not in files
    assert "openstack/2012-08-10/vendor_data.json" not in files
    assert "openstack/2013-10-17/vendor_data.json" in files
    assert "openstack/2015-10-15/network_data.json" in files
    assert "openstack/latest/vendor_data2.json" in files
    assert files["openstack/content/0000"] == b"hello\n"
    assert files["ec2/latest/user-data"] == b"#!/bin/sh\necho hi\n"
    ec2 = json.loads(files["ec2/latest/meta-data.json"])
    assert ec2["public-keys"] == {"0": {"openssh-key": KEY}}
    assert ec2["instance-id"] == "i-0000002a" and ec2["local-ipv4"] == "10.0.0.5"
    assert "ec2/2009-04-04/meta-data.json" in files and "ec2/1.0/meta-data.json" not in files
    assert json.loads(files["openstack/latest/meta_data.json"]) == data
    assert json.loads(files["openstack/latest/network_data.json"]) == md.network_data()
