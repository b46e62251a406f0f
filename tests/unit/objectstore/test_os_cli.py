"""``stratus objectstore``: argument parsing, sizes, segment plans, names and paths."""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import threading

import pytest

from objectstore import cli
from objectstore import cli_transfer as xfer


def _parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="stratus objectstore")
    cli._build(parser)
    return parser.parse_args(list(argv))


# -- sizes and segment plans ------------------------------------------------

@pytest.mark.parametrize("text,size", [
    ("1", 1), ("1048576", 1048576), ("512K", 512 * 1024), ("100M", 100 * 1024 ** 2),
    ("100MiB", 100 * 1024 ** 2), ("100mb", 100 * 1024 ** 2), ("2G", 2 * 1024 ** 3),
    ("1T", 1024 ** 4), ("7B", 7), (" 3 M ", 3 * 1024 ** 2),
])
def test_parse_size(text: str, size: int) -> None:
    assert xfer.parse_size(text) == size


@pytest.mark.parametrize("text", ["", "x", "1.5M", "-1", "0", "100Q", "M", "iB"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(ValueError, match="size"):
        xfer.parse_size(text)


def test_plan_covers_the_file_once_in_order() -> None:
    plan = xfer.plan_segments(10 * 1024 + 5, 1024)
    assert len(plan) == 11
    assert [s.number for s in plan] == list(range(11))
    assert plan[0] == xfer.Segment(0, 0, 1024)
    assert plan[-1] == xfer.Segment(10, 10 * 1024, 5)
    covered = 0
    for seg in plan:
        assert seg.offset == covered
        covered += seg.length
    assert covered == 10 * 1024 + 5


def test_plan_exact_multiple_has_no_empty_tail() -> None:
    plan = xfer.plan_segments(4096, 1024)
    assert [s.length for s in plan] == [1024] * 4
    assert xfer.plan_segments(0, 1024) == []
    with pytest.raises(ValueError):
        xfer.plan_segments(10, 0)


def test_segment_size_for() -> None:
    assert xfer.segment_size_for(100, 100) is None          # not larger: one object
    assert xfer.segment_size_for(101, 100) == 100
    assert xfer.segment_size_for(10 ** 9, None) is None      # default: one object up to 5 GiB
    assert xfer.segment_size_for(xfer.MAX_SINGLE_OBJECT + 1, None) == xfer.AUTO_SEGMENT_SIZE


def test_segment_names_sort_in_plan_order_and_change_with_the_file() -> None:
    prefix = xfer.segment_prefix("dir/big.iso", 1700000000.5, 3000, 1000)
    assert prefix == "dir/big.iso/slo/1700000000.500000/3000/1000/"
    names = [xfer.segment_name(prefix, n) for n in range(12)]
    assert names == sorted(names)
    assert names[3] == prefix + "00000003"
    assert xfer.segment_prefix("dir/big.iso", 1700000001.0, 3000, 1000) != prefix
    assert xfer.segments_container("photos") == "photos_segments"


# -- what gets uploaded under which name -------------------------------------

def _write(path: str, data: bytes) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as handle:
        handle.write(data)


def test_collect_names_files_by_base_name_and_trees_relative(tmp_path) -> None:
    tree = tmp_path / "photos"
    _write(str(tree / "a.jpg"), b"a")
    _write(str(tree / "2024" / "b.jpg"), b"bb")
    _write(str(tree / "2024" / "deep" / "c.txt"), b"ccc")
    os.makedirs(tree / "empty")
    single = tmp_path / "notes.txt"
    _write(str(single), b"n")
    items = xfer.collect_uploads([str(tree), str(single)])
    assert [(i.name, i.size) for i in items] == [
        ("photos/a.jpg", 1), ("photos/2024/b.jpg", 2), ("photos/2024/deep/c.txt", 3),
        ("notes.txt", 1)]
    assert all(os.path.isfile(i.path) for i in items)


def test_collect_object_name_only_for_one_file(tmp_path) -> None:
    _write(str(tmp_path / "a"), b"1")
    _write(str(tmp_path / "b"), b"2")
    items = xfer.collect_uploads([str(tmp_path / "a")], object_name="x/y")
    assert items[0].name == "x/y"
    with pytest.raises(ValueError, match="one object"):
        xfer.collect_uploads([str(tmp_path / "a"), str(tmp_path / "b")], object_name="x")
    with pytest.raises(ValueError, match="not a file or directory"):
        xfer.collect_uploads([str(tmp_path / "missing")])


def test_local_path_stays_under_the_directory(tmp_path) -> None:
    base = str(tmp_path)
    assert xfer.local_path(base, "a/b/c.txt") == os.path.join(base, "a", "b", "c.txt")
    assert xfer.local_path(base, "/lead//slash/") == os.path.join(base, "lead", "slash")
    for bad in ("../etc/passwd", "a/../../b", "", "/", "./."):
        with pytest.raises(ValueError):
            xfer.local_path(base, bad)


# -- request bodies and progress -------------------------------------------

def test_range_bodies_rebuild_the_file_and_hash_their_part(tmp_path) -> None:
    data = os.urandom(5000)
    path = str(tmp_path / "f")
    _write(path, data)
    progress = xfer.Progress("t", len(data), stream=io.StringIO())
    parts = []
    for seg in xfer.plan_segments(len(data), 1024):
        body = xfer.RangeBody(path, seg.offset, seg.length, progress)
        assert len(body) == seg.length
        chunk = b"".join(body)
        assert body.sent == seg.length
        assert body.md5.hexdigest() == hashlib.md5(chunk).hexdigest()
        parts.append(chunk)
        # Sent again (a retry): same bytes, same hash.
        assert b"".join(body) == chunk and body.sent == seg.length
    assert b"".join(parts) == data
    assert progress.done == 2 * len(data)


def test_progress_counts_across_threads_and_stays_quiet_off_a_terminal() -> None:
    out = io.StringIO()
    progress = xfer.Progress("Uploading", 8000, stream=out)
    threads = [threading.Thread(target=lambda: [progress.update(1) for _ in range(1000)])
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    progress.finish()
    assert progress.done == 8000
    assert out.getvalue() == ""


def test_parallel_keeps_order_and_raises_the_first_failure() -> None:
    assert cli._parallel(lambda a, b: a * b, [(i, 2) for i in range(20)], 4) == \
        [i * 2 for i in range(20)]

    def fail_on_3(i: int) -> int:
        if i == 3:
            raise cli.client.CLIError("boom %d" % i)
        return i
    with pytest.raises(cli.client.CLIError, match="boom 3"):
        cli._parallel(fail_on_3, [(i,) for i in range(10)], 3)


# -- the command line ------------------------------------------------------

def test_upload_arguments() -> None:
    args = _parse("upload", "c1", "a.txt", "dir", "--segment-size", "100M", "--threads", "8")
    assert args.func is cli._upload
    assert args.container == "c1" and args.paths == ["a.txt", "dir"]
    assert args.segment_size == 100 * 1024 ** 2 and args.threads == 8
    assert _parse("upload", "c1", "f").segment_size is None


def test_bad_segment_size_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        _parse("upload", "c1", "f", "--segment-size", "lots")
    assert exc.value.code == 2
    assert "is not a size" in capsys.readouterr().err


def test_list_stat_download_delete_post_arguments() -> None:
    args = _parse("list")
    assert args.func is cli._list and args.container is None
    args = _parse("list", "c1", "--prefix", "photos/", "-f", "json")
    assert (args.container, args.prefix, args.format) == ("c1", "photos/", "json")
    args = _parse("stat", "c1", "o/1")
    assert (args.func, args.container, args.object) == (cli._stat, "c1", "o/1")
    args = _parse("download", "c1", "-o", "out")
    assert (args.func, args.object, args.output) == (cli._download, None, "out")
    args = _parse("download", "c1", "a/b", "-o", "-")
    assert (args.object, args.output) == ("a/b", "-")
    args = _parse("delete", "c1")
    assert (args.func, args.objects) == (cli._delete, [])
    args = _parse("delete", "c1", "x", "y")
    assert args.objects == ["x", "y"]
    args = _parse("post", "c1", "-m", "color:blue", "--read-acl", ".r:*")
    assert (args.meta, args.read_acl) == (["color:blue"], ".r:*")


def test_meta_headers() -> None:
    assert cli._meta_headers("Container", ["Color: blue", "gone:"]) == {
        "X-Container-Meta-Color": "blue", "X-Container-Meta-gone": ""}
    with pytest.raises(cli.client.CLIError, match="KEY:VALUE"):
        cli._meta_headers("Object", ["novalue"])


def test_no_command_prints_help() -> None:
    assert cli.register("stratus objectstore", []) == 2


def test_missing_credentials_say_what_to_do(monkeypatch, capsys) -> None:
    for name in list(os.environ):
        if name.startswith("OS_"):
            monkeypatch.delenv(name)
    assert cli.register("stratus objectstore", ["list"]) == 1
    err = capsys.readouterr().err
    assert "OS_AUTH_URL" in err and "openrc" in err


def test_uploading_a_missing_file_fails_before_any_request(monkeypatch, capsys,
                                                           tmp_path) -> None:
    # Unreachable storage URL: the command must fail on the path, not on the network.
    monkeypatch.setenv("OS_STORAGE_URL", "http://127.0.0.1:9/v1/AUTH_test")
    code = cli.register("stratus objectstore", ["upload", "c1", str(tmp_path / "nope")])
    assert code == 1
    assert "not a file or directory" in capsys.readouterr().err


def test_unreachable_proxy_is_reported(monkeypatch, capsys) -> None:
    monkeypatch.setenv("OS_STORAGE_URL", "http://127.0.0.1:9/v1/AUTH_test")
    assert cli.register("stratus objectstore", ["list"]) == 1
    assert "cannot reach the cloud" in capsys.readouterr().err
