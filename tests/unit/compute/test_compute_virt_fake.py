"""The fake virt driver: every operation, the power-state rules of the driver
interface, errors for unknown instances, resource accounting, threads."""
from __future__ import annotations

import os
import threading
import uuid
from typing import Any

import pytest

from common import exception as common_exception
from compute.virt import driver
from compute.virt import exception
from compute.virt import fake
from compute.virt import model
from compute.virt import power_state
from compute.virt.power_state import PowerState

IMAGE = model.ImageMeta(id="img-1", disk_format="qcow2")


def _instance(memory_mb: int = 128, vcpus: int = 1, root_gb: int = 1,
              ephemeral_gb: int = 0) -> model.Instance:
    uid = str(uuid.uuid4())
    return model.Instance(uuid=uid, name="instance-" + uid[:8], memory_mb=memory_mb,
                          vcpus=vcpus, root_gb=root_gb, ephemeral_gb=ephemeral_gb,
                          display_name="vm-" + uid[:4])


def _vif(ip: str = "10.0.0.5") -> model.VIF:
    return model.VIF(port_id=str(uuid.uuid4()), mac="fa:16:3e:12:34:56", bridge="brq-test",
                     mtu=1450, fixed_ips=(ip,))


@pytest.fixture
def drv() -> fake.FakeDriver:
    node = fake.FakeDriver(host="node-1", vcpus=8, memory_mb=4096, local_gb=100)
    node.init_host("node-1")
    return node


def _spawned(drv: fake.FakeDriver, state: PowerState = power_state.RUNNING,
             **size: int) -> model.Instance:
    inst = _instance(**size)
    drv.spawn(None, inst, IMAGE, [_vif()])
    if state != power_state.RUNNING:
        drv.set_power_state(inst.uuid, state)
    return inst


def _state(drv: fake.FakeDriver, inst: model.Instance) -> PowerState:
    return drv.get_info(inst).state


# -- the interface ------------------------------------------------------------

def test_interface_is_abstract() -> None:
    with pytest.raises(TypeError):
        driver.ComputeDriver()  # type: ignore[abstract]

    class Partial(driver.ComputeDriver):
        def init_host(self, host: str) -> None:
            pass

    with pytest.raises(TypeError):
        Partial()  # type: ignore[abstract]


def test_snapshot_is_an_optional_hook() -> None:
    class NoSnapshot(fake.FakeDriver):
        supports_snapshot = False
        snapshot = driver.ComputeDriver.snapshot

    node = NoSnapshot()
    inst = _spawned(node)
    with pytest.raises(exception.SnapshotNotSupported) as err:
        node.snapshot(None, inst, "image-x", lambda path, fmt: None)
    assert err.value.code == 501


def test_exceptions_keep_http_meaning() -> None:
    assert issubclass(exception.InstanceNotFound, common_exception.NotFound)
    assert exception.InstanceNotFound(instance_id="x").code == 404
    assert exception.InstanceInvalidState(instance_uuid="x", attr="power_state",
                                          state="paused", method="suspend").code == 409
    assert exception.InstancePowerOffFailure(reason="r").code == 400
    assert exception.HypervisorUnavailable(host="h").code == 503
    assert "Instance x could not be found." == exception.InstanceNotFound(instance_id="x").message


# -- the host ------------------------------------------------------------------

def test_constructor_validates_size() -> None:
    with pytest.raises(ValueError):
        fake.FakeDriver(vcpus=0)


def test_init_host_names_the_node() -> None:
    node = fake.FakeDriver(host="before")
    assert node.get_available_resource().hypervisor_hostname == "before"
    node.init_host("after")
    assert node.initialized
    assert node.get_available_resource().hypervisor_hostname == "after"


def test_resources_of_an_empty_host(drv: fake.FakeDriver) -> None:
    res = drv.get_available_resource()
    assert (res.vcpus, res.memory_mb, res.local_gb) == (8, 4096, 100)
    assert (res.vcpus_used, res.memory_mb_used, res.local_gb_used) == (0, 0, 0)
    assert res.hypervisor_type == "fake"
    assert res.hypervisor_version == 1_000_000
    assert res.disk_available_least == 100
    assert res.cpu_info["topology"]["cores"] == 8
    assert res.to_dict()["cpu_info"]["arch"] == "x86_64"


def test_resources_count_every_guest_in_any_state(drv: fake.FakeDriver) -> None:
    a = _spawned(drv, memory_mb=512, vcpus=2, root_gb=10, ephemeral_gb=5)
    _spawned(drv, power_state.SHUTDOWN, memory_mb=256, vcpus=1, root_gb=1)
    res = drv.get_available_resource()
    assert (res.vcpus_used, res.memory_mb_used, res.local_gb_used) == (3, 768, 16)
    assert res.disk_available_least == 84
    drv.destroy(None, a, [])
    res = drv.get_available_resource()
    assert (res.vcpus_used, res.memory_mb_used, res.local_gb_used) == (1, 256, 1)


