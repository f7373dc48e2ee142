"""templates: not yet implemented."""
