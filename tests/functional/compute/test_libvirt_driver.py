"""The libvirt driver drives a real guest under libvirtd/QEMU, as root.

The tiny guest image (devstack/lib/guest_image.sh, built into a temporary
directory; .debs cached as in test_guest_image.py) is spawned through
``LibvirtDriver`` with a fake ``fetch_image`` serving its kernel, ramdisk and a
1 MiB raw disk, the way devstack uploads it (ami + aki + ari). Its VIF is on a
test bridge with a dnsmasq and a stand-in metadata server; ``wait_for_vifs``
plays the bridge agent: it finds the guest paused and its tap created by
libvirt, and plugs the tap into the bridge. The guest has a config drive (the
metadata documents a node gathers): the running domain has ``disk.config`` as a
read-only IDE CD-ROM holding the instance's uuid. Then: the console log shows the
lease, pause/unpause, suspend/resume (the tap is re-plugged, as the agent
would), a qcow2 file volume is hot-attached and the guest lists it (a command
typed on its serial console), detached, the root disk is snapshotted, the VNC
port read, SOFT (falling back to HARD: the guest ignores ACPI) and HARD reboots
boot it again (the console log keeps every boot), power_off removes its tap, and
destroy leaves no domain, tap or file. A second guest is resized to more memory
on this host (cold: powered off, disks set aside in ``<uuid>_resize``, booted
again with the new size and the same tap, checked from inside), reverted (the
old size and disks back), then resized again and confirmed.

libvirtd and virtlogd are started (in the foreground, as children) only when
not already running, shared with the other test workers' modules, and stopped by
pid once none uses them; dnsmasq is stopped too; the bridge is deleted.
"""
from __future__ import annotations

import fcntl
import http.server
import ipaddress
import os
import random
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
SCRIPT = os.path.join(REPO, "devstack", "lib", "guest_image.sh")
METADATA_IP = "169.254.169.254"
BOOT_TIMEOUT = 120.0
VIRTLOGD_SOCK = "/run/libvirt/virtlogd-sock"
LIBVIRTD_LOCK = os.path.join(tempfile.gettempdir(), "stratus-test-libvirtd.lock")


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root (libvirtd, a bridge and dnsmasq for the guest's DHCP)"
    for tool, package in (("qemu-system-x86_64", "qemu-system-x86"), ("qemu-img", "qemu-utils"),
                          ("libvirtd", "libvirt-daemon-system"),
                          ("virtlogd", "libvirt-daemon-system"), ("dnsmasq", "dnsmasq-base"),
                          ("ip", "iproute2"), ("apt-get", "apt"), ("dpkg-deb", "dpkg")):
        if shutil.which(tool) is None:
            return "%s is not installed (apt-get install %s)" % (tool, package)
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun (libvirt's taps need it)"
    try:
        import libvirt  # type: ignore[import-untyped]  # noqa: F401
    except ImportError:
        return "libvirt-python is not installed (pip install 'stratus[libvirt]')"
    return None


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or "")


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=check, timeout=60)


def _stop(proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGKILL) -> None:
    if proc is not None and proc.poll() is None:
        os.kill(proc.pid, sig)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(timeout=15)


def _answers(path: str) -> bool:
    with socket.socket(socket.AF_UNIX) as sock:
        try:
            sock.connect(path)
        except OSError:
            return False
    return True


def _libvirtd_answers() -> bool:
    import libvirt
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    try:
        libvirt.open("qemu:///system").close()
    except libvirt.libvirtError:
        return False
    return True


def _start_missing(logs: Any) -> list[subprocess.Popen[bytes]]:
    """Start virtlogd and libvirtd (foreground children) where they do not answer."""
    started: list[subprocess.Popen[bytes]] = []
    if not _answers(VIRTLOGD_SOCK):
        with open(logs / "virtlogd.log", "wb") as log:
            started.append(subprocess.Popen(["virtlogd"], stdout=log, stderr=log,
                                            start_new_session=True))
    if not _libvirtd_answers():
        with open(logs / "libvirtd.log", "wb") as log:
            started.append(subprocess.Popen(["libvirtd"], stdout=log, stderr=log,
                                            start_new_session=True))
        deadline = time.monotonic() + 60
        while not _libvirtd_answers():
            if time.monotonic() > deadline or started[-1].poll() is not None:
                for proc in reversed(started):
                    _stop(proc, signal.SIGTERM)
                pytest.fail("libvirtd did not answer within 60 s:\n"
                            + (logs / "libvirtd.log").read_text()[-2000:])
            time.sleep(0.2)
    return started