def test_default_host_is_big() -> None:
    res = fake.FakeDriver().get_available_resource()
    assert res.vcpus == fake.DEFAULT_VCPUS and res.memory_mb == fake.DEFAULT_MEMORY_MB


# -- spawn, list, destroy ----------------------------------------------------------

def test_spawn_runs_and_lists(drv: fake.FakeDriver) -> None:
    inst = _spawned(drv)
    info = drv.get_info(inst)
    assert info.state == power_state.RUNNING
    assert info.internal_id == "1"
    assert drv.list_instances() == [inst.name]
    assert drv.list_instance_uuids() == [inst.uuid]
    assert drv.instance_exists(inst)


def test_spawn_twice_is_a_conflict(drv: fake.FakeDriver) -> None:
    inst = _spawned(drv)
    with pytest.raises(exception.InstanceExists):
        drv.spawn(None, inst, IMAGE, [])


def test_spawn_refuses_image_needing_more_ram(drv: fake.FakeDriver) -> None:
    with pytest.raises(exception.ImageUnacceptable):
        drv.spawn(None, _instance(memory_mb=64), model.ImageMeta(id="i", min_ram=128), [])
    assert drv.list_instances() == []


def test_destroy_forgets_and_is_idempotent(drv: fake.FakeDriver) -> None:
    inst = _spawned(drv)
    drv.destroy(None, inst, [], destroy_disks=True)
    assert drv.list_instances() == []
    assert not drv.instance_exists(inst)
    drv.destroy(None, inst, [])
    drv.destroy(None, _instance(), [])


def test_domain_ids_increase(drv: fake.FakeDriver) -> None:
    ids = [drv.get_info(_spawned(drv)).internal_id for _ in range(3)]
    assert ids == ["1", "2", "3"]


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
    "snapshot": lambda d, i: d.snapshot(None, i, "img", lambda p, f: None),
}


@pytest.mark.parametrize("operation", sorted(UNKNOWN_CALLS))
def test_unknown_instance(drv: fake.FakeDriver, operation: str) -> None:
    inst = _instance()
    with pytest.raises(exception.InstanceNotFound) as err:
        UNKNOWN_CALLS[operation](drv, inst)
    assert inst.uuid in err.value.message


def test_set_power_state_of_unknown_instance(drv: fake.FakeDriver) -> None:
    with pytest.raises(exception.InstanceNotFound):
        drv.set_power_state("nope", power_state.CRASHED)


# -- power state transitions ------------------------------------------------------

R, P, S, C, U, N = (power_state.RUNNING, power_state.PAUSED, power_state.SHUTDOWN,
                    power_state.CRASHED, power_state.SUSPENDED, power_state.NOSTATE)
ALL = (R, P, S, C, U, N)
# (operation, state before) -> state after, or None for InstanceInvalidState.
EXPECTED: dict[tuple[str, PowerState], PowerState | None] = {}
for _state_before in ALL:
    EXPECTED["power_off", _state_before] = S
    EXPECTED["power_on", _state_before] = R
    EXPECTED["pause", _state_before] = {R: P, P: P}.get(_state_before)
    EXPECTED["unpause", _state_before] = {P: R, R: R}.get(_state_before)
    EXPECTED["suspend", _state_before] = {R: U, P: U, U: U}.get(_state_before)
    EXPECTED["resume", _state_before] = {U: R, R: R}.get(_state_before)


@pytest.mark.parametrize(("operation", "before"), sorted(EXPECTED),
                         ids=["%s-from-%s" % (op, st.label) for op, st in sorted(EXPECTED)])
def test_transition(drv: fake.FakeDriver, operation: str, before: PowerState) -> None:
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


@pytest.mark.parametrize("reboot_type", ["SOFT", "HARD"])
@pytest.mark.parametrize("before", ALL, ids=[s.label for s in ALL])
def test_reboot_always_ends_running(drv: fake.FakeDriver, before: PowerState,
                                    reboot_type: model.RebootType) -> None:
    inst = _spawned(drv, before)
    drv.reboot(inst, [], reboot_type)
    assert _state(drv, inst) == power_state.RUNNING


def test_reboot_type_is_checked(drv: fake.FakeDriver) -> None:
    with pytest.raises(ValueError):
        drv.reboot(_spawned(drv), [], "WARM")  # type: ignore[arg-type]


def test_a_full_lifecycle(drv: fake.FakeDriver) -> None:
    inst = _spawned(drv)
    steps = [("pause", P), ("unpause", R), ("suspend", U), ("resume", R),
             ("power_off", S), ("power_on", R)]
    for operation, state in steps:
        getattr(drv, operation)(inst)
        assert _state(drv, inst) == state, operation
    drv.destroy(None, inst, [])
    assert drv.list_instance_uuids() == []


