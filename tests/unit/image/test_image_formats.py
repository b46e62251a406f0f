"""Format detection, virtual sizes, safety checks and Glance's matching rules."""
from __future__ import annotations

import os
import shutil
import struct
import subprocess

import pytest

from image import formats

GIB = 1024 ** 3
HAVE_QEMU_IMG = shutil.which("qemu-img") is not None
needs_qemu_img = pytest.mark.skipif(not HAVE_QEMU_IMG, reason="qemu-img is not installed")


def qcow2_header(size: int = GIB, version: int = 3, backing: int = 0,
                 incompatible: int = 0) -> bytes:
    head = b"QFI\xfb" + struct.pack(">IQIIQ", version, backing, 0, 16, size)
    head = head.ljust(72, b"\0") + struct.pack(">Q", incompatible)
    return head.ljust(512, b"\0")


def vmdk_sparse(capacity_sectors: int, descriptor: bytes = b"") -> bytes:
    head = b"KDMV" + struct.pack("<IIQQQQ", 1, 3, capacity_sectors, 128,
                                 1 if descriptor else 0, 20 if descriptor else 0)
    return head.ljust(512, b"\0") + descriptor.ljust(20 * 512, b"\0")


def vhd_footer(size: int, disk_type: int = 3) -> bytes:
    footer = bytearray(512)
    footer[:8] = b"conectix"
    footer[48:56] = struct.pack(">Q", size)
    footer[60:64] = struct.pack(">I", disk_type)
    return bytes(footer)


def vdi_header(size: int) -> bytes:
    head = bytearray(0x200)
    head[:39] = b"<<< Oracle VM VirtualBox Disk Image >>>"
    head[0x40:0x44] = struct.pack("<I", 0xBEDA107F)
    head[0x170:0x178] = struct.pack("<Q", size)
    return bytes(head)


def iso_header(blocks: int, block_size: int = 2048) -> bytes:
    head = bytearray(0x8000 + 2048)
    pvd = 0x8000
    head[pvd] = 1
    head[pvd + 1:pvd + 6] = b"CD001"
    head[pvd + 80:pvd + 84] = struct.pack("<I", blocks)
    head[pvd + 128:pvd + 130] = struct.pack("<H", block_size)
    return bytes(head)


# -- hand-built headers
def test_qcow2() -> None:
    assert formats.inspect(qcow2_header(5 * GIB), 4096) == ("qcow2", 5 * GIB)
    assert formats.safety_issue(qcow2_header()) is None


def test_qcow2_with_backing_file_or_data_file_is_unsafe() -> None:
    assert "backing file" in (formats.safety_issue(qcow2_header(backing=512)) or "")
    assert "data file" in (formats.safety_issue(qcow2_header(incompatible=1 << 2)) or "")
    # version 2 has no incompatible-features field
    assert formats.safety_issue(qcow2_header(version=2, incompatible=1 << 2)) is None


def test_vmdk_sparse() -> None:
    descriptor = (b'# Disk DescriptorFile\nversion=1\ncreateType="monolithicSparse"\n'
                  b'RW 2097152 SPARSE "disk.vmdk"\n')
    header = vmdk_sparse(2097152, descriptor)
    assert formats.inspect(header, len(header)) == ("vmdk", GIB)
    assert formats.safety_issue(header) is None


def test_vmdk_sparse_with_flat_extent_is_unsafe() -> None:
    descriptor = b'createType="monolithicSparse"\nRW 2048 FLAT "/etc/shadow" 0\n'
    assert "FLAT" in (formats.safety_issue(vmdk_sparse(2048, descriptor)) or "")
    descriptor = b'createType="twoGbMaxExtentSparse"\nRW 2048 SPARSE "a.vmdk"\n'
    assert "twoGbMaxExtentSparse" in (formats.safety_issue(vmdk_sparse(2048, descriptor))
                                      or "")


def test_vmdk_descriptor_file() -> None:
    text = (b'# Disk DescriptorFile\nversion=1\ncreateType="monolithicFlat"\n'
            b'RW 1024 FLAT "a-flat.vmdk" 0\nRW 1024 FLAT "b-flat.vmdk" 0\n')
    assert formats.inspect(text, len(text)) == ("vmdk", 2048 * 512)
    assert "descriptor" in (formats.safety_issue(text) or "")


def test_vhd_dynamic_and_differencing() -> None:
    header = vhd_footer(3 * GIB).ljust(2048, b"\0")
    assert formats.inspect(header, 2048) == ("vhd", 3 * GIB)
    assert formats.safety_issue(header) is None
    diff = vhd_footer(GIB, disk_type=4).ljust(2048, b"\0")
    assert "differencing" in (formats.safety_issue(diff) or "")


