"""The libvirt driver against libvirt's test driver (a private ``test:///<file>``
host per test: define, start, pause, managed save and destroy work there, in
memory) with real ``qemu-img`` for the disks and a fake ``fetch_image``.

What the test driver cannot do (hot-plug, VNC ports, a console log) is covered
in test_compute_libvirt_devices.py with a stub domain.
"""
from __future__ import annotations

import os
import stat
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree as ET

import pytest

libvirt = pytest.importorskip("libvirt")

from oslo_config import cfg  # noqa: E402

from compute.virt import exception  # noqa: E402
from compute.virt import model  # noqa: E402
from compute.virt import power_state  # noqa: E402
from compute.virt.libvirt import driver as libvirt_driver  # noqa: E402
from compute.virt.libvirt import host as libvirt_host  # noqa: E402
from compute.virt.libvirt import imagecache  # noqa: E402
from compute.virt.power_state import PowerState  # noqa: E402
from tests.fixtures import libvirt as fx_libvirt  # noqa: E402
from tests.fixtures.libvirt import Clock  # noqa: E402

MiB = 1024 * 1024
IMAGE = model.ImageMeta(id="img-raw", disk_format="raw")
KERNEL_IMAGE = model.ImageMeta(id="img-ami", disk_format="ami", kernel_id="img-kernel",
                               ramdisk_id="img-ramdisk", os_command_line="quiet")


class Images:
    """A fake image service: ids -> bytes (or a qcow2 of a size), counting fetches."""

    def __init__(self) -> None:
        self.fetched: list[str] = []
        self.fail: Exception | None = None

    def __call__(self, context: Any, image_id: str, dest: str) -> None:
        self.fetched.append(image_id)
        if self.fail is not None:
            raise self.fail
        if image_id.startswith("qcow2-"):
            size = image_id.split("-")[1]
            subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", dest, size], check=True)
            return
        with open(dest, "wb") as out:
            if image_id == "img-empty":
                return
            out.write(b"STRATUS %s\n" % image_id.encode())
            if image_id.startswith("img-"):
                out.truncate(MiB)




@pytest.fixture
def conf(tmp_path: Any) -> cfg.ConfigOpts:
    (tmp_path / "node.xml").write_text("<node/>")
    conf = fx_libvirt.make_conf(tmp_path, "test://%s/node.xml" % tmp_path)
    conf.set_override("virt_type", "qemu", group="libvirt")
    return conf


@pytest.fixture
def images() -> Images:
    return Images()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def drv(conf: cfg.ConfigOpts, images: Images,
        clock: Clock) -> Iterator[libvirt_driver.LibvirtDriver]:
    node = libvirt_driver.LibvirtDriver(conf, "node-1", fetch_image=images, clock=clock,
                                        sleep=clock.sleep)
    node.init_host("node-1")
    yield node
    node.cleanup_host("node-1")


def _instance(memory_mb: int = 128, vcpus: int = 1, root_gb: int = 1,
              ephemeral_gb: int = 0) -> model.Instance:
    uid = str(uuid.uuid4())
    return model.Instance(uuid=uid, name="instance-" + uid[:8], memory_mb=memory_mb,
                          vcpus=vcpus, root_gb=root_gb, ephemeral_gb=ephemeral_gb,
                          display_name="vm-" + uid[:4], project_id="proj")


def _vif() -> model.VIF:
    port = str(uuid.uuid4())
    return model.VIF(port_id=port, mac="fa:16:3e:12:34:56", bridge="brq" + port[:11],
                     mtu=1450, network_id="net-1")


def _spawned(drv: libvirt_driver.LibvirtDriver, state: PowerState = power_state.RUNNING,
             image: model.ImageMeta = IMAGE, **size: int) -> model.Instance:
    inst = _instance(**size)
    drv.spawn(None, inst, image, [_vif()])
    operation = {power_state.PAUSED: "pause", power_state.SUSPENDED: "suspend",
                 power_state.SHUTDOWN: "power_off"}.get(state)
    if operation:
        getattr(drv, operation)(inst)
    assert _state(drv, inst) == state
    return inst


def _state(drv: libvirt_driver.LibvirtDriver, inst: model.Instance) -> PowerState:
    return drv.get_info(inst).state


def _domain_xml(drv: libvirt_driver.LibvirtDriver, inst: model.Instance) -> ET.Element:
    return ET.fromstring(drv.hypervisor.lookup(inst.uuid).XMLDesc(0))