# -- console ------------------------------------------------------------------

def test_console_output(drv: fake.FakeDriver) -> None:
    vif = _vif("192.0.2.7")
    inst = _instance()
    drv.spawn(None, inst, model.ImageMeta(os_command_line="console=ttyS0 quiet"), [vif])
    out = drv.get_console_output(inst)
    assert out.startswith("[    0.000000] Linux version")
    assert "Command line: console=ttyS0 quiet" in out
    assert "%s (%s) got 192.0.2.7" % (vif.tap_name, vif.mac) in out
    assert out.endswith("%s login: \n" % inst.display_name)
    drv.power_off(inst)
    assert drv.get_console_output(inst).endswith("reboot: Power down\n")
    drv.reboot(inst, [], "SOFT")
    assert drv.get_console_output(inst).count("Linux version") == 2


def test_console_is_bounded(drv: fake.FakeDriver) -> None:
    inst = _spawned(drv)
    for _ in range(fake.CONSOLE_LINES):
        drv.reboot(inst, [], "SOFT")
    assert len(drv.get_console_output(inst).splitlines()) == fake.CONSOLE_LINES


# -- test hooks ----------------------------------------------------------------

def test_fail_next(drv: fake.FakeDriver) -> None:
    inst = _instance()
    drv.fail_next("spawn", exception.InstanceDeployFailure(reason="boom"), times=2)
    for _ in range(2):
        with pytest.raises(exception.InstanceDeployFailure):
            drv.spawn(None, inst, IMAGE, [])
    drv.spawn(None, inst, IMAGE, [])
    drv.fail_next("power_off", exception.InstancePowerOffFailure(reason="stuck"))
    with pytest.raises(exception.InstancePowerOffFailure):
        drv.power_off(inst)
    assert _state(drv, inst) == power_state.RUNNING
    with pytest.raises(ValueError):
        drv.fail_next("no_such_operation", RuntimeError())


def test_crash_and_recover(drv: fake.FakeDriver) -> None:
    inst = _spawned(drv)
    drv.set_power_state(inst.uuid, power_state.CRASHED)
    assert _state(drv, inst) == power_state.CRASHED
    assert "power state is now crashed" in drv.get_console_output(inst)
    drv.power_on(inst)
    assert _state(drv, inst) == power_state.RUNNING


# -- snapshot ------------------------------------------------------------------

def test_snapshot_uploads_a_file_then_removes_it(drv: fake.FakeDriver) -> None:
    inst = _spawned(drv)
    seen: list[tuple[str, str, bytes]] = []

    def upload(path: str, disk_format: str) -> None:
        with open(path, "rb") as handle:
            seen.append((path, disk_format, handle.read()))

    drv.snapshot(None, inst, "snap-1", upload)
    [(path, disk_format, data)] = seen
    assert disk_format == "raw"
    assert inst.uuid.encode() in data and b"img-1" in data
    assert not os.path.exists(path)
    assert drv.snapshots == {"snap-1": inst.uuid}


def test_failed_upload_leaves_no_file(drv: fake.FakeDriver) -> None:
    inst = _spawned(drv)
    paths: list[str] = []

    def upload(path: str, disk_format: str) -> None:
        paths.append(path)
        raise RuntimeError("image service down")

    with pytest.raises(RuntimeError):
        drv.snapshot(None, inst, "snap-2", upload)
    assert not os.path.exists(paths[0])
    assert drv.snapshots == {}


# -- many nodes, many threads ----------------------------------------------------

def test_nodes_share_nothing() -> None:
    nodes = [fake.FakeDriver(host="node-%d" % n) for n in range(300)]
    inst = _instance()
    nodes[0].spawn(None, inst, IMAGE, [])
    assert nodes[0].list_instance_uuids() == [inst.uuid]
    assert all(node.list_instance_uuids() == [] for node in nodes[1:])
    nodes[1].spawn(None, inst, IMAGE, [])  # the same uuid on another node is no conflict
    nodes[1].pause(inst)
    assert nodes[0].get_info(inst).state == power_state.RUNNING


def test_concurrent_operations_on_one_node() -> None:
    node = fake.FakeDriver(vcpus=1000)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(50):
                inst = _instance()
                node.spawn(None, inst, IMAGE, [_vif()])
                node.pause(inst)
                node.unpause(inst)
                node.get_available_resource()
        except BaseException as exc:  # noqa: B036 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(node.list_instances()) == 400
    assert node.get_available_resource().vcpus_used == 400
    assert {node.get_info(model.Instance(uuid=u, name="x", memory_mb=1, vcpus=1)).state
            for u in node.list_instance_uuids()} == {power_state.RUNNING}


