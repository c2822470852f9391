"""Teaching a persona into a copy of a model's weights: the lecture's first way to an identity."""
