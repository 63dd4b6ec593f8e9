"""The records table: schema, validation and lossless I/O (Parquet, CSV, JSON Lines)."""

from deconfound.records.io import atomic_path, atomic_write_text, read_records, write_records
from deconfound.records.labels import (
    BENCHMARK_DECISION,
    ENGAGEMENT,
    ENGAGEMENT_VALID,
    REASONING_FLAGS,
    REFUSAL_KIND,
    RESPONSE_STATUS,
)
from deconfound.records.schema import (
    COLUMN_NAMES,
    COLUMNS,
    KEY,
    RESPONSE_KEY,
    Column,
    concat_records,
    empty_records,
    validate,
)

__all__ = [
    "BENCHMARK_DECISION",
    "COLUMNS",
    "COLUMN_NAMES",
    "ENGAGEMENT",
    "ENGAGEMENT_VALID",
    "KEY",
    "REASONING_FLAGS",
    "REFUSAL_KIND",
    "RESPONSE_KEY",
    "RESPONSE_STATUS",
    "Column",
    "atomic_path",
    "atomic_write_text",
    "concat_records",
    "empty_records",
    "read_records",
    "validate",
    "write_records",
]
