"""Admin: Default Quotas."""
