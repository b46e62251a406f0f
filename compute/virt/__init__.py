"""Virt drivers: the hypervisor boundary of the compute node.

``driver.ComputeDriver`` is the interface the node manager calls; ``fake`` is
the in-memory implementation and ``libvirt`` the real one. Drivers never touch a
database and never call another service: the manager hands them plain data
(``model``) and uploads or downloads what they produce.
"""
