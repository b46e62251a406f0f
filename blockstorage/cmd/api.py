"""``stratus-blockstorage-api``: the block storage API daemon (Cinder v3, port 8776)."""
from __future__ import annotations

import sys

from common import rpc
from common import service
from blockstorage import conf as blockstorage_conf
from blockstorage import rpcapi


def main() -> None:
    conf = service.prepare("blockstorage", sys.argv, blockstorage_conf.register_opts)
    # The API casts to the scheduler and the volume daemons, and calls the latter
    # for connection info (blockstorage/rpcapi.py).
    rpc.init(conf, exmods=rpcapi.EXMODS, publisher="blockstorage")
    service.run_api(conf, "stratus-blockstorage-api")


if __name__ == "__main__":
    main()
