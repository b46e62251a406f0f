"""``stratus-objectstore-replicator``: replicates objects, containers and accounts of
this host's devices to their other replicas (one process, three daemons)."""
from __future__ import annotations

import sys

from oslo_config import cfg

from common import service
from objectstore import conf as objectstore_conf
from objectstore.conf import daemons as daemons_conf
from objectstore.daemons import base, db_replicator, obj_replicator


def main() -> None:
    daemons_conf.register_cli_opts(cfg.CONF)
    conf = service.prepare("objectstore", sys.argv, objectstore_conf.register_opts)
    filters = base.cli_filters(conf)
    base.serve([obj_replicator.ObjectReplicator(conf, **filters),
                db_replicator.ContainerReplicator(conf, **filters),
                db_replicator.AccountReplicator(conf, **filters)], conf.once)


if __name__ == "__main__":
    main()