# -- the host ------------------------------------------------------------------------

def test_init_host_without_libvirt_is_hypervisor_unavailable(conf: cfg.ConfigOpts) -> None:
    conf.set_override("connection_uri", "test:///no/such/node.xml", group="libvirt")
    node = libvirt_driver.LibvirtDriver(conf, "node-1")
    with pytest.raises(exception.HypervisorUnavailable) as err:
        node.init_host("node-1")
    assert err.value.code == 503 and "node-1" in err.value.message


def test_init_host_makes_instances_path(drv: libvirt_driver.LibvirtDriver) -> None:
    assert stat.S_IMODE(os.stat(drv.instances_path).st_mode) == 0o755
    assert drv.name == "libvirt" and drv.supports_snapshot


def test_virt_type_auto_probes_once(conf: cfg.ConfigOpts, monkeypatch: Any) -> None:
    probes: list[int] = []

    def probe() -> str:
        probes.append(1)
        return "kvm"

    monkeypatch.setattr(libvirt_host, "probe_virt_type", probe)
    conf.set_override("virt_type", "auto", group="libvirt")
    node = libvirt_driver.LibvirtDriver(conf, "n")
    assert (node.virt_type, node.virt_type, len(probes)) == ("kvm", "kvm", 1)
    conf.set_override("virt_type", "qemu", group="libvirt")
    assert node.virt_type == "qemu"


def test_resources(drv: libvirt_driver.LibvirtDriver) -> None:
    empty = drv.get_available_resource()
    assert (empty.vcpus_used, empty.memory_mb_used, empty.local_gb_used) == (0, 0, 0)
    assert empty.vcpus > 0 and empty.memory_mb > 0 and empty.local_gb > 0
    assert empty.hypervisor_type == "QEMU" and empty.hypervisor_hostname == "node-1"
    assert empty.hypervisor_version == drv.hypervisor.connect().getVersion()
    _spawned(drv, memory_mb=256, vcpus=2, root_gb=1, ephemeral_gb=2)
    _spawned(drv, power_state.SHUTDOWN, memory_mb=128, vcpus=1, root_gb=1)
    used = drv.get_available_resource()
    assert (used.vcpus_used, used.memory_mb_used, used.local_gb_used) == (3, 384, 4)
    assert used.disk_available_least is not None
    assert used.disk_available_least <= empty.disk_available_least  # type: ignore[operator]
    assert used.to_dict()["hypervisor_type"] == "QEMU"


# -- spawn ---------------------------------------------------------------------------

def test_spawn_runs_lists_and_builds_an_overlay(drv: libvirt_driver.LibvirtDriver,
                                                images: Images) -> None:
    inst = _spawned(drv, root_gb=1)
    info = drv.get_info(inst)
    assert info.state == power_state.RUNNING and info.internal_id is not None
    assert inst.name in drv.list_instances() and inst.uuid in drv.list_instance_uuids()
    assert drv.instance_exists(inst)
    disk = os.path.join(drv.instance_dir(inst.uuid), "disk")
    details = imagecache.image_info(disk)
    assert details["format"] == "qcow2"
    assert details["virtual-size"] == 1024 ** 3  # grown to root_gb
    assert details["backing-filename"] == os.path.join(drv.instances_path, "_base", "img-raw")
    assert details["backing-filename-format"] == "raw"
    assert stat.S_IMODE(os.stat(details["backing-filename"]).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(drv.instance_dir(inst.uuid)).st_mode) == 0o755
    dom = _domain_xml(drv, inst)
    assert dom.get("type") == "qemu" and dom.findtext("uuid") == inst.uuid
    assert dom.find("devices/disk/source").get("file") == disk  # type: ignore[union-attr]
    assert images.fetched == ["img-raw"]


def test_base_images_are_fetched_once(drv: libvirt_driver.LibvirtDriver,
                                      images: Images) -> None:
    _spawned(drv)
    _spawned(drv)
    assert images.fetched == ["img-raw"]


def test_root_gb_zero_keeps_the_image_size(drv: libvirt_driver.LibvirtDriver) -> None:
    inst = _spawned(drv, root_gb=0)
    disk = os.path.join(drv.instance_dir(inst.uuid), "disk")
    assert imagecache.image_info(disk)["virtual-size"] == MiB


