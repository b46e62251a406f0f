"""The plain data virt drivers take and return."""
from __future__ import annotations

import json
from typing import Any

import pytest

from compute.virt import model
from compute.virt import power_state


def test_power_states_are_novas_numbers() -> None:
    assert [int(s) for s in power_state.PowerState] == [0, 1, 3, 4, 6, 7]
    assert power_state.NOSTATE.label == "pending"
    assert power_state.SUSPENDED.label == "suspended"
    assert json.dumps({"power_state": power_state.PAUSED}) == '{"power_state": 3}'


def test_instance_from_row_and_flavor() -> None:
    inst = model.Instance.from_dict({
        "uuid": "u-1", "name": "instance-00000001", "display_name": "web",
        "project_id": "p", "image_ref": "img", "extra": "ignored",
        "flavor": {"memory_mb": 128, "vcpus": 1, "root_gb": 1, "ephemeral_gb": 2}})
    assert (inst.memory_mb, inst.vcpus, inst.disk_gb) == (128, 1, 3)
    assert inst.display_name == "web" and inst.image_ref == "img"
    flat = model.Instance.from_dict({"uuid": "u-2", "memory_mb": 64, "vcpus": 2})
    assert flat.name == "instance-u-2" and flat.root_gb == 0


@pytest.mark.parametrize("size", [{"memory_mb": 0, "vcpus": 1}, {"memory_mb": 1, "vcpus": 0},
                                  {"memory_mb": 1, "vcpus": 1, "root_gb": -1}])
def test_instance_size_is_checked(size: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        model.Instance(uuid="u", name="n", **size)


def test_image_meta_from_glance_v2() -> None:
    meta = model.ImageMeta.from_dict({
        "id": "img", "name": "tiny", "disk_format": "ami", "container_format": "ami",
        "kernel_id": "k", "ramdisk_id": "r", "os_command_line": "console=ttyS0",
        "min_ram": 96, "min_disk": None, "hw_machine_type": "pc", "tags": ["a"]})
    assert meta.direct_kernel_boot
    assert (meta.kernel_id, meta.ramdisk_id, meta.os_command_line) == ("k", "r", "console=ttyS0")
    assert (meta.min_ram, meta.min_disk) == (96, 0)
    assert meta.properties == {"hw_machine_type": "pc"}


def test_image_meta_from_v1_properties_and_defaults() -> None:
    meta = model.ImageMeta.from_dict({"id": "img", "properties": {"kernel_id": "k",
                                                                  "os_distro": "busybox"}})
    assert meta.kernel_id == "k" and meta.disk_format == "qcow2"
    assert meta.properties == {"os_distro": "busybox"}
    assert not model.ImageMeta.from_dict({"kernel_id": ""}).direct_kernel_boot


def test_vif_tap_name_is_tap_plus_eleven() -> None:
    vif = model.VIF(port_id="0123456789abcdef-rest", mac="FA:16:3e:00:00:01", bridge="brq1")
    assert vif.tap_name == "tap0123456789a"
    assert len(vif.tap_name) == 14


def test_vif_from_port() -> None:
    vif = model.VIF.from_port({"id": "p" * 36, "mac_address": "fa:16:3e:00:00:02",
                               "network_id": "n", "fixed_ips": [{"ip_address": "10.0.0.3"},
                                                                {"ip_address": "fd00::3"}]},
                              bridge="brq-n", mtu=1450)
    assert vif.fixed_ips == ("10.0.0.3", "fd00::3")
    assert (vif.network_id, vif.mtu, vif.bridge) == ("n", 1450, "brq-n")


@pytest.mark.parametrize("kwargs", [{"mac": "fa:16:3e:00:00"}, {"bridge": ""},
                                    {"bridge": "b" * 16}, {"mtu": 67}, {"mtu": 65536}])
def test_vif_is_checked(kwargs: dict[str, object]) -> None:
    args: dict[str, object] = {"port_id": "p", "mac": "fa:16:3e:00:00:01", "bridge": "br"}
    args.update(kwargs)
    with pytest.raises(ValueError):
        model.VIF(**args)  # type: ignore[arg-type]


@pytest.mark.parametrize(("text", "number"), [("9.0.0", 9000000), ("7.2", 7002000),
                                              ("1.2.3.4", 1002003)])
def test_version_to_int(text: str, number: int) -> None:
    assert model.version_to_int(text) == number


@pytest.mark.parametrize(("mountpoint", "target"), [
    ("/dev/vdb", "vdb"), ("vdc", "vdc"), ("/dev/sda", "sda"), ("/dev/xvdaa", "xvdaa"),
    ("/dev/hdb", "hdb")])
def test_disk_target(mountpoint: str, target: str) -> None:
    assert model.disk_target(mountpoint) == target


@pytest.mark.parametrize("mountpoint", ["", "/dev/vd", "/mnt/vdb", "/dev/vdb1", "/dev/nvme0n1",
                                        "/dev/../vdb", "vdabc"])
def test_bad_disk_targets(mountpoint: str) -> None:
    with pytest.raises(ValueError):
        model.disk_target(mountpoint)
