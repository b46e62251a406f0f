"""Keystone logins for the dashboard: password → unscoped token → projects →
project-scoped token, kept in the user's session (never the password).

The session holds the scoped token's body; :func:`access` turns it back into a
keystoneauth ``AccessInfo`` so every request calls the APIs with the user's own
token without a round trip to Keystone.
"""
from __future__ import annotations

import datetime
from typing import Any

from keystoneauth1 import access as ks_access
from keystoneauth1 import exceptions as ks_exc
from keystoneauth1 import session as ks_session
from keystoneauth1.identity import v3

SESSION_KEY = "stratus_auth"
# Re-login this long before Keystone's expiry, so no page fails half-way.
EXPIRY_MARGIN = datetime.timedelta(seconds=30)


class LoginFailed(Exception):
    """A login that cannot go on; the message is for the user."""


def _session(timeout: float) -> ks_session.Session:
    return ks_session.Session(timeout=timeout, app_name="stratus-dashboard")


def _projects(sess: ks_session.Session, auth_url: str, token: str) -> list[dict[str, str]]:
    resp = sess.get(auth_url.rstrip("/") + "/auth/projects", authenticated=False,
                    headers={"X-Auth-Token": token})
    found = [{"id": p["id"], "name": p["name"]} for p in resp.json().get("projects", [])
             if p.get("enabled", True)]
    return sorted(found, key=lambda p: p["name"].lower())


def _scoped(sess: ks_session.Session, auth_url: str, token: str,
            project_id: str) -> ks_access.AccessInfo:
    plugin = v3.Token(auth_url=auth_url, token=token, project_id=project_id)
    return plugin.get_access(sess)


def login(auth_url: str, domain: str, username: str, password: str,
          preferred_project: str | None = None, timeout: float = 30) -> dict[str, Any]:
    """Log in; return what :func:`store` keeps. Raises :class:`LoginFailed`."""
    sess = _session(timeout)
    plugin = v3.Password(auth_url=auth_url, username=username, password=password,
                         user_domain_name=domain, unscoped=True)
    try:
        unscoped = plugin.get_access(sess)
        token = str(unscoped.auth_token)
        projects = _projects(sess, auth_url, token)
        if not projects:
            raise LoginFailed("You are not a member of any project.")
        ids = [p["id"] for p in projects]
        chosen = preferred_project if preferred_project in ids else ids[0]
        scoped = _scoped(sess, auth_url, token, chosen)
    except ks_exc.Unauthorized:
        raise LoginFailed("Invalid user name, password or domain.") from None
    except (ks_exc.ConnectFailure, ks_exc.ConnectTimeout, ks_exc.DiscoveryFailure):
        raise LoginFailed("The identity service at %s cannot be reached." % auth_url) from None
    except ks_exc.HttpError as err:
        raise LoginFailed("The identity service refused the login: %s" % err.message) from None
    return {"unscoped": token, "projects": projects,
            "token": scoped.auth_token, "body": scoped._data}


def switch(auth_url: str, state: dict[str, Any], project_id: str,
           timeout: float = 30) -> dict[str, Any]:
    """``state`` rescoped to ``project_id`` (one the user may use)."""
    if project_id not in {p["id"] for p in state["projects"]}:
        raise LoginFailed("You are not a member of that project.")
    sess = _session(timeout)
    try:
        scoped = _scoped(sess, auth_url, state["unscoped"], project_id)
    except ks_exc.Unauthorized:
        raise LoginFailed("Your login has expired; log in again.") from None
    except ks_exc.HttpError as err:
        raise LoginFailed("The identity service refused the switch: %s" % err.message) from None
    return dict(state, token=scoped.auth_token, body=scoped._data)


def access(state: dict[str, Any]) -> ks_access.AccessInfo:
    return ks_access.create(body=state["body"], auth_token=state["token"])


def expired(info: ks_access.AccessInfo, now: datetime.datetime | None = None) -> bool:
    expires = info.expires
    if expires is None:
        return False
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return bool(expires - EXPIRY_MARGIN <= now)


def revoke(auth_url: str, state: dict[str, Any], timeout: float = 10) -> None:
    """Revoke the session's tokens (logout); a failure only leaves them to expire."""
    sess = _session(timeout)
    for token in {state.get("token"), state.get("unscoped")} - {None}:
        try:
            sess.delete(auth_url.rstrip("/") + "/auth/tokens", authenticated=False,
                        headers={"X-Auth-Token": str(token), "X-Subject-Token": str(token)})
        except ks_exc.ClientException:
            pass
