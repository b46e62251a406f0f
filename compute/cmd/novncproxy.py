"""``stratus-compute-novncproxy``: noVNC's pages and the websocket proxy to guests'
VNC consoles (port 6080), checking console tokens in the compute database."""
from __future__ import annotations

import os
import sys

from oslo_log import log as logging

from common import service
from common.db import engine
from compute import conf as compute_conf
from compute.console import tokens
from compute.console import websocketproxy

LOG = logging.getLogger(__name__)


def main() -> None:
    conf = service.prepare("compute", sys.argv, compute_conf.register_opts)
    db = engine.Database.from_conf(conf, "compute")
    store = tokens.ConsoleTokens(db)
    proxy = websocketproxy.ProxyServer((conf.vnc.novncproxy_host, conf.vnc.novncproxy_port),
                                       store.validate, conf.vnc.novnc_path,
                                       conf.vnc.allowed_origins)
    if proxy.web_root is None:
        LOG.warning("noVNC's pages are not at %s (install Debian's novnc): only the "
                    "websocket is served", conf.vnc.novnc_path)
    launcher = service.Launcher()
    launcher.add(db.dispose)
    proxy.start()
    launcher.add(proxy.stop)
    LOG.info("stratus-compute-novncproxy listening on %(host)s:%(port)s (pid %(pid)s)",
             {"host": conf.vnc.novncproxy_host, "port": conf.vnc.novncproxy_port,
              "pid": os.getpid()})
    launcher.wait()
    sys.exit(0)


if __name__ == "__main__":
    main()
