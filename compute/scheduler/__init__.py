"""The compute scheduler: the pure scheduling core (host states, filters,
weighers, :mod:`compute.scheduler.filter_scheduler`) and the
``stratus-compute-scheduler`` daemon around it (its RPC endpoint in
:mod:`compute.scheduler.manager`, host states from the database in
:mod:`compute.scheduler.host_manager`)."""
