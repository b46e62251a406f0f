"""The compute node's driver comes from [compute] compute_driver."""
from __future__ import annotations

import importlib
import sys
from typing import Any

import pytest
from oslo_config import cfg

from compute.conf import virt as virt_conf
from compute.virt import fake
from compute.virt import loader


def _conf(**fake_driver: int) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    virt_conf.register_opts(conf)
    conf([], default_config_files=[])
    for name, value in fake_driver.items():
        conf.set_override(name, value, group="fake_driver")
    return conf


def test_fake_driver_with_the_configured_size() -> None:
    driver = loader.load(_conf(vcpus=8, memory_mb=4096, local_gb=40), "node-1")
    assert isinstance(driver, fake.FakeDriver) and driver.host == "node-1"
    resources = driver.get_available_resource().to_dict()
    assert (resources["vcpus"], resources["memory_mb"], resources["local_gb"]) == (8, 4096, 40)


def test_libvirt_driver_gets_the_image_fetcher(tmp_path: Any) -> None:
    pytest.importorskip("libvirt")
    conf = _conf()
    conf.set_override("compute_driver", "libvirt", group="compute")
    conf.set_override("connection_uri", "test:///default", group="libvirt")
    conf.set_override("instances_path", str(tmp_path), group="libvirt")

    def fetch(context: Any, image_id: str, dest: str) -> None:
        pass

    driver = loader.load(conf, "node-1", fetch_image=fetch)
    assert driver.name == "libvirt" and driver.supports_snapshot
    assert driver.fetch_image is fetch and driver.host == "node-1"  # type: ignore[attr-defined]


def test_libvirt_without_libvirt_python_is_a_clear_error(monkeypatch: Any) -> None:
    conf = _conf()
    conf.set_override("compute_driver", "libvirt", group="compute")
    monkeypatch.setitem(sys.modules, "libvirt", None)  # import libvirt -> ImportError
    package = importlib.import_module("compute.virt.libvirt")
    for name in ("driver", "host", "guest"):  # imported afresh, and failing
        monkeypatch.delitem(sys.modules, "compute.virt.libvirt." + name, raising=False)
        monkeypatch.delattr(package, name, raising=False)
    with pytest.raises(loader.DriverNotAvailable, match="libvirt-python") as err:
        loader.load(conf, "node-1")
    assert err.value.code == 503


def test_fake_ignores_the_image_fetcher() -> None:
    driver = loader.load(_conf(), "node-2", fetch_image=lambda c, i, d: None)
    assert isinstance(driver, fake.FakeDriver)
