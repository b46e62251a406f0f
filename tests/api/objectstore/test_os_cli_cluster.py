"""``stratus objectstore`` against a real in-process cluster (nine storage servers,
the rings, the proxy with SLO) served over HTTP; the CLI talks to it through
``OS_STORAGE_URL`` (no auth in this pipeline)."""
from __future__ import annotations

import json
import os
from typing import Any, Iterator

import pytest

from objectstore import cli
from objectstore.middleware import slo
from tests.fixtures.objectstore import Cluster

PROG = "stratus objectstore"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """One cluster for the module (the tests use containers of their own)."""
    instance = Cluster(tmp_path_factory.mktemp("cluster"), filters=[slo.filter_factory({})])
    try:
        instance.serve_proxy()
        yield instance
    finally:
        instance.stop()


@pytest.fixture
def store(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> Cluster:
    for name in list(os.environ):
        if name.startswith("OS_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OS_STORAGE_URL", cluster.serve_proxy() + "/v1/AUTH_test")
    return cluster


def run(capsys: pytest.CaptureFixture[str], *argv: str, code: int = 0) -> Any:
    """Run the CLI; the parsed JSON output (``-f json``) or the raw text."""
    capsys.readouterr()
    assert cli.register(PROG, list(argv)) == code, capsys.readouterr().err
    out = capsys.readouterr()
    if "-f" in argv and "json" in argv:
        return json.loads(out.out)
    return out.out + out.err


def _write(path: Any, data: bytes) -> None:
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)


def _names(capsys: pytest.CaptureFixture[str], *argv: str) -> list[str]:
    return [row["name"] for row in run(capsys, "list", *argv, "-f", "json")]


def test_upload_list_download_delete_tree_and_large_object(store: Cluster, tmp_path: Any,
                                                          capsys: Any) -> None:
    src = tmp_path / "src" / "docs"
    _write(src / "a.txt", b"alpha\n")
    _write(src / "sub" / "b.bin", os.urandom(3000))
    _write(src / "empty.txt", b"")
    big = tmp_path / "big.img"
    big_data = os.urandom(250 * 1024)
    _write(big, big_data)

    rows = run(capsys, "upload", "c1", str(src), str(big), "--segment-size", "100K",
               "-f", "json")
    assert {r["object"]: r["segments"] for r in rows} == {
        "docs/a.txt": 0, "docs/empty.txt": 0, "docs/sub/b.bin": 0, "big.img": 3}

    assert {"c1", "c1_segments"} <= set(_names(capsys))
    assert _names(capsys, "c1") == ["big.img", "docs/a.txt", "docs/empty.txt",
                                    "docs/sub/b.bin"]
    assert len(_names(capsys, "c1_segments")) == 3
    assert _names(capsys, "c1", "--prefix", "docs/s") == ["docs/sub/b.bin"]
    stat = run(capsys, "stat", "c1", "big.img", "-f", "json")
    assert stat["Content-Length"] == str(len(big_data))
    assert stat["X-Static-Large-Object"].lower() == "true"

    out = tmp_path / "out"
    run(capsys, "download", "c1", "-o", str(out))
    assert (out / "big.img").read_bytes() == big_data
    assert (out / "docs" / "sub" / "b.bin").read_bytes() == (src / "sub" / "b.bin").read_bytes()
    assert (out / "docs" / "empty.txt").read_bytes() == b""
    assert not [p for p in os.listdir(out) if p.endswith(".part")]
    # The mtime travels as X-Object-Meta-Mtime.
    assert int(os.path.getmtime(out / "docs" / "a.txt")) == int(os.path.getmtime(src / "a.txt"))

    run(capsys, "download", "c1", "docs/a.txt", "-o", str(tmp_path / "one.txt"))
    assert (tmp_path / "one.txt").read_bytes() == b"alpha\n"

    # Replacing the large object drops the old segments.
    new_data = os.urandom(120 * 1024)
    _write(big, new_data)
    os.utime(big, (1700000000, 1700000000))
    run(capsys, "upload", "c1", str(big), "--segment-size", "100K")
    segs = _names(capsys, "c1_segments")
    assert len(segs) == 2 and all("/1700000000.000000/" in s for s in segs)
    run(capsys, "download", "c1", "big.img", "-o", str(tmp_path / "big2"))
    assert (tmp_path / "big2").read_bytes() == new_data

    # Deleting the large object deletes its segments.
    rows = run(capsys, "delete", "c1", "big.img", "-f", "json")
    assert rows == [{"object": "big.img", "segments": 2}]
    assert _names(capsys, "c1_segments") == []

    # A whole container goes with its objects.
    run(capsys, "delete", "c1")
    assert "c1" not in _names(capsys)


def test_post_metadata_keeps_the_rest(store: Cluster, tmp_path: Any, capsys: Any) -> None:
    _write(tmp_path / "f.txt", b"x")
    run(capsys, "upload", "c2", str(tmp_path / "f.txt"))
    run(capsys, "post", "c2", "f.txt", "-m", "color:blue")
    run(capsys, "post", "c2", "f.txt", "-m", "size:small")
    stat = {k.lower(): v for k, v in run(capsys, "stat", "c2", "f.txt", "-f", "json").items()}
    assert stat["x-object-meta-color"] == "blue"
    assert stat["x-object-meta-size"] == "small"
    assert "x-object-meta-mtime" in stat
    run(capsys, "post", "c3", "-m", "team:ops")         # creates the container
    stat = {k.lower(): v for k, v in run(capsys, "stat", "c3", "-f", "json").items()}
    assert stat["x-container-meta-team"] == "ops"


def test_errors_say_what_to_do(store: Cluster, tmp_path: Any, capsys: Any) -> None:
    text = run(capsys, "list", "nope", code=1)
    assert "container nope does not exist" in text and "stratus objectstore list" in text
    text = run(capsys, "download", "nope", "x", "-o", str(tmp_path / "x"), code=1)
    assert "does not exist" in text
    assert not os.path.exists(tmp_path / "x")
    text = run(capsys, "delete", "nope", "x", code=1)
    assert "object nope/x does not exist" in text
