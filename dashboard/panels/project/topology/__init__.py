"""Project: Network Topology."""
