"""The kernel zygote (cxlab.report._zygote): report kernels forked from one process that has
imported the analysis stack must be ordinary kernels to everything that uses them, and must
not outlive what manages them. (The warm-kernel tests in test_kernels.py also run on zygote
kernels.)"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest

from cxlab.report._kernels import WarmKernel
from cxlab.report._runner import _KERNEL_ARGS, KERNEL_NAME, _execute
from cxlab.report._zygote import PRELOAD, STUB, KernelZygote, usable, zygote_kernel_cmd

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "notebooks" / "templates"

pytestmark = pytest.mark.skipif(not usable(KERNEL_NAME),
                                reason="kernel zygote needs Linux (fork, pidfd)")


@pytest.fixture(scope="module")
def zygote():
    z = KernelZygote(cwd=str(ROOT)).start()
    yield z
    z.stop()


def _notebook(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = None", metadata={"tags": ["parameters"]}),
                *(nbformat.v4.new_code_cell(c) for c in cells)]
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


def _printed(nb) -> list[str]:
    return ["".join(o.get("text", "") for o in c.outputs if o.output_type == "stream").strip()
            for c in nb.cells if c.cell_type == "code"][1:]


#: what a kernel's start-up decides, as seen from a report (printed as JSON)
PROBE = """\
import hashlib, json, os, signal, sys
import matplotlib
print(json.dumps({
    "cwd": os.getcwd(), "path": sys.path, "argv0": os.path.basename(sys.argv[0]),
    "main": __name__, "env": sorted(os.environ), "jpy_parent": os.environ.get("JPY_PARENT_PID"),
    "session_leader": os.getsid(0) == os.getpid(),
    "backend": matplotlib.get_backend(),
    "rc": hashlib.sha256(repr(sorted(matplotlib.rcParams.items())).encode()).hexdigest(),
    "sigterm": str(signal.getsignal(signal.SIGTERM)), "sigint": str(signal.getsignal(signal.SIGINT)),
    "stdin_tty": os.isatty(0), "count": get_ipython().execution_count,
}, sort_keys=True))"""


def test_zygote_kernel_looks_like_an_ordinary_kernel(tmp_path, zygote):
    """Working directory, sys.path, argv, environment, session, matplotlib backend and settings,
    signal handlers and execution count are those of a kernel jupyter_client starts itself;
    only the analysis stack is already imported. (Its parent process is the zygote, not the
    worker that ``JPY_PARENT_PID`` names; the stub stands in for it.)"""
    probe = _notebook(tmp_path / "probe.ipynb", PROBE,
                      f"import sys\nprint(all(m in sys.modules for m in {list(PRELOAD)!r}))")
    seen = {}
    for kind, address in (("ordinary", None), ("zygote", zygote.address)):
        kernel = WarmKernel(KERNEL_NAME, cwd=str(tmp_path), extra_arguments=_KERNEL_ARGS,
                            zygote=address)
        try:
            state, preloaded = _printed(_execute(probe, {}, cwd=tmp_path, warm=kernel))
        finally:
            kernel.discard()
        seen[kind] = (json.loads(state), preloaded)
    assert seen["zygote"][0] == seen["ordinary"][0]
    assert seen["ordinary"][0]["cwd"] == str(tmp_path)
    assert seen["ordinary"][1] == "False" and seen["zygote"][1] == "True"


def test_kernels_forked_from_one_zygote_draw_different_random_numbers(tmp_path, zygote):
    probe = _notebook(tmp_path / "probe.ipynb",
                      "import random, numpy as np\nprint(random.random(), np.random.random())")
    draws = []
    for _ in range(2):
        kernel = WarmKernel(KERNEL_NAME, cwd=str(tmp_path), zygote=zygote.address)
        try:
            draws.append(_printed(_execute(probe, {}, cwd=tmp_path, warm=kernel))[0].split())
        finally:
            kernel.discard()
    assert draws[0][0] != draws[1][0] and draws[0][1] != draws[1][1]


def _kernel_pid(tmp_path: Path, kernel: WarmKernel) -> int:
    nb = _execute(_notebook(tmp_path / "pid.ipynb", "import os\nprint(os.getpid())"), {},
                  cwd=tmp_path, warm=kernel)
    return int(_printed(nb)[0])


def _gone(pid: int, within: float = 15) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
            return True
        time.sleep(0.1)
    return False


def test_kernel_goes_with_the_process_standing_in_for_it(tmp_path, zygote):
    """jupyter_client kills a kernel it shuts down ``now`` with SIGKILL, which reaches only the
    stub it launched: the forked kernel must not stay behind."""
    kernel = WarmKernel(KERNEL_NAME, cwd=str(tmp_path), zygote=zygote.address)
    try:
        pid = _kernel_pid(tmp_path, kernel)
        stub = kernel._km.provisioner.process
        assert pid != stub.pid and psutil.Process(pid).ppid() == zygote._proc.pid
        stub.kill()
        assert _gone(pid)
    finally:
        kernel.discard()


def test_shutdown_and_interrupt_reach_the_forked_kernel(tmp_path, zygote):
    """An interrupt (SIGINT to the stub) stops the running cell; a polite shutdown ends the
    kernel and then its stub."""
    import jupyter_client

    kernel = WarmKernel(KERNEL_NAME, cwd=str(tmp_path), zygote=zygote.address)
    try:
        pid = _kernel_pid(tmp_path, kernel)
        km = kernel.manager()
        kc = jupyter_client.BlockingKernelClient()
        kc.load_connection_info(km.get_connection_info())
        kc.start_channels()
        try:
            msg_id = kc.execute("import time\ntime.sleep(60)")
            time.sleep(1)
            WarmKernel._call(km.interrupt_kernel)
            reply = kc.get_shell_msg(timeout=20)
            assert reply["parent_header"]["msg_id"] == msg_id
            assert reply["content"]["status"] == "error"
            assert reply["content"]["ename"] == "KeyboardInterrupt"
        finally:
            kc.stop_channels()
        stub = km.provisioner.process
        WarmKernel._call(km.shutdown_kernel)  # shutdown_request, then wait for the process
        assert _gone(pid) and stub.poll() is not None
    finally:
        kernel.discard()


def test_without_a_zygote_the_stand_in_becomes_an_ordinary_kernel(tmp_path):
    kernel = WarmKernel(KERNEL_NAME, cwd=str(tmp_path), zygote=str(tmp_path / "none.sock"))
    try:
        pid = _kernel_pid(tmp_path, kernel)
        assert pid == kernel._km.provisioner.process.pid  # the stub exec'd ipykernel itself
    finally:
        kernel.discard()


def test_only_this_interpreters_ipykernel_is_forked():
    own = [sys.executable, "-m", "ipykernel_launcher", "-f", "/run/k.json", "--x=1"]
    assert zygote_kernel_cmd(own, "/tmp/z.sock") == [
        sys.executable, "-I", "-S", str(STUB), "/tmp/z.sock", "-f", "/run/k.json", "--x=1"]
    for other in (["/opt/other/python", "-m", "ipykernel_launcher", "-f", "k.json"],
                  [sys.executable, "-m", "some_other_kernel", "-f", "k.json"],
                  ["R", "--slave", "-e", "IRkernel::main()", "--args", "k.json"]):
        assert zygote_kernel_cmd(other, "/tmp/z.sock") == other


def test_zygote_is_used_only_for_this_interpreters_ipykernel_and_can_be_turned_off(monkeypatch):
    assert usable(KERNEL_NAME)
    assert not usable("no-such-kernel")
    monkeypatch.setenv("CXLAB_KERNEL_ZYGOTE", "0")
    assert not usable(KERNEL_NAME)


def test_zygote_exits_with_the_process_that_started_it(tmp_path):
    code = ("import sys, time\nfrom cxlab.report._zygote import KernelZygote\n"
            f"z = KernelZygote(cwd={str(ROOT)!r}).start()\nprint(z._proc.pid, flush=True)\n"
            "time.sleep(1)\n")  # and exit without stopping it
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT)
    assert _gone(int(out.stdout.split()[0]))


def test_first_report_in_a_zygote_kernel_imports_little(sample_warehouse, tmp_path, zygote):
    """PRELOAD covers what the report templates import: a branch report in a new zygote
    kernel imports no module of the analysis stack itself."""
    from cxlab.report import build_aggregates

    build_aggregates(sample_warehouse, params_dir=ROOT / "params")
    nb = nbformat.read(TEMPLATES / "branch_report.ipynb", as_version=4)
    nb.cells.insert(1, nbformat.v4.new_code_cell("import sys\n_before = set(sys.modules)"))
    nb.cells.append(nbformat.v4.new_code_cell(
        "import json\nprint(json.dumps(sorted(set(sys.modules) - _before)))"))
    path = tmp_path / "branch.ipynb"
    nbformat.write(nb, path)
    kernel = WarmKernel(KERNEL_NAME, cwd=str(ROOT), extra_arguments=_KERNEL_ARGS,
                        zygote=zygote.address)
    try:
        done = _execute(path, {"period": "2026Q3", "branch": "SH01",
                               "warehouse": str(sample_warehouse), "params_dir": "params"},
                        cwd=ROOT, warm=kernel)
    finally:
        kernel.discard()
    new = json.loads(_printed(done)[-1])
    heavy = ("cxlab", "pandas", "numpy", "scipy", "statsmodels", "seaborn", "matplotlib",
             "jieba", "pyarrow", "IPython", "ipykernel")
    assert [m for m in new if m.split(".")[0] in heavy and "." not in m] == []
    assert len(new) < 60, new


def _zygotes() -> set[int]:
    found = set()
    for p in psutil.Process(os.getpid()).children(recursive=True):
        try:
            if "cxlab.report._zygote" in " ".join(p.cmdline()):
                found.add(p.pid)
        except psutil.Error:  # gone meanwhile (a kernel being shut down)
            pass
    return found


def test_render_all_leaves_no_zygote_behind(sample_warehouse, tmp_path):
    from cxlab.report import render_all

    before = _zygotes()  # this module's own zygote fixture may be running
    tpl = tmp_path / "templates"
    tpl.mkdir()
    for name in ("company_report.ipynb", "branch_report.ipynb"):
        _notebook(tpl / name, "print('ok')")
    summary = render_all(periods=["2026Q3"], branches=["ALL", "SH01"], warehouse=sample_warehouse,
                         output_dir=tmp_path / "out", templates_dir=tpl, formats=("html",),
                         jobs=2, progress=False)
    assert not summary.failed and len(summary.rendered) == 2
    assert _zygotes() <= before
