"""Identity errors, worded as Keystone words them."""
from __future__ import annotations

from common import exception


class NotFound(exception.NotFound):
    msg_fmt = "Could not find %(kind)s: %(id)s."


class DomainNotFound(NotFound):
    msg_fmt = "Could not find domain: %(id)s."


class ProjectNotFound(NotFound):
    msg_fmt = "Could not find project: %(id)s."


class UserNotFound(NotFound):
    msg_fmt = "Could not find user: %(id)s."


class GroupNotFound(NotFound):
    msg_fmt = "Could not find group: %(id)s."


class RoleNotFound(NotFound):
    msg_fmt = "Could not find role: %(id)s."


class RegionNotFound(NotFound):
    msg_fmt = "Could not find region: %(id)s."


class ServiceNotFound(NotFound):
    msg_fmt = "Could not find service: %(id)s."


class EndpointNotFound(NotFound):
    msg_fmt = "Could not find endpoint: %(id)s."


class CredentialNotFound(NotFound):
    msg_fmt = "Could not find credential: %(id)s."


class AppCredNotFound(NotFound):
    msg_fmt = "Could not find Application Credential: %(id)s."


class ImpliedRoleNotFound(NotFound):
    msg_fmt = "%(prior)s does not imply %(implied)s."


class GrantNotFound(NotFound):
    msg_fmt = "Could not find role assignment with role: %(role_id)s, %(target)s."


class TokenNotFound(NotFound):
    msg_fmt = "Could not find token: %(id)s."


class Conflict(exception.Conflict):
    msg_fmt = "Conflict occurred attempting to store %(type)s - %(details)s."


class AuthFailed(exception.Unauthorized):
    msg_fmt = "The request you have made requires authentication."


class Forbidden(exception.Forbidden):
    pass


class CredentialEncryptionError(exception.Error):
    msg_fmt = ("Credential %(id)s cannot be decrypted with the configured credential keys "
               "(rotated out?).")
    code, title, safe = 500, "Internal Server Error", True
