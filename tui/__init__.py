"""llm-tui: a terminal chat app for local language models that shows the hidden prompt."""

__version__ = "0.1.0"
