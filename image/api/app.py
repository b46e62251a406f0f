"""The image WSGI app (paste ``app_factory``): services wired to the route table."""
from __future__ import annotations

from typing import Any

from oslo_config import cfg

from common import policy as common_policy
from common import rpc
from common import service as common_service
from common.wsgi import request as wsgi_request
from common.wsgi import router as wsgi_router
from image import data as data_mod
from image import policies
from image import service as image_service
from image import store as store_mod
from image.api.controllers import discovery
from image.api.controllers import image_data
from image.api.controllers import images
from image.api.controllers import members
from image.api.controllers import tasks
from image.registry import rpcapi

EXMODS = ["image.exception"]


class ImageApp:
    """The services of one image API process, and its router."""

    def __init__(self, conf: cfg.ConfigOpts) -> None:
        self.conf = conf
        if not rpc.initialized():
            rpc.init(conf, exmods=EXMODS, publisher="image")
        self.registry = rpcapi.RegistryAPI(conf)
        self.store = store_mod.get_store(conf)
        self.images = image_service.ImageService(conf, self.registry, self.store)
        self.data = data_mod.DataService(conf, self.registry, self.store, self.images)
        self.enforcer = common_policy.Enforcer(conf, policies.list_rules())
        table: list[tuple[str, dict[str, Any]]] = []
        for controller in (discovery.DiscoveryController(self), images.ImagesController(self),
                           members.MembersController(self),
                           image_data.ImageDataController(self),
                           tasks.ImageTasksController(self)):
            table.extend(controller.routes())
        # Glance reads /v2/images/ as an image with an empty id (404), not a list.
        self.router = wsgi_router.Router(table, before=self._prepare_context,
                                         strict_slashes=True)

    def _prepare_context(self, req: wsgi_request.Request) -> None:
        self.enforcer.bind(req.context)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        return self.router(environ, start_response)


def app_factory(global_conf: dict[str, Any], **local_conf: Any) -> ImageApp:
    return ImageApp(common_service.conf_from_global(global_conf))
