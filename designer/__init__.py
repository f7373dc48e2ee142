"""designer: not yet implemented."""
