"""stratus-network-dhcp-agent: dnsmasq in a ``qdhcp-<network id>`` namespace per
network with DHCP (``manager``: RPC endpoint and convergence; ``dnsmasq``: what
dnsmasq is given; ``driver``: every privileged call; ``rpcapi``: the server's
client of the agents). The DHCP port is a veth pair: ``ns-<port id[:11]>`` in the
namespace, ``tap<port id[:11]>`` outside. With ``[dhcp] bridge_mode = none`` the
bridge agent plugs that tap like any port's device; with ``standalone`` (the
default, for hosts without a bridge agent) the DHCP agent creates the bridge
``brq<network id[:11]>`` and plugs it itself; see ``driver``.
"""
