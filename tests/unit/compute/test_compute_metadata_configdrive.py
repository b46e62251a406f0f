"""The config drive image: an ISO 9660 labelled config-2 holding the same
documents as the metadata API, readable back (pycdlib; blkid/isoinfo when the
machine has them)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from typing import Any

import pytest

from compute.metadata import configdrive
from compute.metadata import content
from tests.unit.compute import test_compute_metadata_content as samples


def test_image_holds_the_metadata_documents(tmp_path: Any) -> None:
    path = str(tmp_path / "disk.config")
    md = content.InstanceMetadata(samples.instance(), content.Settings(vendordata={"a": 1}),
                                  content=[("/etc/motd", b"hi\n")])
    configdrive.build_config_drive({}, path, metadata=md)
    assert configdrive.volume_label(path) == "config-2"
    files = configdrive.read_config_drive(path)
    assert files == dict(md.files())
    meta = json.loads(files["openstack/latest/meta_data.json"])
    assert meta["uuid"] == samples.UUID and meta["public_keys"] == {"mykey": samples.KEY}
    assert meta["files"] == [{"path": "/etc/motd", "content_path": "/content/0000"}]
    assert files["openstack/latest/user_data"] == b"#!/bin/sh\necho hi\n"
    assert json.loads(files["openstack/latest/vendor_data.json"]) == {"a": 1}
    assert json.loads(files["openstack/2018-08-27/network_data.json"])["links"][0]["id"] == \
        "tap" + samples.PORT1[:11]
    assert json.loads(files["ec2/latest/meta-data.json"])["instance-id"] == "i-0000002a"
    assert files["openstack/content/0000"] == b"hi\n"
    assert os.stat(path).st_mode & 0o777 == 0o644
    assert [n for n in os.listdir(tmp_path) if n.startswith(".configdrive-")] == []


def test_built_from_an_instance_dict(tmp_path: Any) -> None:
    path = str(tmp_path / "disk.config")
    configdrive.build_config_drive(samples.instance(user_data=None, key_name=None), path,
                                   extra_files=[("/root/a.txt", b"A")],
                                   settings=content.Settings(dhcp_domain=""))
    files = configdrive.read_config_drive(path)
    assert "openstack/latest/user_data" not in files and "ec2/latest/user-data" not in files
    meta = json.loads(files["openstack/latest/meta_data.json"])
    assert meta["hostname"] == "web-1" and "public_keys" not in meta
    assert files["openstack/content/0000"] == b"A"
    # Rebuilding replaces the image.
    configdrive.build_config_drive(samples.instance(), path)
    assert "openstack/latest/user_data" in configdrive.read_config_drive(path)


@pytest.mark.skipif(shutil.which("blkid") is None, reason="blkid is not installed")
def test_blkid_sees_the_label(tmp_path: Any) -> None:
    path = str(tmp_path / "disk.config")
    configdrive.build_config_drive(samples.instance(), path)
    out = subprocess.run(["blkid", "-o", "value", "-s", "LABEL", path], capture_output=True,
                         text=True, check=False)
    assert out.stdout.strip() == "config-2"
    kind = subprocess.run(["blkid", "-o", "value", "-s", "TYPE", path], capture_output=True,
                          text=True, check=False)
    assert kind.stdout.strip() == "iso9660"


@pytest.mark.skipif(configdrive.find_tool() is None, reason="no genisoimage/mkisofs/xorriso")
def test_tool_fallback(tmp_path: Any) -> None:
    path = str(tmp_path / "disk.config")
    md = content.InstanceMetadata(samples.instance())
    configdrive._write_with_tool(list(md.files()), path)
    assert configdrive.volume_label(path) == "config-2"
    assert configdrive.read_config_drive(path) == dict(md.files())


def test_no_tool_is_a_clear_error(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(configdrive, "find_tool", lambda: None)
    with pytest.raises(configdrive.ConfigDriveError, match="pycdlib"):
        configdrive._write_with_tool([("a/b", b"x")], str(tmp_path / "x.iso"))
