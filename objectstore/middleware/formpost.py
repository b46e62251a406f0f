"""Form POST: browsers upload objects with an HTML form signed by a Temp-URL key.

A ``POST`` of ``multipart/form-data`` to ``/v1/<account>/<container>[/<prefix>]``
carries these fields before its files::

    redirect        where to send the browser afterwards ('' for none)
    max_file_size   the largest file allowed, in bytes
    max_file_count  how many files the form may upload
    expires         Unix time after which the form is refused
    signature       HMAC of "<path>\\n<redirect>\\n<max_file_size>\\n<max_file_count>\\n<expires>"
    x_delete_at / x_delete_after    (optional) for every uploaded object

``path`` is the request path; the key is one of the account's or the container's
Temp-URL keys (the same as tempurl's, see :func:`tempurl.temp_url_keys`). The
signature is hex (SHA-1, SHA-256 or SHA-512 by its length) or ``<digest>:<base64>``.
Each file part is stored, through a pre-authorized ``PUT`` subrequest
(``swift.source = FP``), as ``<prefix><filename>`` with the part's Content-Type; the
file is streamed, never held in memory.

A bad or expired signature is a ``401`` page (``FormPost: Invalid Signature``,
``FormPost: Form Expired``) and a malformed form a ``400``; once the form is
authenticated, the outcome (``201`` with an empty message, or the error) goes to the
signed ``redirect`` as ``303`` to ``<redirect>?status=<code>&message=<text>``, or
without a redirect is the body of a page with that status. Other requests pass.

Options: ``allowed_digests`` (``sha1 sha256 sha512``).
"""
from __future__ import annotations

import email.message
import email.utils
import hmac
import html
import http
import time
from typing import Any, Callable, Iterator
from urllib.parse import urlencode

import webob

from objectstore.common.registry import register_swift_info
from objectstore.middleware import tempurl
from objectstore.middleware.keystoneauth import request_parts
from objectstore.proxy import info

SOURCE = "FP"
#: The longest value of a (non-file) form field.
MAX_VALUE_LENGTH = 4096
#: The longest header block of a part.
MAX_HEADER_LENGTH = 8192
CHUNK_SIZE = 65536
_HMAC_FIELDS = ("redirect", "max_file_size", "max_file_count", "expires")


class FormInvalid(Exception):
    """The form is malformed: 400."""


class FormUnauthorized(Exception):
    """The form's signature does not hold: 401."""


class FileTooLarge(ValueError):
    """An uploaded file is longer than ``max_file_size`` (a ValueError, so the proxy
    treats it as a broken client upload and stores nothing)."""


def sign_form(key: str, path: str, redirect: str, max_file_size: int | str,
              max_file_count: int | str, expires: int | str, digest: str = "sha256") -> str:
    """The hex signature of a form (what clients compute; tests use it too)."""
    body = "%s\n%s\n%s\n%s\n%s" % (path, redirect, max_file_size, max_file_count, expires)
    return hmac.new(key.encode(), body.encode(), tempurl.DIGESTS[digest]).hexdigest()


# --- multipart/form-data --------------------------------------------------------


class FormPart:
    """One part of the form: its headers, and its body as a readable stream."""

    def __init__(self, headers: dict[str, str], chunks: Iterator[bytes]) -> None:
        self.headers = headers
        self._chunks = chunks
        self._pending = b""
        self._done = False
        self.size = 0
        self.limit: int | None = None
        self.too_large = False
        msg = email.message.Message()
        msg["content-disposition"] = headers.get("content-disposition", "")
        self.name = _param(msg, "name")
        self.filename = _param(msg, "filename")
        self.content_type = headers.get("content-type")

    def _next(self) -> bytes:
        if self._done:
            return b""
        for chunk in self._chunks:
            self.size += len(chunk)
            if self.limit is not None and self.size > self.limit:
                self.too_large = True
                raise FileTooLarge("max_file_size exceeded")
            return chunk
        self._done = True
        return b""

    def read(self, size: int = -1) -> bytes:
        """File-like read (the ``wsgi.input`` of the upload subrequest)."""
        if size is None or size < 0:
            return self._pending + b"".join(iter(self._next, b""))
        while len(self._pending) < size:
            chunk = self._next()
            if not chunk:
                break
            self._pending += chunk
        data, self._pending = self._pending[:size], self._pending[size:]
        return data

    def value(self) -> str:
        """The whole body of a field as text; FormInvalid when too long."""
        data = b""
        for chunk in iter(self._next, b""):
            data += chunk
            if len(data) > MAX_VALUE_LENGTH:
                raise FormInvalid("%s too long" % (self.name or "field"))
        return data.decode("utf-8", "replace")

    def drain(self) -> None:
        """Read away what the consumer of the part did not."""
        self.limit = None
        self._pending = b""
        for _chunk in iter(self._next, b""):
            pass


