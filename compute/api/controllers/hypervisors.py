"""``/v2.1/os-hypervisors``: list, detail, show, statistics, ``/{id}/uptime``
(the host's uptime(1) line, from its compute node), and before 2.53
``/{pattern}/search`` and ``/{pattern}/servers``. Admin only.

Microversions: 2.28 (``cpu_info`` an object, not a JSON string), 2.33 (paging
with ``limit``/``marker``), 2.53 (uuids as ids; ``hypervisor_hostname_pattern``
and ``with_servers`` query parameters replace search and servers), 2.75
(``servers`` present, even empty, whenever asked for).
"""
from __future__ import annotations

import json
from typing import Any

from common import exception as common_exception
from common.wsgi import pagination
from common.wsgi import request as wsgi_request
from compute import exception
from compute import hypervisors as hypervisors_api
from compute.api import microversion
from compute.api import views
from compute.api.controllers.services import int_id, is_uuid

Request = wsgi_request.Request
_QUERY_253 = frozenset(("limit", "marker", "hypervisor_hostname_pattern", "with_servers"))


def _node_id(req: Request, node: dict[str, Any]) -> Any:
    return node["uuid"] if microversion.of(req) >= (2, 53) else node["id"]


def _basic(req: Request, node: dict[str, Any]) -> dict[str, Any]:
    return {"id": _node_id(req, node), "hypervisor_hostname": node["hypervisor_hostname"],
            "state": node["service"]["state"], "status": node["service"]["status"]}


def _detail(req: Request, node: dict[str, Any]) -> dict[str, Any]:
    version = microversion.of(req)
    service = node["service"]
    body = _basic(req, node)
    cpu_info = node.get("cpu_info") or {}
    body.update({
        "vcpus": node["vcpus"], "vcpus_used": node["vcpus_used"],
        "memory_mb": node["memory_mb"], "memory_mb_used": node["memory_mb_used"],
        "local_gb": node["local_gb"], "local_gb_used": node["local_gb_used"],
        "free_ram_mb": node["free_ram_mb"], "free_disk_gb": node["free_disk_gb"],
        "running_vms": node["running_vms"] or 0, "current_workload": 0,
        "disk_available_least": node["disk_available_least"],
        "hypervisor_type": node["hypervisor_type"],
        "hypervisor_version": node["hypervisor_version"], "host_ip": node["host_ip"],
        "cpu_info": cpu_info if version >= (2, 28) else json.dumps(cpu_info),
        "service": {"host": service["host"],
                    "id": service["uuid"] if version >= (2, 53) else service["id"],
                    "disabled_reason": service["disabled_reason"]},
    })
    return body


