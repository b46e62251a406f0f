"""``stratus image ...`` against real image daemons: upload and download round
trip, sharing, and errors that say what to do."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
from typing import Any

from tests.functional.conftest import ImageCloud, make_user, script, unique

MIB = 1048576


def stratus(cloud: ImageCloud, *args: str, env: dict[str, str] | None = None,
            check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([script("stratus"), "image", *args], env=env or cloud.env(),
                            capture_output=True, text=True, timeout=300)
    if check and result.returncode != 0:
        raise AssertionError("stratus image %s failed (%d):\n%s%s" % (
            " ".join(args), result.returncode, result.stdout, result.stderr))
    return result


def _json(cloud: ImageCloud, *args: str, env: dict[str, str] | None = None) -> Any:
    return json.loads(stratus(cloud, *args, "-f", "json", env=env).stdout)


def _md5(path: str) -> str:
    md5 = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as handle:
        while chunk := handle.read(MIB):
            md5.update(chunk)
    return md5.hexdigest()


def test_create_download_share_accept_delete(image_cloud: ImageCloud, tmp_path: Any) -> None:
    cloud = image_cloud
    path = str(tmp_path / "disk.raw")
    with open(path, "wb") as handle:
        for i in range(12):
            handle.write(bytes([i]) * MIB)
    name = unique("cli")
    image = _json(cloud, "create", name, "--file", path, "--private", "--property",
                  "stratus_purpose=test", "--tag", "t1")
    assert image["name"] == name and image["status"] == "active"
    assert image["checksum"] == _md5(path) and image["size"] == 12 * MIB
    assert image["visibility"] == "private" and image["stratus_purpose"] == "test"
    assert image["tags"] == ["t1"]

    rows = _json(cloud, "list")
    assert {"id": image["id"], "name": name, "status": "active"}.items() <= \
        next(r for r in rows if r["id"] == image["id"]).items()
    assert _json(cloud, "show", name)["id"] == image["id"]
    value = stratus(cloud, "list", "-f", "value").stdout
    assert image["id"] in value

    out = str(tmp_path / "out.raw")
    done = stratus(cloud, "download", name, "--file", out)
    assert _md5(out) == image["checksum"] and out in done.stdout
    assert not [f for f in os.listdir(tmp_path) if f.endswith(".part")]

    # Share by project name (as admin), accept as the other project.
    p2, u2 = unique("p2"), unique("u2")
    p2_id, _ = make_user(cloud.identity, p2, u2, "pw")
    other = cloud.env(user=u2, password="pw", project=p2)
    member = _json(cloud, "share", name, "--project", p2)
    assert member["member_id"] == p2_id and member["status"] == "pending"
    assert _json(cloud, "show", image["id"])["visibility"] == "shared"
    assert image["id"] not in stratus(cloud, "list", "-f", "value", env=other).stdout
    accepted = _json(cloud, "accept", image["id"], env=other)
    assert accepted["status"] == "accepted"
    assert image["id"] in stratus(cloud, "list", "-f", "value", env=other).stdout
    mine = str(tmp_path / "member.raw")
    stratus(cloud, "download", image["id"], "--file", mine, env=other)
    assert _md5(mine) == image["checksum"]

    denied = stratus(cloud, "delete", image["id"], env=other, check=False)
    assert denied.returncode == 1 and "Traceback" not in denied.stderr

    assert "deleted image" in stratus(cloud, "delete", name).stdout
    missing = stratus(cloud, "show", name, check=False)
    assert missing.returncode == 1 and "no image" in missing.stderr


def test_errors_say_what_to_do(image_cloud: ImageCloud, tmp_path: Any) -> None:
    cloud = image_cloud
    result = stratus(cloud, "create", unique("x"), "--file", str(tmp_path / "nope"),
                     check=False)
    assert result.returncode == 1 and "cannot read" in result.stderr

    path = str(tmp_path / "small.raw")
    with open(path, "wb") as handle:
        handle.write(b"\0" * 4096)
    bad = stratus(cloud, "create", unique("x"), "--file", path, "--disk-format", "floppy",
                  check=False)
    assert bad.returncode == 1 and "HTTP 400" in bad.stderr and "Traceback" not in bad.stderr

    wrong = stratus(cloud, "list", env=cloud.env(password="wrong"), check=False)
    assert wrong.returncode == 1 and "authentication failed" in wrong.stderr

    noenv = {k: v for k, v in cloud.env().items() if k != "OS_AUTH_URL"}
    unset = stratus(cloud, "list", env=noenv, check=False)
    assert unset.returncode == 1 and "OS_AUTH_URL" in unset.stderr

    accept = stratus(cloud, "accept", "00000000-0000-4000-8000-000000000000", check=False)
    assert accept.returncode == 1 and "Traceback" not in accept.stderr
