"""A form page whose submit calls the cloud: the API's refusal is shown on the
form, next to the fields, and nothing is lost from what the user typed."""
from __future__ import annotations

from typing import Any, Callable

from django import forms
from django.contrib import messages
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render

from dashboard import errors


def form_page(request: Any, form: forms.Form, apply: Callable[[dict[str, Any]], str],
              success_url: str | Callable[[], str], title: str, submit: str = "Save",
              template: str = "dashboard/form.html", extra: dict[str, Any] | None = None,
              cancel_url: str | None = None) -> HttpResponse:
    """Show ``form``; on a valid POST call ``apply(cleaned_data)``, which returns
    the success message (or raises an API error, shown on the form)."""
    if request.method == "POST" and form.is_valid():
        try:
            note = apply(form.cleaned_data)
        except errors.API_ERRORS as err:
            form.add_error(None, errors.message(err))
        else:
            messages.success(request, note)
            return HttpResponseRedirect(success_url() if callable(success_url) else success_url)
    context = {"form": form, "title": title, "submit": submit,
               "cancel_url": cancel_url or (success_url if isinstance(success_url, str) else "")}
    context.update(extra or {})
    return render(request, template, context, status=400 if form.errors else 200)


def act(request: Any, apply: Callable[[], str], back: str) -> HttpResponse:
    """A row action (POST): do it, say how it went, go ``back``."""
    try:
        note = apply()
    except errors.API_ERRORS as err:
        if errors.status(err) == 404:
            raise
        messages.error(request, errors.message(err))
    else:
        messages.success(request, note)
    return HttpResponseRedirect(back)
