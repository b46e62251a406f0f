"""Instance actions (``os-instance-actions``) and their events, in plain statements.

An action is one request on a server (``create``, ``reboot`` …, keyed by the
request id); its events are the steps the services ran for it
(``conductor_schedule_and_build_instances``, ``compute_build_and_run_instance``
…), each started and finished with a result. The functions here take an open
connection (or session) of a writer transaction, so that
:meth:`compute.db.instances.InstanceStore.update` can record an event in the
transaction of an instance's state change. The statements are built once:
building one costs more than running it on SQLite.
"""
from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, Protocol

import sqlalchemy as sa

from compute.db import models

_ACTIONS = models.InstanceAction
_EVENTS = models.InstanceActionEvent
_NEW_ACTION = sa.insert(_ACTIONS)
_ACTION_ID = (sa.select(_ACTIONS.id)
              .where(_ACTIONS.instance_uuid == sa.bindparam("instance_uuid"),
                     _ACTIONS.request_id == sa.bindparam("request_id"))
              .order_by(_ACTIONS.id.desc()).limit(1))
_OPEN_EVENT = (sa.select(_EVENTS.id)
               .where(_EVENTS.action_id == sa.bindparam("action_id"),
                      _EVENTS.event == sa.bindparam("event"),
                      _EVENTS.finish_time.is_(None))
               .order_by(_EVENTS.id.desc()).limit(1))
_NEW_EVENT = sa.insert(_EVENTS)
# The columns set come from the parameters of each execution.
_CLOSE_EVENT = sa.update(_EVENTS).where(_EVENTS.id == sa.bindparam("event_id"))
_ACTION_TOUCH = sa.update(_ACTIONS).where(_ACTIONS.id == sa.bindparam("action_id"))


class Executor(Protocol):
    """A Connection or a Session of a transaction."""

    def execute(self, statement: Any, parameters: Any = ...) -> Any: ...


# How the compute database's times travel (RPC, API views); compute.db.instances
# re-exports both.
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%f"


def isotime(value: datetime.datetime | None) -> str | None:
    return value.strftime(TIME_FORMAT) if value is not None else None


def start(conn: Executor, instance_uuid: str, action: str, request_id: str,
          user_id: str | None, project_id: str | None,
          now: datetime.datetime) -> dict[str, Any]:
    """Record a new action; its dict (as :func:`action_dict` makes it)."""
    conn.execute(_NEW_ACTION, {"instance_uuid": instance_uuid, "action": action,
                               "request_id": request_id, "user_id": user_id,
                               "project_id": project_id, "start_time": now})
    return {"action": action, "instance_uuid": instance_uuid, "request_id": request_id,
            "user_id": user_id, "project_id": project_id, "message": None,
            "start_time": isotime(now), "finish_time": None, "updated_at": isotime(now)}


def action_id(conn: Executor, instance_uuid: str, request_id: str) -> int | None:
    """The id of the latest action of ``request_id`` on the instance, if any."""
    found = conn.execute(_ACTION_ID, {"instance_uuid": instance_uuid,
                                      "request_id": request_id}).scalar()
    return int(found) if found is not None else None


def event_start(conn: Executor, instance_uuid: str, request_id: str, event: str,
                host: str | None, now: datetime.datetime) -> None:
    """Record that ``event`` started; nothing when the request has no action."""
    found = action_id(conn, instance_uuid, request_id)
    if found is None:
        return
    conn.execute(_NEW_EVENT, {"action_id": found, "event": event, "host": host,
                              "start_time": now})
    conn.execute(_ACTION_TOUCH, {"action_id": found, "updated_at": now})


def event_finish(conn: Executor, instance_uuid: str, request_id: str, event: str,
                 result: str, traceback: str | None, host: str | None,
                 now: datetime.datetime) -> None:
    """Close ``event`` (the latest one still open; a new one when none is); an
    error result marks the whole action ``Error``."""
    found = action_id(conn, instance_uuid, request_id)
    if found is None:
        return
    event_id = conn.execute(_OPEN_EVENT, {"action_id": found, "event": event}).scalar()
    closing = {"finish_time": now, "result": result, "traceback": traceback}
    if event_id is None:
        conn.execute(_NEW_EVENT, dict(closing, action_id=found, event=event, host=host,
                                      start_time=now))
    else:
        conn.execute(_CLOSE_EVENT, dict(closing, event_id=event_id))
    touch: dict[str, Any] = {"action_id": found, "finish_time": now, "updated_at": now}
    if result.lower() == "error":
        touch["message"] = "Error"
    conn.execute(_ACTION_TOUCH, touch)


def record(conn: Executor, instance_uuid: str, action_event: Mapping[str, Any],
           now: datetime.datetime) -> None:
    """Start (or, with a ``result``, finish) the event an ``action_event`` dict
    names: ``request_id``, ``event``, ``host``, ``result``, ``traceback``."""
    request_id = str(action_event.get("request_id") or "")
    if not request_id:
        return
    event, host = str(action_event["event"]), action_event.get("host")
    if action_event.get("result") is None:
        event_start(conn, instance_uuid, request_id, event, host, now)
    else:
        event_finish(conn, instance_uuid, request_id, event, str(action_event["result"]),
                     action_event.get("traceback"), host, now)


def action_dict(row: models.InstanceAction, events: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {
        "action": row.action, "instance_uuid": row.instance_uuid,
        "request_id": row.request_id, "user_id": row.user_id, "project_id": row.project_id,
        "message": row.message, "start_time": isotime(row.start_time),
        "finish_time": isotime(row.finish_time),
        "updated_at": isotime(row.updated_at or row.start_time)}
    if events:
        data["events"] = [{"event": e.event, "start_time": isotime(e.start_time),
                           "finish_time": isotime(e.finish_time), "result": e.result,
                           "traceback": e.traceback, "host": e.host, "details": e.details}
                          for e in sorted(row.events, key=lambda e: e.id)]
    return data
