"""Where Debian's headless Chromium is and how to start it here (screenshots, browser tests).

The flags keep it off the network: this machine's closed network refuses Chromium's background
connections, and a report must load with no request beyond its own file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

CHROMIUM: Final = Path("/usr/bin/chromium")
CHROMIUM_ARGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
