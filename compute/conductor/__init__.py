"""The compute conductor: build and migration workflows, and the compute database
on behalf of the nodes (``stratus-compute-conductor``)."""
