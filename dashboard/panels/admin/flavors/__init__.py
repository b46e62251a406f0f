"""Admin: Flavors."""
