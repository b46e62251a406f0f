"""iptables rules the bridge agent renders for typical security groups."""
from __future__ import annotations

from typing import Any

from network.agents.bridge import firewall as fw

PORT = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
TAP = "tapaaaaaaaa-bb"
C = fw.Chains("0a1b2c")
TOP, SG = C.top, C.sg
IN_CHAIN = C.port("i", PORT)
OUT_CHAIN = C.port("o", PORT)
SPOOF_CHAIN = C.port("s", PORT)


def _port(**extra: Any) -> dict[str, Any]:
    out = {"device": TAP, "port_id": PORT, "mac_address": "FA:16:3E:00:00:01",
           "fixed_ips": ["10.0.0.5", "fd00::5"], "allowed_address_pairs": [],
           "security_groups": ["g1"], "port_security_enabled": True,
           "device_owner": "compute:nova"}
    out.update(extra)
    return out


def _rule(direction: str = "ingress", ethertype: str = "IPv4", **extra: Any) -> dict[str, Any]:
    out = {"direction": direction, "ethertype": ethertype, "protocol": None,
           "port_range_min": None, "port_range_max": None, "remote_ip_prefix": None,
           "remote_group_id": None}
    out.update(extra)
    return out


def _lines(text: str, chain: str) -> list[str]:
    prefix = "-A %s " % chain
    return [line[len(prefix):] for line in text.splitlines() if line.startswith(prefix)]


def test_chain_names_fit_iptables_and_differ_per_agent() -> None:
    assert IN_CHAIN == "st0a1b2ciaaaaaaaa-b" and len(IN_CHAIN) <= 28
    assert TOP == "stratus-fwd-0a1b2c" and SG == "stratus-sg-0a1b2c"
    assert C.ours(IN_CHAIN) and C.ours(TOP) and not C.ours("stratus-FORWARD")
    other = fw.Chains.for_host("another-host")
    assert other != fw.Chains.for_host("host-a") and not other.ours(IN_CHAIN)
    assert fw.Chains.for_host("host-a") == fw.Chains.for_host("host-a")


def test_default_group_ipv4() -> None:
    sg = {"security_groups": {"g1": [_rule("egress"), _rule("egress", "IPv6"),
                                     _rule(remote_group_id="g1"),
                                     _rule(ethertype="IPv6", remote_group_id="g1")]},
          "sg_member_ips": {"g1": {"IPv4": ["10.0.0.5", "10.0.0.6"], "IPv6": ["fd00::5"]}}}
    text = fw.render(C, [_port()], sg, ipv6=False)
    assert text.startswith("*filter\n") and text.endswith("COMMIT\n")
    assert ":%s - [0:0]" % IN_CHAIN in text and ":%s - [0:0]" % TOP in text
    assert "-I FORWARD 1 -j %s" % TOP not in text  # hooked by default
    assert _lines(text, TOP) == [
        "-m physdev --physdev-out %s --physdev-is-bridged -j %s" % (TAP, SG),
        "-m physdev --physdev-in %s --physdev-is-bridged -j %s" % (TAP, SG)]
    assert _lines(text, SG) == [
        "-m physdev --physdev-out %s --physdev-is-bridged -j %s" % (TAP, IN_CHAIN),
        "-m physdev --physdev-in %s --physdev-is-bridged -j %s" % (TAP, OUT_CHAIN),
        "-j ACCEPT"]
    assert _lines(text, IN_CHAIN) == [
        "-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
        "-m conntrack --ctstate INVALID -j DROP",
        "-p udp -m udp --sport 67 --dport 68 -j RETURN",
        "-s 10.0.0.5/32 -j RETURN",
        "-s 10.0.0.6/32 -j RETURN",
        "-j DROP"]
    egress = _lines(text, OUT_CHAIN)
    assert egress[0] == "-s 0.0.0.0/32 -d 255.255.255.255/32 -p udp -m udp --sport 68 " \
        "--dport 67 -j RETURN"
    assert egress[1] == "-j %s" % SPOOF_CHAIN
    assert "-p udp -m udp --sport 67 --dport 68 -j DROP" in egress
    assert egress[-2:] == ["-j RETURN", "-j DROP"]
    assert _lines(text, SPOOF_CHAIN) == [
        "-s 10.0.0.5/32 -m mac --mac-source fa:16:3e:00:00:01 -j RETURN", "-j DROP"]


def test_default_group_ipv6_has_neighbour_discovery_and_link_local() -> None:
    sg = {"security_groups": {"g1": [_rule(ethertype="IPv6", remote_group_id="g1")]},
          "sg_member_ips": {"g1": {"IPv4": [], "IPv6": ["fd00::5"]}}}
    text = fw.render(C, [_port()], sg, ipv6=True)
    ingress = _lines(text, IN_CHAIN)
    assert "-p ipv6-icmp -m icmp6 --icmpv6-type 135 -j RETURN" in ingress
    assert "-p udp -m udp --sport 547 --dport 546 -j RETURN" in ingress
    assert "-s fd00::5/128 -j RETURN" in ingress
    assert "-p ipv6-icmp -m icmp6 --icmpv6-type 134 -j DROP" in _lines(text, OUT_CHAIN)
    assert _lines(text, SPOOF_CHAIN) == [
        "-s fd00::5/128 -m mac --mac-source fa:16:3e:00:00:01 -j RETURN",
        "-s fe80::f816:3eff:fe00:1/128 -m mac --mac-source fa:16:3e:00:00:01 -j RETURN",
        "-j DROP"]


