"""Warm kernels (cxlab.report._kernels): a reused kernel must look freshly started to the next
report, and a failure must never leak into the next report. The kernel zygote
(cxlab.report._zygote): a kernel forked from it must look like one jupyter_client started, and
must not outlive what manages it. The warm-kernel tests run on both kinds of kernel."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import papermill as pm
import psutil
import pytest

from cxlab.report._kernels import ENGINE, WarmKernel, register_engine, warm_kernels_enabled
from cxlab.report._runner import _KERNEL_ARGS, KERNEL_NAME, _execute
from cxlab.report._zygote import (
    PRELOAD,
    STUB,
    KernelZygote,
    unusable_reason,
    usable,
    zygote_kernel_cmd,
)

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "cxlab" / "notebooks" / "templates"


def _notebook(path: Path, *cells: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = None", metadata={"tags": ["parameters"]}),
                *(nbformat.v4.new_code_cell(c) for c in cells)]
    nb.metadata["kernelspec"] = {"name": KERNEL_NAME, "display_name": "Python 3",
                                 "language": "python"}
    nbformat.write(nb, path)
    return path


def _require_zygote() -> None:
    """Skip where the kernel zygote cannot work (not Linux, no pidfd, …) — but on Linux in CI
    (``CI=true``) an unusable zygote is a broken build, not a reason to skip: fail, saying why."""
    why = unusable_reason(KERNEL_NAME)
    if why is None:
        return
    if sys.platform == "linux" and os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"kernel zygote unusable on Linux in CI: {why}")
    pytest.skip(f"kernel zygote unusable here: {why}")


@pytest.fixture
def _needs_zygote():
    _require_zygote()


linux_only = pytest.mark.usefixtures("_needs_zygote")


@pytest.fixture(scope="module")
def zygote():
    _require_zygote()
    z = KernelZygote(cwd=str(ROOT)).start()
    yield z
    z.stop()


@pytest.fixture(params=["ordinary", "zygote"])
def kernel(request, tmp_path):
    """A warm kernel started by jupyter_client, or forked from a kernel zygote (what the
    report pool uses): both must behave alike."""
    address = request.getfixturevalue("zygote").address if request.param == "zygote" else None
    k = WarmKernel(KERNEL_NAME, cwd=str(tmp_path), zygote=address)
    yield k
    k.discard()


def _outputs(nb) -> list[str]:
    return ["".join(o.get("text", "") for o in c.outputs if o.output_type == "stream").strip()
            for c in nb.cells if c.cell_type == "code"][1:]


def test_reused_kernel_looks_fresh(tmp_path, kernel):
    """What one report changes (names, cwd, sys.path, environment, rcParams, figures, warnings
    already shown, execution count) is undone before the next one."""
    dirty = _notebook(
        tmp_path / "dirty.ipynb",
        "import os, sys, warnings\nimport matplotlib, matplotlib.pyplot as plt\n"
        "leftover = 42\nos.mkdir('sub'); os.chdir('sub')\nsys.path.append('/nowhere')\n"
        "os.environ['CXLAB_TEST_LEAK'] = '1'\nmatplotlib.rcParams['lines.linewidth'] = 9\n"
        "plt.figure()\nwarnings.warn('shown once', UserWarning)")
    probe = _notebook(
        tmp_path / "probe.ipynb",
        "import os, sys, warnings\nimport matplotlib, matplotlib.pyplot as plt\n"
        "print('leftover' in globals(), os.getcwd(), '/nowhere' in sys.path,\n"
        "      'CXLAB_TEST_LEAK' in os.environ, matplotlib.rcParams['lines.linewidth'],\n"
        "      len(plt.get_fignums()), get_ipython().execution_count)\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    warnings.simplefilter('default')\n"
        "    warnings.warn('shown once', UserWarning)\n"
        "print(len(w))")
    register_engine()
    cold = pm.execute_notebook(str(probe), None, kernel_name=KERNEL_NAME, progress_bar=False,
                               cwd=str(tmp_path))
    km = kernel.manager()
    pm.execute_notebook(str(dirty), None, kernel_name=KERNEL_NAME, progress_bar=False,
                        cwd=str(tmp_path), km=km, engine_name=ENGINE)
    pid = km.provisioner.process.pid
    warm = pm.execute_notebook(str(probe), None, kernel_name=KERNEL_NAME, progress_bar=False,
                               cwd=str(tmp_path), km=kernel.manager(), engine_name=ENGINE)
    assert kernel.manager().provisioner.process.pid == pid  # the same kernel process, reused
    assert _outputs(warm) == _outputs(cold)
    state, shown = _outputs(cold)[0].splitlines()
    fresh = state.split()
    assert fresh[0] == "False" and fresh[1] == str(tmp_path) and shown == "1"
    assert [c.execution_count for c in warm.cells] == [c.execution_count for c in cold.cells]


def test_reset_kernel_starts_a_new_history_session(tmp_path, kernel):
    """With IPython history kept (an analyst's kernel; report kernels turn it off), cells
    numbered from 1 again in the old history session collide with the lines already saved,
    and IPython's history thread prints "Session/line number was not unique" into whichever
    report is running (seen under load). The reset opens a new session, with empty ``In``."""
    probe = _notebook(tmp_path / "probe.ipynb", "import time\ntime.sleep(0.3)", "print(len(In))")
    seen = []
    for _ in range(3):
        nb = _execute(probe, {}, cwd=tmp_path, warm=kernel)
        seen.append("".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", [])))
    assert seen == ["4\n"] * 3  # "", the parameters cell, the two cells: as in a new kernel


def test_reset_frees_what_a_report_left_in_cycles(tmp_path, kernel):
    """The reset freezes what survives it (imports, caches) out of the cyclic collector's way;
    a report's own objects, cycles included, must not survive into the next report."""
    leave = _notebook(tmp_path / "leave.ipynb",
                      "import sys, weakref\nclass Node: pass\n"
                      "a, b = Node(), Node()\na.other, b.other = b, a\n"
                      "sys.modules['cxlab'].__dict__['_probe_ref'] = weakref.ref(a)")
    probe = _notebook(tmp_path / "probe.ipynb",
                      "import gc, sys\nref = sys.modules['cxlab'].__dict__.pop('_probe_ref')\n"
                      "print(ref() is None, gc.get_freeze_count() > 0)")
    _execute(_notebook(tmp_path / "warm.ipynb", "import cxlab"), {}, cwd=tmp_path, warm=kernel)
    _execute(leave, {}, cwd=tmp_path, warm=kernel)
    nb = _execute(probe, {}, cwd=tmp_path, warm=kernel)
    assert _outputs(nb) == ["True True"]


def test_failed_report_discards_the_kernel(tmp_path, kernel):
    """A report that raises leaves no trace: the next one runs in a new kernel."""
    bad = _notebook(tmp_path / "bad.ipynb", "poison = 1\nraise ValueError('boom')")
    ok = _notebook(tmp_path / "ok.ipynb", "print('poison' in globals())")
    kernel.manager()
    first = kernel._km
    with pytest.raises(pm.PapermillExecutionError):
        _execute(bad, {}, cwd=tmp_path, warm=kernel)
    assert kernel._km is None and not WarmKernel._call(first.is_alive)
    nb = _execute(ok, {}, cwd=tmp_path, warm=kernel)
    assert _outputs(nb) == ["False"]


def test_dead_kernel_is_replaced(tmp_path, kernel):
    km = kernel.manager()
    WarmKernel._call(km.shutdown_kernel, now=True)  # e.g. killed by the OOM killer in between
    nb = _execute(_notebook(tmp_path / "ok.ipynb", "print(1 + 1)"), {}, cwd=tmp_path, warm=kernel)
    assert _outputs(nb) == ["2"] and kernel._km is not km


def test_reset_started_after_a_report_is_complete_before_the_next(tmp_path, kernel):
    """``_execute`` releases the kernel after a report: the reset runs while the worker writes
    HTML and PDF. The next report still finds a fresh kernel, and the same process."""
    dirty = _notebook(tmp_path / "dirty.ipynb", "leftover = 42\nimport os\nos.environ['CXLAB_LEAK'] = '1'")
    probe = _notebook(tmp_path / "probe.ipynb",
                      "import os\nprint('leftover' in globals(), 'CXLAB_LEAK' in os.environ)")
    _execute(dirty, {}, cwd=tmp_path, warm=kernel)
    assert kernel._pending is not None  # released: the reset is under way
    pid = kernel._km.provisioner.process.pid
    nb = _execute(probe, {}, cwd=tmp_path, warm=kernel)
    assert _outputs(nb) == ["False False"]
    assert kernel._km.provisioner.process.pid == pid


def test_kernel_lost_during_its_reset_is_replaced(tmp_path, kernel):
    """A kernel that dies after a report (while resetting) is replaced, not waited for."""
    import time

    _execute(_notebook(tmp_path / "a.ipynb", "leftover = 1"), {}, cwd=tmp_path, warm=kernel)
    first = kernel._km
    first.provisioner.process.kill()
    start = time.perf_counter()
    nb = _execute(_notebook(tmp_path / "b.ipynb", "print('leftover' in globals())"), {}, cwd=tmp_path,
                  warm=kernel)
    assert _outputs(nb) == ["False"] and kernel._km is not first
    assert time.perf_counter() - start < 60


def test_kernel_dying_mid_report_is_reported_not_waited_for(tmp_path, kernel):
    """nbclient's liveness polling must see a warm kernel die during a cell (it once waited
    forever for the reply of a kernel it did not start)."""
    import time

    dying = _notebook(tmp_path / "dying.ipynb", "import os\nos._exit(1)")
    start = time.perf_counter()
    with pytest.raises(Exception, match="(?i)died"):
        _execute(dying, {}, cwd=tmp_path, warm=kernel)
    assert time.perf_counter() - start < 60 and kernel._km is None


def test_reports_in_warm_kernels_skip_jupyter_clients_readiness_wait(tmp_path, kernel,
                                                                      monkeypatch):
    """jupyter_client's ``wait_for_ready`` waits 0.2 s for IOPub on each round: the kernel's
    start (its snapshot) needs no IOPub, and each report's client uses cxlab's 10 ms check.
    (nbclient's synchronous ``start_new_kernel_client`` is bound to nbclient's own coroutine:
    an override of the coroutine alone was never called.)"""
    from jupyter_client.asynchronous.client import AsyncKernelClient
    from jupyter_client.blocking.client import BlockingKernelClient

    import cxlab.report._kernels as kernels

    waits, readies = [], []

    def no_wait(self, *args, **kwargs):
        waits.append(type(self).__name__)
        raise AssertionError("jupyter_client's wait_for_ready was used")

    real_ready = kernels._ready

    async def ready(kc, km, timeout):
        readies.append(timeout)
        return await real_ready(kc, km, timeout)

    monkeypatch.setattr(AsyncKernelClient, "wait_for_ready", no_wait)
    monkeypatch.setattr(BlockingKernelClient, "wait_for_ready", no_wait)
    monkeypatch.setattr(kernels, "_ready", ready)
    probe = _notebook(tmp_path / "probe.ipynb", "print(6 * 7)")
    outputs = [_outputs(_execute(probe, {}, cwd=tmp_path, warm=kernel)) for _ in range(2)]
    assert outputs == [["42"], ["42"]]
    assert waits == [] and len(readies) == 2


def test_kernel_that_dies_before_answering_gives_a_retryable_error(tmp_path, kernel):
    """A kernel lost before it answers (port race at start, papermill issue #511) is reported
    in words the runner retries on."""
    from cxlab.report._runner import _retryable

    kernel.manager()
    kernel._km.provisioner.process.kill()
    with pytest.raises(RuntimeError, match="Kernel died") as err:
        kernel._reply(kernel._send("1"), what="kernel start")
    assert _retryable(err.value)


def test_warm_kernels_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("CXLAB_WARM_KERNELS", "0")
    assert not warm_kernels_enabled()
    monkeypatch.delenv("CXLAB_WARM_KERNELS")
    assert warm_kernels_enabled()
    assert os.environ.get("CXLAB_WARM_KERNELS") is None


def test_lean_worker_skips_the_iri_grammar_and_notebooks_still_validate():
    """Pool workers block jsonschema's optional rfc3987_syntax import (a Lark grammar compiled
    at import); nbformat must still read and validate the report templates there."""
    import subprocess
    import sys

    code = ("import sys\nfrom cxlab.report._runner import _lean_worker\n_lean_worker()\n"
            "import nbformat\n"
            f"nb = nbformat.read({str(TEMPLATES / 'branch_report.ipynb')!r}, 4)\n"
            "nbformat.validate(nb)\n"
            "print(sys.modules.get('rfc3987_syntax') is None, 'lark' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"], out.stderr


# ----------------------------------------------------------------------------- kernel zygote
# Report kernels forked from one process that has imported the analysis stack (the report
# pool's kernels, cxlab.report._zygote) must be ordinary kernels to everything that uses them,
# and must not outlive what manages them.

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
            state, preloaded = _outputs(_execute(probe, {}, cwd=tmp_path, warm=kernel))
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
            draws.append(_outputs(_execute(probe, {}, cwd=tmp_path, warm=kernel))[0].split())
        finally:
            kernel.discard()
    assert draws[0][0] != draws[1][0] and draws[0][1] != draws[1][1]


def _kernel_pid(tmp_path: Path, kernel: WarmKernel) -> int:
    nb = _execute(_notebook(tmp_path / "pid.ipynb", "import os\nprint(os.getpid())"), {},
                  cwd=tmp_path, warm=kernel)
    return int(_outputs(nb)[0])


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


@linux_only
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


@linux_only
def test_zygote_is_used_only_for_this_interpreters_ipykernel_and_can_be_turned_off(monkeypatch):
    assert usable(KERNEL_NAME)
    assert not usable("no-such-kernel")
    monkeypatch.setenv("CXLAB_KERNEL_ZYGOTE", "0")
    assert not usable(KERNEL_NAME)


@linux_only
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
    new = json.loads(_outputs(done)[-1])  # a fresh kernel imports ≈ 1,600 modules here
    stack = ("cxlab", "numpy", "scipy", "statsmodels", "seaborn", "matplotlib", "jieba",
             "pyarrow", "IPython", "ipykernel")
    assert [m for m in new if m.split(".")[0] in stack] == []
    assert len(new) <= 20, new  # e.g. Pillow's image plugins, pandas internals loaded lazily


def _zygotes() -> set[int]:
    found = set()
    for p in psutil.Process(os.getpid()).children(recursive=True):
        try:
            if "cxlab.report._zygote" in " ".join(p.cmdline()):
                found.add(p.pid)
        except psutil.Error:  # gone meanwhile (a kernel being shut down)
            pass
    return found


@linux_only
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


@pytest.mark.skipif(sys.platform != "linux", reason="the CI rule is about Linux runners")
def test_unusable_zygote_fails_on_linux_ci_and_skips_elsewhere(monkeypatch):
    """Switched off, the zygote is unusable: in CI (CI=true) that fails the zygote tests with
    the reason; outside CI they skip with it."""
    monkeypatch.setenv("CXLAB_KERNEL_ZYGOTE", "0")
    assert unusable_reason(KERNEL_NAME) == "switched off (CXLAB_KERNEL_ZYGOTE=0)"
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="unusable on Linux in CI: switched off"):
        _require_zygote()
    monkeypatch.delenv("CI")
    with pytest.raises(pytest.skip.Exception, match="unusable here: switched off"):
        _require_zygote()
