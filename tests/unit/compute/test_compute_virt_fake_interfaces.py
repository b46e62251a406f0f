"""Interface hot-plug of the fake virt driver (the reference of the driver
contract): VIFs recorded per guest, refused on a suspended guest, a NIC the
guest has is busy, detaching one it lacks is a no-op."""
from __future__ import annotations

import uuid

import pytest

from compute.virt import driver
from compute.virt import exception
from compute.virt import fake
from compute.virt import model
from compute.virt import power_state
from compute.virt.power_state import PowerState

IMAGE = model.ImageMeta(id="img-1", disk_format="qcow2")


def _vif(mac: str = "fa:16:3e:00:00:01") -> model.VIF:
    port = str(uuid.uuid4())
    return model.VIF(port_id=port, mac=mac, bridge="brq" + port[:11], fixed_ips=("10.0.0.7",))


@pytest.fixture
def drv() -> fake.FakeDriver:
    node = fake.FakeDriver(host="node-1", vcpus=8, memory_mb=4096, local_gb=100)
    node.init_host("node-1")
    return node


def _spawned(drv: fake.FakeDriver, *vifs: model.VIF) -> model.Instance:
    uid = str(uuid.uuid4())
    inst = model.Instance(uuid=uid, name="instance-" + uid[:8], memory_mb=128, vcpus=1)
    drv.spawn(None, inst, IMAGE, list(vifs))
    return inst


def test_the_base_driver_cannot_hotplug() -> None:
    assert driver.ComputeDriver.supports_interface_hotplug is False
    assert fake.FakeDriver.supports_interface_hotplug is True

    class NoHotplug(fake.FakeDriver):
        attach_interface = driver.ComputeDriver.attach_interface
        detach_interface = driver.ComputeDriver.detach_interface

    node = NoHotplug()
    inst = _spawned(node)
    with pytest.raises(exception.InterfaceHotplugNotSupported) as err:
        node.attach_interface(None, inst, IMAGE, _vif())
    assert err.value.code == 409
    with pytest.raises(exception.InterfaceHotplugNotSupported):
        node.detach_interface(None, inst, _vif())


@pytest.mark.parametrize("state", [power_state.RUNNING, power_state.PAUSED,
                                   power_state.SHUTDOWN])
def test_attach_then_detach(drv: fake.FakeDriver, state: PowerState) -> None:
    first = _vif("fa:16:3e:00:00:01")
    inst = _spawned(drv, first)
    drv.set_power_state(inst.uuid, state)
    added = _vif("fa:16:3e:00:00:02")
    drv.attach_interface(None, inst, IMAGE, added)
    assert drv.get_vifs(inst.uuid) == [first, added]
    if state == power_state.RUNNING:
        assert "virtio_net: %s" % added.tap_name in drv.get_console_output(inst)
    drv.detach_interface(None, inst, added)
    assert drv.get_vifs(inst.uuid) == [first]
    drv.detach_interface(None, inst, added)  # gone already: a no-op
    assert drv.get_vifs(inst.uuid) == [first]
    assert drv.get_info(inst).state == state


def test_a_nic_the_guest_has_is_busy(drv: fake.FakeDriver) -> None:
    first = _vif("fa:16:3e:00:00:01")
    inst = _spawned(drv, first)
    with pytest.raises(exception.DeviceIsBusy):
        drv.attach_interface(None, inst, IMAGE, first)
    with pytest.raises(exception.DeviceIsBusy):  # same MAC, other port
        drv.attach_interface(None, inst, IMAGE, _vif("fa:16:3e:00:00:01"))
    assert drv.get_vifs(inst.uuid) == [first]


def test_no_hotplug_on_a_suspended_guest(drv: fake.FakeDriver) -> None:
    vif = _vif()
    inst = _spawned(drv, vif)
    drv.suspend(inst)
    with pytest.raises(exception.InstanceInvalidState):
        drv.attach_interface(None, inst, IMAGE, _vif("fa:16:3e:00:00:09"))
    with pytest.raises(exception.InstanceInvalidState):
        drv.detach_interface(None, inst, vif)
    assert drv.get_vifs(inst.uuid) == [vif]


def test_unknown_instance_and_failures(drv: fake.FakeDriver) -> None:
    ghost = model.Instance(uuid=str(uuid.uuid4()), name="ghost", memory_mb=1, vcpus=1)
    with pytest.raises(exception.InstanceNotFound):
        drv.attach_interface(None, ghost, IMAGE, _vif())
    with pytest.raises(exception.InstanceNotFound):
        drv.detach_interface(None, ghost, _vif())
    inst = _spawned(drv)
    drv.fail_next("attach_interface", exception.InterfaceAttachFailed(port_id="p",
                                                                      reason="boom"))
    with pytest.raises(exception.InterfaceAttachFailed):
        drv.attach_interface(None, inst, IMAGE, _vif())
    assert drv.get_vifs(inst.uuid) == []
