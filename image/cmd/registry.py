"""``stratus-image-registry``: owns the image database, serves it over RPC."""
from __future__ import annotations

import sys

from common import rpc
from common import rpc_service
from common import service
from common.db import engine
from image import conf as image_conf
from image.registry import manager
from image.registry import rpcapi
from image.registry.db import api as db_api

EXMODS = ["image.exception"]


def main() -> None:
    conf = service.prepare("image", sys.argv, image_conf.register_opts)
    rpc.init(conf, exmods=EXMODS, publisher="image")
    images = db_api.ImageDB(engine.Database.from_conf(conf, "image"))
    server = rpc_service.RPCService(conf, manager.RegistryManager(images, conf), rpcapi.TOPIC,
                                    conf.host, binary="stratus-image-registry")
    rpc_service.run_rpc(conf, server)


if __name__ == "__main__":
    main()
