"""stratus-manage service groups: db commands and one-line failures."""
from __future__ import annotations

import os
from typing import Any

import pytest

from image.cmd import manage as image_manage


def test_db_sync_and_version(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    conf_file = os.path.join(str(tmp_path), "image.conf")
    with open(conf_file, "w") as handle:
        handle.write("[DEFAULT]\nstate_path = %s\n" % tmp_path)
    assert image_manage.register("stratus-manage image",
                                 ["--config-file", conf_file, "db", "sync"]) == 0
    assert image_manage.register("stratus-manage image",
                                 ["--config-file", conf_file, "db", "version"]) == 0
    out = capsys.readouterr().out
    assert "latest revision" in out
    # The revision printed is the newest of the image database's migrations.
    versions = os.path.join(os.path.dirname(image_manage.__file__), os.pardir, "registry",
                            "db", "migrations", "versions")
    newest = max(name[:4] for name in os.listdir(versions) if name[:4].isdigit())
    assert newest in out


def test_missing_config_file_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        image_manage.register("stratus-manage image",
                              ["--config-file", "/nonexistent.conf", "db", "sync"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "configuration error" in err and "/nonexistent.conf" in err
    assert "Traceback" not in err