def test_qcow2_image(drv: libvirt_driver.LibvirtDriver) -> None:
    inst = _spawned(drv, image=model.ImageMeta(id="qcow2-64M", disk_format="qcow2"))
    disk = imagecache.image_info(os.path.join(drv.instance_dir(inst.uuid), "disk"))
    assert disk["backing-filename-format"] == "qcow2"


def test_direct_kernel_boot_and_ethernet_vifs(drv: libvirt_driver.LibvirtDriver,
                                              images: Images) -> None:
    inst = _instance()
    vif = _vif()
    drv.spawn(None, inst, KERNEL_IMAGE, [vif])
    directory = drv.instance_dir(inst.uuid)
    dom = _domain_xml(drv, inst)
    assert dom.findtext("os/kernel") == os.path.join(directory, "kernel")
    assert dom.findtext("os/initrd") == os.path.join(directory, "ramdisk")
    assert dom.findtext("os/cmdline") == "quiet console=ttyS0"
    with open(os.path.join(directory, "kernel"), "rb") as kernel:
        assert kernel.read().startswith(b"STRATUS img-kernel\n")
    iface = dom.find("devices/interface")
    assert iface is not None and iface.get("type") == "ethernet"
    assert iface.find("target").get("dev") == vif.tap_name  # type: ignore[union-attr]
    assert iface.find("mac").get("address") == vif.mac  # type: ignore[union-attr]
    assert dom.find("devices/serial/log").get("file") == os.path.join(  # type: ignore[union-attr]
        directory, "console.log")
    assert sorted(images.fetched) == ["img-ami", "img-kernel", "img-ramdisk"]


def test_spawn_twice_is_a_conflict(drv: libvirt_driver.LibvirtDriver) -> None:
    inst = _spawned(drv)
    with pytest.raises(exception.InstanceExists):
        drv.spawn(None, inst, IMAGE, [])
    same_name = model.Instance(uuid=str(uuid.uuid4()), name=inst.name, memory_mb=128, vcpus=1)
    with pytest.raises(exception.InstanceExists):
        drv.spawn(None, same_name, IMAGE, [])
    assert _state(drv, inst) == power_state.RUNNING


def _nothing_left(drv: libvirt_driver.LibvirtDriver, inst: model.Instance) -> None:
    assert inst.uuid not in drv.list_instance_uuids()
    assert not os.path.exists(drv.instance_dir(inst.uuid))


@pytest.mark.parametrize(("image", "instance_args", "error"), [
    (model.ImageMeta(id="img-raw", disk_format="raw", min_ram=512), {},
     exception.ImageUnacceptable),
    (model.ImageMeta(id="qcow2-2G", disk_format="qcow2"), {"root_gb": 1},
     exception.ImageUnacceptable),
    (model.ImageMeta(id="img-not-qcow2", disk_format="qcow2"), {},
     exception.ImageUnacceptable),
    (model.ImageMeta(id="img-vmdk", disk_format="vmdk"), {}, exception.ImageUnacceptable),
    (model.ImageMeta(id="img-empty", disk_format="raw"), {}, exception.ImageUnacceptable),
    (model.ImageMeta(id="../etc", disk_format="raw"), {}, exception.ImageUnacceptable),
], ids=["min-ram", "too-big", "not-qcow2", "vmdk", "empty", "bad-id"])
def test_spawn_refuses_bad_images_and_leaves_nothing(
        drv: libvirt_driver.LibvirtDriver, image: model.ImageMeta,
        instance_args: dict[str, int], error: type[Exception]) -> None:
    inst = _instance(**instance_args)
    with pytest.raises(error):
        drv.spawn(None, inst, image, [_vif()])
    _nothing_left(drv, inst)


def test_fetch_errors_propagate_and_leave_nothing(drv: libvirt_driver.LibvirtDriver,
                                                  images: Images) -> None:
    images.fail = RuntimeError("image service down")
    inst = _instance()
    with pytest.raises(RuntimeError, match="image service down"):
        drv.spawn(None, inst, IMAGE, [])
    _nothing_left(drv, inst)
    assert os.listdir(os.path.join(drv.instances_path, "_base")) == [".img-raw.lock"]


def test_spawn_without_an_image_fetcher(conf: cfg.ConfigOpts) -> None:
    node = libvirt_driver.LibvirtDriver(conf, "node-1")
    inst = _instance()
    with pytest.raises(exception.InstanceDeployFailure, match="no image fetcher"):
        node.spawn(None, inst, IMAGE, [])
    _nothing_left(node, inst)


