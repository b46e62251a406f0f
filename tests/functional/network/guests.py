"""Guests for the network functional tests: commands run in the host and in
namespaces, and "guest" namespaces attached the way compute attaches an instance
(a veth whose main-namespace end the bridge agent plugs), with a DHCP client that
applies its lease, a ping without a ping binary and an HTTP GET.

Not a conftest: the test modules import it (with :mod:`netns`, which builds on it).
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile


def busybox() -> str | None:
    return shutil.which("busybox")


def run(*argv: str, check: bool = True, timeout: float = 60,
        stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(argv), capture_output=True, text=True, check=check,
                          timeout=timeout, input=stdin)


def ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return run("ip", *args, check=check, timeout=30)


def in_ns(ns: str, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
    """``argv`` inside namespace ``ns`` (not checked: the caller looks at the result)."""
    return run("ip", "netns", "exec", ns, *argv, check=False, timeout=timeout)


def add_guest(ns: str, outer: str, mac: str | None = None, mtu: int | None = None,
              bridge: str | None = None) -> None:
    """Namespace ``ns`` with ``eth0`` (``mac``, ``mtu``), the peer of veth ``outer`` in
    the main namespace (enslaved to ``bridge`` if given; else the bridge agent plugs
    it when it is named ``tap<port id[:11]>``)."""
    ip("netns", "add", ns)
    ip("link", "add", outer, "type", "veth", "peer", "name", "eth0", "netns", ns)
    if mac:
        ip("-n", ns, "link", "set", "eth0", "address", mac)
    if mtu:
        ip("-n", ns, "link", "set", "eth0", "mtu", str(mtu))
        ip("link", "set", outer, "mtu", str(mtu))
    ip("-n", ns, "link", "set", "lo", "up")
    ip("-n", ns, "link", "set", "eth0", "up")
    if bridge:
        ip("link", "set", outer, "master", bridge)
    ip("link", "set", outer, "up")


def set_address(ns: str, cidr: str, gateway: str | None = None) -> None:
    """A static address on the guest's ``eth0`` (and its default route)."""
    ip("-n", ns, "addr", "add", cidr, "dev", "eth0")
    if gateway:
        ip("-n", ns, "route", "replace", "default", "via", gateway)


# udhcpc runs this with the lease in its environment: it applies the address, the
# default route and the classless static routes (option 121) as a guest would.
_UDHCPC_SCRIPT = """#!/bin/sh
[ "$1" = bound ] || [ "$1" = renew ] || exit 0
ip addr flush dev "$interface"
ip addr add "$ip/${mask:-24}" dev "$interface"
if [ -n "$staticroutes" ]; then
    set -- $staticroutes
    while [ $# -ge 2 ]; do
        ip route replace "$1" via "$2" dev "$interface"
        shift 2
    done
elif [ -n "$router" ]; then
    for r in $router; do ip route replace default via "$r" dev "$interface"; break; done
fi
"""


def dhcp(ns: str) -> str:
    """Run busybox's udhcpc once in guest ``ns`` and apply the lease; its output."""
    client = busybox()
    assert client is not None
    directory = tempfile.mkdtemp(prefix="stratus-udhcpc-")
    try:
        script = os.path.join(directory, "script")
        with open(script, "w", encoding="ascii") as f:
            f.write(_UDHCPC_SCRIPT)
        os.chmod(script, 0o755)
        got = in_ns(ns, client, "udhcpc", "-i", "eth0", "-n", "-q", "-f", "-t", "8",
                    "-T", "2", "-O", "staticroutes", "-s", script, timeout=60)
        return got.stdout + got.stderr
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# The machine may have no ping binary: an ICMP echo from a raw socket, in the guest.
_PING = r"""
import os, socket, struct, sys, time
def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF
payload = b"stratus-test"
ident = os.getpid() & 0xFFFF
header = struct.pack("!BBHHH", 8, 0, 0, ident, 1)
packet = struct.pack("!BBHHH", 8, 0, checksum(header + payload), ident, 1) + payload
sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
sock.settimeout(2)
sock.sendto(packet, (sys.argv[1], 0))
deadline = time.monotonic() + 2
while time.monotonic() < deadline:
    try:
        data, addr = sock.recvfrom(2048)
    except socket.timeout:
        break
    icmp = data[(data[0] & 0x0F) * 4:]
    if addr[0] == sys.argv[1] and icmp[0] == 0 and struct.unpack("!H", icmp[4:6])[0] == ident:
        sys.exit(0)
sys.exit(1)
"""


def ping(ns: str, address: str, attempts: int = 1) -> bool:
    """Whether ``address`` answers an ICMP echo from guest ``ns`` (within
    ``attempts`` tries of 2 s)."""
    for _ in range(attempts):
        if in_ns(ns, sys.executable, "-c", _PING, address, timeout=10).returncode == 0:
            return True
    return False


def http_get(ns: str, url: str) -> subprocess.CompletedProcess[str]:
    """GET ``url`` from guest ``ns`` (stdout: the body; returncode 0 on a 2xx)."""
    code = ("import sys, urllib.request\n"
            "print(urllib.request.urlopen(sys.argv[1], timeout=10).read().decode())")
    return in_ns(ns, sys.executable, "-c", code, url, timeout=30)
