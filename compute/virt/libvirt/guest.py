"""What the libvirt driver reads from domains and the host: resource use, the
console log, the VNC address, disks in the domain XML, whether a domain runs;
and how it is stopped (by force, or cleanly within a timeout) and undefined.

Accounting follows the flavors, as the fake driver and the scheduler do: vCPUs
and memory are the defined domains' sizes (running or not); local disk is each
domain's ``stratus:flavor`` root_gb + ephemeral_gb (a domain Stratus did not
define counts no disk). ``local_gb`` is the size of the filesystem holding
``instances_path``; ``disk_available_least`` is what is free there minus what the
instances may still grow into (their flavor disk less what their directory
already takes).
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any
from xml.etree import ElementTree as ET

import libvirt  # type: ignore[import-untyped]
from oslo_log import log as logging

from compute.virt import exception
from compute.virt import model
from compute.virt.libvirt import config
from compute.virt.libvirt import host as libvirt_host
from compute.virt.libvirt import state
from compute.virt.power_state import PowerState

LOG = logging.getLogger(__name__)

GiB = 1024 ** 3
# How often a clean shutdown looks whether the guest stopped.
POLL_INTERVAL = 0.5
HYPERVISOR_TYPE = "QEMU"
# get_console_output returns at most the last 100 KiB of the log.
CONSOLE_MAX_BYTES = 100 * 1024


def _usage(path: str) -> int:
    """Bytes allocated to the files under ``path``."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.lstat(os.path.join(root, name)).st_blocks * 512
            except OSError:
                continue
    return total


def cpu_info(capabilities: str) -> dict[str, Any]:
    """The host CPU as Nova's ``cpu_info``, from libvirt's capabilities XML."""
    try:
        cpu = ET.fromstring(capabilities).find("host/cpu")
    except ET.ParseError:
        cpu = None
    if cpu is None:
        return {}
    topology = cpu.find("topology")
    topo = {k: int(topology.get(k, 1)) for k in ("sockets", "cores", "threads")} \
        if topology is not None else {}
    return {"arch": cpu.findtext("arch"), "model": cpu.findtext("model"),
            "vendor": cpu.findtext("vendor"), "topology": topo,
            "features": sorted(f.get("name", "") for f in cpu.findall("feature"))}


def host_resources(conn: Any, domains: list[Any], instances_path: str,
                   hostname: str) -> model.HostResources:
    """The node's size and use (see the module docstring)."""
    node = conn.getInfo()  # [model, memory MiB, cpus, MHz, nodes, sockets, cores, threads]
    fs = os.statvfs(instances_path)
    vcpus_used = memory_used = disk_used_gb = growth = 0
    for dom in domains:
        try:
            _state, max_kib, _mem, nvcpus, _time = dom.info()
            xml = ET.fromstring(dom.XMLDesc(0))
            uuid = dom.UUIDString()
        except libvirt.libvirtError as err:
            if err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
                continue  # undefined while we looked
            raise
        vcpus_used += nvcpus
        memory_used += max_kib // 1024
        disk_gb = config.flavor_disk_gb(xml)
        if disk_gb:
            disk_used_gb += disk_gb
            growth += max(0, disk_gb * GiB - _usage(os.path.join(instances_path, uuid)))
    free = fs.f_bavail * fs.f_frsize
    return model.HostResources(
        vcpus=int(node[2]), memory_mb=int(node[1]), local_gb=fs.f_blocks * fs.f_frsize // GiB,
        vcpus_used=vcpus_used, memory_mb_used=memory_used, local_gb_used=disk_used_gb,
        hypervisor_type=HYPERVISOR_TYPE, hypervisor_version=int(conn.getVersion()),
        hypervisor_hostname=hostname, cpu_info=cpu_info(conn.getCapabilities()),
        disk_available_least=(free - growth) // GiB)


def console_log_path(xml: ET.Element) -> str | None:
    """The file the domain's serial console is logged to."""
    for serial in xml.findall("devices/serial"):
        log = serial.find("log")
        if log is not None and log.get("file"):
            return log.get("file")
        source = serial.find("source")
        if serial.get("type") == "file" and source is not None and source.get("path"):
            return source.get("path")
    return None


def console_output(instance_uuid: str, path: str | None) -> str:
    """The last CONSOLE_MAX_BYTES of the log at ``path`` ("" before the first boot).

    :raises: ConsoleNotAvailable (no log), ConsoleLogOutputException.
    """
    if not path:
        raise exception.ConsoleNotAvailable()
    try:
        with open(path, "rb") as log:
            size = log.seek(0, os.SEEK_END)
            log.seek(max(0, size - CONSOLE_MAX_BYTES))
            data = log.read(CONSOLE_MAX_BYTES)
    except FileNotFoundError:
        return ""
    except OSError as err:
        raise exception.ConsoleLogOutputException(instance_id=instance_uuid,
                                                  reason=str(err)) from err
    return data.decode("utf-8", "replace")


def vnc_address(instance_uuid: str, xml: ET.Element) -> tuple[str, int]:
    """(listen address, port) of a running domain's VNC server.

    :raises: ConsoleTypeUnavailable (no VNC), InstanceNotReady (no port yet).
    """
    graphics = xml.find("devices/graphics[@type='vnc']")
    if graphics is None:
        raise exception.ConsoleTypeUnavailable(console_type="vnc")
    try:
        port = int(graphics.get("port", "-1"))
    except ValueError:
        port = -1
    if port <= 0:
        raise exception.InstanceNotReady(instance_id=instance_uuid,
                                         reason="its VNC server has no port yet")
    listen = graphics.get("listen") or ""
    element = graphics.find("listen")
    if not listen and element is not None:
        listen = element.get("address") or ""
    return listen, port


def find_disk(xml: ET.Element | None, target: str) -> ET.Element | None:
    """The ``<disk>`` of ``xml`` at target device ``target``."""
    if xml is None:
        return None
    for disk in xml.findall("devices/disk"):
        element = disk.find("target")
        if element is not None and element.get("dev") == target:
            return disk
    return None


def root_disk(xml: ET.Element, expected_path: str) -> tuple[str, str] | None:
    """(path, format) of the local root disk: the file at ``expected_path``, else
    the first file disk."""
    candidates = []
    for disk in xml.findall("devices/disk[@device='disk']"):
        source, driver = disk.find("source"), disk.find("driver")
        if disk.get("type") != "file" or source is None or not source.get("file"):
            continue
        fmt = driver.get("type", "raw") if driver is not None else "raw"
        candidates.append((source.get("file") or "", fmt))
    for path, fmt in candidates:
        if path == expected_path:
            return path, fmt
    return candidates[0] if candidates else None


def active(dom: Any) -> bool:
    """Whether the domain runs (a vanished domain does not)."""
    try:
        return bool(dom.isActive())
    except libvirt.libvirtError as err:
        if err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN:
            return False
        raise


def xmls(dom: Any) -> tuple[ET.Element, ET.Element | None]:
    """The domain's persistent XML and (when it runs) its live XML."""
    persistent = ET.fromstring(dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE))
    live = ET.fromstring(dom.XMLDesc(0)) if active(dom) else None
    return persistent, live


