"""training: not yet implemented."""
