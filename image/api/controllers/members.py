"""/v2/images/{image_id}/members: share an image with other projects."""
from __future__ import annotations

from typing import Any

from common import exception as common_exc
from common.wsgi import request as wsgi_request
from image.api import views

Request = wsgi_request.Request


def _field(req: Request, name: str) -> str:
    body = req.parsed_json()
    if not isinstance(body, dict) or not isinstance(body.get(name), str) or not body[name]:
        raise common_exc.ValidationError(field=name, detail="a string is required")
    return str(body[name])


class MembersController:
    def __init__(self, app: Any) -> None:
        self.images = app.images

    def create(self, req: Request, image_id: str) -> Any:
        req.context.can("image:add_member")
        member = self.images.add_member(req.context, image_id, _field(req, "member"))
        return wsgi_request.json_response(views.member(member))

    def index(self, req: Request, image_id: str) -> Any:
        req.context.can("image:get_members")
        return wsgi_request.json_response(views.members(
            self.images.list_members(req.context, image_id)))

    def show(self, req: Request, image_id: str, member_id: str) -> Any:
        req.context.can("image:get_members")
        member = self.images.get_member(req.context, image_id, member_id)
        return wsgi_request.json_response(views.member(member))

    def update(self, req: Request, image_id: str, member_id: str) -> Any:
        req.context.can("image:modify_member")
        member = self.images.update_member(req.context, image_id, member_id,
                                           _field(req, "status"))
        return wsgi_request.json_response(views.member(member))

    def delete(self, req: Request, image_id: str, member_id: str) -> Any:
        req.context.can("image:delete_member")
        self.images.delete_member(req.context, image_id, member_id)
        return wsgi_request.empty_response()

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        path = "/v2/images/{image_id}/members"
        return [(path, {"GET": self.index, "POST": self.create}),
                (path + "/{member_id}", {"GET": self.show, "PUT": self.update,
                                         "DELETE": self.delete})]
