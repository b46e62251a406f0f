"""Static web sites served from public containers.

A container's metadata turns anonymous ``GET``/``HEAD`` requests into a web site:

- ``X-Container-Meta-Web-Index: index.html`` answers ``/c/`` and ``/c/dir/`` with
  that object of the "directory";
- ``X-Container-Meta-Web-Listings: true`` answers them with an HTML listing (when
  there is no index), styled by ``X-Container-Meta-Web-Listings-CSS`` (a path
  relative to the container, or absolute) and titled with
  ``X-Container-Meta-Web-Listings-Label`` in place of the account path;
- ``X-Container-Meta-Web-Error: error.html`` answers an error ``<code>`` (404, 401,
  …) with the body of the object ``<code>error.html`` (keeping the status);
- ``X-Container-Meta-Web-Directory-Type`` (``application/directory``) names the
  content type of pseudo-directory marker objects.

A directory path without its trailing slash (``/c``, ``/c/dir`` when ``dir/`` has an
index or listing entries) is redirected (301) to the path with the slash. The mode
applies to requests without an identity (``REMOTE_USER``) and to any request with
``X-Web-Mode: true``; authenticated API clients see plain Swift. Every read is a
subrequest with the client's own identity (``swift.source = SW``), so the container's
read ACL (``.r:*``, and ``.rlistings`` for listings) still decides.
"""
from __future__ import annotations

import html
from typing import Any, Callable
from urllib.parse import quote, urlencode

import webob

from objectstore.common.registry import register_swift_info
from objectstore.middleware.keystoneauth import config_true, request_parts
from objectstore.proxy import info

SOURCE = "SW"
DEFAULT_DIRECTORY_TYPE = "application/directory"
#: Entries per listing subrequest (the proxy's default limit).
LISTING_PAGE = 10000
#: Client headers a listing subrequest must not inherit.
_DROPPED_FOR_LISTING = ("HTTP_RANGE", "HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH",
                        "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_UNMODIFIED_SINCE")
_DEFAULT_STYLE = """  <style type="text/css">
   body { font-family: sans-serif; }
   h1 { font-size: 1.2em; }
   table#listing td, table#listing th { padding: 0 1em; text-align: left; }
   td.colsize { text-align: right; }
  </style>
"""


class WebSite:
    """What the container's metadata asks for (see the module docstring)."""

    def __init__(self, meta: dict[str, str]) -> None:
        self.index = meta.get("web-index", "").strip()
        self.listings = config_true(meta.get("web-listings", "").strip())
        self.css = meta.get("web-listings-css", "").strip()
        self.label = meta.get("web-listings-label", "").strip()
        self.error = meta.get("web-error", "").strip()
        self.dir_type = (meta.get("web-directory-type", "").strip()
                         or DEFAULT_DIRECTORY_TYPE)

    @property
    def enabled(self) -> bool:
        return bool(self.index) or self.listings


class StaticWeb:
    """The ``staticweb`` filter (see the module docstring)."""

    def __init__(self, app: Any, conf: dict[str, Any]) -> None:
        self.app = app
        self.conf = conf

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if not self._applies(environ):
            return self.app(environ, start_response)
        try:
            account, container, obj = request_parts(webob.Request(environ))
        except ValueError:
            return self.app(environ, start_response)
        if not account or not container:
            return self.app(environ, start_response)
        cinfo = info.get_container_info(environ, self.app, SOURCE)
        if cinfo["status"] // 100 != 2:
            return self.app(environ, start_response)
        site = _Request(self.app, environ, account, container, WebSite(cinfo["meta"]))
        if obj:
            resp = site.for_object(obj)
        else:
            resp = site.for_container()
        if resp is None:
            return self.app(environ, start_response)
        return resp(environ, start_response)

    @staticmethod
    def _applies(environ: dict[str, Any]) -> bool:
        """GET/HEAD without an identity (or in web mode); not other middleware's
        pre-authorized subrequests."""
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return False
        if config_true(environ.get("HTTP_X_WEB_MODE", "")):
            return True
        return not (environ.get("REMOTE_USER") or environ.get("swift.authorize_override"))


