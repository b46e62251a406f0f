"""Disk image format detection from the first bytes of the data (and its last
512 bytes, for fixed VHDs), virtual sizes, and Glance's declared-vs-detected rules.

Only headers are parsed; nothing here runs qemu-img on untrusted data.
"""
from __future__ import annotations

import re
import struct

#: How much of the start of the data the inspectors need (ISO: 0x8001 + 5).
HEADER_SIZE = 64 * 1024
#: How much of the end of the data the inspectors need (a fixed VHD's footer).
TAIL_SIZE = 512

RAW = "raw"
#: Declared formats whose data is plain bytes.
_RAW_ALIASES = frozenset(("raw", "ami", "ari", "aki"))
#: Formats this module can recognise.
KNOWN = frozenset(("qcow2", "vmdk", "vhd", "vhdx", "vdi", "iso", RAW))

_QCOW2_MAGIC = b"QFI\xfb"
_QCOW2_INCOMPAT_DATA_FILE = 1 << 2
_VMDK_MAGIC = b"KDMV"
_VMDK_SAFE_TYPES = ("monolithicSparse", "streamOptimized")
_VHD_COOKIE = b"conectix"
_VHD_DIFFERENCING = 4
_VHDX_MAGIC = b"vhdxfile"
_VDI_SIGNATURE = 0xBEDA107F
_ISO_OFFSET = 0x8001
_SECTOR = 512


def _qcow2(header: bytes) -> int | None:
    if len(header) < 32:
        return None
    return int(struct.unpack(">Q", header[24:32])[0])


def _vmdk_descriptor_size(text: str) -> int | None:
    sectors = 0
    found = False
    for match in re.finditer(r'^\s*(?:RW|RDONLY|NOACCESS)\s+(\d+)\s', text, re.M):
        sectors += int(match.group(1))
        found = True
    return sectors * _SECTOR if found else None


def _vmdk_descriptor(header: bytes) -> str | None:
    """The text descriptor of a sparse VMDK, or of a descriptor-only file."""
    if header[:4] == _VMDK_MAGIC:
        if len(header) < 44:
            return None
        offset, size = struct.unpack("<QQ", header[28:44])
        start, end = offset * _SECTOR, (offset + size) * _SECTOR
        if not offset or start >= len(header):
            return None
        return header[start:min(end, len(header))].split(b"\0", 1)[0].decode(
            "ascii", "replace")
    if header.lstrip()[:21] == b"# Disk DescriptorFile":
        return header.split(b"\0", 1)[0].decode("ascii", "replace")
    return None


def _vmdk(header: bytes) -> int | None:
    if header[:4] == _VMDK_MAGIC:
        if len(header) < 20:
            return None
        return int(struct.unpack("<Q", header[12:20])[0]) * _SECTOR
    text = _vmdk_descriptor(header)
    return _vmdk_descriptor_size(text) if text is not None else None


def _vhd_footer(header: bytes, tail: bytes) -> bytes | None:
    """Dynamic/differencing disks copy the footer at offset 0; fixed ones only
    have it in the last 512 bytes."""
    if header[:8] == _VHD_COOKIE and len(header) >= _SECTOR:
        return header[:_SECTOR]
    if len(tail) >= _SECTOR and tail[-_SECTOR:][:8] == _VHD_COOKIE:
        return tail[-_SECTOR:]
    return None


def _vdi(header: bytes) -> int | None:
    if len(header) < 0x178:
        return None
    return int(struct.unpack("<Q", header[0x170:0x178])[0])


def _is_vdi(header: bytes) -> bool:
    return len(header) >= 0x44 and struct.unpack("<I", header[0x40:0x44])[0] == _VDI_SIGNATURE


def _is_iso(header: bytes) -> bool:
    return header[_ISO_OFFSET:_ISO_OFFSET + 5] == b"CD001"


def _iso(header: bytes) -> int | None:
    pvd = _ISO_OFFSET - 1
    if len(header) < pvd + 132:
        return None
    blocks = struct.unpack("<I", header[pvd + 80:pvd + 84])[0]
    block_size = struct.unpack("<H", header[pvd + 128:pvd + 130])[0]
    return int(blocks * block_size)


