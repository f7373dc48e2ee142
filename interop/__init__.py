"""Other formats -> graph: ONNX files (and torchvision/timm architectures where installed)
imported as editable Netwright graphs plus a weights file.

Imports graph_core and codegen; never training, explain or Qt (pyproject's import-linter
contracts keep it so).
"""
