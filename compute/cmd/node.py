"""``stratus-compute-node``: the compute node daemon, one per hypervisor host.

It serves topic ``compute`` as server ``[DEFAULT] host``, records its
heartbeats through the conductor (it has no database credentials) and drives
the hypervisor through the driver ``[compute] compute_driver`` names.
"""
from __future__ import annotations

import sys
from typing import Any

from oslo_config import cfg

from common import rpc
from common import rpc_service
from common import service
from compute import conf as compute_conf
from compute import rpcapi
from compute.node import base
from compute.node import manager as node_manager
from compute.node import neighbours as neighbours_mod
from compute.virt import loader

BINARY = base.BINARY
EXMODS = rpcapi.EXMODS


def register_opts(conf: cfg.ConfigOpts) -> None:
    compute_conf.register_opts(conf)
    rpc_service.register_opts(conf)


def build(conf: cfg.ConfigOpts) -> rpc_service.RPCService:
    """The node's RPC service (``rpc.init`` already called).

    :raises: DriverNotAvailable when the configured driver cannot run here.
    """
    conductor = rpcapi.ConductorAPI()
    neighbours = neighbours_mod.RestNeighbours(conf)

    def fetch_image(ctxt: Any, image_id: str, dest_path: str) -> None:
        neighbours.download_image(ctxt, image_id, dest_path)

    driver = loader.load(conf, conf.host, fetch_image=fetch_image)
    manager = node_manager.ComputeManager(conf, driver, conductor, neighbours,
                                          rpcapi.ComputeNodeAPI(), host=conf.host)
    return rpc_service.RPCService(conf, manager, rpcapi.COMPUTE_TOPIC, conf.host,
                                  report_state=conductor.service_report, binary=BINARY)


def main() -> None:
    conf = service.prepare("compute", sys.argv, register_opts, prog=BINARY)
    rpc.init(conf, exmods=EXMODS, publisher="compute")
    rpc_service.run_rpc(conf, build(conf))


if __name__ == "__main__":
    main()
