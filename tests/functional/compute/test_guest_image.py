"""The tiny guest image (devstack/lib/guest_image.sh) boots under QEMU (TCG) and
does what the cloud needs from it, as root: built into a temporary directory
(the .debs cached under $GUEST_IMAGE_CACHE, default $TMPDIR/stratus-guest-image-cache),
booted by direct kernel boot with its virtio NIC on a tap in a test bridge, it
takes its static lease from a test dnsmasq (address, router and option 121
routes), reads a stand-in metadata service on 169.254.169.254:80 (an address of
the bridge) and prints what it got on its serial console.

No namespaces: the bridge, tap, dnsmasq and HTTP server live in the main
namespace under unique names (the HTTP server is bound to the bridge, so copies
of this test can run side by side). QEMU and dnsmasq are killed by pid; the
links are deleted; all of it even on failure.
"""
from __future__ import annotations

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
# TCG boots slowly (first line after 5-10 s, the lease after ~15-25 s).
BOOT_TIMEOUT = 120.0


def _skip_reason() -> str | None:
    if os.geteuid() != 0:
        return "needs root (a tap, a bridge and dnsmasq for the guest's DHCP)"
    for tool, package in (("qemu-system-x86_64", "qemu-system-x86"), ("dnsmasq", "dnsmasq-base"),
                          ("ip", "iproute2"), ("apt-get", "apt"), ("dpkg-deb", "dpkg")):
        if shutil.which(tool) is None:
            return "%s is not installed (apt-get install %s)" % (tool, package)
    if not os.path.exists("/dev/net/tun"):
        return "no /dev/net/tun (QEMU's tap backend needs it)"
    return None


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or "")


def _run(*argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=check, timeout=60)


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
                pytest.skip("the guest image cannot be built here (its Debian packages cannot "
                            "be downloaded):\n" + build.stderr[-1500:])
            pytest.fail("bash %s %s failed:\n%s%s" % (SCRIPT, out, build.stdout[-2000:],
                                                    build.stderr[-3000:]))
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
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _BridgeServer(http.server.ThreadingHTTPServer):
    """An HTTP server on 169.254.169.254:80, bound to one bridge (SO_BINDTODEVICE),
    so that another bridge can have its own."""

    daemon_threads = True

    def __init__(self, bridge: str, handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        self.bridge = bridge
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


def _stop(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is not None and proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)


def test_guest_boots_gets_its_lease_and_reads_metadata(image: str, tmp_path: Any) -> None:
    suffix = uuid.uuid4().hex[:8]
    bridge, tap = "sgb" + suffix, "sgt" + suffix
    net = _free_subnet()
    gateway, guest_ip = str(net[1]), str(net[5])
    mac = "52:54:00:%02x:%02x:%02x" % tuple(random.randint(0, 255) for _ in range(3))
    instance_id = "i-" + suffix
    name = "guest-" + suffix
    key = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI%s stratus-test" % suffix
    handler = type("Handler", (_Metadata,), {"paths": {
        "/latest/meta-data/instance-id": instance_id,
        "/latest/meta-data/hostname": name + ".novalocal",
        "/latest/meta-data/public-keys/0/openssh-key": key + "\n",
        "/openstack/latest/user_data": "#!/bin/sh\necho stratus-guest: user-data ran\n",
    }})

    console = str(tmp_path / "console.log")
    qemu: subprocess.Popen[bytes] | None = None
    dnsmasq: subprocess.Popen[bytes] | None = None
    server: _BridgeServer | None = None
    try:
        _run("ip", "link", "add", bridge, "type", "bridge", "forward_delay", "0")
        _run("ip", "addr", "add", "%s/%d" % (gateway, net.prefixlen), "dev", bridge)
        _run("ip", "addr", "add", METADATA_IP + "/32", "dev", bridge)
        _run("ip", "link", "set", bridge, "up")
        _run("ip", "tuntap", "add", "dev", tap, "mode", "tap")
        _run("ip", "link", "set", tap, "master", bridge, "up")

        server = _BridgeServer(bridge, handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()

        hosts = tmp_path / "hosts"
        hosts.write_text("%s,%s,%s\n" % (mac, guest_ip, name))
        dnsmasq_log = str(tmp_path / "dnsmasq.log")
        with open(dnsmasq_log, "wb") as log:
            dnsmasq = subprocess.Popen(
                ["dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--port=0",
                 "--user=root",  # it reads the hosts file in tmp_path (0700)
                 "--no-resolv", "--no-hosts", "--bind-interfaces", "--interface=" + bridge,
                 "--except-interface=lo", "--dhcp-authoritative", "--log-dhcp",
                 "--log-facility=" + dnsmasq_log,
                 "--dhcp-range=%s,static,%s,1h" % (net.network_address, net.netmask),
                 "--dhcp-hostsfile=%s" % hosts,
                 "--dhcp-leasefile=%s" % (tmp_path / "leases"),
                 "--pid-file=%s" % (tmp_path / "dnsmasq.pid"),
                 "--dhcp-option=3,%s" % gateway,
                 "--dhcp-option=121,%s/32,%s,0.0.0.0/0,%s" % (METADATA_IP, gateway, gateway)],
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

        with open(console, "wb") as out:
            qemu = subprocess.Popen(
                ["qemu-system-x86_64", "-machine", "accel=tcg", "-m", "128", "-nographic",
                 "-no-reboot", "-kernel", os.path.join(image, "vmlinuz"),
                 "-initrd", os.path.join(image, "initrd.img"), "-append", "console=ttyS0",
                 "-netdev", "tap,id=net0,ifname=%s,script=no,downscript=no" % tap,
                 "-device", "virtio-net-pci,netdev=net0,mac=%s" % mac],
                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True)

        wanted = ["stratus-guest: ip %s/%d via %s" % (guest_ip, net.prefixlen, gateway),
                  "stratus-guest: instance-id " + instance_id,
                  "stratus-guest: hostname %s.novalocal" % name,
                  "stratus-guest: ssh-key " + key,
                  "stratus-guest: user-data ran",
                  "stratus-guest: ready"]
        deadline = time.monotonic() + BOOT_TIMEOUT
        text = ""
        while time.monotonic() < deadline:
            with open(console, "rb") as f:
                text = f.read().decode("utf-8", "replace")
            if all(w in text for w in wanted) or qemu.poll() is not None:
                break
            if dnsmasq.poll() is not None:
                break
            time.sleep(0.5)
        missing = [w for w in wanted if w not in text]
        if missing:
            with open(dnsmasq_log, "rb") as f:
                dlog = f.read().decode("utf-8", "replace")[-2000:]
            pytest.fail("the guest did not print %s within %.0f s (qemu exit code %s, dnsmasq "
                        "exit code %s)\n--- console ---\n%s\n--- dnsmasq ---\n%s"
                        % (missing, BOOT_TIMEOUT, qemu.poll(), dnsmasq.poll(), text[-4000:], dlog))
    finally:
        _stop(qemu)
        _stop(dnsmasq)
        if server is not None:
            server.shutdown()
            server.server_close()
        _run("ip", "link", "del", tap, check=False)
        _run("ip", "link", "del", bridge, check=False)
