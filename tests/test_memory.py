"""The executable's allocator settings (carbon_balance.memory), in a child process so
that this test process keeps its own allocator."""

import subprocess
import sys

import pytest

CODE = """
import numpy as np
from carbon_balance.memory import reuse_freed_memory
ok = reuse_freed_memory()
for _ in range(3):                       # large blocks still allocate and free
    a = np.ones(64 * 2**20 // 8)
    assert a.sum() == a.size
    del a
print(ok)
"""


def test_reuse_freed_memory_in_a_child_process():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                         check=True).stdout.strip()
    if sys.platform.startswith("linux"):
        import platform
        if platform.libc_ver()[0] != "glibc":
            pytest.skip("not glibc")
        assert out == "True"
    else:
        assert out == "False"
