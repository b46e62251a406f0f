"""``stratus-network-server``: the network API (port 9696) and, in the same
process, the RPC endpoint the agents talk to (topic ``network-plugin``)."""
from __future__ import annotations

import os
import sys

from oslo_log import log as logging

from common import rpc
from common import rpc_service
from common import service
from common.db import engine
from common.wsgi import server as wsgi_server
from network import conf as network_conf
from network import l2_manager
from network import l3_manager
from network import manager
from network import rpcapi
from network.api import app as network_app
from network.plugin import core

LOG = logging.getLogger(__name__)
EXMODS = ["network.exception"]


def main() -> None:
    conf = service.prepare("network", sys.argv, network_conf.register_opts)
    rpc.init(conf, exmods=EXMODS, publisher="network")
    plugin = core.Plugin(conf, engine.Database.from_conf(conf, "network"))
    network_app.share_plugin(conf, plugin)
    app = service.load_app(conf)
    server = wsgi_server.Server(app, conf.api.bind_host, conf.api.bind_port,
                                threads=conf.api.threads, name="stratus-network-server")
    endpoint = rpc_service.RPCService(conf, manager.PluginManager(plugin), rpcapi.TOPIC,
                                      conf.host, binary="stratus-network-server",
                                      endpoints=[l3_manager.L3PluginManager(plugin),
                                                 l2_manager.L2Manager(plugin)])
    launcher = service.Launcher()
    launcher.add(rpc.cleanup)
    endpoint.start()
    launcher.add(endpoint.stop)
    server.start()
    launcher.add(server.stop)
    LOG.info("stratus-network-server started (pid %(pid)s)", {"pid": os.getpid()})
    launcher.wait()
    sys.exit(0)


if __name__ == "__main__":
    main()
