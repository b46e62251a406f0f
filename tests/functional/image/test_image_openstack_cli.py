"""The issue's user story with the real ``openstack`` CLI against real image
daemons (registry and API processes over RabbitMQ, identity as a process)."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from typing import Any

import pytest

from tests.functional.conftest import ImageCloud, make_user, unique

MIB = 1048576


def _json(cloud: ImageCloud, *args: str, env: dict[str, str] | None = None) -> Any:
    return json.loads(cloud.openstack(*args, "-f", "json", env=env).stdout)


def _field(image: dict[str, Any], key: str) -> Any:
    """A field OSC shows at the top level or inside ``properties``."""
    if key in image:
        return image[key]
    return (image.get("properties") or {}).get(key)


def _hashes(path: str) -> tuple[str, str, int]:
    md5, sha512, size = hashlib.md5(usedforsecurity=False), hashlib.sha512(), 0
    with open(path, "rb") as handle:
        while chunk := handle.read(MIB):
            md5.update(chunk)
            sha512.update(chunk)
            size += len(chunk)
    return md5.hexdigest(), sha512.hexdigest(), size


def write_file(path: str, mib: int) -> str:
    """``mib`` MiB of random-ish bytes (no two MiB alike), written in chunks."""
    block = os.urandom(MIB)
    with open(path, "wb") as handle:
        for i in range(mib):
            handle.write(i.to_bytes(8, "big") + block[8:])
    return path


@pytest.fixture(scope="module")
def big_file(tmp_path_factory: Any) -> str:
    return write_file(str(tmp_path_factory.mktemp("data") / "big.raw"), 100)


def _stored(cloud: ImageCloud) -> set[str]:
    """The files in the image file store."""
    return {os.path.join(top, f) for top, _, files in os.walk(cloud.datadir) for f in files}


def _names(cloud: ImageCloud, env: dict[str, str] | None = None) -> list[str]:
    return [i["Name"] for i in _json(cloud, "image", "list", env=env)]


def test_create_list_show_save_set_deactivate_delete(image_cloud: ImageCloud, big_file: str,
                                                     tmp_path: Any) -> None:
    cloud = image_cloud
    md5, sha512, size = _hashes(big_file)
    name = unique("big")
    before = _stored(cloud)
    created = _json(cloud, "image", "create", "--file", big_file, "--disk-format", "raw",
                    "--container-format", "bare", name)
    image_id = created["id"]
    assert created["status"] == "active" and created["size"] == size == 100 * MIB
    assert created["checksum"] == md5

    assert name in _names(cloud)
    shown = _json(cloud, "image", "show", name)
    assert shown["id"] == image_id and shown["checksum"] == md5
    assert shown["disk_format"] == "raw" and shown["container_format"] == "bare"
    assert _field(shown, "os_hash_algo") == "sha512"
    assert _field(shown, "os_hash_value") == sha512
    assert shown["virtual_size"] == size

    # The data is in the file store, once.
    added = _stored(cloud) - before
    assert [os.path.getsize(f) for f in added] == [size], added

    out = str(tmp_path / "saved.raw")
    cloud.openstack("image", "save", "--file", out, image_id)
    assert _hashes(out) == (md5, sha512, size)
    os.unlink(out)

    cloud.openstack("image", "set", "--property", "stratus_k=v1", "--property", "os_distro=x",
                    image_id)
    shown = _json(cloud, "image", "show", image_id)
    assert _field(shown, "stratus_k") == "v1" and _field(shown, "os_distro") == "x"

    cloud.openstack("image", "set", "--deactivate", image_id)
    assert _json(cloud, "image", "show", image_id)["status"] == "deactivated"
    cloud.openstack("image", "set", "--activate", image_id)
    assert _json(cloud, "image", "show", image_id)["status"] == "active"

    cloud.openstack("image", "delete", image_id)
    assert name not in _names(cloud)
    gone = cloud.openstack("image", "show", image_id, check=False)
    assert gone.returncode != 0
    assert not added & _stored(cloud), "deleting the image left its data behind"


def test_qcow2_image_reports_its_virtual_size(image_cloud: ImageCloud, tmp_path: Any) -> None:
    qemu_img = shutil.which("qemu-img")
    if not qemu_img:
        pytest.skip("qemu-img is not installed (apt-get install qemu-utils)")
    path = str(tmp_path / "disk.qcow2")
    subprocess.run([qemu_img, "create", "-q", "-f", "qcow2", path, "1G"], check=True)
    md5, _, size = _hashes(path)
    created = _json(image_cloud, "image", "create", "--file", path, "--disk-format", "qcow2",
                    "--container-format", "bare", unique("qcow2"))
    assert created["status"] == "active" and created["checksum"] == md5
    shown = _json(image_cloud, "image", "show", created["id"])
    assert shown["size"] == size and shown["virtual_size"] == 1024 * MIB
    out = str(tmp_path / "saved.qcow2")
    image_cloud.openstack("image", "save", "--file", out, created["id"])
    assert _hashes(out)[0] == md5
    image_cloud.openstack("image", "delete", created["id"])


def test_share_with_another_project_and_accept(image_cloud: ImageCloud, tmp_path: Any) -> None:
    cloud = image_cloud
    path = write_file(str(tmp_path / "small.raw"), 2)
    md5 = _hashes(path)[0]
    name = unique("shared")
    image = _json(cloud, "image", "create", "--file", path, "--disk-format", "raw",
                  "--container-format", "bare", "--shared", name)
    assert image["visibility"] == "shared"
    p2, u2 = unique("p2"), unique("u2")
    p2_id, _ = make_user(cloud.identity, p2, u2, "pw")
    other = cloud.env(user=u2, password="pw", project=p2)

    # Not shared yet: the other project neither lists nor reads it.
    assert name not in _names(cloud, env=other)
    assert cloud.openstack("image", "show", image["id"], env=other, check=False).returncode

    cloud.openstack("image", "add", "project", image["id"], p2_id)
    members = _json(cloud, "image", "member", "list", image["id"])
    assert [(m["Member ID"], m["Status"]) for m in members] == [(p2_id, "pending")]
    # Pending: readable by id, not in the member's default listing.
    assert _json(cloud, "image", "show", image["id"], env=other)["id"] == image["id"]
    assert name not in _names(cloud, env=other)

    cloud.openstack("image", "set", "--accept", image["id"], env=other)
    assert name in _names(cloud, env=other)
    members = _json(cloud, "image", "member", "list", image["id"])
    assert [(m["Member ID"], m["Status"]) for m in members] == [(p2_id, "accepted")]
    out = str(tmp_path / "by-member.raw")
    cloud.openstack("image", "save", "--file", out, image["id"], env=other)
    assert _hashes(out)[0] == md5

    # A member may not change or delete the owner's image.
    assert cloud.openstack("image", "set", "--property", "x=y", image["id"], env=other,
                           check=False).returncode
    assert cloud.openstack("image", "delete", image["id"], env=other, check=False).returncode
    assert _json(cloud, "image", "show", image["id"])["status"] == "active"

    cloud.openstack("image", "remove", "project", image["id"], p2_id)
    assert name not in _names(cloud, env=other)
    cloud.openstack("image", "delete", image["id"])
