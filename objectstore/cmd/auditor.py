"""``stratus-objectstore-auditor``: checks the objects and databases of this host's
devices and quarantines the damaged ones (the replicators then restore them)."""
from __future__ import annotations

import sys

from oslo_config import cfg

from common import service
from objectstore import conf as objectstore_conf
from objectstore.conf import daemons as daemons_conf
from objectstore.daemons import auditor, base


def main() -> None:
    daemons_conf.register_cli_opts(cfg.CONF)
    conf = service.prepare("objectstore", sys.argv, objectstore_conf.register_opts)
    base.serve([auditor.Auditor(conf, **base.cli_filters(conf))], conf.once)


if __name__ == "__main__":
    main()
