"""Errors of live migration and evacuation as the API answers them (Nova's
messages and codes: before microversion 2.34 a live migration's pre-checks
answer 400, an evacuation from a host still up 400)."""
from __future__ import annotations

from common import exception


class DestinationHostNotFound(exception.Invalid):
    msg_fmt = "Compute host %(host)s could not be found."


class DestinationHostUnavailable(exception.Invalid):
    msg_fmt = "Compute service of %(host)s is unavailable at this time."


class ComputeServiceInUse(exception.Invalid):
    msg_fmt = "Compute service of %(host)s is still in use."


class MigrationNotFoundForInstance(exception.NotFound):
    msg_fmt = "Migration %(migration_id)s not found for instance %(instance_id)s"


class LiveMigrationNotInProgress(exception.NotFound):
    msg_fmt = "In-progress live migration %(id)s is not found for server %(uuid)s."


class InvalidMigrationState(exception.Invalid):
    msg_fmt = ("Migration %(migration_id)s state of instance %(instance_uuid)s is "
               "%(state)s. Cannot %(method)s while the migration is in this state.")


class NoValidHostForMove(exception.Invalid):
    msg_fmt = "No valid host was found. %(reason)s"