def _param(msg: email.message.Message, name: str) -> str | None:
    value = msg.get_param(name, header="content-disposition")
    if value is None:
        return None
    return email.utils.collapse_rfc2231_value(value)


class MultipartReader:
    """Splits a ``multipart/form-data`` body into :class:`FormPart`, streaming.

    Only ``CONTENT_LENGTH`` bytes are read (all of a chunked body without one).
    """

    def __init__(self, rfile: Any, boundary: str, length: int | None) -> None:
        self._rfile = rfile
        self._left = length
        # The leading CRLF lets the first boundary match like every later one.
        self._buf = b"\r\n"
        self._delim = b"\r\n--" + boundary.encode("latin-1")

    def _fill(self) -> bool:
        want = CHUNK_SIZE if self._left is None else min(CHUNK_SIZE, self._left)
        data = self._rfile.read(want) if want > 0 else b""
        if not data:
            return False
        if self._left is not None:
            self._left -= len(data)
        self._buf += data
        return True

    def _until_delimiter(self) -> Iterator[bytes]:
        """The bytes up to the next delimiter, which is consumed."""
        keep = len(self._delim) - 1
        while True:
            index = self._buf.find(self._delim)
            if index >= 0:
                data, self._buf = self._buf[:index], self._buf[index + len(self._delim):]
                if data:
                    yield data
                return
            if len(self._buf) > keep:
                data, self._buf = self._buf[:-keep], self._buf[-keep:]
                yield data
            if not self._fill():
                raise FormInvalid("unexpected end of form")

    def _line(self) -> bytes:
        while b"\r\n" not in self._buf:
            if len(self._buf) > MAX_HEADER_LENGTH or not self._fill():
                raise FormInvalid("invalid form part")
        line, _, self._buf = self._buf.partition(b"\r\n")
        return line

    def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        total = 0
        while True:
            line = self._line()
            total += len(line)
            if total > MAX_HEADER_LENGTH:
                raise FormInvalid("form part headers too long")
            if not line:
                return headers
            name, sep, value = line.decode("utf-8", "surrogateescape").partition(":")
            if not sep:
                raise FormInvalid("invalid form part header")
            headers[name.strip().lower()] = value.strip()

    def parts(self) -> Iterator[FormPart]:
        """The parts in order; each is drained before the next is read."""
        try:
            for _preamble in self._until_delimiter():
                pass
        except FormInvalid:
            raise FormInvalid("invalid starting boundary") from None
        while True:
            if self._line().startswith(b"--"):
                return
            part = FormPart(self._headers(), self._until_delimiter())
            yield part
            part.drain()


# --- the filter ------------------------------------------------------------------


class _Form:
    """The signed limits of an authenticated form."""

    def __init__(self, fields: dict[str, str]) -> None:
        self.redirect = fields.get("redirect", "")
        self.max_file_size = _int_field(fields, "max_file_size")
        self.max_file_count = _int_field(fields, "max_file_count")
        self.headers: dict[str, str] = {}
        for field, header in (("x_delete_at", "X-Delete-At"),
                              ("x_delete_after", "X-Delete-After")):
            if fields.get(field):
                self.headers[header] = str(_int_field(fields, field))


def _int_field(fields: dict[str, str], name: str) -> int:
    try:
        return int(fields.get(name, ""))
    except ValueError:
        raise FormInvalid("%s not an integer" % name) from None


