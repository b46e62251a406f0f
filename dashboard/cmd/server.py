"""``stratus-dashboard``: the web dashboard on port 8000 (threaded WSGI server)."""
from __future__ import annotations

import os
import sys

from oslo_log import log as logging

from common import service
from common.wsgi import server as wsgi_server
from dashboard import app as dashboard_app
from dashboard import conf as dashboard_conf

LOG = logging.getLogger(__name__)


def main() -> None:
    conf = service.prepare("dashboard", sys.argv, dashboard_conf.register_opts)
    application = dashboard_app.make_app(conf)
    server = wsgi_server.Server(application, conf.api.bind_host, conf.api.bind_port,
                                threads=conf.api.threads, name="stratus-dashboard")
    server.start()
    LOG.info("stratus-dashboard serving http://%(host)s:%(port)s/ (pid %(pid)s)",
             {"host": conf.api.bind_host, "port": server.port, "pid": os.getpid()})
    launcher = service.Launcher()
    launcher.add(server.stop)
    launcher.wait()
    sys.exit(0)


if __name__ == "__main__":
    main()
