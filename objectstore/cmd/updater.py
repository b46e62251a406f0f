"""``stratus-objectstore-updater``: delivers the container updates the object servers
could not send (async pendings) and reports container counts to the accounts."""
from __future__ import annotations

import sys

from oslo_config import cfg

from common import service
from objectstore import conf as objectstore_conf
from objectstore.conf import daemons as daemons_conf
from objectstore.daemons import base, updater


def main() -> None:
    daemons_conf.register_cli_opts(cfg.CONF)
    conf = service.prepare("objectstore", sys.argv, objectstore_conf.register_opts)
    base.serve([updater.Updater(conf, **base.cli_filters(conf))], conf.once)


if __name__ == "__main__":
    main()