def detect(header: bytes, tail: bytes = b"") -> str:
    """The format of data starting with ``header`` (and ending with ``tail``)."""
    if header[:4] == _QCOW2_MAGIC:
        return "qcow2"
    if header[:8] == _VHDX_MAGIC:
        return "vhdx"
    if header[:4] == _VMDK_MAGIC or _vmdk_descriptor(header) is not None:
        return "vmdk"
    if _is_vdi(header):
        return "vdi"
    if _is_iso(header):
        return "iso"
    if _vhd_footer(header, tail) is not None:
        return "vhd"
    return RAW


def inspect(header: bytes, total_size: int, tail: bytes = b"") -> tuple[str, int | None]:
    """Detect the format and read the virtual size.

    :param header: the first :data:`HEADER_SIZE` bytes (or all, if shorter).
    :param total_size: the size of the data.
    :param tail: the last :data:`TAIL_SIZE` bytes (optional, for fixed VHDs).
    :returns: ``(format, virtual_size)``; the size is None when the header does
        not hold it (VHDX) or is damaged.
    :raises: nothing.
    """
    fmt = detect(header, tail)
    size: int | None
    try:
        if fmt == "qcow2":
            size = _qcow2(header)
        elif fmt == "vmdk":
            size = _vmdk(header)
        elif fmt == "vhd":
            footer = _vhd_footer(header, tail)
            size = int(struct.unpack(">Q", footer[48:56])[0]) if footer else None
        elif fmt == "vdi":
            size = _vdi(header)
        elif fmt == "iso":
            size = _iso(header)
        elif fmt == RAW:
            size = total_size
        else:
            size = None
    except (struct.error, ValueError):
        size = None
    return fmt, size


def safety_issue(header: bytes, tail: bytes = b"") -> str | None:
    """Why data starting with ``header`` must not be handed to a hypervisor: an
    image that references files outside itself (a qcow2 backing file or external
    data file, a VMDK with extents in other files, a differencing VHD).

    :returns: a reason, or None when nothing is wrong.
    :raises: nothing.
    """
    fmt = detect(header, tail)
    if fmt == "qcow2" and len(header) >= 20:
        version, backing_offset = struct.unpack(">IQ", header[4:16])
        if backing_offset:
            return "qcow2 image has a backing file"
        if version >= 3 and len(header) >= 80:
            incompatible = struct.unpack(">Q", header[72:80])[0]
            if incompatible & _QCOW2_INCOMPAT_DATA_FILE:
                return "qcow2 image has an external data file"
    elif fmt == "vmdk":
        text = _vmdk_descriptor(header)
        if header[:4] != _VMDK_MAGIC:
            return "vmdk descriptor file references extent files"
        if text is not None:
            match = re.search(r'^\s*createType\s*=\s*"?([A-Za-z]+)"?', text, re.M)
            if match and match.group(1) not in _VMDK_SAFE_TYPES:
                return "vmdk create type %s is not allowed" % match.group(1)
            for extent in re.finditer(r'^\s*(?:RW|RDONLY|NOACCESS)\s+\d+\s+(\w+)', text, re.M):
                if extent.group(1).upper() != "SPARSE":
                    return "vmdk extent type %s references other files" % extent.group(1)
    elif fmt == "vhd":
        footer = _vhd_footer(header, tail)
        if footer and struct.unpack(">I", footer[60:64])[0] == _VHD_DIFFERENCING:
            return "vhd image is a differencing disk"
    return None


def matches(declared: str | None, detected: str) -> bool:
    """Glance's rule for ``[image] require_image_format_match``.

    ami/ari/aki/raw must be plain data (a qcow2 uploaded as raw is refused);
    every format this module knows must be itself; formats it cannot recognise
    (ploop, or none declared) are not checked.
    """
    if declared is None:
        return True
    if declared in _RAW_ALIASES:
        return detected == RAW
    if declared in KNOWN:
        return detected == declared
    return True
