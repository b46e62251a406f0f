"""The foundation's declarations: every option registers and is listed for the
generator, the policy defaults load into the enforcer and decide as Cinder's
do, and the status tables are consistent."""
from __future__ import annotations

import pytest
from oslo_config import cfg

from common import context, policy
from common import exception as common_exception
from blockstorage import conf as bs_conf
from blockstorage import exception
from blockstorage import policies
from blockstorage import states


def _conf() -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    bs_conf.register_opts(conf)
    bs_conf.register_opts(conf)  # twice is harmless
    conf([])
    return conf


def test_options_and_defaults() -> None:
    conf = _conf()
    assert conf.api.bind_port == 8776
    assert conf.default_volume_type == "__DEFAULT__"
    assert conf.storage_availability_zone == "nova"
    assert conf.default_availability_zone is None
    assert conf.allow_availability_zone_fallback is False
    assert conf.volume_name_template % "x" == "volume-x"
    assert conf.service_down_time == 60
    assert conf.report_interval == 10.0
    assert (conf.quota.volumes, conf.quota.snapshots, conf.quota.gigabytes,
            conf.quota.backups, conf.quota.backup_gigabytes,
            conf.quota.per_volume_gigabytes) == (10, 10, 1000, 10, 1000, -1)
    assert conf.transport_url == "rabbit://"  # oslo.messaging's options are there


def test_list_opts_covers_what_register_opts_registers() -> None:
    groups: dict[str, set[str]] = {}
    for group, opts in bs_conf.list_opts():
        groups.setdefault(group or "DEFAULT", set()).update(o.dest for o in opts)
    assert {"default_volume_type", "service_down_time", "report_interval",
            "transport_url"} <= groups["DEFAULT"]
    assert {"volumes", "gigabytes"} <= groups["quota"]
    assert {"connection"} <= groups["database"]
    assert {"bind_port"} <= groups["api"]


def _ctxt(roles: list[str], project: str = "p1") -> context.RequestContext:
    return context.RequestContext(user_id="u", project_id=project, roles=roles,
                                  is_admin="admin" in roles)


@pytest.fixture
def enforcer() -> policy.Enforcer:
    return policy.Enforcer(_conf(), policies.list_rules())


def test_rule_names_unique_and_documented() -> None:
    rules = policies.list_rules()
    names = [r.name for r in rules]
    assert len(names) == len(set(names))
    for name in ("volume:create", "volume:get", "volume_extension:types_manage",
                 "volume_extension:volume_admin_actions:reset_status",
                 "volume_extension:quotas:update", "backup:create",
                 "volume:attachment_create", "volume:create_snapshot"):
        assert name in names


def test_member_acts_on_own_project_only(enforcer: policy.Enforcer) -> None:
    member = _ctxt(["member", "reader"])
    assert enforcer.authorize(member, "volume:create", {"project_id": "p1"})
    with pytest.raises(common_exception.PolicyNotAuthorized):
        enforcer.authorize(member, "volume:delete", {"project_id": "p2"})
    reader = _ctxt(["reader"])
    assert enforcer.authorize(reader, "volume:get", {"project_id": "p1"})
    assert not enforcer.authorize(reader, "volume:create", {"project_id": "p1"},
                                  fatal=False)


def test_admin_only_rules(enforcer: policy.Enforcer) -> None:
    member = _ctxt(["member"])
    admin = _ctxt(["admin"], project="admin")
    target = {"project_id": "p1"}
    for rule in ("volume_extension:volume_admin_actions:reset_status",
                 "volume_extension:types_manage", "volume_extension:quotas:update",
                 "volume_extension:services:index"):
        assert not enforcer.authorize(member, rule, target, fatal=False)
        assert enforcer.authorize(admin, rule, target)
    assert enforcer.authorize(member, "volume_extension:type_get", target)


def test_status_tables_are_consistent() -> None:
    assert len(states.VOLUME_STATUSES) == 19
    for table, statuses in ((states.VOLUME_TRANSITIONS, states.VOLUME_STATUSES),
                            (states.SNAPSHOT_TRANSITIONS, states.SNAPSHOT_STATUSES),
                            (states.BACKUP_TRANSITIONS, states.BACKUP_STATUSES),
                            (states.ATTACHMENT_TRANSITIONS, states.ATTACHMENT_STATUSES)):
        for current, nexts in table.items():
            assert current in statuses
            assert nexts <= statuses
    assert states.allowed(states.VOLUME_TRANSITIONS, "available", "deleting")
    assert not states.allowed(states.VOLUME_TRANSITIONS, "in-use", "deleting")
    assert states.allowed(states.VOLUME_TRANSITIONS, "in-use", "in-use")
    assert "available" in states.sources(states.VOLUME_TRANSITIONS, "extending")
    assert states.VOLUME_DELETABLE <= set(states.sources(states.VOLUME_TRANSITIONS,
                                                         "deleting"))


def test_error_codes() -> None:
    assert exception.VolumeNotFound(volume_id="v").code == 404
    assert exception.InvalidVolume(reason="r").code == 400
    err = exception.InvalidVolumeStatus(volume_id="v", expected="available",
                                        actual="in-use")
    assert err.code == 400 and str(err).startswith("Invalid volume: ")
    assert isinstance(err, exception.InvalidVolume)
    assert exception.QuotaExceeded(overs="volumes").code == 413
    assert exception.VolumeTypeExists(id="t").code == 409
    assert exception.InvalidInput(reason="r").code == 400
    assert exception.NoValidBackend(reason="r").code == 500
    assert str(exception.SnapshotNotFound(snapshot_id="s")) == "Snapshot s could not be found."
