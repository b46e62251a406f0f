"""Tests for the shared WSGI plumbing: router, fault filter, generic middleware, helpers."""
from __future__ import annotations

import io
import json
import uuid
from typing import Any

import pytest
import webob

from common import exception
from common.wsgi import fault, pagination, router, validation
from common.wsgi import request as wsgi_request
from common.wsgi.middleware import healthcheck, request_id, sizelimit


def _show(req: wsgi_request.Request, thing_id: str) -> webob.Response:
    return wsgi_request.json_response({"id": thing_id})


def _list(req: wsgi_request.Request) -> webob.Response:
    return wsgi_request.json_response({"things": []})


def _create(req: wsgi_request.Request) -> webob.Response:
    return wsgi_request.json_response(req.parsed_json(), status=201)


def _boom(req: wsgi_request.Request) -> webob.Response:
    raise RuntimeError("database password is hunter2")


ROUTES: list[tuple[str, dict[str, router.Action]]] = [
    ("/things", {"GET": _list, "POST": _create}),
    ("/things/{thing_id}", {"GET": _show}),
    ("/boom", {"GET": _boom}),
]


def app(fmt: str = "keystone") -> fault.FaultFilter:
    return fault.FaultFilter(router.Router(ROUTES), fmt)


# --- Router ---------------------------------------------------------------

def test_static_route() -> None:
    resp = webob.Request.blank("/things").get_response(app())
    assert resp.status_int == 200
    assert resp.json == {"things": []}


def test_static_route_trailing_slash() -> None:
    assert webob.Request.blank("/things/").get_response(app()).json == {"things": []}


def test_dynamic_route_passes_path_variable() -> None:
    resp = webob.Request.blank("/things/abc-1").get_response(app())
    assert resp.json == {"id": "abc-1"}


def test_unknown_path_is_404() -> None:
    resp = webob.Request.blank("/nothing/here").get_response(app())
    assert resp.status_int == 404
    assert resp.json["error"]["code"] == 404


def test_wrong_method_is_405() -> None:
    resp = webob.Request.blank("/things/abc", method="DELETE").get_response(app())
    assert resp.status_int == 405
    assert "DELETE" in resp.json["error"]["message"]


def test_head_falls_back_to_get_without_body() -> None:
    resp = webob.Request.blank("/things/abc", method="HEAD").get_response(app())
    assert resp.status_int == 200
    assert resp.body == b""
    assert resp.content_type == "application/json"


def test_before_hook_runs_before_action() -> None:
    seen: list[str] = []
    r = router.Router(ROUTES, before=lambda req: seen.append(req.path_info))
    webob.Request.blank("/things").get_response(r)
    assert seen == ["/things"]


# --- FaultFilter -----------------------------------------------------------

def test_keystone_format() -> None:
    resp = webob.Request.blank("/things/x", method="PUT").get_response(app("keystone"))
    assert resp.json == {"error": {"code": 405, "title": "Method Not Allowed",
                                   "message": "The method PUT is not allowed on this resource."}}


def test_nova_format() -> None:
    resp = webob.Request.blank("/missing").get_response(app("nova"))
    assert resp.status_int == 404
    assert resp.json == {"itemNotFound": {"code": 404,
                                          "message": "The resource could not be found."}}


def test_neutron_format() -> None:
    resp = webob.Request.blank("/missing").get_response(app("neutron"))
    assert resp.json == {"NeutronError": {"type": "NotFound",
                                          "message": "The resource could not be found.",
                                          "detail": ""}}


def test_glance_format_is_plain_text() -> None:
    resp = webob.Request.blank("/missing").get_response(app("glance"))
    assert resp.status_int == 404
    assert resp.content_type == "text/plain"
    assert resp.text.startswith("404 Not Found\n\nThe resource could not be found.")


def test_unexpected_error_is_generic_500() -> None:
    resp = webob.Request.blank("/boom").get_response(app("nova"))
    assert resp.status_int == 500
    assert "hunter2" not in resp.text
    assert resp.json["computeFault"]["code"] == 500


def test_unsafe_domain_error_hides_message() -> None:
    class Leaky(exception.Error):
        msg_fmt = "secret %(detail)s"

    def action(req: wsgi_request.Request) -> webob.Response:
        raise Leaky(detail="hunter2")

    resp = webob.Request.blank("/x").get_response(
        fault.FaultFilter(router.Router([("/x", {"GET": action})])))
    assert resp.status_int == 500
    assert "hunter2" not in resp.text


RETRY_AFTER = {"Retry-After": "5"}