# -- waiting for VIFs ------------------------------------------------------------

def test_spawn_waits_for_vifs_while_paused(drv: fake.FakeDriver) -> None:
    inst = _instance()
    seen: list[PowerState] = []
    drv.spawn(None, inst, IMAGE, [_vif()], wait_for_vifs=lambda: seen.append(
        _state(drv, inst)))
    assert seen == [power_state.PAUSED]
    assert _state(drv, inst) == power_state.RUNNING


def test_vifs_that_never_plug_leave_no_guest(drv: fake.FakeDriver) -> None:
    inst = _instance()

    def timeout() -> None:
        raise TimeoutError("ports not plugged")

    with pytest.raises(TimeoutError):
        drv.spawn(None, inst, IMAGE, [_vif()], wait_for_vifs=timeout)
    assert drv.list_instance_uuids() == []
    drv.spawn(None, inst, IMAGE, [_vif()])  # nothing in the way of a retry


def test_destroy_while_waiting_for_vifs(drv: fake.FakeDriver) -> None:
    inst = _instance()
    with pytest.raises(exception.InstanceNotFound):
        drv.spawn(None, inst, IMAGE, [], wait_for_vifs=lambda: drv.destroy(None, inst, []))
    assert drv.list_instance_uuids() == []


# -- volumes and VNC ---------------------------------------------------------------

VOLUME = {"driver_volume_type": "file", "data": {"device_path": "/v/vol-1"}}


def test_attach_and_detach(drv: fake.FakeDriver) -> None:
    inst = _spawned(drv)
    drv.attach_volume(None, inst, VOLUME, "/dev/vdb")
    guest = drv._guests[inst.uuid]
    assert guest.volumes == {"vdb": VOLUME}
    assert "virtio_blk: [vdb] attached" in drv.get_console_output(inst)
    with pytest.raises(exception.DeviceIsBusy):
        drv.attach_volume(None, inst, VOLUME, "vdb")
    with pytest.raises(exception.DeviceIsBusy):
        drv.attach_volume(None, inst, VOLUME, "/dev/vda")  # the root disk
    drv.detach_volume(None, inst, VOLUME, "/dev/vdb")
    assert guest.volumes == {}
    with pytest.raises(exception.DiskNotFound) as err:
        drv.detach_volume(None, inst, VOLUME, "/dev/vdb")
    assert err.value.code == 404


def test_spawn_with_volumes(drv: fake.FakeDriver) -> None:
    inst = _instance()
    bdi = model.BlockDeviceInfo(volumes=(model.BlockDevice("/dev/vdc", VOLUME),))
    drv.spawn(None, inst, IMAGE, [], bdi)
    with pytest.raises(exception.DeviceIsBusy):
        drv.attach_volume(None, inst, VOLUME, "/dev/vdc")
    drv.detach_volume(None, inst, VOLUME, "/dev/vdc")


@pytest.mark.parametrize("before", [R, P, S, C], ids=lambda s: s.label)
def test_volumes_in_any_state_but_suspended(drv: fake.FakeDriver, before: PowerState) -> None:
    inst = _spawned(drv, before)
    drv.attach_volume(None, inst, VOLUME, "/dev/vdb")
    drv.detach_volume(None, inst, VOLUME, "/dev/vdb")
    suspended = _spawned(drv, U)
    for call in (drv.attach_volume, drv.detach_volume):
        with pytest.raises(exception.InstanceInvalidState):
            call(None, suspended, VOLUME, "/dev/vdb")


def test_volume_errors(drv: fake.FakeDriver) -> None:
    with pytest.raises(exception.InstanceNotFound):
        drv.attach_volume(None, _instance(), VOLUME, "/dev/vdb")
    inst = _spawned(drv)
    with pytest.raises(exception.InvalidDevicePath) as err:
        drv.attach_volume(None, inst, VOLUME, "/mnt")
    assert err.value.code == 400
    drv.fail_next("attach_volume", exception.VolumeAttachFailed(volume_id="v", reason="r"))
    with pytest.raises(exception.VolumeAttachFailed):
        drv.attach_volume(None, inst, VOLUME, "/dev/vdb")


def test_vnc_console(drv: fake.FakeDriver) -> None:
    inst = _spawned(drv)
    console = drv.get_vnc_console(inst)
    assert console == {"host": "127.0.0.1", "port": 5900 + int(drv.get_info(inst).internal_id
                                                               or 0)}
    drv.pause(inst)
    assert drv.get_vnc_console(inst) == console
    drv.power_off(inst)
    with pytest.raises(exception.InstanceNotReady) as err:
        drv.get_vnc_console(inst)
    assert err.value.code == 409
    with pytest.raises(exception.InstanceNotFound):
        drv.get_vnc_console(_instance())