class _Request:
    """One web request: the subrequests and pages it needs."""

    def __init__(self, app: Any, environ: dict[str, Any], account: str, container: str,
                 site: WebSite) -> None:
        self.app = app
        self.environ = environ
        self.account = account
        self.container = container
        self.site = site
        self.web_mode = config_true(environ.get("HTTP_X_WEB_MODE", ""))

    # --- what to answer ----------------------------------------------------------

    def for_container(self) -> webob.Response | None:
        """``/c`` or ``/c/``: redirect, index, listing or 404; None passes through."""
        if not self.site.enabled:
            return self.error(404, _not_found()) if self.web_mode else None
        if not self.environ.get("PATH_INFO", "").endswith("/"):
            return self.redirect_with_slash()
        return self.directory("")

    def for_object(self, obj: str) -> webob.Response:
        """``/c/o``: the object, a directory of it, or an (error page) answer."""
        resp = self.subrequest(obj, keep_headers=True)
        if resp.status_int // 100 in (2, 3):
            if resp.content_type != self.site.dir_type or not self.site.enabled:
                return resp
            _close(resp)
            if not obj.endswith("/"):
                return self.redirect_with_slash()
            return self.directory(obj)
        if resp.status_int != 404 or not self.site.enabled:
            return self.error(resp.status_int, resp)
        if obj.endswith("/"):
            _close(resp)
            return self.directory(obj)
        if self.is_directory(obj + "/"):
            _close(resp)
            return self.redirect_with_slash()
        return self.error(404, resp)

    def directory(self, prefix: str) -> webob.Response:
        """The index of the directory ``prefix`` (``''`` or ending in ``/``), else its
        listing, else 404."""
        if self.site.index:
            resp = self.subrequest(prefix + self.site.index, keep_headers=True)
            if resp.status_int // 100 in (2, 3):
                return resp
            if resp.status_int != 404:
                return self.error(resp.status_int, resp)
            _close(resp)
        if not self.site.listings:
            return self.error(404, _not_found())
        status, entries = self.listing(prefix)
        if status // 100 != 2:
            return self.error(status, webob.Response(status=status))
        if prefix and not entries:
            return self.error(404, _not_found())
        return self.render(prefix, entries)

    def is_directory(self, prefix: str) -> bool:
        """Whether ``prefix`` has an index object or (with listings) any entry."""
        if self.site.index:
            resp = self.subrequest(prefix + self.site.index, method="HEAD")
            if resp.status_int // 100 == 2:
                return True
        if self.site.listings:
            status, entries = self.listing(prefix, limit=1)
            return status // 100 == 2 and bool(entries)
        return False

    def error(self, status: int, original: webob.Response) -> webob.Response:
        """``original`` (status ``status``), with the body of ``<status><web-error>``
        when the container has such an error page."""
        if not self.site.error or status < 400:
            return original
        page = self.subrequest("%d%s" % (status, self.site.error), method="GET")
        if page.status_int // 100 != 2:
            _close(page)
            return original
        _close(original)
        resp = webob.Response(status=status, body=page.body)
        resp.content_type = page.content_type or "text/html"
        if page.charset:
            resp.charset = page.charset
        return resp

    def redirect_with_slash(self) -> webob.Response:
        """301 to the request's path with a trailing slash."""
        req = webob.Request(self.environ)
        path = info.from_wsgi_str(req.script_name + req.path_info) + "/"
        location = req.host_url + quote(path, safe="/:@!$&'()*+,;=-._~")
        if req.query_string:
            location += "?" + req.query_string
        resp = webob.Response(status=301, body=b"", content_type="text/html",
                              charset="utf-8")
        resp.headers["Location"] = location
        return resp

    # --- subrequests -------------------------------------------------------------

    def subrequest(self, obj: str | None, method: str | None = None, query: str = "",
                   keep_headers: bool = False) -> webob.Response:
        """GET/HEAD ``/v1/a/c/<obj>`` (``obj`` ``None``: the container) as the client.

        With ``keep_headers`` the client's Range and conditional headers go along.
        """
        # webob caches (parsed query, ad hoc attributes) belong to the client request.
        env = {k: v for k, v in self.environ.items() if not k.startswith("webob.")}
        if not keep_headers:
            for key in _DROPPED_FOR_LISTING:
                env.pop(key, None)
        env["REQUEST_METHOD"] = method or self.environ["REQUEST_METHOD"]
        path = "/v1/%s/%s" % (self.account, self.container)
        if obj is not None:
            path += "/" + obj
        env["PATH_INFO"] = info.to_wsgi_str(path)
        env["QUERY_STRING"] = query
        env["swift.source"] = SOURCE
        env.pop("CONTENT_LENGTH", None)
        return webob.Request(env).get_response(self.app)

    def listing(self, prefix: str, limit: int | None = None
                ) -> tuple[int, list[dict[str, Any]]]:
        """(status, entries) of the listing of ``prefix`` with ``/`` as delimiter; all
        pages, or only the first ``limit`` entries."""
        entries: list[dict[str, Any]] = []
        page_size = min(limit or LISTING_PAGE, LISTING_PAGE)
        marker = ""
        while True:
            query = urlencode({"format": "json", "delimiter": "/", "prefix": prefix,
                               "limit": page_size, "marker": marker})
            resp = self.subrequest(None, method="GET", query=query)
            if resp.status_int == 204:
                return 200, entries
            if resp.status_int // 100 != 2:
                return resp.status_int, []
            page = resp.json_body
            entries.extend(page)
            if len(page) < page_size or (limit is not None and len(entries) >= limit):
                return 200, entries
            marker = page[-1].get("name") or page[-1].get("subdir") or ""

    # --- the listing page ----------------------------------------------------------

    def render(self, prefix: str, entries: list[dict[str, Any]]) -> webob.Response:
        """The HTML listing of ``prefix``."""
        where = "/".join([self.site.label or "/v1/%s" % self.account, self.container])
        title = html.escape("Listing of %s/%s" % (where, prefix))
        rows = []
        if prefix:
            rows.append(_row("parent", "../", "../", "&nbsp;", "&nbsp;"))
        for entry in entries:
            if "subdir" in entry:
                name = entry["subdir"][len(prefix):]
                rows.append(_row("item subdir", quote(name), name, "&nbsp;", "&nbsp;"))
        for entry in entries:
            if "name" in entry:
                name = entry["name"][len(prefix):]
                kind = "item type-" + html.escape(
                    (entry.get("content_type") or "").split(";")[0].replace("/", "-"), True)
                rows.append(_row(kind, quote(name), name, _human_size(entry.get("bytes", 0)),
                                 html.escape(str(entry.get("last_modified", ""))[:19])))
        body = "".join([
            '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01 Transitional//EN"'
            ' "http://www.w3.org/TR/html4/loose.dtd">\n<html>\n <head>\n',
            "  <title>%s</title>\n" % title,
            self.stylesheet(prefix),
            ' </head>\n <body>\n  <h1 id="title">%s</h1>\n' % title,
            '  <table id="listing">\n   <tr id="heading"><th class="colname">Name</th>'
            '<th class="colsize">Size</th><th class="coldate">Date</th></tr>\n',
            "".join(rows),
            "  </table>\n </body>\n</html>\n"])
        resp = webob.Response(status=200, body=body.encode("utf-8"), content_type="text/html",
                              charset="utf-8")
        return resp

    def stylesheet(self, prefix: str) -> str:
        """The ``<link>`` to the listing CSS (relative to the container), or a default
        style."""
        css = self.site.css
        if not css:
            return _DEFAULT_STYLE
        if not (css.startswith("/") or "://" in css):
            css = "../" * prefix.count("/") + css
        return '  <link rel="stylesheet" type="text/css" href="%s" />\n' % html.escape(css)


