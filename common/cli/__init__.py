"""Command-line dispatchers; each service registers its command group by entry point."""