def test_spawn_waits_for_vifs_while_paused(drv: libvirt_driver.LibvirtDriver) -> None:
    inst = _instance()
    seen: list[PowerState] = []
    drv.spawn(None, inst, IMAGE, [_vif()], wait_for_vifs=lambda: seen.append(
        _state(drv, inst)))
    assert seen == [power_state.PAUSED]
    assert _state(drv, inst) == power_state.RUNNING


def test_vifs_that_never_plug_destroy_the_guest(drv: libvirt_driver.LibvirtDriver) -> None:
    inst = _instance()

    def timeout() -> None:
        raise TimeoutError("ports not plugged")

    with pytest.raises(TimeoutError):
        drv.spawn(None, inst, IMAGE, [_vif()], wait_for_vifs=timeout)
    _nothing_left(drv, inst)


# -- destroy ---------------------------------------------------------------------------

@pytest.mark.parametrize("before", [power_state.RUNNING, power_state.PAUSED,
                                    power_state.SUSPENDED, power_state.SHUTDOWN],
                         ids=lambda s: s.label)
def test_destroy_from_any_state_is_idempotent(drv: libvirt_driver.LibvirtDriver,
                                              before: PowerState) -> None:
    inst = _spawned(drv, before)
    drv.destroy(None, inst, [])
    _nothing_left(drv, inst)
    assert not drv.instance_exists(inst)
    drv.destroy(None, inst, [])


def test_destroy_can_keep_the_disks(drv: libvirt_driver.LibvirtDriver) -> None:
    inst = _spawned(drv)
    drv.destroy(None, inst, [], destroy_disks=False)
    assert inst.uuid not in drv.list_instance_uuids()
    assert os.path.exists(os.path.join(drv.instance_dir(inst.uuid), "disk"))
    drv.destroy(None, inst, [])  # no domain any more: the leftover files go
    _nothing_left(drv, inst)


# -- power states ---------------------------------------------------------------------

R, P, S, U = power_state.RUNNING, power_state.PAUSED, power_state.SHUTDOWN, power_state.SUSPENDED
# The fake's table (test_compute_virt_fake.py) for the states libvirt's test driver
# reaches: (operation, state before) -> state after, or None for InstanceInvalidState.
EXPECTED: dict[tuple[str, PowerState], PowerState | None] = {}
for _before in (R, P, S, U):
    EXPECTED["power_off", _before] = S
    EXPECTED["power_on", _before] = R
    EXPECTED["pause", _before] = {R: P, P: P}.get(_before)
    EXPECTED["unpause", _before] = {P: R, R: R}.get(_before)
    EXPECTED["suspend", _before] = {R: U, P: U, U: U}.get(_before)
    EXPECTED["resume", _before] = {U: R, R: R}.get(_before)


@pytest.mark.parametrize(("operation", "before"), sorted(EXPECTED),
                         ids=["%s-from-%s" % (op, st.label) for op, st in sorted(EXPECTED)])
def test_transition(drv: libvirt_driver.LibvirtDriver, operation: str,
                    before: PowerState) -> None:
    inst = _spawned(drv, before)
    after = EXPECTED[operation, before]
    if after is None:
        with pytest.raises(exception.InstanceInvalidState) as err:
            getattr(drv, operation)(inst)
        assert err.value.code == 409
        assert _state(drv, inst) == before
    else:
        getattr(drv, operation)(inst)
        assert _state(drv, inst) == after


def test_suspend_of_a_paused_guest_resumes_running(drv: libvirt_driver.LibvirtDriver) -> None:
    inst = _spawned(drv, power_state.PAUSED)
    drv.suspend(inst)
    drv.resume(inst)
    assert _state(drv, inst) == power_state.RUNNING


@pytest.mark.parametrize("reboot_type", ["SOFT", "HARD"])
@pytest.mark.parametrize("before", [R, P, S, U], ids=lambda s: s.label)
def test_reboot_always_ends_running(drv: libvirt_driver.LibvirtDriver, before: PowerState,
                                    reboot_type: model.RebootType) -> None:
    inst = _spawned(drv, before)
    drv.reboot(inst, [], reboot_type)
    assert _state(drv, inst) == power_state.RUNNING


