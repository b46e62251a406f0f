"""``stratus-manage image ...``: db sync and db version."""
from __future__ import annotations

import os
from typing import Any

from common.cli import admin
from image import conf as image_conf

MIGRATIONS = os.path.join(os.path.dirname(os.path.dirname(__file__)), "registry", "db",
                          "migrations")


def _add_parsers(subparsers: Any) -> None:
    admin.add_db_commands(subparsers, "image", MIGRATIONS)


def register(prog: str, argv: list[str]) -> int:
    """Entry point of the ``image`` group of stratus-manage."""
    return admin.run("image", prog, argv, image_conf.register_opts, _add_parsers)
