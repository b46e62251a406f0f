"""The compute node's driver comes from [compute] compute_driver."""
from __future__ import annotations

import pytest
from oslo_config import cfg

from compute import conf as compute_conf
from compute.virt import fake
from compute.virt import loader


def _conf(**fake_driver: int) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    compute_conf.register_opts(conf)
    conf([], default_config_files=[])
    for name, value in fake_driver.items():
        conf.set_override(name, value, group="fake_driver")
    return conf


def test_fake_driver_with_the_configured_size() -> None:
    driver = loader.load(_conf(vcpus=8, memory_mb=4096, local_gb=40), "node-1")
    assert isinstance(driver, fake.FakeDriver) and driver.host == "node-1"
    resources = driver.get_available_resource().to_dict()
    assert (resources["vcpus"], resources["memory_mb"], resources["local_gb"]) == (8, 4096, 40)


def test_libvirt_is_refused_with_a_clear_error() -> None:
    conf = _conf()
    conf.set_override("compute_driver", "libvirt", group="compute")
    with pytest.raises(loader.DriverNotAvailable, match="compute_driver = fake"):
        loader.load(conf, "node-1")
