"""No second compile: the kernel is compiled once per input dtype, whatever the
parameters, ε_max overrides or sources of the arrays (pandas 3 hands out read-only
arrays; numba would compile a second signature for them). The same count after a run
of ``uncertainty`` is in tests/test_demo_end_to_end.py (it reuses that run)."""

import os
import subprocess
import sys
import textwrap

COUNT = """
from numba import types
from carbon_balance.casa.kernel import casa_kernel
sigs = casa_kernel.signatures
print(len(sigs), sorted({str(s[0].dtype) for s in sigs}),
      all(a.mutable for s in sigs for a in s if isinstance(a, types.Array)))
"""


def _run(code, tmp_path, timeout):
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"))
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code) + COUNT],
                          capture_output=True, text=True, timeout=timeout, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout.strip().splitlines()[-1]


def test_one_signature_per_dtype_across_parameters_and_overrides(tmp_path):
    code = """
        import numpy as np
        import xarray as xr
        from carbon_balance import casa
        rng = np.random.default_rng(0)
        args = [rng.uniform(0.1, 0.8, (12, 300)), rng.uniform(-5, 30, (12, 300)),
                rng.uniform(0, 200, (12, 300)), rng.uniform(100, 600, (12, 300))]
        veg = rng.integers(0, 12, 300)
        casa.annual_carbon(*args, veg)
        casa.annual_carbon(*args, veg, eps_max={c: 1.0 for c in range(1, 12)},
                           rn_coefficient=0.589, parameters="pei2009", monthly=True)
        ro = [a.copy() for a in args]
        for a in ro:
            a.flags.writeable = False
        casa.annual_carbon(*ro, veg, bounds="table")
        da = [xr.DataArray(a.reshape(12, 15, 20), dims=("month", "y", "x")) for a in args]
        casa.annual_nep(*da, xr.DataArray(veg.reshape(15, 20), dims=("y", "x")))
        casa.annual_nep(*(a.astype(np.float32) for a in args), veg)
    """
    assert _run(code, tmp_path, 300) == "2 ['float32', 'float64'] True"
