"""Fingerprints as Nova computes them (MD5 of the key blob), checked against ssh-keygen."""
from __future__ import annotations

import os
import shutil
import subprocess
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from compute import exception
from compute import ssh_keys

# A fixed key and its fingerprint as `ssh-keygen -l -E md5` prints it.
KEY = ("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBcGN5DW8jsmEDw8eX6UvpS0amtMUrrzVjlXO/jX6JDX "
       "test@stratus")


def test_known_fingerprint() -> None:
    blob_fp = ssh_keys.fingerprint(KEY)
    assert len(blob_fp.split(":")) == 16
    assert blob_fp == ssh_keys.fingerprint(KEY.rsplit(" ", 1)[0])


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="no ssh-keygen")
def test_matches_ssh_keygen(tmp_path: Any) -> None:
    public = ed25519.Ed25519PrivateKey.generate().public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    path = os.path.join(str(tmp_path), "k.pub")
    with open(path, "w") as handle:
        handle.write(public + "\n")
    out = subprocess.run(["ssh-keygen", "-l", "-E", "md5", "-f", path], check=True,
                         capture_output=True, text=True).stdout
    assert "MD5:" + ssh_keys.fingerprint(public) in out


@pytest.mark.parametrize("bad", ["", "ssh-rsa", "ssh-rsa AAAA", "nonsense key", "ssh-ed25519 !!"])
def test_invalid_keys(bad: str) -> None:
    with pytest.raises(exception.InvalidKeypair):
        ssh_keys.fingerprint(bad)


def test_generate_round_trip() -> None:
    private, public, fingerprint = ssh_keys.generate(bits=2048)
    assert private.startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert public.endswith(" " + ssh_keys.GENERATED_COMMENT)
    assert fingerprint == ssh_keys.fingerprint(public)
