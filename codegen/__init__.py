"""codegen: not yet implemented."""