def power_state(dom: Any) -> PowerState:
    """The domain's power state (shut off with a managed save is SUSPENDED)."""
    code = dom.state()[0]
    saved = False
    if code == state.VIR_DOMAIN_SHUTOFF:
        try:
            saved = bool(dom.hasManagedSaveImage(0))
        except libvirt.libvirtError:
            saved = False
    return state.power_state_from_libvirt(code, saved)


def stop(dom: Any, sleep: Callable[[float], None]) -> None:
    """Power the domain off by force (tolerating one that already stopped)."""
    for attempt in range(3):
        if not active(dom):
            return
        try:
            dom.destroy()
            return
        except libvirt.libvirtError as err:
            code = err.get_error_code()
            if code in (libvirt.VIR_ERR_NO_DOMAIN, libvirt.VIR_ERR_OPERATION_INVALID):
                return
            if attempt == 2 or code != libvirt.VIR_ERR_SYSTEM_ERROR:
                raise
            LOG.warning("Destroying domain %s failed (%s); retrying", dom.name(), err)
            sleep(1)


def clean_shutdown(dom: Any, timeout: float, retry_interval: float,
                   clock: Callable[[], float], sleep: Callable[[float], None]) -> bool:
    """Ask the guest to shut down (ACPI), again every ``retry_interval``;
    whether it stopped within ``timeout`` seconds."""
    deadline = clock() + timeout
    asked = None
    while active(dom):
        now = clock()
        if now >= deadline:
            return False
        if asked is None or (retry_interval > 0 and now - asked >= retry_interval):
            with contextlib.suppress(libvirt.libvirtError):
                dom.shutdown()
            asked = now
        sleep(min(POLL_INTERVAL, max(deadline - now, 0.0)))
    return True


def undefine(dom: Any) -> None:
    """Undefine with its managed save and NVRAM (flags the hypervisor may lack)."""
    for flags in (libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_NVRAM,
                  libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE, None):
        try:
            if flags is None:
                dom.undefine()
            else:
                dom.undefineFlags(flags)
            return
        except libvirt.libvirtError as err:
            code = err.get_error_code()
            if code == libvirt.VIR_ERR_NO_DOMAIN:
                return
            if flags is None or code not in libvirt_host.UNSUPPORTED:
                raise


def diagnostics(dom: Any) -> dict[str, Any]:
    """Nova's libvirt diagnostics (the free-form shape before microversion 2.48):
    state, memory (KiB), per-vCPU time, and each disk's and vNIC's counters
    (what libvirt cannot tell is left out)."""
    info = dom.info()  # [state, max memory KiB, memory KiB, vcpus, cpu time ns]
    found: dict[str, Any] = {"state": power_state(dom).label, "memory": int(info[1])}
    if not active(dom):
        return found
    with contextlib.suppress(libvirt.libvirtError):
        for index, vcpu in enumerate(dom.vcpus()[0]):
            found["cpu%d_time" % index] = int(vcpu[2])
    with contextlib.suppress(libvirt.libvirtError):
        for key, value in dom.memoryStats().items():
            found["memory-" + key] = int(value)
    xml = ET.fromstring(dom.XMLDesc(0))
    for disk in xml.findall("./devices/disk/target"):
        dev = disk.get("dev")
        with contextlib.suppress(libvirt.libvirtError):
            if dev:
                rd_req, rd_bytes, wr_req, wr_bytes, errs = dom.blockStats(dev)
                found.update({dev + "_read_req": rd_req, dev + "_read": rd_bytes,
                              dev + "_write_req": wr_req, dev + "_write": wr_bytes,
                              dev + "_errors": errs})
    for nic in xml.findall("./devices/interface/target"):
        dev = nic.get("dev")
        with contextlib.suppress(libvirt.libvirtError):
            if dev:
                stats = dom.interfaceStats(dev)
                names = ("_rx", "_rx_packets", "_rx_errors", "_rx_drop",
                         "_tx", "_tx_packets", "_tx_errors", "_tx_drop")
                found.update({dev + name: int(v) for name, v in zip(names, stats, strict=False)})
    return found
