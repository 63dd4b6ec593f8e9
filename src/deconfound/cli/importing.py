"""CLI verbs: importing (filled in by its issue)."""
