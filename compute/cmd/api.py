"""``stratus-compute-api``: the compute API daemon (Nova v2.1, port 8774)."""
from __future__ import annotations

import sys

from common import service
from compute import conf as compute_conf


def main() -> None:
    conf = service.prepare("compute", sys.argv, compute_conf.register_opts)
    service.run_api(conf, "stratus-compute-api")


if __name__ == "__main__":
    main()
