"""/v2/images/{image_id}/tasks: the tasks (imports) of an image (Image API 2.12)."""
from __future__ import annotations

from typing import Any

from common.wsgi import request as wsgi_request
from image.api import views

Request = wsgi_request.Request


class ImageTasksController:
    def __init__(self, app: Any) -> None:
        self.images = app.images

    def index(self, req: Request, image_id: str) -> Any:
        """GET /v2/images/{image_id}/tasks -> 200 ``{"tasks": [...]}``, newest first.

        Served at every version: Tempest calls it whatever the advertised maximum.
        """
        return wsgi_request.json_response(views.tasks(
            self.images.list_tasks(req.context, image_id)))

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        return [("/v2/images/{image_id}/tasks", {"GET": self.index})]
