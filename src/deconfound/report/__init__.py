"""The report stage: analysis JSON + records → one self-contained HTML file, figures and tables.

Reads; never computes statistics. Every number shown comes from the analysis (or is a plain tally
of the records), and every piece of model or judge text is escaped.
"""

from deconfound.report.build import REPORT_NAME, build_report, script_json

__all__ = ["REPORT_NAME", "build_report", "script_json"]
