"""stratus-network-l3-agent: each hosted router as a ``qrouter-<router id>``
namespace (``manager``: RPC endpoint, convergence and status reports; ``rules``:
what a namespace should contain, interfaces, routes and iptables; ``driver``:
every privileged call; ``rpcapi``: the agent's client of the server and the
server's fanout client of the agents). With ``[l3] plug_into_bridge`` the agent
also creates the networks' bridges and plugs its ``tap`` devices itself (until
the bridge agent does)."""
