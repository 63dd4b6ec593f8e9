"""CLI verbs: agreement and calibrate (judges issue)."""