@pytest.fixture(scope="module")
def libvirtd(tmp_path_factory: Any) -> Iterator[None]:
    """virtlogd and libvirtd, started here (foreground children) when not running.

    Modules on other test workers use the same daemons, so they are shared
    through a lock file: every user holds a shared lock while it needs them;
    they are started under the exclusive lock (never two libvirtds), and the
    module that started them takes the exclusive lock again before stopping
    them, i.e. waits until no other worker is still using them.
    """
    logs = tmp_path_factory.mktemp("libvirtd")
    started: list[subprocess.Popen[bytes]] = []
    with open(LIBVIRTD_LOCK, "a") as lock:
        try:
            while True:
                fcntl.flock(lock, fcntl.LOCK_EX)
                started += _start_missing(logs)
                # Going from exclusive to shared is not atomic: a stopper may
                # slip in between, so look again once shared.
                fcntl.flock(lock, fcntl.LOCK_SH)
                if _answers(VIRTLOGD_SOCK) and _libvirtd_answers():
                    break
            yield
        finally:
            if started:
                fcntl.flock(lock, fcntl.LOCK_EX)
                for proc in reversed(started):
                    _stop(proc, signal.SIGTERM)
            fcntl.flock(lock, fcntl.LOCK_UN)


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    """The built image (vmlinuz, initrd.img) in a temporary directory."""
    out = tempfile.mkdtemp(prefix="stratus-guest-image-")
    env = dict(os.environ)
    env.setdefault("GUEST_IMAGE_CACHE",
                   os.path.join(tempfile.gettempdir(), "stratus-guest-image-cache"))
    try:
        build = subprocess.run(["bash", SCRIPT, out], capture_output=True, text=True,
                               env=env, timeout=600)
        if build.returncode != 0:
            if "cannot download" in build.stderr or "apt knows no package" in build.stderr:
                pytest.skip("the guest image cannot be built here:\n" + build.stderr[-1500:])
            pytest.fail("bash %s %s failed:\n%s" % (SCRIPT, out, build.stderr[-3000:]))
        yield out
    finally:
        shutil.rmtree(out, ignore_errors=True)


class _Metadata(http.server.BaseHTTPRequestHandler):
    paths: dict[str, str] = {}

    def do_GET(self) -> None:  # noqa: N802 (the http.server name)
        body = self.paths.get(self.path.rstrip("/"))
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(body.encode())))
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _BridgeServer(http.server.ThreadingHTTPServer):
    """169.254.169.254:80 bound to one bridge, so copies of the test can run side by side."""

    daemon_threads = True

    def __init__(self, bridge: str, handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        super().__init__((METADATA_IP, 80), handler, bind_and_activate=False)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, bridge.encode())
        try:
            self.server_bind()
            self.server_activate()
        except BaseException:
            self.server_close()
            raise


def _free_subnet() -> ipaddress.IPv4Network:
    routes = _run("ip", "-4", "route", "show", "table", "all").stdout
    used = [ipaddress.ip_network(word, strict=False) for line in routes.splitlines()
            for word in line.split()[:2] if word[0].isdigit() and "/" in word]
    for _ in range(50):
        net = ipaddress.ip_network("10.%d.%d.0/24" % (random.randint(160, 250),
                                                      random.randint(0, 255)))
        if not any(net.overlaps(u) for u in used):
            return net
    raise RuntimeError("no free 10.x.y.0/24 for the test bridge")


def _wait_for(what: str, check: Any, timeout: float, detail: Any) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail("%s not within %.0f s\n%s" % (what, timeout, detail()))
        time.sleep(0.25)