def _row(kind: str, href: str, name: str, size: str, date: str) -> str:
    return ('   <tr class="%s"><td class="colname"><a href="%s">%s</a></td>'
            '<td class="colsize">%s</td><td class="coldate">%s</td></tr>\n'
            % (kind, html.escape(href, True), html.escape(name), size, date))


def _human_size(size: int) -> str:
    """``512``, ``1.5K``, ``3.0M``, …"""
    value = float(size)
    for unit in ("", "K", "M", "G", "T"):
        if value < 1024 or unit == "T":
            return "%d" % value if not unit else "%.1f%s" % (value, unit)
        value /= 1024
    return str(size)


def _not_found() -> webob.Response:
    body = b"<html><body><h1>Not Found</h1><p>The resource could not be found.</p></body></html>\n"
    return webob.Response(status=404, body=body, content_type="text/html", charset="utf-8")


def _close(resp: webob.Response) -> None:
    close = getattr(resp.app_iter, "close", None)
    if close is not None:
        close()


def filter_factory(global_conf: dict[str, Any], **local_conf: Any
                   ) -> Callable[[Any], StaticWeb]:
    """Paste entry point; registers ``staticweb`` in /info."""
    conf = dict(global_conf)
    conf.update(local_conf)
    register_swift_info("staticweb")
    return lambda app: StaticWeb(app, conf)
