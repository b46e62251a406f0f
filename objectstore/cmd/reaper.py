"""``stratus-objectstore-reaper``: empties deleted accounts and deletes expired objects
(the reaper and the expirer run as one daemon, one pass after the other)."""
from __future__ import annotations

import sys

from oslo_config import cfg

from common import service
from objectstore import conf as objectstore_conf
from objectstore.conf import daemons as daemons_conf
from objectstore.daemons import base, reaper


def main() -> None:
    daemons_conf.register_cli_opts(cfg.CONF)
    conf = service.prepare("objectstore", sys.argv, objectstore_conf.register_opts)
    base.serve([reaper.Reaper(conf, **base.cli_filters(conf))], conf.once)


if __name__ == "__main__":
    main()
