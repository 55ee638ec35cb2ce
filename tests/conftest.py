"""Every test's caches go under one temporary folder of the session, never the user's:
carbon-balance's own (demo inputs, ARIMA fits: ``XDG_CACHE_HOME``), numba's compiled
kernels (``NUMBA_CACHE_DIR``) and matplotlib's font cache (``MPLCONFIGDIR``).

Set when pytest loads this file, before any test module imports numba or matplotlib
(both read their variable once, at import); subprocesses the tests start inherit them.
"""

from __future__ import annotations

import os
import shutil
import tempfile

_CACHES = tempfile.mkdtemp(prefix="carbon-balance-test-caches-")
for _name, _sub in (("XDG_CACHE_HOME", "xdg"), ("NUMBA_CACHE_DIR", "numba"),
                    ("MPLCONFIGDIR", "matplotlib")):
    os.environ[_name] = os.path.join(_CACHES, _sub)


def pytest_unconfigure(config):
    shutil.rmtree(_CACHES, ignore_errors=True)
