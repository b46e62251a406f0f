"""The template context every page gets: user, projects, navigation."""
from __future__ import annotations

from typing import Any

from dashboard import panels


def visible(user: Any) -> list[panels.Panel]:
    """Panels this user sees: admin ones only for admins, each only when its
    service is in the catalog."""
    if user is None:
        return []
    return [p for p in panels.PANELS
            if (p.group != "admin" or user.is_admin)
            and (not p.service or p.service in user.services)]


def context(request: Any) -> dict[str, Any]:
    user = getattr(request, "stratus_user", None)
    if user is None:
        return {}
    current = panels.find(request.path)
    groups: list[dict[str, Any]] = []
    for panel in visible(user):
        if not groups or groups[-1]["name"] != panel.group:
            groups.append({"name": panel.group, "sections": []})
        sections = groups[-1]["sections"]
        if not sections or sections[-1]["name"] != panel.section:
            sections.append({"name": panel.section, "panels": []})
        sections[-1]["panels"].append({"title": panel.title, "url": panel.prefix,
                                       "active": panel == current})
    return {"stratus_user": user, "nav_groups": groups, "current_panel": current}
