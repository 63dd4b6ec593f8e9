"""CLI verbs: judging (filled in by its issue)."""
