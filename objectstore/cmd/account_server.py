"""``stratus-objectstore-account``: the account server (backend protocol, port 6202)."""
from __future__ import annotations

import sys

from common import service
from objectstore import conf as objectstore_conf
from objectstore.cmd import storage
from objectstore.account import server

NAME = "stratus-objectstore-account"


def main() -> None:
    conf = service.prepare("objectstore", sys.argv, objectstore_conf.register_opts)
    storage.run_server(conf, "account_server", server.create_app, NAME)


if __name__ == "__main__":
    main()
