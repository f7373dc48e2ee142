"""Why a trained run decided: attributions (saliency, Integrated Gradients, Grad-CAM,
occlusion, LIME, on Captum) and their faithfulness curves, for every input kind.

Imports training (and below); never Qt (pyproject's import-linter contracts keep it so).
"""
