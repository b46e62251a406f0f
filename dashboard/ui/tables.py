"""Tables of API resources: columns, links, status badges, row actions, and rows
that refresh themselves while their resource is changing.

A view builds a :class:`Table` and renders ``dashboard/table.html`` (the whole
page) or, for a refreshing row, :func:`row_response`.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Callable

from django.http import HttpResponse
from django.template.loader import render_to_string

from dashboard.ui import format as fmt


def _always(row: Any) -> bool:
    return True


@dataclasses.dataclass
class Column:
    key: str
    label: str
    link: Callable[[Any], str | None] | None = None
    display: Callable[[Any], Any] | None = None   # the row → what to show
    status: bool = False                          # shown as a coloured badge


@dataclasses.dataclass
class Action:
    """A button on a row (``row=True``) or above the table.

    ``method="post"`` submits a CSRF-protected form to ``url`` (asking
    ``confirm`` first when set); ``"get"`` links to a form page.
    """
    label: str
    url: Callable[[Any], str] | str
    method: str = "post"
    allowed: Callable[[Any], bool] = _always
    danger: bool = False
    confirm: str = ""

    def href(self, row: Any = None) -> str:
        return self.url(row) if callable(self.url) else self.url

    def link(self, row: Any = None) -> dict[str, Any]:
        """What the templates draw: a button or a link, with its confirmation."""
        return {"label": self.label, "href": self.href(row), "method": self.method,
                "danger": self.danger, "confirm": self.confirm}


def links(actions: list[Action], row: Any) -> list[dict[str, Any]]:
    """The actions ``row`` allows, as the templates draw them (detail pages too)."""
    return [a.link(row) for a in actions if a.allowed(row)]


@dataclasses.dataclass
class Table:
    name: str                                 # HTML id, also in test selectors
    title: str
    columns: list[Column]
    rows: list[Any]
    actions: list[Action] = dataclasses.field(default_factory=list)       # per row
    table_actions: list[Action] = dataclasses.field(default_factory=list)
    row_id: Callable[[Any], str] = lambda row: str(fmt.get(row, "id"))
    # URL answering this row alone, polled while ``changing(row)``.
    row_url: Callable[[Any], str] | None = None
    changing: Callable[[Any], bool] = lambda row: fmt.transitional(fmt.get(row, "status"))
    empty: str = "Nothing here yet."

    def cells(self, row: Any) -> list[dict[str, Any]]:
        out = []
        for col in self.columns:
            value = col.display(row) if col.display else fmt.get(row, col.key)
            text = "-" if value is None or value == "" else value
            out.append({"text": text, "href": col.link(row) if col.link else None,
                        "status": fmt.status_class(value) if col.status else None,
                        "key": col.key})
        return out

    def render_row(self, row: Any) -> dict[str, Any]:
        refresh = self.row_url(row) if self.row_url and self.changing(row) else None
        return {"id": self.row_id(row), "cells": self.cells(row), "refresh": refresh,
                "actions": links(self.actions, row)}

    def context(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title,
                "headers": [c.label for c in self.columns],
                "has_actions": bool(self.actions),
                "rows": [self.render_row(r) for r in self.rows],
                "table_actions": [a.link() for a in self.table_actions],
                "empty": self.empty}


def row_response(request: Any, table: Table, row: Any) -> HttpResponse:
    """One ``<tr>``: what a refreshing row is replaced with."""
    context = {"row": table.render_row(row), "table": {"has_actions": bool(table.actions)}}
    html = render_to_string("dashboard/_row.html", context, request=request)
    return HttpResponse(html)


def page(request: Any, title: str, table: Table) -> HttpResponse:
    """The usual list page: ``table`` under ``title``."""
    from django.shortcuts import render

    return render(request, "dashboard/table.html", {"title": title, "table": table.context()})
