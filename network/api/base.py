"""The generic resource controller: create (single and bulk), list with filters,
fields, sorting and pagination, show, update (with If-Match) and delete, all
driven by the attribute map of the collection."""
from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable
from urllib import parse

import webob

from common import exception as common_exc
from common import rpc
from common.wsgi import request as wsgi_request
from network import exception
from network.api import attributes
from network.api.attributes import Attr

Request = wsgi_request.Request
_RESERVED = {"fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse"}
_TAG_FILTERS = ("tags", "tags-any", "not-tags", "not-tags-any")


@dataclasses.dataclass
class Spec:
    """How one collection is served."""

    collection: str
    singular: str
    path: str
    attrs: dict[str, Attr]
    get: Callable[[Any, str], dict[str, Any]]
    get_all: Callable[[Any], list[dict[str, Any]]]
    not_found: Callable[[str], Exception]
    create: Callable[[Any, dict[str, Any]], dict[str, Any]] | None = None
    update: Callable[[Any, str, dict[str, Any]], dict[str, Any]] | None = None
    delete: Callable[[Any, str], None] | None = None
    #: Extra policy target values (e.g. the owner of the parent network).
    target: Callable[[Any, dict[str, Any]], dict[str, Any]] | None = None
    #: Extra per-attribute policy checks of a create/update body.
    attr_policies: Callable[[dict[str, Any]], list[str]] | None = None
    notify: bool = True
    #: Runs before policy on create (404 for a parent the caller cannot see).
    precheck: Callable[[Any, dict[str, Any]], Any] | None = None
    #: get_all takes the query's filters (``filters=``) to narrow its SQL.
    pushdown: bool = False


# What the policy rules look at. Targets carry only these (and the parent
# network's ``network.*`` values), so that decisions repeat for every item of a
# project and the enforcer's memo answers them.
POLICY_KEYS = frozenset(["project_id", "tenant_id", "shared", "router:external"])


