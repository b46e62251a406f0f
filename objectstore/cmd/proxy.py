"""``stratus-objectstore-proxy``: the object store's API (Swift v1, port 8080).

Its listener is the common ``[api]`` group, like every API daemon's; its Paste file
defaults to ``proxy-paste.ini`` next to the config file.
"""
from __future__ import annotations

import sys

from oslo_config import cfg

from common import service
from objectstore import conf as objectstore_conf

NAME = "stratus-objectstore-proxy"
PASTE_FILE = "proxy-paste.ini"


def register_opts(conf: cfg.ConfigOpts) -> None:
    """The object store's options, with the proxy's own Paste file as default."""
    objectstore_conf.register_opts(conf)
    conf.set_default("api_paste_config", PASTE_FILE, group="api")


def main() -> None:
    conf = service.prepare("objectstore", sys.argv, register_opts)
    service.run_api(conf, NAME)


if __name__ == "__main__":
    main()
