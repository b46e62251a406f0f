"""Project: Instances."""
