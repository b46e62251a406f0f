"""Admin: All Instances."""
