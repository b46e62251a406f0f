"""Base exception hierarchy: every error carries its HTTP meaning."""


class Error(Exception):
    """Base for all our errors; the message is rendered from ``msg_fmt``."""

    msg_fmt = "An unknown error occurred."
    code: int = 500
    title: str = "Internal Server Error"
    safe: bool = False
    headers: dict[str, str] = {}

    def __init__(self, message: str | None = None, **kwargs: object) -> None:
        self.kwargs = kwargs
        if message is None:
            try:
                message = self.msg_fmt % kwargs
            except (KeyError, TypeError):
                message = self.msg_fmt
        self.message = message
        super().__init__(message)


class Invalid(Error):
    msg_fmt = "The request you have made is invalid."
    code, title, safe = 400, "Bad Request", True


class ValidationError(Invalid):
    msg_fmt = "Invalid input for field '%(field)s': %(detail)s"


class MalformedBody(Invalid):
    msg_fmt = "Malformed request body: %(detail)s"


class Unauthorized(Error):
    msg_fmt = "The request you have made requires authentication."
    code, title, safe = 401, "Unauthorized", True


class Forbidden(Error):
    msg_fmt = "You are not authorized to perform the requested action."
    code, title, safe = 403, "Forbidden", True


class PolicyNotAuthorized(Forbidden):
    msg_fmt = "You are not authorized to perform the requested action: %(action)s."


class NotFound(Error):
    msg_fmt = "Could not find the requested resource."
    code, title, safe = 404, "Not Found", True


class MethodNotAllowed(Error):
    msg_fmt = "The method %(method)s is not allowed on this resource."
    code, title, safe = 405, "Method Not Allowed", True


class NotAcceptable(Error):
    msg_fmt = "The requested representation is not available."
    code, title, safe = 406, "Not Acceptable", True


class Conflict(Error):
    msg_fmt = "Conflict occurred attempting to store %(type)s - %(details)s."
    code, title, safe = 409, "Conflict", True


class Gone(Error):
    msg_fmt = "The requested resource is no longer available."
    code, title, safe = 410, "Gone", True


class RequestEntityTooLarge(Error):
    msg_fmt = "Request is too large."
    code, title, safe = 413, "Request Entity Too Large", True


class UnsupportedMediaType(Error):
    msg_fmt = "The media type %(content_type)s is not supported."
    code, title, safe = 415, "Unsupported Media Type", True


class OverQuota(Forbidden):
    msg_fmt = "Quota exceeded for %(resource)s."


class NotImplementedYet(Error):
    msg_fmt = "The action you have requested has not been implemented."
    code, title, safe = 501, "Not Implemented", True


class ServiceUnavailable(Error):
    msg_fmt = "The service is unavailable: %(reason)s"
    code, title, safe = 503, "Service Unavailable", True
