"""``stratus-manage blockstorage ...``: db sync and db version."""
from __future__ import annotations

import os
from typing import Any

from common.cli import admin
from blockstorage import conf as bs_conf

MIGRATIONS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "db", "migrations")


def _add_parsers(subparsers: Any) -> None:
    admin.add_db_commands(subparsers, "blockstorage", MIGRATIONS)


def register(prog: str, argv: list[str]) -> int:
    """Entry point of the ``blockstorage`` group of stratus-manage."""
    return admin.run("blockstorage", prog, argv, bs_conf.register_opts, _add_parsers)
