"""Project: Key Pairs."""
