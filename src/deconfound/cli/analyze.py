"""CLI verbs: analyze (filled in by its issue)."""
