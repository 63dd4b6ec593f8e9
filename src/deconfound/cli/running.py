"""CLI verbs: running (filled in by its issue)."""
