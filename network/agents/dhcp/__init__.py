"""stratus-network-dhcp-agent: dnsmasq in a ``qdhcp-<network id>`` namespace per
network with DHCP (``manager``: RPC endpoint and convergence; ``dnsmasq``: what
dnsmasq is given; ``driver``: every privileged call; ``rpcapi``: the server's
client of the agents). With ``[dhcp] bridge_mode = standalone`` (the default,
until the bridge agent owns per-network bridges) the agent also creates the
bridge ``brq<network id[:11]>`` and plugs the DHCP port's outer veth into it;
see ``driver``.
"""