class HypervisorsController:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.hypervisors = hypervisors_api.HypervisorAPI(app.conf, app.db)

    def _with_servers(self, req: Request, nodes: list[dict[str, Any]],
                      bodies: list[dict[str, Any]]) -> None:
        servers = self.hypervisors.servers(nodes)
        always = microversion.of(req) >= (2, 75)
        for node, body in zip(nodes, bodies, strict=True):
            if servers[node["id"]] or always:
                body["servers"] = servers[node["id"]]

    def _query_253(self, req: Request) -> tuple[str | None, bool]:
        unknown = set(req.GET) - _QUERY_253
        if unknown:
            raise common_exception.Invalid(
                "Invalid input for query parameters %s." % ", ".join(sorted(unknown)))
        pattern = req.GET.get("hypervisor_hostname_pattern")
        if pattern is not None and ("limit" in req.GET or "marker" in req.GET):
            raise common_exception.Invalid(
                "Paging over hypervisors with the hypervisor_hostname_pattern query "
                "parameter is not supported.")
        return pattern, bool(req.param_bool("with_servers", False))

    def _list(self, req: Request, detail: bool) -> Any:
        req.context.can("os_compute_api:os-hypervisors:list-detail" if detail
                        else "os_compute_api:os-hypervisors:list")
        version = microversion.of(req)
        pattern, with_servers = (self._query_253(req) if version >= (2, 53)
                                 else (None, False))
        nodes = self.hypervisors.get_all(pattern)
        limit: int | None = None
        if version >= (2, 33) and pattern is None:
            limit, marker = pagination.limit_and_marker(req.GET,
                                                        self.app.conf.compute_api.max_limit)
            nodes = self._page(req, nodes, limit, marker)
        view = _detail if detail else _basic
        bodies = [view(req, n) for n in nodes]
        if with_servers:
            self._with_servers(req, nodes, bodies)
        result: dict[str, Any] = {"hypervisors": bodies}
        if limit is not None and nodes and len(nodes) == limit:
            links = views.Links(req, self.app.conf.api.public_endpoint)
            path = links.versioned + ("/os-hypervisors/detail" if detail
                                      else "/os-hypervisors")
            result["hypervisors_links"] = [{"rel": "next", "href": pagination.next_link(
                path, req.GET, str(_node_id(req, nodes[-1])))}]
        return wsgi_request.json_response(result)

    @staticmethod
    def _page(req: Request, nodes: list[dict[str, Any]], limit: int,
              marker: str | None) -> list[dict[str, Any]]:
        start = 0
        if marker is not None:
            ids = [str(_node_id(req, n)) for n in nodes]
            if marker not in ids:
                raise exception.MarkerNotFound(marker=marker)
            start = ids.index(marker) + 1
        return nodes[start:start + limit]

    def index(self, req: Request) -> Any:
        return self._list(req, detail=False)

    def detail(self, req: Request) -> Any:
        return self._list(req, detail=True)

    @staticmethod
    def _key(req: Request, hypervisor_id: str) -> int | str:
        """The id in the path: a uuid from 2.53 (else 400), an integer before (else
        404, as an unknown one)."""
        if microversion.of(req) >= (2, 53):
            if not is_uuid(hypervisor_id):
                raise common_exception.Invalid("Invalid uuid %s" % hypervisor_id)
            return hypervisor_id
        found = int_id(hypervisor_id)
        if found is None:
            raise exception.HypervisorNotFound(hypervisor_id=hypervisor_id)
        return found

    def show(self, req: Request, hypervisor_id: str) -> Any:
        req.context.can("os_compute_api:os-hypervisors:show")
        with_servers = False
        key = self._key(req, hypervisor_id)
        if microversion.of(req) >= (2, 53):
            unknown = set(req.GET) - {"with_servers"}
            if unknown:
                raise common_exception.Invalid(
                    "Invalid input for query parameters %s." % ", ".join(sorted(unknown)))
            with_servers = bool(req.param_bool("with_servers", False))
        node = self.hypervisors.get(key)
        body = _detail(req, node)
        if with_servers:
            self._with_servers(req, [node], [body])
        return wsgi_request.json_response({"hypervisor": body})

    def uptime(self, req: Request, hypervisor_id: str) -> Any:
        """The host's uptime(1) line, from its compute node (Nova's API until 2.88)."""
        req.context.can("os_compute_api:os-hypervisors:uptime")
        node = self.hypervisors.get(self._key(req, hypervisor_id))
        body = _basic(req, node)
        body["uptime"] = self.hypervisors.uptime(req.context, node)
        return wsgi_request.json_response({"hypervisor": body})

    def statistics(self, req: Request) -> Any:
        req.context.can("os_compute_api:os-hypervisors:statistics")
        return wsgi_request.json_response(
            {"hypervisor_statistics": self.hypervisors.statistics()})

    def _before_253(self, req: Request) -> None:
        if microversion.of(req) >= (2, 53):
            raise common_exception.NotFound("The resource could not be found.")

    def search(self, req: Request, pattern: str) -> Any:
        self._before_253(req)
        req.context.can("os_compute_api:os-hypervisors:search")
        nodes = self.hypervisors.get_all(pattern)
        return wsgi_request.json_response({"hypervisors": [_basic(req, n) for n in nodes]})

    def servers(self, req: Request, pattern: str) -> Any:
        self._before_253(req)
        req.context.can("os_compute_api:os-hypervisors:servers")
        nodes = self.hypervisors.get_all(pattern)
        bodies = [_basic(req, n) for n in nodes]
        self._with_servers(req, nodes, bodies)
        return wsgi_request.json_response({"hypervisors": bodies})

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        base = "/v2.1/os-hypervisors"
        return [(base, {"GET": self.index}),
                (base + "/detail", {"GET": self.detail}),
                (base + "/statistics", {"GET": self.statistics}),
                (base + "/{pattern}/search", {"GET": self.search}),
                (base + "/{pattern}/servers", {"GET": self.servers}),
                (base + "/{hypervisor_id}/uptime", {"GET": self.uptime}),
                (base + "/{hypervisor_id}", {"GET": self.show})]