def _link_exists(name: str) -> bool:
    return _run("ip", "link", "show", name, check=False).returncode == 0


class GuestEnv:
    """One guest's world: its bridge with a dnsmasq and a metadata server, a
    ``LibvirtDriver`` on qemu:///system whose instances live in a temporary
    directory, and the instance, VIF and image it spawns."""

    def __init__(self, image: str) -> None:
        from oslo_config import cfg

        from compute.conf import node as node_conf
        from compute.conf import virt as virt_conf
        from compute.virt import model
        from compute.virt.libvirt import driver as libvirt_driver

        self.suffix = suffix = uuid.uuid4().hex[:8]
        self.bridge = "slb" + suffix
        self.net = _free_subnet()
        self.gateway, self.guest_ip = str(self.net[1]), str(self.net[7])
        self.mac = "fa:16:3e:%02x:%02x:%02x" % tuple(random.randint(0, 255) for _ in range(3))
        self.vif = model.VIF(port_id=str(uuid.uuid4()), mac=self.mac, bridge=self.bridge,
                             mtu=1500, network_id=str(uuid.uuid4()), fixed_ips=(self.guest_ip,))
        self.inst = model.Instance(uuid=str(uuid.uuid4()), name="instance-" + suffix,
                                   memory_mb=128, vcpus=1, root_gb=1,
                                   display_name="lv-" + suffix)
        self.image_meta = model.ImageMeta(
            id="disk-" + suffix, disk_format="ami", kernel_id="kernel-" + suffix,
            ramdisk_id="ramdisk-" + suffix, os_command_line="console=ttyS0")
        self.work = tempfile.mkdtemp(prefix="stratus-libvirt-")
        os.chmod(self.work, 0o755)  # QEMU (libvirt-qemu) reads the disks and kernel below
        self.images = {"kernel-" + suffix: os.path.join(image, "vmlinuz"),
                       "ramdisk-" + suffix: os.path.join(image, "initrd.img")}
        self.fetched: list[str] = []
        self.conf = conf = cfg.ConfigOpts()
        virt_conf.register_opts(conf)
        node_conf.register_opts(conf)
        conf([], default_config_files=[])
        conf.set_override("instances_path", os.path.join(self.work, "instances"),
                          group="libvirt")
        # The tiny guest has no ACPI daemon: a SOFT reboot becomes HARD after this.
        conf.set_override("wait_soft_reboot_seconds", 3, group="libvirt")
        self.drv = libvirt_driver.LibvirtDriver(conf, "node-" + suffix,
                                                fetch_image=self.fetch_image)
        self.console = os.path.join(self.drv.instance_dir(self.inst.uuid), "console.log")
        self.lease = "stratus-guest: ip %s/%d via %s" % (self.guest_ip, self.net.prefixlen,
                                                         self.gateway)
        self.dnsmasq: subprocess.Popen[bytes] | None = None
        self.server: _BridgeServer | None = None

    def fetch_image(self, context: Any, image_id: str, dest: str) -> None:
        self.fetched.append(image_id)
        if image_id in self.images:
            shutil.copyfile(self.images[image_id], dest)
        else:
            with open(dest, "wb") as out:
                out.truncate(1024 * 1024)  # the 1 MiB raw "ami" devstack uploads

    def log(self) -> str:
        try:
            with open(self.console, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def plug(self) -> None:  # what the bridge agent does with a new tap
        _run("ip", "link", "set", self.vif.tap_name, "master", self.bridge)
        _run("ip", "link", "set", self.vif.tap_name, "up")

    def boots(self) -> int:
        return self.log().count("stratus-guest: boot kernel")

    def start(self) -> None:
        _run("ip", "link", "add", self.bridge, "type", "bridge", "forward_delay", "0")
        _run("ip", "addr", "add", "%s/%d" % (self.gateway, self.net.prefixlen),
             "dev", self.bridge)
        _run("ip", "addr", "add", METADATA_IP + "/32", "dev", self.bridge)
        _run("ip", "link", "set", self.bridge, "up")
        handler = type("Handler", (_Metadata,), {"paths": {
            "/latest/meta-data/instance-id": self.inst.uuid,
            "/latest/meta-data/hostname": self.inst.display_name + ".novalocal"}})
        self.server = _BridgeServer(self.bridge, handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        hosts = os.path.join(self.work, "hosts")
        with open(hosts, "w") as f:
            f.write("%s,%s,%s\n" % (self.mac, self.guest_ip, self.inst.display_name))
        net, gateway = self.net, self.gateway
        self.dnsmasq = subprocess.Popen(
            ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--port=0",
             "--user=root", "--no-resolv", "--no-hosts", "--bind-interfaces",
             "--interface=" + self.bridge, "--except-interface=lo", "--dhcp-authoritative",
             "--dhcp-range=%s,static,%s,1h" % (net.network_address, net.netmask),
             "--dhcp-hostsfile=" + hosts,
             "--dhcp-leasefile=" + os.path.join(self.work, "leases"),
             "--pid-file=" + os.path.join(self.work, "dnsmasq.pid"),
             "--dhcp-option=3,%s" % gateway,
             "--dhcp-option=121,%s/32,%s,0.0.0.0/0,%s" % (METADATA_IP, gateway, gateway)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        self.drv.init_host("node-" + self.suffix)

    def type_on_console(self, command: bytes, expected: str, timeout: float = 30) -> None:
        """Type ``command`` on the guest's serial console (its shell) until the
        console log shows ``expected``."""
        import libvirt

        stream = self.drv.hypervisor.connect().newStream(0)
        self.drv.hypervisor.lookup(self.inst.uuid).openConsole(
            None, stream, libvirt.VIR_DOMAIN_CONSOLE_FORCE)
        try:
            deadline = time.monotonic() + timeout
            while expected not in self.log():
                if time.monotonic() > deadline:
                    pytest.fail("%r not on the console:\n%s" % (expected, self.log()[-3000:]))
                stream.send(command + b"\r")
                time.sleep(1.5)
        finally:
            stream.abort()

    def stop(self) -> None:
        with_errors: list[BaseException] = []
        try:
            self.drv.destroy(None, self.inst, [self.vif])
        except BaseException as err:  # noqa: B036 - reported below
            with_errors.append(err)
        self.drv.cleanup_host("node-" + self.suffix)
        _stop(self.dnsmasq)
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        _run("ip", "link", "del", self.bridge, check=False)
        shutil.rmtree(self.work, ignore_errors=True)
        assert with_errors == []


@pytest.fixture
def env(libvirtd: None, image: str) -> Iterator[GuestEnv]:
    guest_env = GuestEnv(image)
    try:
        guest_env.start()
        yield guest_env
    finally:
        guest_env.stop()


def test_guest_lifecycle_through_the_driver(env: GuestEnv) -> None:
    import json
    from xml.etree import ElementTree as ET

    import libvirt

    from compute.metadata import configdrive
    from compute.metadata import content
    from compute.virt import model
    from compute.virt import power_state
    from compute.virt.libvirt import imagecache

    drv, inst, vif, log, plug = env.drv, env.inst, env.vif, env.log, env.plug
    seen_while_waiting: list[Any] = []

    def wait_for_vifs() -> None:
        seen_while_waiting.append((drv.get_info(inst).state, _link_exists(vif.tap_name)))
        plug()

    # The documents the node gathers for a server created with config_drive true.
    documents = content.InstanceMetadata({
        "uuid": inst.uuid, "display_name": inst.display_name, "project_id": "p1",
        "hostname": inst.display_name, "key_name": "k1", "key_data": "ssh-ed25519 AAAA k1",
        "network_info": []})
    drive = model.ConfigDrive(files=tuple(documents.files()))
    started = time.monotonic()
    drv.spawn(None, inst, env.image_meta, [vif], wait_for_vifs=wait_for_vifs,
              config_drive=drive)
    assert seen_while_waiting == [(power_state.PAUSED, True)]
    assert sorted(env.fetched) == sorted(["disk-" + env.suffix, *env.images])
    assert drv.get_info(inst).state == power_state.RUNNING
    _wait_for("the guest's DHCP lease and metadata", lambda: env.lease in log()
              and "stratus-guest: ready" in log(), BOOT_TIMEOUT, log)
    print("lease after %.1f s" % (time.monotonic() - started))
    assert "stratus-guest: disks vda" in log()
    assert "stratus-guest: instance-id " + inst.uuid in drv.get_console_output(inst)
    # The config drive: a read-only IDE CD-ROM of the running domain, after vda.
    iso = os.path.join(drv.instance_dir(inst.uuid), "disk.config")
    running = ET.fromstring(drv.hypervisor.lookup(inst.uuid).XMLDesc(0))
    cdroms = [(d.find("source").get("file"), d.find("target").get("dev"),  # type: ignore
               d.find("target").get("bus"), d.find("readonly") is not None)  # type: ignore
              for d in running.findall("devices/disk[@device='cdrom']")]
    assert cdroms == [(iso, "hdd", "ide", True)]
    # QEMU's default x86 machine (no machine type is asked for): i440fx, with IDE.
    machine = running.find("os/type").get("machine")  # type: ignore[union-attr]
    assert machine is not None and "q35" not in machine, machine
    assert configdrive.volume_label(iso) == "config-2"
    meta = json.loads(configdrive.read_config_drive(iso)["openstack/latest/meta_data.json"])
    assert (meta["uuid"], meta["public_keys"]) == (inst.uuid, {"k1": "ssh-ed25519 AAAA k1"})
    assert drv.has_config_drive(inst)

    resources = drv.get_available_resource()
    assert (resources.vcpus_used, resources.memory_mb_used) >= (1, 128)
    assert resources.local_gb_used >= 1 and resources.hypervisor_type == "QEMU"
    vnc = drv.get_vnc_console(inst)
    assert vnc["host"] == "127.0.0.1" and vnc["port"] >= 5900

    drv.pause(inst)
    assert drv.get_info(inst).state == power_state.PAUSED
    drv.unpause(inst)
    assert drv.get_info(inst).state == power_state.RUNNING

    drv.suspend(inst)
    assert drv.get_info(inst).state == power_state.SUSPENDED
    assert not _link_exists(vif.tap_name)  # QEMU is gone, and its tap with it
    drv.resume(inst)
    assert drv.get_info(inst).state == power_state.RUNNING
    plug()

    volume = os.path.join(env.work, "volume-1.qcow2")
    imagecache.qemu_img("create", "-q", "-f", "qcow2", volume, "16M")
    os.chmod(volume, 0o644)
    info = {"driver_volume_type": "file", "serial": "vol-" + env.suffix,
            "data": {"device_path": volume, "format": "qcow2"}}
    drv.attach_volume(None, inst, info, "/dev/vdb")
    dom = drv.hypervisor.lookup(inst.uuid)
    assert "vdb" in dom.XMLDesc(0) and "vdb" in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)
    # The guest's shell is on its console: ask it which disks it has.
    env.type_on_console(b"echo disks-$((6*7)) $(ls /sys/block)", "disks-42 vda vdb")
    drv.detach_volume(None, inst, info, "/dev/vdb")
    assert "vdb" not in dom.XMLDesc(0)
    assert "vdb" not in dom.XMLDesc(libvirt.VIR_DOMAIN_XML_INACTIVE)

    uploads: list[tuple[str, dict[str, Any]]] = []
    drv.snapshot(None, inst, "snap-" + env.suffix,
                 lambda path, fmt: uploads.append((fmt, imagecache.image_info(path))))
    [(fmt, snap)] = uploads
    assert fmt == "qcow2" and snap["format"] == "qcow2"
    assert "backing-filename" not in snap and snap["virtual-size"] == 1024 ** 3
    assert drv.get_info(inst).state == power_state.RUNNING

    for boots, reboot_type in ((2, "SOFT"), (3, "HARD")):
        drv.reboot(inst, [vif], reboot_type)  # type: ignore[arg-type]
        assert drv.get_info(inst).state == power_state.RUNNING
        # The console log keeps every boot (virtlogd appends).
        _wait_for("boot %d in the console log" % boots,
                  lambda n=boots: env.boots() == n, 30, log)
    drv.power_off(inst)
    assert drv.get_info(inst).state == power_state.SHUTDOWN
    assert not _link_exists(vif.tap_name)

    drv.destroy(None, inst, [vif])
    assert inst.uuid not in drv.list_instance_uuids()
    assert not _link_exists(vif.tap_name)
    assert not os.path.exists(drv.instance_dir(inst.uuid))
    assert os.listdir(os.path.join(drv.instances_path, "snapshots")) == []
    print("whole lifecycle %.1f s" % (time.monotonic() - started))


def test_resize_revert_and_confirm_on_one_host(env: GuestEnv) -> None:
    """The running guest resized to more memory on this host: it boots again with
    it (same tap, a new lease); reverted, it boots with the old memory from the
    old disks; resized again and confirmed, the old disks go."""
    import dataclasses

    from compute.virt import power_state

    drv, inst, vif, log = env.drv, env.inst, env.vif, env.log
    env.conf.set_override("shutdown_timeout", 1, group="compute")  # it ignores ACPI
    directory = drv.instance_dir(inst.uuid)
    kept = directory + "_resize"
    bigger = dataclasses.replace(inst, memory_mb=192, root_gb=2)
    flavor = {"memory_mb": 192, "vcpus": 1, "root_gb": 2, "ephemeral_gb": 0}

    def memory_kib() -> int:
        return int(drv.hypervisor.lookup(inst.uuid).info()[1])

    def resize() -> None:
        disk_info = drv.migrate_disk_and_power_off(None, inst, drv.host, flavor, [vif])
        assert not drv.instance_exists(inst) and os.path.isdir(kept)
        drv.finish_migration(None, {}, bigger, disk_info, [vif], env.image_meta,
                             resize_instance=True)
        env.plug()

    drv.spawn(None, inst, env.image_meta, [vif], wait_for_vifs=env.plug)
    _wait_for("the first lease", lambda: env.lease in log(), BOOT_TIMEOUT, log)
    started = time.monotonic()

    resize()
    assert drv.get_info(bigger).state == power_state.RUNNING
    assert memory_kib() == 192 * 1024
    # The console log was copied with the disks: the second boot and lease follow.
    _wait_for("a second boot and lease with the new size",
              lambda: env.boots() == 2 and log().count(env.lease) == 2
              and log().count("stratus-guest: ready") == 2, BOOT_TIMEOUT, log)
    env.type_on_console(b"echo mem-$((6*7)) $(grep MemTotal /proc/meminfo)", "mem-42 MemTotal")
    total_kib = int(log().split("mem-42 MemTotal:")[-1].split()[0])
    assert 128 * 1024 < total_kib <= 192 * 1024
    print("resized and booted in %.1f s" % (time.monotonic() - started))

    # Revert, as the node does on one host: destroy keeping the disks, then revert.
    drv.destroy(None, bigger, [vif], destroy_disks=False)
    assert os.path.isdir(kept)
    drv.finish_revert_migration(None, inst, [vif], {})
    env.plug()
    assert drv.get_info(inst).state == power_state.RUNNING
    assert memory_kib() == 128 * 1024 and not os.path.exists(kept)
    # The old console log came back with the old disks: its one boot, then this one.
    _wait_for("the reverted guest's boot", lambda: env.boots() == 2, BOOT_TIMEOUT, log)
    print("reverted and booted at %.1f s" % (time.monotonic() - started))

    resize()
    assert memory_kib() == 192 * 1024
    drv.confirm_migration(None, {}, bigger, [vif])
    assert not os.path.exists(kept)
    _wait_for("the third boot", lambda: env.boots() == 3, BOOT_TIMEOUT, log)
    assert drv.get_info(bigger).state == power_state.RUNNING
    print("resized again and confirmed at %.1f s" % (time.monotonic() - started))
