"""Login, logout, project switch and the error pages."""
from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from dashboard import auth

PROJECT_COOKIE = "stratus_project"


class LoginForm(forms.Form):
    domain = forms.CharField(max_length=255)
    username = forms.CharField(label="User name", max_length=255)
    password = forms.CharField(widget=forms.PasswordInput, max_length=4096)


def _safe_next(request: Any, default: str = "/") -> str:
    nxt = request.POST.get("next") or request.GET.get("next") or default
    if not url_has_allowed_host_and_scheme(nxt, allowed_hosts={request.get_host()},
                                          require_https=request.is_secure()):
        return default
    return str(nxt)


def login(request: Any) -> HttpResponse:
    form = LoginForm(request.POST or None,
                     initial={"domain": settings.STRATUS_DEFAULT_DOMAIN})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            state = auth.login(settings.STRATUS_AUTH_URL, data["domain"], data["username"],
                               data["password"], request.COOKIES.get(PROJECT_COOKIE),
                               timeout=settings.STRATUS_API_TIMEOUT)
        except auth.LoginFailed as err:
            form.add_error(None, str(err))
        else:
            request.session.cycle_key()
            request.session[auth.SESSION_KEY] = state
            return HttpResponseRedirect(_safe_next(request))
    return render(request, "dashboard/login.html",
                  {"form": form, "next": _safe_next(request)},
                  status=400 if form.errors else 200)


@require_POST
def logout(request: Any) -> HttpResponse:
    state = request.session.get(auth.SESSION_KEY)
    if state:
        auth.revoke(settings.STRATUS_AUTH_URL, state)
    request.session.flush()
    messages.info(request, "You have logged out.")
    return HttpResponseRedirect("/auth/login/")


@require_POST
def switch_project(request: Any, project_id: str) -> HttpResponse:
    state = request.session[auth.SESSION_KEY]
    try:
        request.session[auth.SESSION_KEY] = auth.switch(
            settings.STRATUS_AUTH_URL, state, project_id, timeout=settings.STRATUS_API_TIMEOUT)
    except auth.LoginFailed as err:
        messages.error(request, str(err))
        return HttpResponseRedirect("/")
    name = next(p["name"] for p in state["projects"] if p["id"] == project_id)
    messages.success(request, "Switched to project %s." % name)
    resp = HttpResponseRedirect("/project/overview/")
    resp.set_cookie(PROJECT_COOKIE, project_id, max_age=365 * 86400, httponly=True,
                    samesite="Lax", secure=settings.SESSION_COOKIE_SECURE)
    return resp


def home(request: Any) -> HttpResponse:
    return HttpResponseRedirect("/project/overview/")


def healthcheck(request: Any) -> HttpResponse:
    return HttpResponse("OK", content_type="text/plain")


def csrf_failure(request: Any, reason: str = "") -> HttpResponse:
    return render(request, "dashboard/error.html",
                  {"title": "Form expired", "error": "The form was stale or came from "
                   "another site (CSRF check failed). Reload the page and try again."},
                  status=403)


def not_found(request: Any, exception: Exception | None = None) -> HttpResponse:
    return render(request, "dashboard/error.html",
                  {"title": "Not found", "error": "There is nothing here, or it belongs "
                   "to another project."}, status=404)


def forbidden(request: Any, exception: Exception | None = None) -> HttpResponse:
    text = str(exception) if exception and str(exception) else "You may not open this page."
    return render(request, "dashboard/error.html", {"title": "Forbidden", "error": text},
                  status=403)


def server_error(request: Any) -> HttpResponse:
    return render(request, "dashboard/error.html",
                  {"title": "Something went wrong", "error": "The dashboard failed to "
                   "build this page; the error is in its log."}, status=500)


def bad_request(request: Any, exception: Exception | None = None) -> HttpResponse:
    return render(request, "dashboard/error.html",
                  {"title": "Bad request", "error": "The request was not understood."},
                  status=400)
