"""The stack runner's die-with-parent hook: prctl on Linux, process groups alone where libc has none."""

from __future__ import annotations

import ctypes
import ctypes.util
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from recoverydesk.ops.stack import die_with_parent_hook, find_prctl

# the child asks the kernel which signal it gets when its parent dies (PR_GET_PDEATHSIG = 2)
REPORT_PDEATHSIG = (
    "import ctypes, ctypes.util; v = ctypes.c_int(); "
    "ctypes.CDLL(ctypes.util.find_library('c')).prctl(2, ctypes.byref(v)); print(v.value)"
)


@pytest.fixture
def c_library_without_prctl(tmp_path: Path) -> str:
    """A real shared C library with no prctl in it nor in any library it depends on, as macOS's libc."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build a library without prctl")
    source = tmp_path / "noprctl.c"
    source.write_text("int recoverydesk_marker(void) { return 7; }\n")
    library = tmp_path / "libnoprctl.so"
    subprocess.run([compiler, "-shared", "-fPIC", "-nostdlib", "-o", str(library), str(source)], check=True)
    assert ctypes.CDLL(str(library)).recoverydesk_marker() == 7  # it loads and works: only prctl is missing
    return str(library)


def test_without_prctl_in_libc_children_start_with_no_hook_and_nothing_raises(c_library_without_prctl: str):
    prctl = find_prctl(c_library_without_prctl)
    assert prctl is None
    hook = die_with_parent_hook(prctl)
    assert hook is None
    child = subprocess.run(
        [sys.executable, "-c", "print('started')"],
        preexec_fn=hook,
        start_new_session=True,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert child.returncode == 0 and child.stdout.strip() == "started"


def test_no_c_library_or_a_missing_one_means_no_prctl(tmp_path: Path):
    assert find_prctl(None) is None
    assert find_prctl(str(tmp_path / "libabsent.so")) is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="prctl exists on Linux only")
def test_on_linux_a_child_is_told_to_die_with_the_runner():
    hook = die_with_parent_hook(find_prctl(ctypes.util.find_library("c")))
    assert hook is not None
    child = subprocess.run(
        [sys.executable, "-c", REPORT_PDEATHSIG], preexec_fn=hook, capture_output=True, text=True, timeout=30
    )
    assert int(child.stdout) == signal.SIGTERM
