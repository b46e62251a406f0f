"""``stratus-objectstore-container``: the container server (backend protocol, port 6201)."""
from __future__ import annotations

import sys

from common import service
from objectstore import conf as objectstore_conf
from objectstore.cmd import storage
from objectstore.container import server

NAME = "stratus-objectstore-container"


def main() -> None:
    conf = service.prepare("objectstore", sys.argv, objectstore_conf.register_opts)
    storage.run_server(conf, "container_server", server.create_app, NAME)


if __name__ == "__main__":
    main()
