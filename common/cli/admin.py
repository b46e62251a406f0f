"""What every service's ``stratus-manage <service>`` group shares: parsing the
service's config, the ``db sync``/``db version`` commands, one error line on failure."""
from __future__ import annotations

import sys
from typing import Any, Callable

from oslo_config import cfg

from common import service
from common.db import engine
from common.db import migration

AddParsers = Callable[[Any], None]


def add_db_commands(subparsers: Any, name: str, migrations: str) -> None:
    """``db sync`` and ``db version`` for the database of service ``name``."""
    def sync(conf: cfg.ConfigOpts) -> None:
        migration.sync(migrations, engine.connection_url(conf, name))
        print("%s database is at the latest revision" % name)

    def version(conf: cfg.ConfigOpts) -> None:
        db = engine.Database.from_conf(conf, name)
        try:
            print(", ".join(sorted(migration.current(db.engine))) or "(empty)")
        finally:
            db.dispose()

    db = subparsers.add_parser("db", help="Database schema commands.")
    actions = db.add_subparsers(dest="db_action")
    actions.required = True
    actions.add_parser("sync", help="Upgrade the schema to the latest revision.").set_defaults(
        func=sync)
    actions.add_parser("version", help="Print the schema revision.").set_defaults(func=version)


def run(name: str, prog: str, argv: list[str], register: Callable[[cfg.ConfigOpts], None],
        add_parsers: AddParsers) -> int:
    """Parse ``argv`` (``--config-file F <command> ...``) and run the command.

    :returns: the exit status (1 with one line on stderr when the command failed).
    """
    conf = cfg.ConfigOpts()
    conf.register_cli_opt(cfg.SubCommandOpt("command", handler=add_parsers, title="Commands"))
    service.prepare(name, [prog] + argv, register, conf=conf, prog="stratus-manage-" + name)
    try:
        conf.command.func(conf)
    except Exception as err:  # the CLI boundary: say what failed, once
        print("stratus-manage %s %s failed: %s: %s"
              % (name, conf.command.name, type(err).__name__, err), file=sys.stderr)
        return 1
    return 0
