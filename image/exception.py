"""Image errors (they cross RPC from the registry with their type)."""
from __future__ import annotations

from common import exception


class ImageNotFound(exception.NotFound):
    msg_fmt = "No image found with ID %(image_id)s"


class MemberNotFound(exception.NotFound):
    msg_fmt = "Member %(member)s not found for image %(image_id)s"


class InvalidImageStatusTransition(exception.Conflict):
    msg_fmt = "Image status transition from %(current)s to %(new)s is not allowed"


class DuplicateMember(exception.Conflict):
    msg_fmt = "Member %(member)s is already a member of image %(image_id)s"


class DuplicateImage(exception.Conflict):
    msg_fmt = "An image with identifier %(image_id)s already exists"


class InvalidMarker(exception.Invalid):
    msg_fmt = "Marker %(marker)s could not be found."


class InvalidFilter(exception.Invalid):
    msg_fmt = "Invalid filter %(name)s: %(detail)s"


class LimitExceeded(exception.Error):
    msg_fmt = "The limit has been exceeded: %(detail)s"
    code, title, safe = 413, "Request Entity Too Large", True


class StorageFull(exception.Error):
    msg_fmt = "Image storage media is full: %(detail)s"
    code, title, safe = 413, "Request Entity Too Large", True


class ImageSizeLimitExceeded(LimitExceeded):
    msg_fmt = "The provided image is too large."


class QuotaExceeded(LimitExceeded):
    msg_fmt = "The image quota for %(resource)s would be exceeded: %(detail)s"


class FormatMismatch(exception.UnsupportedMediaType):
    msg_fmt = "Image data does not match the declared disk_format %(disk_format)s."


class DataNotFound(exception.NotFound):
    """The location names no data (it was deleted, or never committed)."""

    msg_fmt = "No image data could be found at %(location)s"


class RangeNotSatisfiable(exception.Error):
    msg_fmt = "Requested range not satisfiable: %(detail)s"
    code, title, safe = 416, "Requested Range Not Satisfiable", True

    def __init__(self, size: int, detail: str) -> None:
        super().__init__(detail=detail)
        self.headers = {"Content-Range": "bytes */%d" % size}


class TaskNotFound(exception.NotFound):
    msg_fmt = "No task found with ID %(task_id)s"


class InvalidTaskStatusTransition(exception.Conflict):
    msg_fmt = "Task status transition from %(current)s to %(new)s is not allowed"
