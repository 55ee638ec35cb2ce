"""The one user cache folder of carbon-balance: ``$XDG_CACHE_HOME/carbon-balance``
(``~/.cache/carbon-balance`` when the variable is unset), as the XDG Base Directory
Specification says. The demo inputs and the ARIMA fits are kept there; deleting the
folder only costs the time to make them again."""

from __future__ import annotations

import os
from pathlib import Path


def user_cache_dir(*parts: str) -> Path:
    """``$XDG_CACHE_HOME/carbon-balance/<parts...>`` (not created)."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base.joinpath("carbon-balance", *parts)
