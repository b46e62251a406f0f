"""The storage daemons' shared runner (objectstore/cmd/storage.py) and the proxy's
console script defaults."""
from __future__ import annotations

import errno
import http.client
import socket

import pytest
from oslo_config import cfg

from objectstore import conf as objectstore_conf
from objectstore.cmd import proxy, storage
from objectstore.obj import ondisk


def _conf(tmp_path) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    objectstore_conf.register_opts(conf)
    conf([], project="stratus-test", default_config_files=[])
    conf.set_override("state_path", str(tmp_path))
    conf.set_override("devices", str(tmp_path / "node"), group="objectstore")
    return conf


def _app(environ, start_response):  # type: ignore[no-untyped-def]
    body = environ["PATH_INFO"].encode()
    start_response("200 OK", [("Content-Length", str(len(body)))])
    return [body]


def test_setup_errors_are_one_line_and_name_the_devices(tmp_path) -> None:
    conf = _conf(tmp_path)
    devices = str(tmp_path / "node")
    message = storage.setup_error(conf, OSError(errno.ENOTSUP, "Operation not supported"))
    assert message is not None and "\n" not in message
    assert devices in message and "xattr" in message and "ext4" in message
    message = storage.setup_error(conf, ondisk.XattrNotSupported(
        "object store device directory %s/d1 does not support user xattrs" % devices))
    assert message is not None and "\n" not in message
    assert devices + "/d1 does not support" in message and "loop-mounted ext4" in message
    missing = OSError(errno.ENOENT, "No such file or directory", devices + "/d1")
    assert storage.setup_error(conf, missing) == \
        "cannot use %s/d1: No such file or directory" % devices
    # Programming errors keep their traceback.
    assert storage.setup_error(conf, KeyError("x")) is None
    assert storage.setup_error(conf, TypeError("x")) is None


def test_build_app_exits_2_with_one_line(tmp_path, capsys) -> None:
    conf = _conf(tmp_path)

    def no_xattrs(_conf: cfg.ConfigOpts) -> None:
        raise ondisk.XattrNotSupported("the file system does not support user xattrs")

    with pytest.raises(SystemExit) as exc:
        storage.build_app(conf, no_xattrs, "stratus-objectstore-object")
    assert exc.value.code == storage.EXIT_SETUP
    # (other tests' background threads may log to stderr too: look at our lines)
    err = [line for line in capsys.readouterr().err.splitlines()
           if line.startswith("stratus-objectstore-object:")]
    assert len(err) == 1
    assert err[0].startswith("stratus-objectstore-object: cannot start: the file system does not")

    def bug(_conf: cfg.ConfigOpts) -> None:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        storage.build_app(conf, bug, "stratus-objectstore-object")
    assert storage.build_app(conf, lambda c: _app, "x") is _app


@pytest.mark.parametrize("group", ["object_server", "container_server", "account_server"])
def test_start_server_serves_on_the_groups_address(tmp_path, group: str) -> None:
    conf = _conf(tmp_path)
    conf.set_override("bind_host", "127.0.0.1", group=group)
    conf.set_override("bind_port", 0, group=group)
    conf.set_override("threads", 2, group=group)
    server = storage.start_server(conf, group, _app, "test")
    try:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
        conn.request("GET", "/d1/0/a")
        resp = conn.getresponse()
        assert (resp.status, resp.read()) == (200, b"/d1/0/a")
        conn.close()
    finally:
        server.stop()


def test_start_server_on_a_taken_port_exits_2(tmp_path, capsys) -> None:
    conf = _conf(tmp_path)
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen(1)
    try:
        conf.set_override("bind_host", "127.0.0.1", group="object_server")
        conf.set_override("bind_port", taken.getsockname()[1], group="object_server")
        with pytest.raises(SystemExit) as exc:
            storage.start_server(conf, "object_server", _app, "stratus-objectstore-object")
        assert exc.value.code == 2
        assert "[object_server] bind_port" in capsys.readouterr().err
    finally:
        taken.close()


def test_proxy_defaults_to_its_paste_file_and_port_8080() -> None:
    conf = cfg.ConfigOpts()
    proxy.register_opts(conf)
    conf([], project="stratus-test", default_config_files=[])
    assert conf.api.api_paste_config == "proxy-paste.ini"
    assert conf.api.bind_port == 8080
