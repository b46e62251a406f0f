"""[blockstorage_api] (and [DEFAULT]) options of the API: filled in by the API helpers (B2, B3).

Add options to the lists below (one group per list) and mention each list in
``register_opts`` and ``list_opts``; ``blockstorage.conf`` calls both.
"""
from __future__ import annotations

from oslo_config import cfg

OPTS: list[cfg.Opt] = [
    cfg.IntOpt("osapi_max_limit", default=1000, min=1,
               help="Most items one list request of the block storage API returns "
                    "(Cinder's name); a larger ``limit`` is cut to it and the list "
                    "then carries a ``next`` link."),
    cfg.BoolOpt("enable_force_upload", default=False,
                help="Allow ``os-volume_upload_image`` with ``force`` on an in-use "
                     "volume (the image then holds whatever was on disk at copy time)."),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    """Register this part's options on ``conf``."""
    conf.register_opts(OPTS)


def list_opts() -> list[tuple[str | None, list[cfg.Opt]]]:
    """This part's options, for oslo-config-generator."""
    return [(None, OPTS)]
