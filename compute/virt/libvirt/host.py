"""The libvirt connection of a compute node, the choice of domain type, and the
translation of ``libvirtError`` into virt exceptions.

One ``virConnect`` is shared by every thread of the node (libvirt connections
are thread-safe); when libvirtd restarts, the next call finds the connection
dead and opens a new one. libvirt's default error handler, which prints every
error to stderr even when the caller handles it, is silenced.

KVM or TCG (``[libvirt] virt_type = auto``): ``/dev/kvm`` alone proves nothing:
some hosts (nested Firecracker microVMs) have a ``/dev/kvm`` from ``kvm_pvm``,
which does not run ordinary guest kernels. So ``auto`` picks ``kvm`` only when
``/dev/kvm`` exists *and* the hardware module ``kvm_intel`` or ``kvm_amd`` is
loaded (``/sys/module/<name>``, present for built-in modules too); else TCG.
"""
from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator
from typing import Any

import libvirt  # type: ignore[import-untyped]
from oslo_log import log as logging

from common import exception as common_exception
from compute.virt import exception
from compute.virt.libvirt import config

LOG = logging.getLogger(__name__)

DEFAULT_URI = "qemu:///system"
KVM_MODULES = ("kvm_intel", "kvm_amd")

# Errors that mean libvirtd is gone (or the connection to it is).
_CONNECTION_ERRORS = frozenset({libvirt.VIR_ERR_NO_CONNECT, libvirt.VIR_ERR_INVALID_CONN})
_CONNECTION_DOMAINS = frozenset({libvirt.VIR_FROM_REMOTE, libvirt.VIR_FROM_RPC})
# Errors of a hypervisor that cannot do what was asked (a flag, an API).
UNSUPPORTED = frozenset({libvirt.VIR_ERR_NO_SUPPORT, libvirt.VIR_ERR_INVALID_ARG,
                         libvirt.VIR_ERR_ARGUMENT_UNSUPPORTED})


def _silence(_ctx: Any, _err: Any) -> None:
    return None


def probe_virt_type(dev: str = "/dev/kvm", sys_module: str = "/sys/module") -> config.VirtType:
    """``kvm`` when ``dev`` exists and a hardware KVM module is loaded, else ``qemu``."""
    if not os.path.exists(dev):
        return "qemu"
    if any(os.path.isdir(os.path.join(sys_module, name)) for name in KVM_MODULES):
        return "kvm"
    return "qemu"


def error_code(err: BaseException) -> int | None:
    return err.get_error_code() if isinstance(err, libvirt.libvirtError) else None


def is_connection_error(err: BaseException) -> bool:
    return isinstance(err, libvirt.libvirtError) and (
        err.get_error_code() in _CONNECTION_ERRORS
        or (err.get_error_domain() in _CONNECTION_DOMAINS
            and err.get_error_code() == libvirt.VIR_ERR_SYSTEM_ERROR))


class Host:
    """The libvirt connection of node ``hostname``, opened on first use."""

    def __init__(self, uri: str, hostname: str) -> None:
        self.uri = uri or DEFAULT_URI
        self.hostname = hostname
        self._conn: Any = None
        self._lock = threading.Lock()

    def connect(self) -> Any:
        """The live connection (reconnecting when it died).

        :raises: HypervisorUnavailable when libvirtd does not answer.
        """
        with self._lock:
            if self._conn is not None:
                try:
                    if self._conn.isAlive():
                        return self._conn
                except libvirt.libvirtError:
                    pass
                LOG.warning("Connection to libvirt at %s lost; reconnecting", self.uri)
                self._close()
            libvirt.registerErrorHandler(_silence, None)
            try:
                self._conn = libvirt.open(self.uri)
            except libvirt.libvirtError as err:
                LOG.error("Cannot connect to libvirt at %s: %s", self.uri, err)
                raise exception.HypervisorUnavailable(host=self.hostname) from err
            LOG.info("Connected to libvirt at %s", self.uri)
            return self._conn

    def close(self) -> None:
        with self._lock:
            self._close()

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(libvirt.libvirtError):
                conn.close()

    def lookup(self, uuid: str) -> Any:
        """The domain of instance ``uuid``.

        :raises: InstanceNotFound, HypervisorUnavailable.
        """
        try:
            return self._on_live_connection(lambda conn: conn.lookupByUUIDString(uuid))
        except libvirt.libvirtError as err:
            if err.get_error_code() in (libvirt.VIR_ERR_NO_DOMAIN, libvirt.VIR_ERR_INVALID_ARG):
                raise exception.InstanceNotFound(instance_id=uuid) from err
            raise exception.HypervisorUnavailable(host=self.hostname) from err

    def domains(self) -> list[Any]:
        """Every domain, running or not."""
        with self.translate(None, exception.HypervisorUnavailable, host=self.hostname):
            return list(self._on_live_connection(lambda conn: conn.listAllDomains(0)))

    def _on_live_connection(self, call: Any) -> Any:
        """``call(conn)``, once more on a new connection when the first attempt finds
        the connection broken (libvirtd restarted since the last call: ``isAlive``
        only notices on the next request)."""
        conn = self.connect()
        try:
            return call(conn)
        except libvirt.libvirtError as err:
            if not is_connection_error(err) and "Broken pipe" not in str(err):
                raise
            LOG.warning("Connection to libvirt at %s broke; reconnecting once", self.uri)
            with self._lock:
                if self._conn is conn:
                    self._close()
            return call(self.connect())

    @contextlib.contextmanager
    def translate(self, uuid: str | None, failure: type[common_exception.Error],
                  **kwargs: Any) -> Iterator[None]:
        """Turn a ``libvirtError`` raised inside into InstanceNotFound (no such
        domain), HypervisorUnavailable (libvirtd gone) or ``failure(**kwargs)``
        (``reason`` defaults to libvirt's message)."""
        try:
            yield
        except libvirt.libvirtError as err:
            if err.get_error_code() == libvirt.VIR_ERR_NO_DOMAIN and uuid is not None:
                raise exception.InstanceNotFound(instance_id=uuid) from err
            if is_connection_error(err):
                raise exception.HypervisorUnavailable(host=self.hostname) from err
            kwargs.setdefault("reason", err.get_error_message() or str(err))
            raise failure(**kwargs) from err
