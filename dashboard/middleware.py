"""Login required everywhere but the login page; admin panels for admins only;
API errors as pages with readable messages (404 for what the user cannot see)."""
from __future__ import annotations

import dataclasses
import logging
from typing import Any, Callable
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render

from dashboard import auth, errors, views

LOG = logging.getLogger(__name__)
PUBLIC_PREFIXES = ("/auth/login", "/static/", "/healthcheck")
# Catalog types that name the same service.
_ALIASES = {"volumev3": "block-storage", "volumev2": "block-storage", "volume": "block-storage",
            "block-store": "block-storage", "object-storage": "object-store"}


@dataclasses.dataclass
class User:
    """Who is logged in, and into which project."""
    user_id: str
    user_name: str
    domain_name: str
    project_id: str
    project_name: str
    projects: list[dict[str, str]]
    roles: list[str]
    services: set[str]

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


def _user(state: dict[str, Any], info: Any) -> User:
    services = set()
    for entry in info.service_catalog.catalog or []:
        kind = entry.get("type", "")
        services.add(_ALIASES.get(kind, kind))
    return User(user_id=info.user_id, user_name=info.username,
                domain_name=info.user_domain_name or "", project_id=info.project_id,
                project_name=info.project_name, projects=state["projects"],
                roles=sorted(info.role_names), services=services)


def wants_json(request: Any) -> bool:
    return bool(request.headers.get("X-Requested-With") == "XMLHttpRequest"
                or "application/json" in request.headers.get("Accept", ""))


def to_login(request: Any, note: str | None = None) -> HttpResponse:
    request.session.flush()
    if note:
        messages.warning(request, note)
    if wants_json(request):
        return JsonResponse({"error": note or "log in again", "login": True}, status=401)
    nxt = request.get_full_path() if request.method == "GET" else "/"
    return HttpResponseRedirect("/auth/login/?" + urlencode({"next": nxt}))


class KeystoneSessionMiddleware:
    def __init__(self, get_response: Callable[[Any], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> HttpResponse:
        request.stratus_user = None
        if request.path.startswith(PUBLIC_PREFIXES):
            return self.get_response(request)
        state = request.session.get(auth.SESSION_KEY)
        if not state:
            return to_login(request)
        info = auth.access(state)
        if auth.expired(info):
            return to_login(request, "Your session has expired; log in again.")
        request.stratus_user = _user(state, info)
        if request.path.startswith("/admin/") and not request.stratus_user.is_admin:
            # Rendered here, not raised: a member's try is no error for the log.
            return views.forbidden(request, PermissionDenied("This page is for administrators."))
        return self.get_response(request)


class ApiErrorMiddleware:
    """An API error a view did not handle becomes a page: 404 when the API says
    the thing does not exist (or belongs to another project), the login page when
    the token is refused, else the error page with the API's message."""

    def __init__(self, get_response: Callable[[Any], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: Any) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: Any, exc: BaseException) -> HttpResponse | None:
        if not isinstance(exc, errors.API_ERRORS):
            return None
        code = errors.status(exc)
        if code == 404:
            raise Http404(errors.message(exc))
        if code == 401:
            return to_login(request, "Your session has expired; log in again.")
        text = errors.message(exc)
        LOG.warning("%s %s: %s", request.method, request.path, text)
        status = 403 if code == 403 else 502
        if wants_json(request):
            return JsonResponse({"error": text}, status=status)
        return render(request, "dashboard/error.html",
                      {"title": "The cloud refused this page", "error": text,
                       "debug": settings.DEBUG}, status=status)
