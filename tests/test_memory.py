"""The executable's allocator settings (carbon_balance.memory), in a child process so
that this test process keeps its own allocator."""

import subprocess
import sys

import pytest

CODE = """
import numpy as np
from carbon_balance.memory import reuse_freed_memory
ok = reuse_freed_memory()
# numpy asks for huge pages no more (the call returns the setting it replaces)
huge = np._core.multiarray._set_madvise_hugepage(False)
for _ in range(3):                       # large blocks still allocate and free
    a = np.ones(64 * 2**20 // 8)
    assert a.sum() == a.size
    del a
print(ok, huge)
"""


def test_reuse_freed_memory_in_a_child_process():
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True,
                         check=True).stdout.strip()
    if sys.platform.startswith("linux"):
        import platform
        if platform.libc_ver()[0] != "glibc":
            pytest.skip("not glibc")
        assert out == "True False"
    else:                                  # allocator and numpy's setting left as they are
        assert out.startswith("False")


def test_a_users_huge_page_setting_is_kept():
    code = CODE.replace("import numpy as np\n", "")
    code = "import os\nos.environ['NUMPY_MADVISE_HUGEPAGE'] = '1'\nimport numpy as np\n" + code
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out.endswith("True")
