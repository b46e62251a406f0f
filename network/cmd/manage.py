"""``stratus-manage network ...``: db sync and db version."""
from __future__ import annotations

import os
import sys
from typing import Any

from oslo_config import cfg

from common import service
from common.db import engine
from common.db import migration
from network import conf as network_conf

MIGRATIONS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "db",
                          "migrations")


def _db_sync(conf: cfg.ConfigOpts) -> None:
    migration.sync(MIGRATIONS, engine.connection_url(conf, "network"))
    print("network database is at the latest revision")


def _db_version(conf: cfg.ConfigOpts) -> None:
    db = engine.Database.from_conf(conf, "network")
    print(", ".join(sorted(migration.current(db.engine))) or "(empty)")


def _add_parsers(subparsers: Any) -> None:
    db = subparsers.add_parser("db", help="Database schema commands.")
    db_sub = db.add_subparsers(dest="db_action")
    db_sub.required = True
    db_sub.add_parser("sync").set_defaults(func=_db_sync)
    db_sub.add_parser("version").set_defaults(func=_db_version)


def register(prog: str, argv: list[str]) -> int:
    """Entry point of the ``network`` group of stratus-manage."""
    conf = cfg.ConfigOpts()
    conf.register_cli_opt(cfg.SubCommandOpt("command", handler=_add_parsers,
                                            title="Commands"))
    service.prepare("network", [prog] + argv, network_conf.register_opts, conf=conf,
                    prog="stratus-manage-network")
    try:
        conf.command.func(conf)
    except Exception as err:  # the CLI boundary: say what failed, once
        print("stratus-manage network %s failed: %s: %s"
              % (conf.command.name, type(err).__name__, err), file=sys.stderr)
        return 1
    return 0
