"""``stratus-compute-api``: the compute API daemon (Nova v2.1, port 8774)."""
from __future__ import annotations

import sys

from common import rpc
from common import service
from compute import conf as compute_conf
from compute import rpcapi


def main() -> None:
    conf = service.prepare("compute", sys.argv, compute_conf.register_opts)
    # The API casts to the conductor and calls the nodes (compute/rpcapi.py).
    rpc.init(conf, exmods=rpcapi.EXMODS, publisher="compute")
    service.run_api(conf, "stratus-compute-api")


if __name__ == "__main__":
    main()
