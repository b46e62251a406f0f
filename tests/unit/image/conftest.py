"""Fixtures of the image DataService's tests: configuration, a FakeRegistry, the
service over a filesystem store, and the notifications it sends."""
from __future__ import annotations

import os
from typing import Any, Iterator

import pytest
from oslo_config import cfg

from image import data as data_mod
from image import service as image_service
from image.conf import image as image_opts
from image.store import filesystem

from tests.unit.image.data_fakes import FakeRegistry


@pytest.fixture
def conf(tmp_path: os.PathLike[str]) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    image_opts.register_opts(conf)
    conf([], project="stratus-test", default_config_files=[])
    conf.set_override("filesystem_store_datadir", os.path.join(str(tmp_path), "data"),
                      group="store")
    conf.set_override("staging_dir", os.path.join(str(tmp_path), "staging"), group="image")
    return conf


@pytest.fixture
def notes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    sent: list[tuple[str, dict[str, Any]]] = []
    monkeypatch.setattr(data_mod.image_service, "notify", lambda ctxt, event, payload:
                        sent.append((event, payload)))
    return sent


@pytest.fixture
def registry() -> FakeRegistry:
    return FakeRegistry()


@pytest.fixture
def svc(conf: cfg.ConfigOpts, registry: FakeRegistry,
        notes: list[Any]) -> Iterator[data_mod.DataService]:
    store = filesystem.FilesystemStore(lambda: conf.store.filesystem_store_datadir)
    images = image_service.ImageService(conf, registry, store)  # type: ignore[arg-type]
    service = data_mod.DataService(conf, registry, store, images)
    yield service
    service.close()
