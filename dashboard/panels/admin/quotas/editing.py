"""The page that edits quota limits of several services in one form (a
project's quotas, or the defaults): each service is read and written on its
own, and each one's refusal is shown in its section."""
from __future__ import annotations

from typing import Any, Callable

from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from dashboard.panels.admin.quotas import fields

TEMPLATE = "admin/quotas/form.html"


def quota_page(request: Any, services: list[fields.Service],
               read: Callable[[fields.Service], dict[str, Any]],
               write: Callable[[fields.Service, dict[str, int]], None],
               title: str, success_url: str, intro: str = "",
               notes: dict[str, str] | None = None, submit: str = "Save") -> HttpResponse:
    ready, current, unread = fields.load(services, read)
    form = fields.QuotaForm(request.POST or None, ready, current)
    problems: dict[str, str] = {}
    if request.method == "POST" and form.is_valid():
        done, problems = fields.save(form, write)
        for name in done:
            messages.success(request, "%s quotas updated." % name)
        if not problems:
            if not done:
                messages.info(request, "Nothing changed.")
            return HttpResponseRedirect(success_url)
    titles = {s.key: s.title for s in services}
    context = {"title": title, "form": form, "problems": problems, "intro": intro,
               "notes": notes or {}, "submit": submit, "cancel_url": success_url,
               "unread": {key: "%s: the limits cannot be read: %s" % (titles[key], text)
                          for key, text in unread.items()}}
    return render(request, TEMPLATE, context,
                  status=400 if form.errors or problems else 200)
