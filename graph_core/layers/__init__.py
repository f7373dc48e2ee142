"""The layer catalogue. Importing this package registers every node type, in palette order."""

# registration happens on import, in this order: the palette's order
from . import io, core, conv, generative, recurrent, attention, sequence_ops  # noqa: F401, I001
