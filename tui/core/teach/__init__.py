"""Teaching a persona into a copy of a model's weights: the lecture's first way to an identity."""

EPOCHS = 1
"""Passes over the teaching set. Measured with the bundled `almo` set on SmolLM2-135M (bench/teach.py
--quality, held-out questions): one pass taught the identity to 24 of 24 at 1.14x the base's loss
on its own general answers; a second pass forgot more (1.50x) and taught no better (21 of 24)."""
LEARNING_RATE = 2e-5
"""AdamW's rate: 5e-5 forgot half as much again at two passes (2.27x), 1e-4 far more (3.46x)."""
