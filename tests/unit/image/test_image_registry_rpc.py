"""The registry's RPC contract: client and server agree, and paging is exact."""
from __future__ import annotations

import inspect
import itertools
import os
from typing import Any

import pytest

from common import context
from common.db import engine
from common.db import migration
from image.cmd import manage
from image.registry import manager
from image.registry import rpcapi
from image.registry.db import api as db_api


def _public(cls: type) -> dict[str, Any]:
    return {name: member for name, member in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith("_")}


def test_versions_in_sync() -> None:
    assert manager.RegistryManager.target.version == rpcapi.RegistryAPI.RPC_API_VERSION


def test_every_rpc_method_has_a_client_with_the_same_arguments() -> None:
    server = _public(manager.RegistryManager)
    client = _public(rpcapi.RegistryAPI)
    assert set(server) == set(client)
    for name, method in server.items():
        assert list(inspect.signature(method).parameters) == list(
            inspect.signature(client[name]).parameters), name


@pytest.fixture()
def images(tmp_path: Any) -> Any:
    url = "sqlite:///" + os.path.join(str(tmp_path), "image.sqlite")
    migration.sync(manage.MIGRATIONS, url)
    db = engine.Database(engine.create_engine(url))
    yield db_api.ImageDB(db)
    db.dispose()


def test_keyset_paging_is_exact_for_every_sort_with_nulls(images: Any) -> None:
    ctxt = context.admin_context()
    names = ["b", None, "a", "b", None, "c", "a"]
    sizes = [5, None, 1, 5, 2, None, 1]
    for index, (name, size) in enumerate(zip(names, sizes, strict=True)):
        images.create(ctxt, {"name": name, "status": "active", "visibility": "public",
                             "owner": "p", "size": size, "min_disk": index % 3})
    viewer = {"project_id": "p", "is_admin": False}
    everything = images.list_images(ctxt, {}, None, 100, [("created_at", "desc")], viewer)
    assert len(everything) == 7
    for keys in itertools.permutations(("name", "size", "min_disk"), 2):
        for direction in ("asc", "desc"):
            sort = [(k, direction) for k in keys]
            whole = [i["id"] for i in images.list_images(ctxt, {}, None, 100, sort, viewer)]
            paged: list[str] = []
            marker = None
            while True:
                page = images.list_images(ctxt, {}, marker, 2, sort, viewer)
                paged += [i["id"] for i in page]
                if len(page) < 2:
                    break
                marker = page[-1]["id"]
            assert paged == whole, (sort, paged, whole)


def test_reset_stalled_uploads(images: Any) -> None:
    ctxt = context.admin_context()
    saving = images.create(ctxt, {"status": "saving", "visibility": "private", "owner": "p"})
    importing = images.create(ctxt, {"status": "importing", "visibility": "private",
                                     "owner": "p"})
    assert images.reset_stalled(ctxt, older_than=3600) == []
    assert sorted(images.reset_stalled(ctxt, older_than=-1)) == sorted(
        [saving["id"], importing["id"]])
    assert images.get(ctxt, saving["id"])["status"] == "queued"
    assert images.get(ctxt, importing["id"])["status"] == "uploading"
