"""Starting and stopping the metadata proxy of one namespace (a router's, or an
isolated network's DHCP namespace), through the agent's driver.

One proxy per namespace, found by its pid file under the agent's state directory
for that router or network; never signalled unless its command line is ours.
"""
from __future__ import annotations

import os
from typing import Protocol

MARKER = "network.agents.metadata.ns_proxy"


class Processes(Protocol):
    """The driver methods a proxy needs (both agents' drivers have them)."""

    def process_pid(self, pid_file: str, marker: str) -> int | None: ...

    def start_process(self, ns: str, argv: list[str]) -> None: ...

    def stop_process(self, pid: int) -> None: ...


def files(directory: str) -> tuple[str, str]:
    """The proxy's pid and log files in ``directory``."""
    return (os.path.join(directory, "metadata_proxy.pid"),
            os.path.join(directory, "metadata_proxy.log"))


def running(driver: Processes, directory: str) -> int | None:
    return driver.process_pid(files(directory)[0], MARKER)


def ensure(driver: Processes, directory: str, ns: str, python: str, socket: str,
           args: list[str], restart: bool = False) -> bool:
    """Run the proxy in ``ns`` with ``args`` (``--router-id …``/``--network-id …``,
    ``--port``, ``--bind``) unless it runs already (``restart``: start afresh, e.g.
    after its namespace was remade).

    :returns: whether it was started.
    """
    pid_file, log_file = files(directory)
    pid = driver.process_pid(pid_file, MARKER)
    if pid is not None and not restart:
        return False
    if pid is not None:
        driver.stop_process(pid)
    os.makedirs(directory, exist_ok=True)
    driver.start_process(ns, [python, "-m", MARKER, *args, "--socket", socket,
                              "--pid-file", pid_file, "--log-file", log_file])
    return True


def stop(driver: Processes, directory: str) -> None:
    pid = running(driver, directory)
    if pid is not None:
        driver.stop_process(pid)
