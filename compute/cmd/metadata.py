"""``stratus-compute-metadata``: the metadata API guests read through the network
service's metadata agent (port 8775). It reads instances from the compute
database itself (a compute daemon that owns database access)."""
from __future__ import annotations

import os
import sys

from oslo_log import log as logging

from common import service
from common.db import engine
from common.wsgi import server as wsgi_server
from compute import conf as compute_conf
from compute.db import instances
from compute.metadata import app as metadata_app

LOG = logging.getLogger(__name__)
NAME = "stratus-compute-metadata"


def main() -> None:
    conf = service.prepare("compute", sys.argv, compute_conf.register_opts)
    if not conf.metadata.metadata_proxy_shared_secret:
        LOG.warning("[metadata] metadata_proxy_shared_secret is empty: requests are "
                    "checked against an empty secret")
    db = engine.Database.from_conf(conf, "compute")
    app = metadata_app.build_app(conf, instances.InstanceStore(db))
    server = wsgi_server.Server(app, conf.metadata.bind_host, conf.metadata.bind_port,
                                threads=conf.metadata.threads, name=NAME)
    server.start()
    LOG.info("%(name)s listening on %(host)s:%(port)s (pid %(pid)s)",
             {"name": NAME, "host": conf.metadata.bind_host, "port": server.port,
              "pid": os.getpid()})
    launcher = service.Launcher()
    launcher.add(db.dispose)
    launcher.add(server.stop)
    launcher.wait()
    sys.exit(0)


if __name__ == "__main__":
    main()