def test_soft_reboot_restarts_the_domain(drv: libvirt_driver.LibvirtDriver, clock: Clock,
                                         monkeypatch: Any) -> None:
    inst = _spawned(drv)
    first = drv.get_info(inst).internal_id
    calls: list[str] = []
    real_shutdown, real_destroy = libvirt.virDomain.shutdown, libvirt.virDomain.destroy
    monkeypatch.setattr(libvirt.virDomain, "shutdown",
                        lambda dom: (calls.append("shutdown"), real_shutdown(dom))[1])
    monkeypatch.setattr(libvirt.virDomain, "destroy",
                        lambda dom: (calls.append("destroy"), real_destroy(dom))[1])
    drv.reboot(inst, [], "SOFT")
    assert calls == ["shutdown"] and clock.now < 1
    assert drv.get_info(inst).internal_id != first


def test_soft_reboot_of_a_guest_ignoring_acpi_becomes_hard(
        drv: libvirt_driver.LibvirtDriver, conf: cfg.ConfigOpts, clock: Clock,
        monkeypatch: Any) -> None:
    inst = _spawned(drv)
    conf.set_override("wait_soft_reboot_seconds", 30, group="libvirt")
    monkeypatch.setattr(libvirt.virDomain, "shutdown", lambda dom: 0)
    drv.reboot(inst, [], "SOFT")
    assert _state(drv, inst) == power_state.RUNNING
    assert clock.now >= 30


def test_reboot_type_is_checked(drv: libvirt_driver.LibvirtDriver) -> None:
    with pytest.raises(ValueError):
        drv.reboot(_spawned(drv), [], "WARM")  # type: ignore[arg-type]


def test_clean_power_off_asks_again_then_forces(drv: libvirt_driver.LibvirtDriver,
                                                clock: Clock, monkeypatch: Any) -> None:
    inst = _spawned(drv)
    asked: list[float] = []
    monkeypatch.setattr(libvirt.virDomain, "shutdown", lambda dom: asked.append(clock.now))
    drv.power_off(inst, timeout=10, retry_interval=4)
    assert _state(drv, inst) == power_state.SHUTDOWN
    assert asked == [0.0, 4.0, 8.0]
    assert clock.now == 10


def test_clean_power_off_of_a_cooperative_guest(drv: libvirt_driver.LibvirtDriver,
                                                clock: Clock) -> None:
    inst = _spawned(drv)
    drv.power_off(inst, timeout=60, retry_interval=10)
    assert _state(drv, inst) == power_state.SHUTDOWN and clock.now < 1


def test_power_on_drops_a_suspended_guests_memory(drv: libvirt_driver.LibvirtDriver) -> None:
    inst = _spawned(drv, power_state.SUSPENDED)
    drv.power_off(inst)
    assert _state(drv, inst) == power_state.SHUTDOWN
    drv.power_on(inst)
    assert _state(drv, inst) == power_state.RUNNING


UNKNOWN_CALLS: dict[str, Any] = {
    "get_info": lambda d, i: d.get_info(i),
    "reboot": lambda d, i: d.reboot(i, [], "HARD"),
    "power_off": lambda d, i: d.power_off(i),
    "power_on": lambda d, i: d.power_on(i),
    "pause": lambda d, i: d.pause(i),
    "unpause": lambda d, i: d.unpause(i),
    "suspend": lambda d, i: d.suspend(i),
    "resume": lambda d, i: d.resume(i),
    "get_console_output": lambda d, i: d.get_console_output(i),
    "get_vnc_console": lambda d, i: d.get_vnc_console(i),
    "snapshot": lambda d, i: d.snapshot(None, i, "img", lambda p, f: None),
    "attach_volume": lambda d, i: d.attach_volume(
        None, i, {"driver_volume_type": "file", "data": {"device_path": "/v"}}, "/dev/vdb"),
    "detach_volume": lambda d, i: d.detach_volume(None, i, {}, "/dev/vdb"),
}


@pytest.mark.parametrize("operation", sorted(UNKNOWN_CALLS))
def test_unknown_instance(drv: libvirt_driver.LibvirtDriver, operation: str) -> None:
    inst = _instance()
    with pytest.raises(exception.InstanceNotFound) as err:
        UNKNOWN_CALLS[operation](drv, inst)
    assert inst.uuid in err.value.message


