"""The server's RPC contract (client and endpoint agree), heartbeats and the schema."""
from __future__ import annotations

import datetime
import inspect
from typing import Any

import pytest
from alembic import autogenerate
from alembic.runtime import migration as alembic_migration

from common import context
from network import exception
from network import manager
from network import rpcapi
from network.db import models
from tests.fixtures import network as fx


def _public(cls: type) -> dict[str, Any]:
    return {name: member for name, member in inspect.getmembers(cls, inspect.isfunction)
            if not name.startswith("_")}


def test_versions_in_sync() -> None:
    assert manager.PluginManager.target.version == rpcapi.PluginAPI.RPC_API_VERSION


def test_every_rpc_method_has_a_client_with_the_same_arguments() -> None:
    server = _public(manager.PluginManager)
    client = _public(rpcapi.PluginAPI)
    assert set(server) == set(client)
    for name, method in server.items():
        assert list(inspect.signature(method).parameters) == list(
            inspect.signature(client[name]).parameters), name


def test_report_state_and_liveness(tmp_path: Any) -> None:
    conf = fx.make_conf(str(tmp_path))
    plugin = fx.make_plugin(conf)
    endpoint = manager.PluginManager(plugin)
    ctxt = context.admin_context()
    state = {"agent_type": "L3 agent", "binary": "stratus-network-l3-agent", "host": "h",
             "topic": "l3_agent", "configurations": {"routers": 2}}
    first = endpoint.report_state(ctxt, state)
    assert first["alive"] is True and first["configurations"] == {"routers": 2}
    assert endpoint.report_state(ctxt, state)["id"] == first["id"]
    assert endpoint.get_agent(ctxt, "L3 agent", "h")["id"] == first["id"]
    assert endpoint.get_agent(ctxt, "L3 agent", "other") is None
    with plugin.db.writer() as s:
        row = s.get(models.Agent, first["id"])
        assert row is not None
        row.heartbeat_timestamp -= datetime.timedelta(seconds=76)
    assert plugin.agents.get(ctxt, first["id"])["alive"] is False
    with pytest.raises(exception.InvalidInput):
        plugin.agents.report_state(ctxt, {"agent_type": "x"})
    plugin.db.dispose()


def test_models_match_migrations(tmp_path: Any) -> None:
    conf = fx.make_conf(str(tmp_path))
    plugin = fx.make_plugin(conf)
    with plugin.db.engine.connect() as conn:
        mc = alembic_migration.MigrationContext.configure(conn)
        diff = autogenerate.compare_metadata(mc, models.Base.metadata)
    plugin.db.dispose()
    assert diff == []


def test_dhcp_agent_contract() -> None:
    from network.agents.dhcp import manager as dhcp_manager
    from network.agents.dhcp import rpcapi as dhcp_rpcapi
    assert dhcp_manager.DhcpAgentManager.target.version == \
        dhcp_rpcapi.DhcpAgentAPI.RPC_API_VERSION
    server = {n: m for n, m in _public(dhcp_manager.DhcpAgentManager).items()
              if n not in ("resync_now", "configurations")}
    client = _public(dhcp_rpcapi.DhcpAgentAPI)
    assert set(server) == set(client) == {"network_changed"}
    for name, method in server.items():
        assert list(inspect.signature(method).parameters) == list(
            inspect.signature(client[name]).parameters), name