def test_vhd_fixed_needs_the_tail() -> None:
    data = b"\x01" * 4096 + vhd_footer(4096, disk_type=2)
    assert formats.inspect(data[:65536], len(data)) == ("raw", len(data))
    assert formats.inspect(data[:65536], len(data), data[-512:]) == ("vhd", 4096)


def test_vhdx() -> None:
    assert formats.inspect(b"vhdxfile" + b"\0" * 1000, 1008) == ("vhdx", None)


def test_vdi() -> None:
    assert formats.inspect(vdi_header(7 * GIB), 4096) == ("vdi", 7 * GIB)


def test_iso() -> None:
    header = iso_header(1000)
    assert formats.inspect(header, 1000 * 2048) == ("iso", 1000 * 2048)
    # the volume descriptor is at 32 KiB: a shorter header cannot show it
    assert formats.detect(header[:0x8000]) == "raw"


@pytest.mark.parametrize("data", [b"", b"\0" * 100, os.urandom(70000), b"QFI", b"KDM"])
def test_raw(data: bytes) -> None:
    assert formats.inspect(data[:formats.HEADER_SIZE], len(data)) == ("raw", len(data))
    assert formats.safety_issue(data) is None


def test_damaged_headers_have_no_virtual_size() -> None:
    # the magic alone decides: qemu would probe such "raw" data as qcow2/vmdk
    assert formats.inspect(b"QFI\xfb\0\0\0\3", 8) == ("qcow2", None)
    assert formats.inspect(b"KDMV\1\0\0\0", 8) == ("vmdk", None)


# -- Glance's rules
@pytest.mark.parametrize("declared,detected,ok", [
    ("raw", "raw", True), ("ami", "raw", True), ("ari", "raw", True), ("aki", "raw", True),
    ("raw", "qcow2", False), ("ami", "qcow2", False), ("raw", "iso", False),
    ("qcow2", "qcow2", True), ("qcow2", "raw", False), ("qcow2", "vmdk", False),
    ("vmdk", "vmdk", True), ("vhd", "vhd", True), ("vhdx", "vhdx", True),
    ("vdi", "vdi", True), ("iso", "iso", True), ("iso", "raw", False),
    ("ploop", "raw", True), ("ploop", "qcow2", True), (None, "qcow2", True),
])
def test_matches(declared: str | None, detected: str, ok: bool) -> None:
    assert formats.matches(declared, detected) is ok


# -- real files from qemu-img
def _qemu_img(tmp_path: os.PathLike[str], fmt: str, *options: str) -> bytes:
    path = os.path.join(str(tmp_path), "disk." + fmt)
    subprocess.run(["qemu-img", "create", "-q", "-f", fmt, *options, path, "1G"],
                   check=True)
    with open(path, "rb") as handle:
        return handle.read()


@needs_qemu_img
@pytest.mark.parametrize("qemu_fmt,expected,options", [
    ("qcow2", "qcow2", ()), ("vmdk", "vmdk", ()),
    ("vmdk", "vmdk", ("-o", "subformat=streamOptimized")),
    ("vpc", "vhd", ()), ("vdi", "vdi", ()), ("vhdx", "vhdx", ()),
])
def test_qemu_img_images(tmp_path: os.PathLike[str], qemu_fmt: str, expected: str,
                         options: tuple[str, ...]) -> None:
    data = _qemu_img(tmp_path, qemu_fmt, *options)
    fmt, size = formats.inspect(data[:formats.HEADER_SIZE], len(data), data[-512:])
    assert fmt == expected
    if expected == "vhd":
        assert size is not None and GIB <= size < GIB + 1024 * 1024  # CHS rounding
    elif expected != "vhdx":
        assert size == GIB
    assert formats.safety_issue(data[:formats.HEADER_SIZE]) is None
    assert formats.matches(expected, fmt)
    assert not formats.matches("raw", fmt)


@needs_qemu_img
def test_qemu_img_qcow2_with_backing_file(tmp_path: os.PathLike[str]) -> None:
    base = os.path.join(str(tmp_path), "base.qcow2")
    top = os.path.join(str(tmp_path), "top.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", base, "1G"], check=True)
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2",
                    top], check=True)
    with open(top, "rb") as handle:
        header = handle.read(formats.HEADER_SIZE)
    assert formats.detect(header) == "qcow2"
    assert "backing file" in (formats.safety_issue(header) or "")