def test_error_headers_are_sent() -> None:
    class Throttled(exception.Error):
        code, title, safe = 429, "Too Many Requests", True
        headers = RETRY_AFTER

    def action(req: wsgi_request.Request) -> webob.Response:
        raise Throttled("slow down")

    resp = webob.Request.blank("/x").get_response(
        fault.FaultFilter(router.Router([("/x", {"GET": action})]), "nova"))
    assert resp.status_int == 429
    assert resp.headers["Retry-After"] == "5"
    assert resp.json == {"overLimit": {"code": 429, "message": "slow down"}}


def test_unknown_format_rejected() -> None:
    with pytest.raises(ValueError):
        fault.FaultFilter(router.Router([]), "xml")


def test_malformed_json_is_400() -> None:
    req = webob.Request.blank("/things", method="POST", body=b"{nope",
                              content_type="application/json")
    resp = req.get_response(app())
    assert resp.status_int == 400
    assert resp.json["error"]["message"].startswith("Malformed request body")


def test_wrong_media_type_is_415() -> None:
    req = webob.Request.blank("/things", method="POST", body=b"<a/>",
                              content_type="application/xml")
    assert req.get_response(app()).status_int == 415


# --- RequestId ---------------------------------------------------------------

def _echo_ids(environ: dict[str, Any], start_response: Any) -> Any:
    body = json.dumps({"request_id": environ.get(request_id.ENV_REQUEST_ID),
                       "global": environ.get(request_id.ENV_GLOBAL_REQUEST_ID)}).encode()
    start_response("200 OK", [("Content-Type", "application/json")])
    return [body]


def test_request_id_header_added() -> None:
    resp = webob.Request.blank("/").get_response(request_id.RequestId(_echo_ids))
    header = resp.headers[request_id.HEADER]
    assert header.startswith("req-")
    assert resp.json == {"request_id": header, "global": None}


def test_valid_inbound_id_kept_as_global() -> None:
    inbound = "req-" + str(uuid.uuid4())
    req = webob.Request.blank("/", headers={request_id.HEADER: inbound})
    resp = req.get_response(request_id.RequestId(_echo_ids))
    assert resp.json["global"] == inbound
    assert resp.headers[request_id.HEADER] != inbound  # our own id is still new


FIXED_ID = "req-3f1c2a9e-8d4b-4c6e-9a7f-0b1d2c3e4f50"


@pytest.mark.parametrize("junk", ["hello", "req-1234", "req-" + "z" * 36,
                                  FIXED_ID + ";drop", FIXED_ID + "\n", FIXED_ID.upper()],
                         ids=["word", "short", "not-hex", "suffix", "newline", "upper"])
def test_junk_inbound_id_ignored(junk: str) -> None:
    req = webob.Request.blank("/", headers={request_id.HEADER: junk})
    resp = req.get_response(request_id.RequestId(_echo_ids))
    assert resp.json["global"] is None


def test_request_id_on_error_responses() -> None:
    resp = webob.Request.blank("/missing").get_response(request_id.RequestId(app()))
    assert resp.status_int == 404
    assert resp.headers[request_id.HEADER].startswith("req-")


# --- SizeLimit ---------------------------------------------------------------

def _read_all(environ: dict[str, Any], start_response: Any) -> Any:
    data = environ["wsgi.input"].read()
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(len(data)).encode()]


def _limited(limit: int) -> fault.FaultFilter:
    return fault.FaultFilter(sizelimit.SizeLimit(_read_all, limit))


def test_declared_body_too_big_is_413() -> None:
    req = webob.Request.blank("/", method="POST", body=b"x" * 11)
    assert req.get_response(_limited(10)).status_int == 413


def test_declared_body_within_limit_passes() -> None:
    req = webob.Request.blank("/", method="POST", body=b"x" * 10)
    resp = req.get_response(_limited(10))
    assert (resp.status_int, resp.body) == (200, b"10")


def _chunked(body: bytes) -> webob.Request:
    req = webob.Request.blank("/", method="POST")
    req.environ.pop("CONTENT_LENGTH", None)
    req.environ["HTTP_TRANSFER_ENCODING"] = "chunked"
    req.environ["wsgi.input"] = io.BytesIO(body)
    return req


def test_chunked_body_over_limit_is_413() -> None:
    assert _chunked(b"y" * 50).get_response(_limited(10)).status_int == 413


def test_chunked_body_within_limit_passes() -> None:
    assert _chunked(b"y" * 5).get_response(_limited(10)).body == b"5"


def test_bad_content_length_is_400() -> None:
    req = webob.Request.blank("/", method="POST")
    req.environ["CONTENT_LENGTH"] = "lots"
    assert req.get_response(_limited(10)).status_int == 400


