"""The compute node daemon (``stratus-compute-node``): one per hypervisor host.

It holds no database credentials: every read and write of instances, faults,
actions, block device mappings, migrations and its own resource report goes
through the conductor (``compute.rpcapi.ConductorAPI``). It reaches the image,
network and block storage services through their REST clients only
(:mod:`compute.node.neighbours`), and its hypervisor through a virt driver.

* ``manager`` — the RPC endpoint (topic ``compute``, server = the host): a thin
  façade over the workflow modules.
* ``base`` — what the workflows share: the :class:`~compute.node.base.Node`
  (configuration, driver, conductor, neighbours, tracker, events, locks) and the
  conversions from instance rows to the driver's model.
* ``build``, ``delete``, ``power``, ``resize``, ``snapshot``, ``guest``,
  ``recovery`` — one workflow per module.
* ``resource_tracker`` — claims against the scheduler's limits and the reports.
* ``events`` — waiting for external events (``network-vif-plugged``).
"""
