"""Project: Images."""
