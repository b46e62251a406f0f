"""The scheduling core of the compute service: host states, filters, weighers and
the pure ``select_destinations`` logic that the scheduler daemon serves over RPC."""