def test_protocols_ports_icmp_and_prefixes() -> None:
    sg = {"security_groups": {"g1": [
        _rule(protocol="tcp", port_range_min=22, port_range_max=22,
              remote_ip_prefix="0.0.0.0/0"),
        _rule(protocol="udp", port_range_min=1000, port_range_max=2000,
              remote_ip_prefix="192.168.0.0/16"),
        _rule(protocol="icmp", port_range_min=8, port_range_max=0),
        _rule(protocol="icmp", port_range_min=3),
        _rule(protocol="17", port_range_min=53, port_range_max=53),
        _rule(protocol="udplite", port_range_min=5, port_range_max=6),
        _rule(protocol="gre"),
        _rule(ethertype="IPv6", protocol="icmp"),
        _rule("egress", protocol="tcp", port_range_min=80, port_range_max=80,
              remote_ip_prefix="10.9.0.0/24"),
        _rule(remote_group_id="empty")]}, "sg_member_ips": {"empty": {"IPv4": []}}}
    v4 = fw.render(C, [_port()], sg, ipv6=False)
    ingress = _lines(v4, IN_CHAIN)
    for expected in ("-p tcp -m tcp --dport 22 -j RETURN",
                     "-s 192.168.0.0/16 -p udp -m udp --dport 1000:2000 -j RETURN",
                     "-p icmp -m icmp --icmp-type 8/0 -j RETURN",
                     "-p icmp -m icmp --icmp-type 3 -j RETURN",
                     "-p udp -m udp --dport 53 -j RETURN",
                     "-p udplite -m multiport --dports 5:6 -j RETURN",
                     "-p 47 -j RETURN"):
        assert expected in ingress, (expected, ingress)
    assert "-d 10.9.0.0/24 -p tcp -m tcp --dport 80 -j RETURN" in _lines(v4, OUT_CHAIN)
    assert not any("ipv6-icmp" in line for line in ingress)
    v6 = fw.render(C, [_port()], sg, ipv6=True)
    assert "-p ipv6-icmp -j RETURN" in _lines(v6, IN_CHAIN)  # "icmp" in IPv6 means ICMPv6
    assert not any("--dport 22" in line for line in _lines(v6, IN_CHAIN))


def test_allowed_address_pairs_pass_anti_spoofing() -> None:
    port = _port(allowed_address_pairs=[
        {"ip_address": "10.0.0.100", "mac_address": "fa:16:3e:00:00:99"},
        {"ip_address": "10.1.0.0/24", "mac_address": None}])
    lines = _lines(fw.render(C, [port], {}, ipv6=False), SPOOF_CHAIN)
    assert "-s 10.0.0.100/32 -m mac --mac-source fa:16:3e:00:00:99 -j RETURN" in lines
    assert "-s 10.1.0.0/24 -m mac --mac-source fa:16:3e:00:00:01 -j RETURN" in lines


def test_unfiltered_ports_are_accepted_after_filtered_ones() -> None:
    dhcp = _port(device="tapdddddddd-dd", port_id="dddddddd-dddd", device_owner="network:dhcp")
    open_port = _port(device="tapeeeeeeee-ee", port_id="eeeeeeee-eeee",
                      port_security_enabled=False)
    text = fw.render(C, [dhcp, open_port, _port()], {}, ipv6=False)
    top = _lines(text, TOP)
    assert top[0].endswith("-j " + SG) and top[1].endswith("-j " + SG)
    assert top[2:] == [
        "-m physdev --physdev-out tapdddddddd-dd --physdev-is-bridged -j ACCEPT",
        "-m physdev --physdev-in tapdddddddd-dd --physdev-is-bridged -j ACCEPT",
        "-m physdev --physdev-out tapeeeeeeee-ee --physdev-is-bridged -j ACCEPT",
        "-m physdev --physdev-in tapeeeeeeee-ee --physdev-is-bridged -j ACCEPT"]
    assert C.port("i", "dddddddd-dddd") not in text


def test_stale_chains_deleted_and_forward_hooked_when_missing() -> None:
    gone = C.port("i", "gone000000")
    theirs = fw.Chains("ffffff").port("i", "theirs0000")  # another agent's
    saved = "*filter\n:FORWARD ACCEPT [0:0]\n:%s - [0:0]\n:%s - [0:0]\n:%s - [0:0]\n" \
        ":other - [0:0]\n-A FORWARD -j stratus-fwd-ffffff\nCOMMIT\n" % (gone, theirs, TOP)
    existing, hooked = fw.parse_saved(C, saved)
    assert existing == {gone, TOP} and not hooked
    text = fw.render(C, [_port()], {}, ipv6=False, existing=existing, hooked=hooked)
    assert ":%s - [0:0]" % gone in text and text.rstrip().endswith(
        "-X %s\nCOMMIT" % gone)
    assert theirs not in text
    assert "-I FORWARD 1 -j %s" % TOP in text
    assert "other" not in text


def test_render_is_deterministic() -> None:
    sg = {"security_groups": {"g1": [_rule(remote_group_id="g1"), _rule("egress")]},
          "sg_member_ips": {"g1": {"IPv4": ["10.0.0.6", "10.0.0.5"]}}}
    other = _port(device="tapbbbbbbbb-bb", port_id="bbbbbbbb-bbbb")
    assert fw.render(C, [_port(), other], sg, False) == fw.render(C, [other, _port()], sg, False)
