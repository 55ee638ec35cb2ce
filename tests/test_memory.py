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
        assert out == "False True"


def test_numpy_imported_afterwards_asks_for_no_huge_pages():
    """The executable's order: the settings first, numpy imported by the command."""
    code = ("from carbon_balance.memory import reuse_freed_memory\n"
            "reuse_freed_memory()\n"
            "import numpy as np\n"
            "print(np._core.multiarray._set_madvise_hugepage(False))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == ("False" if sys.platform.startswith("linux") else "True")


def test_a_users_huge_page_setting_is_kept():
    code = CODE.replace("import numpy as np\n", "")
    code = "import os\nos.environ['NUMPY_MADVISE_HUGEPAGE'] = '1'\nimport numpy as np\n" + code
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out.endswith("True")


def test_no_gc_while_starting_freezes_what_start_up_made_then_collects_again():
    code = """
import gc
from carbon_balance.memory import no_gc_while_starting
with no_gc_while_starting():
    assert not gc.isenabled()
    made = [[i] for i in range(1000)]
# frozen: no longer among the objects the collector walks
print(gc.isenabled(), not any(o is made or o is made[0] for o in gc.get_objects()))
gc.disable()
with no_gc_while_starting():
    pass
print(gc.isenabled())                    # a disabled collector stays disabled
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.split()
    assert out == ["True", "True", "False"]