class FormPost:
    """The ``formpost`` filter (see the module docstring)."""

    def __init__(self, app: Any, conf: dict[str, Any]) -> None:
        self.app = app
        self.digests = [d for d in conf.get("allowed_digests", "sha1 sha256 sha512").split()
                        if d in tempurl.DIGESTS]

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("REQUEST_METHOD") != "POST":
            return self.app(environ, start_response)
        req = webob.Request(environ)
        boundary = _boundary(req)
        try:
            account, container, prefix = request_parts(req)
        except ValueError:
            account = container = prefix = None
        if boundary is None or not account or not container:
            return self.app(environ, start_response)
        try:
            form, status, message = self.translate(req, boundary, account, container,
                                                   prefix or "")
        except FormUnauthorized as err:
            return _page(401, str(err))(environ, start_response)
        except FormInvalid as err:
            return _page(400, str(err))(environ, start_response)
        if form.redirect:
            return _redirect(form.redirect, status, message)(environ, start_response)
        return _page(status, message)(environ, start_response)

    def translate(self, req: webob.Request, boundary: str, account: str, container: str,
                  prefix: str) -> tuple[_Form, int, str]:
        """Read the form and upload its files: (the form, status, message).

        Raises FormUnauthorized/FormInvalid for what may not be redirected (nothing
        is trusted before the signature is checked, at the first file).
        """
        reader = MultipartReader(req.environ["wsgi.input"], boundary, req.content_length)
        fields: dict[str, str] = {}
        form: _Form | None = None
        uploaded = 0
        for part in reader.parts():
            if part.filename is None:
                if part.name:
                    fields.setdefault(part.name.lower(), part.value())
                continue
            if form is None:
                form = self.authenticate(req, fields, account, container)
            if not part.filename:
                continue  # a file input left empty
            if uploaded >= form.max_file_count:
                return form, 400, "max file count exceeded"
            status, message = self.upload(req, part, form, account, container, prefix)
            if status // 100 != 2:
                return form, status, message
            uploaded += 1
        if form is None:
            form = self.authenticate(req, fields, account, container)
        if not uploaded:
            return form, 400, "no files to process"
        return form, 201, ""

    def authenticate(self, req: webob.Request, fields: dict[str, str], account: str,
                     container: str) -> _Form:
        """The form's limits, if it is signed by a key of the account or container
        and not expired; else FormUnauthorized (FormInvalid when malformed)."""
        try:
            expires = int(fields.get("expires", ""))
        except ValueError:
            raise FormUnauthorized("Invalid Expires") from None
        if expires < time.time():
            raise FormUnauthorized("Form Expired")
        try:
            digest, raw = tempurl.split_signature(fields.get("signature", ""))
        except ValueError:
            raise FormUnauthorized("Invalid Signature") from None
        if digest not in self.digests:
            raise FormUnauthorized("Invalid Signature")
        path = info.from_wsgi_str(req.path_info)
        message = "\n".join([path] + [fields.get(name, "") for name in _HMAC_FIELDS])
        keys = tempurl.temp_url_keys(req.environ, self.app, account, container, SOURCE)
        if not any(tempurl.hmac_matches(key, message, digest, raw) for key, _scope in keys):
            raise FormUnauthorized("Invalid Signature")
        return _Form(fields)

    def upload(self, req: webob.Request, part: FormPart, form: _Form, account: str,
               container: str, prefix: str) -> tuple[int, str]:
        """PUT one file part as ``<prefix><filename>``: (status, message)."""
        headers = dict(form.headers)
        headers["Transfer-Encoding"] = "chunked"
        if part.content_type:
            headers["Content-Type"] = part.content_type
        path = "/v1/%s/%s/%s%s" % (account, container, prefix, part.filename)
        sub = info.make_subrequest(req.environ, "PUT", None, headers, swift_source=SOURCE,
                                   pre_authed=True)
        sub.environ["PATH_INFO"] = info.to_wsgi_str(path)
        sub.environ["QUERY_STRING"] = ""
        sub.environ.pop("CONTENT_LENGTH", None)
        sub.environ["REMOTE_USER"] = ".wsgi.formpost"
        sub.environ["wsgi.input"] = part
        sub.environ["wsgi.input_terminated"] = True  # the part ends at its boundary
        part.limit = form.max_file_size
        try:
            resp = sub.get_response(self.app)
        except FileTooLarge:
            return 400, "max_file_size exceeded"
        if part.too_large:
            return 400, "max_file_size exceeded"
        if resp.status_int // 100 != 2:
            return resp.status_int, "upload error: %s" % resp.status
        return resp.status_int, ""


def _boundary(req: webob.Request) -> str | None:
    """The boundary of a ``multipart/form-data`` request, else None."""
    msg = email.message.Message()
    msg["content-type"] = req.environ.get("CONTENT_TYPE", "")
    if msg.get_content_type() != "multipart/form-data":
        return None
    boundary = msg.get_param("boundary")
    return boundary if isinstance(boundary, str) and boundary else None


def _status_line(code: int) -> str:
    try:
        return "%d %s" % (code, http.HTTPStatus(code).phrase)
    except ValueError:
        return str(code)


def _page(code: int, message: str) -> webob.Response:
    """A small HTML page with the status and ``FormPost: <message>``."""
    text = "FormPost: %s" % message if message else ""
    body = "<html><body><h1>%s</h1><p>%s</p></body></html>\n" % (
        html.escape(_status_line(code)), html.escape(text))
    return webob.Response(status=code, body=body.encode("utf-8"),
                          content_type="text/html", charset="utf-8")


def _redirect(target: str, code: int, message: str) -> webob.Response:
    """303 to ``target`` with ``status`` and ``message`` in its query."""
    query = urlencode({"status": code, "message": message})
    location = target + ("&" if "?" in target else "?") + query
    body = '<html><body><p><a href="%s">Click to continue...</a></p></body></html>\n' % (
        html.escape(location, quote=True))
    resp = webob.Response(status=303, body=body.encode("utf-8"), content_type="text/html",
                          charset="utf-8")
    resp.headers["Location"] = location
    return resp


def filter_factory(global_conf: dict[str, Any], **local_conf: Any
                   ) -> Callable[[Any], FormPost]:
    """Paste entry point; registers ``formpost`` in /info."""
    conf = dict(global_conf)
    conf.update(local_conf)
    register_swift_info(
        "formpost",
        allowed_digests=[d for d in conf.get("allowed_digests", "sha1 sha256 sha512").split()
                         if d in tempurl.DIGESTS])
    return lambda app: FormPost(app, conf)
