"""tgt targets: the tgtadm command lines, with a fake tgtd at the process boundary.

The fake keeps targets and accounts the way tgtd does (``--op show`` output,
"already exists" failures), so id allocation, idempotence and clean-up on a
failed export are checked against tgtadm's real answers.
"""
from __future__ import annotations

from typing import Any

import pytest
from oslo_config import cfg

from blockstorage import conf as bs_conf
from blockstorage import exception
from blockstorage.volume.drivers import base
from blockstorage.volume.targets import tgt

AUTH = "CHAP user1 secret0123456789"


class FakeTgtd:
    """Answers tgtadm like tgtd (only what TgtAdm uses)."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.targets: dict[int, str] = {}
        self.accounts: set[str] = set()
        self.fail_lun = False

    def __call__(self, cmd: Any, check: bool = True, timeout: float = 0) -> base.CommandResult:
        argv = list(cmd)
        self.calls.append(argv)
        result = self._answer(argv)
        if check and result.returncode:
            raise base.ProcessExecutionError(cmd=" ".join(argv), code=result.returncode,
                                             stderr=result.stderr)
        return result

    def _answer(self, argv: list[str]) -> base.CommandResult:
        opts = dict(zip(argv[::1], argv[1:] + [""], strict=False))
        op, mode = opts["--op"], opts["--mode"]
        if (op, mode) == ("show", "target"):
            out = "".join("Target %d: %s\n    System information:\n" % (tid, iqn)
                          for tid, iqn in sorted(self.targets.items()))
            return base.CommandResult(0, out)
        if (op, mode) == ("new", "target"):
            tid = int(opts["--tid"])
            if tid in self.targets:
                return base.CommandResult(22, "", "tgtadm: this target already exists\n")
            self.targets[tid] = opts["--targetname"]
        elif (op, mode) == ("delete", "target"):
            if self.targets.pop(int(opts["--tid"]), None) is None:
                return base.CommandResult(22, "", "tgtadm: can't find the target\n")
        elif (op, mode) == ("new", "logicalunit") and self.fail_lun:
            return base.CommandResult(22, "", "tgtadm: invalid request\n")
        elif (op, mode) == ("new", "account"):
            if opts["--user"] in self.accounts:
                return base.CommandResult(22, "", "tgtadm: this account already exists\n")
            self.accounts.add(opts["--user"])
        elif (op, mode) == ("delete", "account"):
            if opts["--user"] not in self.accounts:
                return base.CommandResult(22, "", "tgtadm: can't find the account\n")
            self.accounts.discard(opts["--user"])
        return base.CommandResult(0)


def make_conf(**volume: Any) -> cfg.ConfigOpts:
    conf = cfg.ConfigOpts()
    bs_conf.register_opts(conf)
    conf([], project="stratus-test", default_config_files=[])
    for key, value in volume.items():
        conf.set_override(key, value, group="volume")
    return conf


@pytest.fixture
def tgtd() -> FakeTgtd:
    return FakeTgtd()


def test_create_target_issues_the_tgtadm_sequence(tgtd: FakeTgtd) -> None:
    adm = tgt.TgtAdm(make_conf(), tgtd)
    assert adm.create_target("v1", "/srv/volume-v1", AUTH) == 1
    iqn = "iqn.2010-10.org.openstack:volume-v1"
    lld = ["tgtadm", "--lld", "iscsi"]
    assert tgtd.calls == [
        lld + ["--op", "show", "--mode", "target"],
        lld + ["--op", "new", "--mode", "target", "--tid", "1", "--targetname", iqn],
        lld + ["--op", "new", "--mode", "logicalunit", "--tid", "1", "--lun", "1",
               "--backing-store", "/srv/volume-v1"],
        lld + ["--op", "delete", "--mode", "account", "--user", "user1"],
        lld + ["--op", "new", "--mode", "account", "--user", "user1", "--password",
               "secret0123456789"],
        lld + ["--op", "bind", "--mode", "account", "--tid", "1", "--user", "user1"],
        lld + ["--op", "bind", "--mode", "target", "--tid", "1", "--initiator-address",
               "ALL"],
    ]
    assert tgtd.targets == {1: iqn}


def test_create_is_idempotent_and_ids_follow_the_highest(tgtd: FakeTgtd) -> None:
    adm = tgt.TgtAdm(make_conf(), tgtd)
    tgtd.targets[4] = "iqn.other:thing"
    assert adm.create_target("v1", "/a", AUTH) == 5
    calls = len(tgtd.calls)
    assert adm.create_target("v1", "/a", AUTH) == 5
    assert len(tgtd.calls) == calls + 1  # only a show


def test_a_taken_id_is_skipped(tgtd: FakeTgtd) -> None:
    adm = tgt.TgtAdm(make_conf(), tgtd)
    real_answer = tgtd._answer

    def racing(argv: list[str]) -> base.CommandResult:
        # Another process creates tid 1 between our show and our new.
        if argv[3:7] == ["--op", "new", "--mode", "target"] and 1 not in tgtd.targets:
            tgtd.targets[1] = "iqn.racer"
        return real_answer(argv)

    tgtd._answer = racing  # type: ignore[method-assign]
    assert adm.create_target("v1", "/a", AUTH) == 2


def test_failed_export_is_rolled_back(tgtd: FakeTgtd) -> None:
    adm = tgt.TgtAdm(make_conf(), tgtd)
    tgtd.fail_lun = True
    with pytest.raises(exception.ExportFailure):
        adm.create_target("v1", "/a", AUTH)
    assert tgtd.targets == {}


def test_remove_target_and_account(tgtd: FakeTgtd) -> None:
    adm = tgt.TgtAdm(make_conf(tgt_control_port=7), tgtd)
    adm.create_target("v1", "/a", AUTH)
    assert all(call[3:5] == ["--control-port", "7"] for call in tgtd.calls)
    adm.remove_target("v1", AUTH)
    assert tgtd.targets == {} and tgtd.accounts == set()
    assert ["tgtadm", "--lld", "iscsi", "--control-port", "7", "--op", "delete", "--mode",
            "target", "--force", "--tid", "1"] in tgtd.calls
    calls = len(tgtd.calls)
    adm.remove_target("v1", AUTH)  # gone already: one show, nothing else
    assert len(tgtd.calls) == calls + 1


def test_remove_without_tgtd_is_a_no_op() -> None:
    def no_tgtd(cmd: Any, check: bool = True, timeout: float = 0) -> base.CommandResult:
        raise base.ProcessExecutionError(cmd=" ".join(cmd), code=107,
                                         stderr="can't connect to the tgt daemon")

    tgt.TgtAdm(make_conf(), no_tgtd).remove_target("v1", AUTH)


def test_missing_credentials_refuse_the_export(tgtd: FakeTgtd) -> None:
    adm = tgt.TgtAdm(make_conf(), tgtd)
    with pytest.raises(exception.ExportFailure):
        adm.create_target("v1", "/a", None)
    assert tgtd.calls == []


def test_connection_info(tgtd: FakeTgtd) -> None:
    adm = tgt.TgtAdm(make_conf(target_ip_address="10.0.0.5", target_port=3261), tgtd)
    info = adm.connection_info({"id": "v1", "provider_auth": AUTH}, "ro")
    assert info == {"driver_volume_type": "iscsi", "data": {
        "target_portal": "10.0.0.5:3261",
        "target_iqn": "iqn.2010-10.org.openstack:volume-v1", "target_lun": 1,
        "target_discovered": False, "auth_method": "CHAP", "auth_username": "user1",
        "auth_password": "secret0123456789", "volume_id": "v1", "access_mode": "ro",
        "encrypted": False}}


def test_generated_credentials_are_unique_and_parse() -> None:
    first, second = tgt.generate_auth(), tgt.generate_auth()
    assert first != second
    user, secret = tgt.parse_auth(first)
    assert len(user) == 20 and len(secret) == 16
