"""Scheduler errors (the lead may fold them into ``compute.exception``)."""
from __future__ import annotations

from common import exception


class NoValidHost(exception.Error):
    """No host passed the filters for one of the requested instances.

    The message is shown to users in the instance fault, so it names filters and
    host counts but never a host.
    """

    msg_fmt = "No valid host was found. %(reason)s"
    code, title, safe = 500, "Internal Server Error", True


class FilterNotFound(exception.Invalid):
    msg_fmt = "Scheduler host filter %(filter_name)s could not be found."


class WeigherNotFound(exception.Invalid):
    msg_fmt = "Scheduler host weigher %(weigher_name)s could not be found."
