"""The conductor's forced moves (microversions 2.29/2.30 ``force``, and a host
named before them): the scheduler's filters are skipped for the host named;
and the live migration the API did not wait for (2.34): a failure is recorded,
not raised."""
from __future__ import annotations

from typing import Any

import pytest

from compute import migration_exception as mig_exception
from compute import states
from compute.conductor import live_migrate
from compute.virt import exception as virt_exception
from tests.fixtures import compute_daemons as fx
from tests.unit.compute.test_compute_conductor_live_migrate import Env


@pytest.fixture
def env(tmp_path: Any) -> Any:
    environment = Env(tmp_path)
    yield environment
    environment.db.dispose()


def _live(env: Env, inst: str, host: str | None, **kwargs: Any) -> None:
    env.store.update(inst, {"task_state": states.MIGRATING})  # as the API does
    fx.call(env.conductor.live_migrate_instance, fx.ctxt(), inst, host, None, None, **kwargs)


def test_move_spec_forces_or_requests_the_host() -> None:
    instance = {"uuid": "u1", "host": "h1", "flavor": {"flavorid": "1"}}
    forced = live_migrate.move_spec(instance, "m1", "h2", force=True)
    assert forced["force_hosts"] == ["h2"] and "requested_host" not in forced
    checked = live_migrate.move_spec(instance, "m1", "h2")
    assert checked["requested_host"] == "h2" and "force_hosts" not in checked
    assert "force_hosts" not in live_migrate.move_spec(instance, "m1", None, force=True)


def test_a_forced_live_migration_skips_the_scheduler_filters(env: Env) -> None:
    fx.add_host(env.db, "h1")
    fx.add_host(env.db, "off", disabled=True)  # the filters refuse a disabled host
    inst = env.server()
    with pytest.raises(mig_exception.NoValidHostForMove):
        _live(env, inst, "off")
    _live(env, inst, "off", force=True)
    assert env.compute.casts[-1][0] == "live_migration"
    assert env.compute.casts[-1][2]["dest"] == "off"
    assert env.scheduler.calls[-1][0]["force_hosts"] == ["off"]
    assert env.migrations(inst)[-1]["status"] == "queued"


def test_a_forced_live_migration_still_checks_the_host(env: Env) -> None:
    fx.add_host(env.db, "h1")
    fx.add_host(env.db, "down", alive=False)
    inst = env.server()
    with pytest.raises(mig_exception.DestinationHostUnavailable):
        _live(env, inst, "down", force=True)
    assert env.compute.casts == [] and env.scheduler.calls == []


def test_an_async_live_migration_records_its_failure_without_raising(env: Env) -> None:
    fx.add_host(env.db, "h1")
    fx.add_host(env.db, "h2")
    inst = env.server()
    env.compute.errors["check_can_live_migrate_source"] = \
        virt_exception.MigrationPreCheckError(reason="CPU mismatch")
    _live(env, inst, None, async_=True)
    row = env.store.get(inst)
    assert (row["vm_state"], row["task_state"]) == (states.ACTIVE, None)
    assert env.migrations(inst)[-1]["status"] == "error"
    fault = env.store.latest_faults([inst])[inst]
    assert fault["code"] == 400 and "CPU mismatch" in fault["message"]
    assert ("rollback_live_migration_at_destination", "h2") in env.methods()


def test_a_forced_evacuation_skips_the_scheduler_filters(env: Env) -> None:
    fx.add_host(env.db, "h1", alive=False)
    fx.add_host(env.db, "off", disabled=True)
    inst = env.server()
    env.store.update(inst, {"task_state": states.REBUILDING})
    env.conductor.evacuate_instance(fx.ctxt(), inst, "off", force=True)
    [(method, host, _kwargs)] = env.compute.casts
    assert (method, host) == ("evacuate_instance", "off")
    assert env.scheduler.calls[0][0]["force_hosts"] == ["off"]
    assert env.migrations(inst)[0]["dest_compute"] == "off"
