"""Agents (heartbeats over RPC) and quotas."""
from __future__ import annotations

import datetime
import json
from typing import Any

import sqlalchemy as sa
from sqlalchemy import orm

from common.db import models as base_models
from network import exception
from network import rpcapi
from network.agents.l3 import rpcapi as l3_rpcapi
from network.db import models
from network.plugin import base

AGENT_TIME_FMT = "%Y-%m-%d %H:%M:%S"
DHCP_AGENT_TYPE = rpcapi.DHCP_AGENT_TYPE
L3_AGENT_TYPE = l3_rpcapi.L3_AGENT_TYPE


class Agents(base.Component):

    def to_dict(self, row: models.Agent) -> dict[str, Any]:
        down = datetime.timedelta(seconds=int(self.conf.agent.agent_down_time))
        return {"id": row.id, "agent_type": row.agent_type, "binary": row.binary,
                "topic": row.topic, "host": row.host, "admin_state_up": row.admin_state_up,
                "alive": base_models.utcnow() - row.heartbeat_timestamp < down,
                "availability_zone": row.availability_zone,
                "created_at": row.created_at.strftime(AGENT_TIME_FMT),
                "started_at": row.started_at.strftime(AGENT_TIME_FMT),
                "heartbeat_timestamp": row.heartbeat_timestamp.strftime(AGENT_TIME_FMT),
                "description": row.description,
                "configurations": json.loads(row.configurations or "{}"),
                "resources_synced": row.resources_synced}

    def _row(self, s: orm.Session, agent_id: str) -> models.Agent:
        row = s.get(models.Agent, agent_id)
        if row is None:
            raise exception.AgentNotFound(id=agent_id)
        return row

    def get(self, ctxt: Any, agent_id: str) -> dict[str, Any]:
        with self.db.reader() as s:
            return self.to_dict(self._row(s, agent_id))

    def get_all(self, ctxt: Any) -> list[dict[str, Any]]:
        with self.db.reader() as s:
            return [self.to_dict(r) for r in s.scalars(sa.select(models.Agent))]

    def update(self, ctxt: Any, agent_id: str, body: dict[str, Any]) -> dict[str, Any]:
        with self.db.writer() as s:
            row = self._row(s, agent_id)
            for key in ("admin_state_up", "description"):
                if key in body:
                    setattr(row, key, body[key])
            s.flush()
            return self.to_dict(row)

    def delete(self, ctxt: Any, agent_id: str) -> None:
        with self.db.writer() as s:
            s.delete(self._row(s, agent_id))

    def report_state(self, ctxt: Any, state: dict[str, Any]) -> dict[str, Any]:
        """Record a heartbeat: insert the agent on its first report, else refresh it.

        :raises: InvalidInput when the state lacks agent_type, binary, host or topic.
        """
        missing = [k for k in ("agent_type", "binary", "host", "topic") if not state.get(k)]
        if missing:
            raise exception.InvalidInput(error_message="agent state lacks %s"
                                         % ", ".join(missing))
        now = base_models.utcnow()
        configurations = json.dumps(state.get("configurations") or {})
        for attempt in range(3):
            try:
                with self.db.writer() as s:
                    row = s.scalar(sa.select(models.Agent).where(
                        models.Agent.agent_type == state["agent_type"],
                        models.Agent.host == state["host"]))
                    if row is None:
                        row = models.Agent(id=base.new_id(), agent_type=state["agent_type"],
                                           host=state["host"], created_at=now,
                                           started_at=now, admin_state_up=True)
                        s.add(row)
                    if state.get("start_flag"):
                        row.started_at = now
                    row.binary = state["binary"]
                    row.topic = state["topic"]
                    row.availability_zone = state.get("availability_zone")
                    row.configurations = configurations
                    row.heartbeat_timestamp = now
                    if "resources_synced" in state:
                        row.resources_synced = state["resources_synced"]
                    s.flush()
                    return self.to_dict(row)
            except sa.exc.IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def hosted_networks(self, ctxt: Any, agent_id: str) -> list[str]:
        with self.db.reader() as s:
            self._row(s, agent_id)
            return list(s.scalars(sa.select(models.NetworkDhcpAgentBinding.network_id).where(
                models.NetworkDhcpAgentBinding.dhcp_agent_id == agent_id)))

    def hosted_routers(self, ctxt: Any, agent_id: str) -> list[str]:
        with self.db.reader() as s:
            self._row(s, agent_id)
            return list(s.scalars(sa.select(models.RouterL3AgentBinding.router_id).where(
                models.RouterL3AgentBinding.l3_agent_id == agent_id)))

    def _bindings(self, kind: str) -> tuple[Any, Any, Any, str]:
        if kind == "dhcp":
            b = models.NetworkDhcpAgentBinding
            return b, b.network_id, b.dhcp_agent_id, DHCP_AGENT_TYPE
        b2 = models.RouterL3AgentBinding
        return b2, b2.router_id, b2.l3_agent_id, L3_AGENT_TYPE

    def schedule(self, ctxt: Any, kind: str, agent_id: str, resource_id: str) -> None:
        """Host network (``kind`` "dhcp") or router ("l3") ``resource_id`` on the agent.

        A router is hosted by one L3 agent at a time; a network may be served by
        several DHCP agents.

        :raises: InvalidDHCPAgent / InvalidL3Agent (404) for another kind of agent or a
            disabled one; NetworkHostedByDHCPAgent / RouterHostedByL3Agent (409).
        """
        model, res_col, agent_col, agent_type = self._bindings(kind)
        with self.db.writer() as s:
            agent = self._row(s, agent_id)
            if agent.agent_type != agent_type or not agent.admin_state_up:
                raise (exception.InvalidDHCPAgent(id=agent_id) if kind == "dhcp"
                       else exception.InvalidL3Agent(id=agent_id))
            hosts = set(s.scalars(sa.select(agent_col).where(res_col == resource_id)))
            if kind == "dhcp" and agent_id in hosts:
                raise exception.NetworkHostedByDHCPAgent(network_id=resource_id,
                                                         agent_id=agent_id)
            if kind == "l3" and hosts:
                raise exception.RouterHostedByL3Agent(router_id=resource_id,
                                                      agent_id=sorted(hosts)[0])
            s.add(model(**{res_col.key: resource_id, agent_col.key: agent_id}))

    def unschedule(self, ctxt: Any, kind: str, agent_id: str, resource_id: str) -> None:
        """Stop hosting ``resource_id`` on the agent.

        :raises: AgentNotFound; NetworkNotHostedByDhcpAgent / RouterNotHostedByL3Agent.
        """
        model, res_col, agent_col, _type = self._bindings(kind)
        with self.db.writer() as s:
            self._row(s, agent_id)
            found = s.scalar(sa.select(model).where(res_col == resource_id,
                                                    agent_col == agent_id))
            if found is None:
                raise (exception.NetworkNotHostedByDhcpAgent(network_id=resource_id,
                                                             agent_id=agent_id)
                       if kind == "dhcp" else
                       exception.RouterNotHostedByL3Agent(router_id=resource_id,
                                                          agent_id=agent_id))
            s.delete(found)

    def agents_of_network(self, ctxt: Any, network_id: str) -> list[dict[str, Any]]:
        with self.db.reader() as s:
            return [self.to_dict(r) for r in s.scalars(
                sa.select(models.Agent).join(
                    models.NetworkDhcpAgentBinding,
                    models.NetworkDhcpAgentBinding.dhcp_agent_id == models.Agent.id).where(
                    models.NetworkDhcpAgentBinding.network_id == network_id))]

    def agents_of_router(self, ctxt: Any, router_id: str) -> list[dict[str, Any]]:
        with self.db.reader() as s:
            return [self.to_dict(r) for r in s.scalars(
                sa.select(models.Agent).join(
                    models.RouterL3AgentBinding,
                    models.RouterL3AgentBinding.l3_agent_id == models.Agent.id).where(
                    models.RouterL3AgentBinding.router_id == router_id))]


