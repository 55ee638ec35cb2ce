"""The output folder is written atomically: never half-written, never silently replaced."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from carbon_balance.errors import OutputExistsError
from carbon_balance.outputs import atomic_output, file_sha256, remove_unfinished, write_manifest


def test_success_moves_folder_into_place_with_manifest(tmp_path):
    inp = tmp_path / "input.txt"
    inp.write_text("abc")
    out = tmp_path / "out"
    with atomic_output(out) as folder:
        (folder / "tables").mkdir()
        (folder / "tables" / "a.csv").write_text("x\n1\n")
        assert not out.exists()
        write_manifest(folder, command="test", parameters={"k": 1}, inputs=[inp])
    manifest = json.loads((out / "manifest.json").read_text())
    # sha256("abc") is a published test vector (FIPS 180-2, appendix B.1)
    assert manifest["inputs"][0]["sha256"] == (
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    assert "tables/a.csv" in manifest["outputs"]
    assert not list(tmp_path.glob(".out.partial-*"))


def test_failure_leaves_nothing(tmp_path):
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        with atomic_output(out) as folder:
            (folder / "x").write_text("half")
            raise RuntimeError("boom")
    assert not out.exists()
    assert not list(tmp_path.iterdir())


def test_interrupt_before_the_with_body_starts_is_cleaned_at_exit(tmp_path):
    """A Ctrl-C between the context manager's ``yield`` and the ``with`` body skips its
    cleanup (CI caught this window once); the folder is removed by the exit hook."""
    out = tmp_path / "out"
    manager = atomic_output(out)
    folder = manager.__enter__()          # entered, but the body never ran
    assert folder.exists()
    remove_unfinished()
    assert not folder.exists() and not out.exists()
    assert not list(tmp_path.iterdir())


def test_interrupt_mid_swap_puts_the_earlier_result_back(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep").write_text("old")
    (out / "manifest.json").write_text('{"tool": "carbon-balance"}')   # an earlier output
    real_rename = type(out).rename

    def rename(self, target):
        if self.name.startswith(".out.partial-"):
            raise KeyboardInterrupt   # after DIR was moved aside, before the new one moved in
        return real_rename(self, target)

    monkeypatch.setattr(type(out), "rename", rename)
    with pytest.raises(KeyboardInterrupt):
        with atomic_output(out, overwrite=True) as folder:
            (folder / "new").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]
    assert (out / "keep").read_text() == "old"


def test_existing_folder_needs_overwrite(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep").write_text("old")
    (out / "manifest.json").write_text('{"tool": "carbon-balance"}')   # an earlier output
    with pytest.raises(OutputExistsError):
        with atomic_output(out):
            pass
    assert (out / "keep").read_text() == "old"
    with atomic_output(out, overwrite=True) as folder:
        (folder / "new").write_text("new")
    assert (out / "new").exists() and not (out / "keep").exists()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_run_leaves_no_complete_looking_folder(tmp_path, sig):
    out = tmp_path / "out"
    script = textwrap.dedent(f"""
        import time, pathlib
        from carbon_balance.outputs import atomic_output
        with atomic_output({str(out)!r}) as folder:
            (folder / "tables").mkdir()
            (folder / "tables" / "units.csv").write_text("a\\n")
            pathlib.Path({str(tmp_path / 'started')!r}).write_text("1")
            time.sleep(60)
    """)
    proc = subprocess.Popen([sys.executable, "-c", script])
    for _ in range(200):
        if (tmp_path / "started").exists():
            break
        time.sleep(0.05)
    os.kill(proc.pid, sig)
    proc.wait(timeout=30)
    assert not out.exists()


def test_file_sha256_empty(tmp_path):
    p = tmp_path / "empty"
    p.write_bytes(b"")
    assert file_sha256(p) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


def test_input_hashes_are_the_sha256_of_every_byte_of_each_file(tmp_path):
    import hashlib

    from carbon_balance.outputs import InputHashes

    files = []
    for i, size in enumerate([0, 10, 3 << 20, 1 << 20, 5000]):
        path = tmp_path / f"f{i}.bin"
        path.write_bytes(bytes((i * 7 + k) % 251 for k in range(size)))
        files.append(path)
    missing = tmp_path / "missing.tif"
    got = InputHashes(files + [missing]).result()
    want = {str(p.resolve()): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}
    assert got == want        # every file once, the missing one left to write_manifest


def test_a_changed_file_is_hashed_again_even_with_the_same_size_and_times(tmp_path):
    """No digest is trusted from file metadata: the manifest's sha256 is of the bytes."""
    import hashlib
    import os

    from carbon_balance.outputs import InputHashes

    path = tmp_path / "ndvi.tif"
    path.write_bytes(b"first version" * 1000)
    key = str(path.resolve())
    first = InputHashes([path]).result()[key]
    stat = path.stat()
    path.write_bytes(b"other version" * 1000)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    second = InputHashes([path]).result()[key]
    assert first == hashlib.sha256(b"first version" * 1000).hexdigest()
    assert second == hashlib.sha256(b"other version" * 1000).hexdigest()
