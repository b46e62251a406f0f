"""stratus-network-bridge-agent: the Linux-bridge L2 agent (Neutron's linuxbridge
agent). It plugs every ``tap<port id[:11]>`` device of the host into its network's
bridge (``brq<network id[:11]>`` with a VXLAN, flat or VLAN uplink, or a mapped
existing bridge), filters it with the port's security groups (iptables) and
reports it up or down to the server.

Modules: ``config`` (options), ``driver`` (every call that changes links and
bridges), ``firewall`` (iptables rules, rendered as pure text, and their
application), ``manager`` (RPC endpoint and convergence), ``plugin_api`` (the
agent's client of the server, namespace ``l2``), ``rpcapi`` (the server's fanout
client of the agents, topic ``bridge_agent``).
"""