class Quotas(base.Component):

    def defaults(self) -> dict[str, int]:
        return {res: base.quota_default(self.conf, res) for res in base.QUOTA_MODELS}

    def get(self, project_id: str) -> dict[str, int]:
        with self.db.reader() as s:
            return {res: base.quota_limit(self.conf, s, project_id, res)
                    for res in base.QUOTA_MODELS}

    def details(self, project_id: str) -> dict[str, dict[str, int]]:
        with self.db.reader() as s:
            out = {}
            for res, model in base.QUOTA_MODELS.items():
                used = s.scalar(sa.select(sa.func.count()).select_from(model).where(
                    model.project_id == project_id)) or 0
                out[res] = {"limit": base.quota_limit(self.conf, s, project_id, res),
                            "used": used, "reserved": 0}
            return out

    def get_all(self) -> list[dict[str, Any]]:
        with self.db.reader() as s:
            projects = sorted(set(s.scalars(sa.select(models.Quota.project_id))))
        return [dict(self.get(p), project_id=p, tenant_id=p) for p in projects]

    def update(self, project_id: str, values: dict[str, Any]) -> dict[str, int]:
        """Set limits; with ``check_limit`` true a limit below the current usage is refused.

        :raises: InvalidInput.
        """
        values = dict(values)
        check_limit = values.pop("check_limit", False)
        if not isinstance(check_limit, bool):
            raise exception.InvalidInput(error_message="check_limit must be a boolean")
        clean: dict[str, int] = {}
        for res, value in values.items():
            if res not in base.QUOTA_MODELS:
                raise exception.InvalidInput(error_message="Unrecognized attribute(s) '%s'"
                                             % res)
            if isinstance(value, bool):
                raise exception.InvalidInput(error_message="'%s' is not an integer" % value)
            try:
                number = int(value)
            except (TypeError, ValueError):
                raise exception.InvalidInput(error_message="'%s' is not an integer" % value)
            if number < -1:
                raise exception.InvalidInput(
                    error_message="'%s' should be greater than or equal to -1" % number)
            clean[res] = number
        with self.db.writer() as s:
            for res, number in clean.items():
                if check_limit and number >= 0:
                    model = base.QUOTA_MODELS[res]
                    used = s.scalar(sa.select(sa.func.count()).select_from(model).where(
                        model.project_id == project_id)) or 0
                    if number < used:
                        raise exception.InvalidInput(
                            error_message="Quota limit %d for %s must be greater than or "
                                          "equal to already used and reserved %d"
                                          % (number, res, used))
                row = s.get(models.Quota, (project_id, res))
                if row is None:
                    s.add(models.Quota(project_id=project_id, resource=res, limit=number))
                else:
                    row.limit = number
        return self.get(project_id)

    def delete(self, project_id: str) -> None:
        with self.db.writer() as s:
            s.execute(sa.delete(models.Quota).where(models.Quota.project_id == project_id))
