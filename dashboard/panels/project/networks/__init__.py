"""Project: Networks."""
