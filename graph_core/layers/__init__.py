"""The layer catalogue. Importing this package registers every node type, in palette order."""

from . import io, core, conv, generative  # noqa: F401  (registration happens on import)
