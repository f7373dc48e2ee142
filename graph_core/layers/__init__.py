"""The layer catalogue. Importing this package registers every node type, in palette order."""

# registration happens on import, in this order: the palette's order
from . import io, core, conv, generative  # noqa: F401, I001
from . import activation, normalisation, plumbing  # noqa: F401, I001
from . import recurrent, attention, sequence_ops  # noqa: F401, I001
