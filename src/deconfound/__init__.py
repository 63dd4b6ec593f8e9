"""deconfound: refusal-aware analysis of safety evaluations.

Data flows one way: ``data`` (scenarios) -> ``run`` (Inspect) -> ``records`` (the one table)
-> ``judges`` (labels) -> ``stats`` (pure estimators) -> ``report`` (HTML, figures, tables).
"""

__version__ = "0.1.0"
