"""The image service keeping image data in the object store (``[store] default_store =
swift``): real image daemons, a real object store, the ``openstack`` and ``swift``
clients. The image's bytes are segments of a static large object in the image
service's own account (container ``images``)."""
from __future__ import annotations

import hashlib
import json
import os
import time
from typing import Any, Iterator

import pytest

from tests.functional.conftest import (
    GLANCE_PASSWORD, IdentityCloud, ImageCloud, make_user)
from tests.functional.objectstore.conftest import ObjectStoreCloud, md5_file

MIB = 1024 * 1024
CHUNK_MIB = 10


def _swift_store_conf(identity: IdentityCloud) -> str:
    """[store] on the object store, with the image service's own credentials."""
    return "\n".join([
        "[store]", "default_store = swift",
        "swift_store_large_object_chunk_size = %d" % CHUNK_MIB,
        "[swift_store]", "auth_url = %s" % identity.url, "auth_type = password",
        "username = glance", "password = %s" % GLANCE_PASSWORD, "project_name = service",
        "user_domain_name = Default", "project_domain_name = Default",
        "region_name = RegionOne"])


@pytest.fixture(scope="module")
def swift_image_cloud(objectstore_cloud: ObjectStoreCloud,
                      tmp_path_factory: Any) -> Iterator[ImageCloud]:
    identity = objectstore_cloud.identity
    cloud = ImageCloud(str(tmp_path_factory.mktemp("image-swift")), identity,
                       extra_conf=_swift_store_conf(identity))
    # glance has admin on project service already; member is the usual operator role
    make_user(identity, "service", "glance", GLANCE_PASSWORD, roles=("member",))
    yield cloud
    cloud.stop()


def _glance_env(cloud: ObjectStoreCloud) -> dict[str, str]:
    return cloud.identity.env("glance", GLANCE_PASSWORD, "service")


def _objects(cloud: ObjectStoreCloud, container: str = "images") -> list[str]:
    result = cloud.swift("list", container, env=_glance_env(cloud), check=False)
    if result.returncode != 0:
        assert "not found" in result.stderr, result.stderr
        return []
    return [line for line in result.stdout.splitlines() if line.strip()]


def test_image_data_round_trip_through_the_object_store(
        objectstore_cloud: ObjectStoreCloud, swift_image_cloud: ImageCloud,
        tmp_path: Any) -> None:
    images = swift_image_cloud
    store = objectstore_cloud
    size = 3 * CHUNK_MIB * MIB - 12345  # three segments, the last one short
    src = os.path.join(str(tmp_path), "disk.raw")
    with open(src, "wb") as handle:
        handle.write(os.urandom(size))

    created = json.loads(images.openstack(
        "image", "create", "--file", src, "--disk-format", "raw", "--container-format",
        "bare", "-f", "json", "swift-image").stdout)
    image_id = created["id"]
    shown = json.loads(images.openstack("image", "show", image_id, "-f", "json").stdout)
    assert shown["status"] == "active"
    assert shown["size"] == size
    assert shown["checksum"] == md5_file(src)

    # the data lives in the image service's account: three segments and the manifest
    names = _objects(store)
    segments = ["%s-%05d" % (image_id, n) for n in (1, 2, 3)]
    assert sorted(names) == sorted([image_id] + segments)
    glance = _glance_env(store)
    manifest = store.swift("stat", "images", image_id, env=glance).stdout
    assert "X-Static-Large-Object: True" in manifest
    assert "Content Length: %d" % size in manifest
    first = store.swift("stat", "images", segments[0], env=glance).stdout
    assert "Content Length: %d" % (CHUNK_MIB * MIB) in first
    # nothing went to the filesystem store
    assert not os.path.isdir(images.datadir) or os.listdir(images.datadir) == []
    # the demo user may not read the image service's account
    storage_url = "%s/v1/AUTH_" % store.url
    denied = store.swift("--os-storage-url", storage_url + _service_project(images),
                         "list", "images", check=False)
    assert denied.returncode != 0 and "403" in denied.stderr

    out = os.path.join(str(tmp_path), "saved.raw")
    images.openstack("image", "save", "--file", out, image_id)
    assert md5_file(out) == md5_file(src)
    with open(out, "rb") as a, open(src, "rb") as b:
        assert hashlib.sha256(a.read()).digest() == hashlib.sha256(b.read()).digest()

    images.openstack("image", "delete", image_id)
    deadline = time.monotonic() + 15
    while _objects(store) and time.monotonic() < deadline:
        time.sleep(0.3)
    assert _objects(store) == []
    assert objectstore_cloud.tracebacks() == [], objectstore_cloud.logs()


def _service_project(images: ImageCloud) -> str:
    from tests.functional.conftest import admin_session

    sess = admin_session(images.identity)
    found = sess.get(images.identity.auth_url + "/projects", params={"name": "service"})
    return str(found.json()["projects"][0]["id"])
