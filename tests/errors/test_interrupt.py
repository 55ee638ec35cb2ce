"""A Ctrl-C that a library reports as its own error still ends the command as
interrupted: exit 130, one message, no traceback (the CI failure of stop 9: pandas'
C parser turned a SIGINT inside its ``read`` callback into ``ParserError``)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import io, os, signal, sys
    import pandas as pd
    from carbon_balance import cli

    class CtrlCWhileRead(io.StringIO):
        def read(self, n=-1):
            os.kill(os.getpid(), signal.SIGINT)   # Ctrl-C while pandas' C reader waits on us
            return super().read(n)

    @cli.app.command("read-table")
    def read_table():
        pd.read_csv(CtrlCWhileRead("a,b\\n1,2\\n"))

    sys.argv = ["carbon-balance", "read-table"]
    cli.console_main()
""")


def _run(script: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)


def test_pandas_parser_error_from_ctrl_c_is_an_interruption():
    proc = _run(SCRIPT)
    assert proc.returncode == 130, proc.stderr
    assert "interrupted: no output folder was completed" in proc.stderr
    assert "Traceback" not in proc.stderr and "ParserError" not in proc.stderr


def test_the_same_error_without_ctrl_c_is_not_called_an_interruption():
    """The mapping rests on the signal having arrived, not on the kind of error."""
    script = SCRIPT.replace("os.kill(os.getpid(), signal.SIGINT)",
                            "raise OSError('disk gone')")
    proc = _run(script)
    assert proc.returncode == 1
    assert "interrupted" not in proc.stderr
    assert "disk gone" in proc.stderr


@pytest.mark.parametrize("handler", ["SIG_IGN", "custom"])
def test_a_handler_set_by_the_caller_is_kept(handler):
    script = textwrap.dedent(f"""
        import signal
        from carbon_balance.interrupt import watch_for_ctrl_c
        mine = signal.SIG_IGN if "{handler}" == "SIG_IGN" else (lambda s, f: None)
        signal.signal(signal.SIGINT, mine)
        watch_for_ctrl_c()
        assert signal.getsignal(signal.SIGINT) is mine
    """)
    proc = _run(script)
    assert proc.returncode == 0, proc.stderr
