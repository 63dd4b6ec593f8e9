"""CLI verbs: reporting (filled in by its issue)."""