def to_target(item: dict[str, Any], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    target = {k: v for k, v in item.items() if k in POLICY_KEYS}
    if extra:
        target.update(extra)
    return target


class ResourceController:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec

    # -- helpers ---------------------------------------------------------------------

    def _target(self, ctxt: Any, item: dict[str, Any]) -> dict[str, Any]:
        extra = self.spec.target(ctxt, item) if self.spec.target else None
        return to_target(item, extra)

    def _prepare(self, ctxt: Any, item: Any, create: bool) -> dict[str, Any]:
        if not isinstance(item, dict):
            raise exception.HTTPBadRequest(msg="Resource body is not a dictionary: %s"
                                           % self.spec.singular)
        attrs = self.spec.attrs
        unknown = sorted(k for k in item if k not in attrs)
        if unknown:
            raise exception.HTTPBadRequest(msg="Unrecognized attribute(s) '%s'"
                                           % ", ".join(unknown))
        out: dict[str, Any] = {}
        for key, value in item.items():
            attr = attrs[key]
            if create and not attr.allow_post:
                raise exception.HTTPBadRequest(msg="Attribute '%s' not allowed in POST" % key)
            if not create and not attr.allow_put:
                raise exception.HTTPBadRequest(msg="Cannot update read-only attribute %s"
                                               % key)
            if attr.convert is not None:
                try:
                    value = attr.convert(value)
                except exception.InvalidInput as err:
                    raise exception.InvalidInput(
                        error_message="Invalid input for %s. Reason: %s." % (
                            key, err.kwargs.get("error_message", err.message)))
            attributes.check(key, value, attr.validate)
            out[key] = value
        if create:
            for key, attr in attrs.items():
                if key in out or not attr.allow_post or key in ("project_id", "tenant_id"):
                    continue
                if attr.default is attributes.NOT_SPECIFIED:
                    raise exception.HTTPBadRequest(
                        msg="Failed to parse request. Required attribute '%s' not specified"
                        % key)
                if attr.default is not attributes.OPTIONAL:
                    default = attr.default
                    out[key] = list(default) if isinstance(default, list) else default
            self._project(ctxt, out)
        return out

    @staticmethod
    def _project(ctxt: Any, out: dict[str, Any]) -> None:
        tenant, project = out.pop("tenant_id", None), out.pop("project_id", None)
        if tenant and project and tenant != project:
            raise exception.HTTPBadRequest(msg="'project_id' and 'tenant_id' do not match")
        chosen = project or tenant or getattr(ctxt, "project_id", None) or ""
        if not chosen:
            raise exception.HTTPBadRequest(msg="Running without keystone AuthN requires "
                                               "that tenant_id is specified")
        out["project_id"] = chosen
        out["tenant_id"] = chosen

    def _check_attrs(self, ctxt: Any, action: str, body: dict[str, Any],
                     target: dict[str, Any], explicit: set[str]) -> None:
        # Only attributes set explicitly to something other than their default.
        names = [k for k, a in self.spec.attrs.items()
                 if a.enforce_policy and k in body and k in explicit
                 and not (a.default is not attributes.NOT_SPECIFIED and body[k] == a.default)]
        if self.spec.attr_policies is not None:
            names += self.spec.attr_policies(body)
        for name in names:
            ctxt.can("%s_%s:%s" % (action, self.spec.singular, name), target)

    def view(self, ctxt: Any, item: dict[str, Any],
             fields: list[str] | None = None) -> dict[str, Any]:
        out = {}
        target: dict[str, Any] | None = None
        for key, value in item.items():
            attr = self.spec.attrs.get(key)
            if attr is None or not attr.is_visible:
                continue
            if fields and key not in fields:
                continue
            if attr.enforce_policy:
                if target is None:
                    target = self._target(ctxt, item)
                if not ctxt.can("get_%s:%s" % (self.spec.singular, key), target,
                                fatal=False):
                    continue
            out[key] = value
        return out

    def _load(self, ctxt: Any, resource_id: str) -> dict[str, Any]:
        item = self.spec.get(ctxt, resource_id)
        if not ctxt.can("get_" + self.spec.singular, self._target(ctxt, item), fatal=False):
            raise self.spec.not_found(resource_id)
        return item

    def _notify(self, ctxt: Any, event: str, payload: dict[str, Any]) -> None:
        if self.spec.notify and rpc.initialized():
            rpc.notify(ctxt, "%s.%s.end" % (self.spec.singular, event), payload)

    # -- actions ---------------------------------------------------------------------

    def index(self, req: Request) -> webob.Response:
        ctxt = req.context
        if self.spec.pushdown:
            found = self.spec.get_all(ctxt, filters={  # type: ignore[call-arg]
                k: req.GET.getall(k) for k in set(req.GET.keys()) if k in self.spec.attrs})
        else:
            found = self.spec.get_all(ctxt)
        items = [i for i in found
                 if ctxt.can("get_" + self.spec.singular, self._target(ctxt, i), fatal=False)]
        items = filter_items(self.spec.attrs, items, req.GET)
        items = sort_items(self.spec.attrs, items, req.GET)
        items, links = paginate(items, req, self.spec.collection)
        fields = req.GET.getall("fields") or None
        body: dict[str, Any] = {self.spec.collection: [self.view(ctxt, i, fields)
                                                       for i in items]}
        if links:
            body[self.spec.collection + "_links"] = links
        return wsgi_request.json_response(body)

    def show(self, req: Request, resource_id: str) -> webob.Response:
        ctxt = req.context
        item = self._load(ctxt, resource_id)
        fields = req.GET.getall("fields") or None
        return wsgi_request.json_response({self.spec.singular: self.view(ctxt, item, fields)})

    def create(self, req: Request) -> webob.Response:
        if self.spec.create is None:
            raise common_exc.MethodNotAllowed(method="POST")
        ctxt = req.context
        body = req.parsed_json()
        if not isinstance(body, dict):
            raise exception.HTTPBadRequest(msg="Resource body required")
        if self.spec.collection in body and len(body) == 1:
            raw = body[self.spec.collection]
            if not isinstance(raw, list) or not raw:
                raise exception.HTTPBadRequest(msg="Resources required")
            bulk = True
        elif self.spec.singular in body and len(body) == 1:
            raw = [body[self.spec.singular]]
            bulk = False
        else:
            raise exception.HTTPBadRequest(msg="Unable to find '%s' in request body"
                                           % self.spec.singular)
        items = [self._prepare(ctxt, item, create=True) for item in raw]
        for item, given in zip(items, raw, strict=True):
            if self.spec.precheck is not None:
                self.spec.precheck(ctxt, item)
            target = self._target(ctxt, item)
            ctxt.can("create_" + self.spec.singular, target)
            self._check_attrs(ctxt, "create", item, target, set(given))
        created: list[dict[str, Any]] = []
        try:
            for item in items:
                created.append(self.spec.create(ctxt, item))
        except Exception:
            if self.spec.delete is not None:
                for done in created:
                    try:
                        self.spec.delete(ctxt.elevated(), done["id"])
                    except common_exc.Error:
                        pass
            raise
        for done in created:
            self._notify(ctxt, "create", {self.spec.singular: done})
        views = [self.view(ctxt, c) for c in created]
        if bulk:
            return wsgi_request.json_response({self.spec.collection: views}, status=201)
        return wsgi_request.json_response({self.spec.singular: views[0]}, status=201)

    def update(self, req: Request, resource_id: str) -> webob.Response:
        if self.spec.update is None:
            raise common_exc.MethodNotAllowed(method="PUT")
        ctxt = req.context
        body = req.parsed_json()
        if not isinstance(body, dict) or list(body) != [self.spec.singular]:
            raise exception.HTTPBadRequest(msg="Unable to find '%s' in request body"
                                           % self.spec.singular)
        changes = self._prepare(ctxt, body[self.spec.singular], create=False)
        item = self._load(ctxt, resource_id)
        check_revision(req, item)
        target = self._target(ctxt, dict(item, **changes))
        ctxt.can("update_" + self.spec.singular, target)
        self._check_attrs(ctxt, "update", changes, target, set(changes))
        updated = self.spec.update(ctxt, resource_id, changes)
        self._notify(ctxt, "update", {self.spec.singular: updated})
        return wsgi_request.json_response({self.spec.singular: self.view(ctxt, updated)})

    def delete(self, req: Request, resource_id: str) -> webob.Response:
        if self.spec.delete is None:
            raise common_exc.MethodNotAllowed(method="DELETE")
        ctxt = req.context
        item = self._load(ctxt, resource_id)
        check_revision(req, item)
        ctxt.can("delete_" + self.spec.singular, self._target(ctxt, item))
        self.spec.delete(ctxt, resource_id)
        self._notify(ctxt, "delete", {self.spec.singular + "_id": resource_id,
                                      self.spec.singular: item})
        return wsgi_request.empty_response(204)

    def routes(self) -> list[tuple[str, dict[str, Any]]]:
        base = "/v2.0/" + self.spec.path
        return [(base, {"GET": self.index, "POST": self.create}),
                (base + "/{resource_id}", {"GET": self.show, "PUT": self.update,
                                           "DELETE": self.delete})]


def check_revision(req: Request, item: dict[str, Any]) -> None:
    """``If-Match: revision_number=N``: :raises: PreconditionFailed on a mismatch."""
    header = req.headers.get("If-Match")
    if not header:
        return
    for part in header.split(","):
        part = part.strip()
        if not part.startswith("revision_number="):
            continue
        try:
            wanted = int(part.split("=", 1)[1])
        except ValueError:
            raise exception.HTTPBadRequest(msg="Invalid revision number in If-Match header")
        if wanted != item.get("revision_number"):
            raise exception.PreconditionFailed(
                detail="revision_number=%s does not match the current revision %s"
                % (wanted, item.get("revision_number")))


def _matches(value: Any, wanted: list[str], attr: Attr) -> bool:
    if isinstance(value, list):
        return any(str(v) in wanted for v in value)
    if isinstance(value, bool):
        return any(attributes.to_boolean(w) == value for w in wanted)
    if value is None:
        return any(w in ("", "None", "null") for w in wanted)
    return str(value) in wanted


def _fixed_ip_match(value: list[dict[str, str]], wanted: list[str]) -> bool:
    """``fixed_ips=ip_address=X``, ``subnet_id=Y`` or ``ip_address_substr=Z`` (all must hold)."""
    for want in wanted:
        key, _sep, expected = want.partition("=")
        if key == "ip_address_substr":
            if not any(expected in str(ip.get("ip_address")) for ip in value):
                return False
        elif not any(str(ip.get(key)) == expected for ip in value):
            return False
    return True


def _tag_match(tags: list[str], params: Any) -> bool:
    for name in _TAG_FILTERS:
        raw = params.getall(name)
        if not raw:
            continue
        wanted = {t for value in raw for t in value.split(",") if t}
        have = set(tags)
        if name == "tags" and not wanted <= have:
            return False
        if name == "tags-any" and not wanted & have:
            return False
        if name == "not-tags" and wanted <= have:
            return False
        if name == "not-tags-any" and wanted & have:
            return False
    return True


def filter_items(attrs: dict[str, Attr], items: list[dict[str, Any]],
                 params: Any) -> list[dict[str, Any]]:
    filters: dict[str, list[str]] = {}
    for key in dict.fromkeys(params.keys()):
        if key in _RESERVED or key in _TAG_FILTERS:
            continue
        attr = attrs.get(key)
        if attr is None or not attr.is_visible or not attr.is_filter or key == "tags":
            continue
        filters[key] = params.getall(key)
    out = []
    for item in items:
        ok = True
        for key, wanted in filters.items():
            if key not in item:
                continue
            if key == "fixed_ips":
                ok = _fixed_ip_match(item[key], wanted)
            else:
                ok = _matches(item[key], wanted, attrs[key])
            if not ok:
                break
        if ok and any(params.getall(t) for t in _TAG_FILTERS):
            ok = _tag_match(item.get("tags", []), params)
        if ok:
            out.append(item)
    return out


def sort_items(attrs: dict[str, Attr], items: list[dict[str, Any]],
               params: Any) -> list[dict[str, Any]]:
    keys = params.getall("sort_key")
    dirs = params.getall("sort_dir")
    if dirs and len(dirs) != len(keys):
        raise exception.HTTPBadRequest(msg="The number of sort_keys and sort_dirs must be "
                                           "same")
    for key in keys:
        attr = attrs.get(key)
        if attr is None or not attr.is_visible:
            raise exception.HTTPBadRequest(msg="%s is an invalid attribute for sort_keys"
                                           % key)
    for direction in dirs:
        if direction not in ("asc", "desc"):
            raise exception.HTTPBadRequest(msg="%s is an invalid value for sort_dirs, "
                                               "valid values are 'asc' and 'desc'"
                                           % direction)
    pairs = list(zip(keys, dirs or ["asc"] * len(keys), strict=True))
    result = sorted(items, key=lambda i: str(i.get("id")))
    for key, direction in reversed(pairs):
        result.sort(key=functools.partial(_sort_value, key), reverse=direction == "desc")
    return result


def _sort_value(key: str, item: dict[str, Any]) -> tuple[int, Any]:
    value = item.get(key)
    if value is None:
        return (0, "")
    if isinstance(value, (bool, int)):
        return (1, int(value))
    return (2, str(value))


def paginate(items: list[dict[str, Any]], req: Request,
             collection: str) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    params = req.GET
    raw = params.get("limit")
    marker = params.get("marker")
    if raw is None and marker is None:
        return items, []
    limit = 0
    if raw is not None:
        try:
            limit = int(raw)
        except ValueError:
            raise exception.HTTPBadRequest(msg="Limit must be an integer 0 or greater and "
                                               "not '%s'" % raw)
        if limit < 0:
            raise exception.HTTPBadRequest(msg="Limit must be an integer 0 or greater and "
                                               "not '%d'" % limit)
    reverse = str(params.get("page_reverse", "false")).lower() == "true"
    start, end = 0, len(items)
    if marker is not None:
        ids = [i.get("id") for i in items]
        if marker not in ids:
            raise exception.HTTPBadRequest(msg="Marker %s could not be found" % marker)
        index = ids.index(marker)
        if reverse:
            end = index
        else:
            start = index + 1
    if limit:
        if reverse:
            start = max(end - limit, start)
        else:
            end = min(start + limit, end)
    page = items[start:end]
    links = []
    base = req.host_url + req.script_name + req.path_info
    keep = [(k, v) for k, v in params.items() if k not in ("marker", "page_reverse")]
    if page and limit and end < len(items) and not reverse:
        links.append({"rel": "next", "href": base + "?" + parse.urlencode(
            keep + [("marker", page[-1]["id"])])})
    if page and reverse and start > 0:
        links.append({"rel": "previous", "href": base + "?" + parse.urlencode(
            keep + [("marker", page[0]["id"]), ("page_reverse", "True")])})
    if page and marker is not None and not reverse:
        links.append({"rel": "previous", "href": base + "?" + parse.urlencode(
            keep + [("marker", page[0]["id"]), ("page_reverse", "True")])})
    if page and reverse and limit and end < len(items):
        links.append({"rel": "next", "href": base + "?" + parse.urlencode(
            keep + [("marker", page[-1]["id"])])})
    return page, links