def test_sizelimit_filter_factory_reads_limit() -> None:
    filt = sizelimit.filter_factory({}, max_request_body_size="3")(_read_all)
    assert filt.limit == 3


# --- Healthcheck -------------------------------------------------------------

def test_healthcheck_answers_without_calling_app() -> None:
    resp = webob.Request.blank("/healthcheck").get_response(healthcheck.Healthcheck(app()))
    assert (resp.status_int, resp.body) == (200, b"OK")


def test_healthcheck_head_has_no_body() -> None:
    req = webob.Request.blank("/healthcheck", method="HEAD")
    resp = req.get_response(healthcheck.Healthcheck(app()))
    assert (resp.status_int, resp.body) == (200, b"")


def test_healthcheck_passes_other_paths() -> None:
    resp = webob.Request.blank("/things").get_response(healthcheck.Healthcheck(app()))
    assert resp.json == {"things": []}


# --- validation -------------------------------------------------------------

SCHEMA = {
    "type": "object",
    "properties": {"thing": {"type": "object", "properties": {
        "name": validation.NAME, "size": {"type": "integer", "minimum": 1}},
        "required": ["name"], "additionalProperties": False}},
    "required": ["thing"], "additionalProperties": False,
}


def test_validate_returns_valid_body() -> None:
    body = {"thing": {"name": "a", "size": 2}}
    assert validation.validate(body, SCHEMA) is body


@pytest.mark.parametrize("body,field,fragment", [
    ({}, "request body", "'thing' is a required property"),
    ({"thing": {}}, "thing", "'name' is a required property"),
    ({"thing": {"name": "a", "size": "big"}}, "thing.size", "is not of type 'integer'"),
    ({"thing": {"name": "a", "size": 0}}, "thing.size", "less than the minimum"),
    ({"thing": {"name": "a", "colour": "red"}}, "thing",
     "Additional properties are not allowed ('colour' was unexpected)"),
    ({"thing": {"name": ""}}, "thing.name", "should be non-empty"),
])
def test_validate_error_messages(body: Any, field: str, fragment: str) -> None:
    with pytest.raises(exception.ValidationError) as info:
        validation.validate(body, SCHEMA)
    message = str(info.value)
    assert message.startswith(f"Invalid input for field '{field}': ")
    assert fragment in message
    assert info.value.code == 400


# --- pagination --------------------------------------------------------------

ITEMS = [{"id": "a"}, {"id": "b"}, {"id": "c"}]


def test_limit_and_marker_defaults_and_clamp() -> None:
    assert pagination.limit_and_marker({}) == (1000, None)
    assert pagination.limit_and_marker({"limit": "5000", "marker": "m"}, 100) == (100, "m")


@pytest.mark.parametrize("raw", ["x", "-1", "1.5"])
def test_bad_limit_rejected(raw: str) -> None:
    with pytest.raises(exception.ValidationError):
        pagination.limit_and_marker({"limit": raw})


def test_page_walks_items() -> None:
    first, marker = pagination.page(ITEMS, 2, None)
    assert (first, marker) == (ITEMS[:2], "b")
    second, marker = pagination.page(ITEMS, 2, marker)
    assert (second, marker) == (ITEMS[2:], None)


def test_page_exact_fit_has_no_next_marker() -> None:
    assert pagination.page(ITEMS, 3, None) == (ITEMS, None)


def test_page_unknown_marker_is_a_bad_request() -> None:
    with pytest.raises(exception.Invalid):
        pagination.page(ITEMS, 2, "zzz")


def test_next_link_replaces_marker() -> None:
    link = pagination.next_link("http://h/v2/things", {"limit": "2", "marker": "a"}, "b")
    assert link == "http://h/v2/things?limit=2&marker=b"


def test_405_names_the_allowed_methods() -> None:
    def ok(req: object) -> webob.Response:
        return webob.Response("ok")

    app = fault.FaultFilter(router.Router([("/things", {"GET": ok, "POST": ok})]), "keystone")
    resp = webob.Request.blank("/things", method="DELETE").get_response(app)
    assert resp.status_int == 405
    assert resp.headers["Allow"] == "GET, HEAD, POST"


def test_request_id_compat_headers_carry_the_same_id() -> None:
    make = request_id.filter_factory({}, compat_headers="x-compute-request-id, ")
    resp = webob.Request.blank("/").get_response(make(_echo_ids))
    assert resp.headers["x-compute-request-id"] == resp.headers[request_id.HEADER]
    plain = webob.Request.blank("/").get_response(request_id.filter_factory({})(_echo_ids))
    assert "x-compute-request-id" not in plain.headers
