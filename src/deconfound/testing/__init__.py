"""Test and benchmark support: a simulated OpenAI-compatible provider (no network, no keys)."""

from deconfound.testing.simserver import (
    DEFAULT_API_KEY,
    FAULT_KINDS,
    MARKER_RE,
    RESPONSE_KINDS,
    FaultConfig,
    ResponseMix,
    SimConfig,
    SimServer,
    SimServerProcess,
    SimStats,
)

__all__ = [
    "DEFAULT_API_KEY",
    "FAULT_KINDS",
    "MARKER_RE",
    "RESPONSE_KINDS",
    "FaultConfig",
    "ResponseMix",
    "SimConfig",
    "SimServer",
    "SimServerProcess",
    "SimStats",
]