def test_a_full_lifecycle(drv: libvirt_driver.LibvirtDriver) -> None:
    inst = _spawned(drv)
    for operation, state in [("pause", P), ("unpause", R), ("suspend", U), ("resume", R),
                             ("power_off", S), ("power_on", R)]:
        getattr(drv, operation)(inst)
        assert _state(drv, inst) == state, operation
    drv.destroy(None, inst, [])
    assert inst.uuid not in drv.list_instance_uuids()


# -- console and snapshot -----------------------------------------------------------------

def test_console_output_is_the_tail_of_the_log(drv: libvirt_driver.LibvirtDriver) -> None:
    inst = _spawned(drv)
    assert drv.get_console_output(inst) == ""  # the test driver writes no log
    log = os.path.join(drv.instance_dir(inst.uuid), "console.log")
    with open(log, "wb") as out:
        out.write(b"x" * (150 * 1024) + b"\xff login: ")
    text = drv.get_console_output(inst)
    assert len(text.encode()) <= 100 * 1024 + 2 and text.endswith("\ufffd login: ")


def test_snapshot_uploads_a_standalone_qcow2(drv: libvirt_driver.LibvirtDriver) -> None:
    inst = _spawned(drv)
    seen: list[tuple[str, str, dict[str, Any]]] = []
    drv.snapshot(None, inst, "snap-1",
                 lambda path, fmt: seen.append((path, fmt, imagecache.image_info(path))))
    [(path, fmt, info)] = seen
    assert fmt == "qcow2" and info["format"] == "qcow2"
    assert "backing-filename" not in info and info["virtual-size"] == 1024 ** 3
    assert not os.path.exists(path)
    assert _state(drv, inst) == power_state.RUNNING


def test_failed_upload_leaves_no_file(drv: libvirt_driver.LibvirtDriver) -> None:
    inst = _spawned(drv, power_state.PAUSED)
    paths: list[str] = []

    def upload(path: str, fmt: str) -> None:
        paths.append(path)
        raise RuntimeError("image service down")

    with pytest.raises(RuntimeError):
        drv.snapshot(None, inst, "snap-2", upload)
    assert not os.path.exists(paths[0])
    assert _state(drv, inst) == power_state.PAUSED


def test_snapshot_without_a_root_disk(drv: libvirt_driver.LibvirtDriver) -> None:
    inst = _instance()
    drv.spawn(None, inst, model.ImageMeta(), [])
    with pytest.raises(exception.SnapshotFailed):
        drv.snapshot(None, inst, "snap-3", lambda p, f: None)


def test_spawn_with_volumes(drv: libvirt_driver.LibvirtDriver, tmp_path: Any) -> None:
    inst = _instance()
    volume = {"driver_volume_type": "file", "serial": "vol-1",
              "data": {"device_path": str(tmp_path / "vol-1"), "format": "raw"}}
    bdi = model.BlockDeviceInfo(volumes=(model.BlockDevice("/dev/vdb", volume),))
    drv.spawn(None, inst, IMAGE, [], bdi)
    targets = [d.find("target").get("dev")  # type: ignore[union-attr]
               for d in _domain_xml(drv, inst).findall("devices/disk")]
    assert targets == ["vda", "vdb"]
    drv.destroy(None, inst, [], bdi)


def test_boot_from_volume_has_no_local_root_disk(drv: libvirt_driver.LibvirtDriver,
                                                 images: Images) -> None:
    inst = _instance()
    root = {"driver_volume_type": "block", "data": {"device_path": "/dev/loop7"}}
    bdi = model.BlockDeviceInfo(volumes=(model.BlockDevice("/dev/vda", root),))
    drv.spawn(None, inst, IMAGE, [], bdi)
    [disk] = _domain_xml(drv, inst).findall("devices/disk")
    assert disk.get("type") == "block" and images.fetched == []
    assert not os.path.exists(os.path.join(drv.instance_dir(inst.uuid), "disk"))


def test_spawn_with_a_bad_volume_leaves_nothing(drv: libvirt_driver.LibvirtDriver) -> None:
    inst = _instance()
    bdi = model.BlockDeviceInfo(volumes=(model.BlockDevice("/dev/vdb", {
        "driver_volume_type": "rbd", "data": {}}),))
    with pytest.raises(exception.VolumeDriverNotFound):
        drv.spawn(None, inst, IMAGE, [], bdi)
    bad_device = model.BlockDeviceInfo(root_device_name="/mnt")
    with pytest.raises(exception.InvalidDevicePath):
        drv.spawn(None, inst, IMAGE, [], bad_device)
    _nothing_left(drv, inst)
