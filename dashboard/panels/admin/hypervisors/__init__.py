"""Admin: Hypervisors."""
