"""Kernel zygote: one process imports the report kernels' analysis stack once, and each report
kernel of a run is forked from it.

Every pool worker keeps one warm kernel (``_kernels.py``), and each of those kernels used to
start by importing the analysis stack itself (IPython, pandas, matplotlib, seaborn,
statsmodels, jieba's dictionary, cxlab: ≈ 3.5 s of CPU), on cores that the other workers need
at the same moment. With a zygote that work is done once per run: the zygote imports the
stack while the workers start, then forks a kernel for each worker that asks.

A forked kernel is an ordinary ipykernel process, in the state of a kernel that has imported
those modules: what the first cell of every report template imports anyway, and the state a
warm kernel is reset to between reports. It gets the working directory, environment and
standard streams of the process jupyter_client launched for it (``_zygote_stub.py``, which
stands in for it), a new session, default signal handlers and fresh random seeds.

The zygote lives for one ``render_all`` run of the local process pool; it exits when the
process that started it exits. ``ps`` shows forked kernels with the zygote's command line.
Where a zygote cannot be used (not Linux, a kernel spec that is not this interpreter's
ipykernel, or the zygote failed), kernels start as they always did.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["KernelZygote", "kernel_manager", "usable", "zygote_kernel_cmd"]

#: What the zygote imports: the modules report kernels import (checked on a branch report in
#: tests/test_kernels.py). Imports, and the one cache every report fills (the text
#: tokenizers): no call that changes matplotlib's or any other settings.
PRELOAD = (
    "ipykernel.kernelapp",
    "cxlab.config", "cxlab.io", "cxlab.metrics", "cxlab.drivers", "cxlab.ipa", "cxlab.kano",
    "cxlab.ops", "cxlab.ops._repeat", "cxlab.segments", "cxlab.text", "cxlab.plots",
    "cxlab.report.sections", "cxlab.report._sections_ops", "cxlab.report._sections_voice",
    "cxlab.report._context", "cxlab.report._aggregates", "cxlab.report._runner",
    "cxlab.report._nav", "cxlab.report._layout", "cxlab.report._sections_items",
    "cxlab.report._sections_cases", "cxlab.report._sections_exec", "cxlab.report._inference",
    "cxlab.report._typography", "cxlab.report._glossary", "cxlab.weighting", "cxlab.notify",
    "pandas", "pyarrow.parquet", "pyarrow.dataset", "scipy.stats", "statsmodels.api", "seaborn",
    "matplotlib.pyplot", "matplotlib.backends.backend_agg", "PIL.ImageFont",
    "jieba", "mistune",
)
STUB = Path(__file__).with_name("_zygote_stub.py")
#: the launcher a kernel spec must name for its kernels to be forked from the zygote
LAUNCHER = ("-m", "ipykernel_launcher")


def zygote_kernel_cmd(cmd: list[str], address: str) -> list[str]:
    """The command that starts the kernel ``cmd`` from the zygote at ``address``: ``cmd`` when
    it is not this interpreter's ``python -m ipykernel_launcher …`` (left as it is)."""
    if len(cmd) < 3 or tuple(cmd[1:3]) != LAUNCHER or cmd[0] != sys.executable:
        return cmd
    return [sys.executable, "-I", "-S", str(STUB), address, *cmd[3:]]


_MANAGER_CLASS = None


def kernel_manager(kernel_name: str, address: str):
    """An ``AsyncKernelManager`` whose kernels are forked from the zygote at ``address``."""
    global _MANAGER_CLASS
    if _MANAGER_CLASS is None:
        from jupyter_client.manager import AsyncKernelManager

        class ZygoteKernelManager(AsyncKernelManager):
            zygote_address = ""

            def format_kernel_cmd(self, extra_arguments=None):
                return zygote_kernel_cmd(super().format_kernel_cmd(extra_arguments),
                                         self.zygote_address)

        _MANAGER_CLASS = ZygoteKernelManager
    km = _MANAGER_CLASS(kernel_name=kernel_name)
    km.zygote_address = address
    return km


def usable(kernel_name: str) -> bool:
    """Can the kernels of ``kernel_name`` be forked from a zygote here? On Linux (``fork``,
    ``pidfd_open``, descriptor passing), for a kernel spec that runs this interpreter's
    ipykernel, unless ``CXLAB_KERNEL_ZYGOTE=0``."""
    return unusable_reason(kernel_name) is None


def unusable_reason(kernel_name: str) -> str | None:
    """Why the kernels of ``kernel_name`` cannot be forked from a zygote here (one line), or
    ``None`` when they can (:func:`usable`)."""
    import socket

    from cxlab.report._kernels import switched_on

    if sys.platform != "linux":
        return f"not Linux ({sys.platform})"
    if not hasattr(os, "pidfd_open") or not hasattr(socket, "send_fds"):
        return "this Python has no os.pidfd_open or socket.send_fds"
    if not switched_on("CXLAB_KERNEL_ZYGOTE"):
        return "switched off (CXLAB_KERNEL_ZYGOTE=0)"
    try:  # Linux >= 5.3, and not refused by a sandbox's system-call filter
        os.close(os.pidfd_open(os.getpid()))
    except OSError as err:
        return f"pidfd_open refused ({err.strerror or err})"
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        argv = list(KernelSpecManager().get_kernel_spec(kernel_name).argv)
    except Exception as err:  # noqa: BLE001 - no such kernel: the run reports it, without a zygote
        return f"no kernel spec {kernel_name!r} ({type(err).__name__})"
    if argv and argv[0] in ("python", f"python{sys.version_info[0]}",
                            "python{}.{}".format(*sys.version_info[:2])):
        argv[0] = sys.executable  # as jupyter_client resolves it
    if zygote_kernel_cmd(argv, "") == argv:
        return f"kernel spec {kernel_name!r} does not run this interpreter's ipykernel ({argv[:3]})"
    return None


class KernelZygote:
    """The zygote process of one run: ``start()`` it (or enter it), hand :attr:`address` to
    the workers, ``stop()`` it at the end."""

    def __init__(self, *, cwd: str) -> None:
        self.cwd = cwd
        self.address: str | None = None
        self._proc = None
        self._dir = None

    def start(self) -> KernelZygote:
        import subprocess
        import tempfile

        self._dir = tempfile.TemporaryDirectory(prefix="cxlab-zygote-")
        address = os.path.join(self._dir.name, "zygote.sock")
        # the zygote's standard streams are not the kernels' (they get their stub's)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "cxlab.report._zygote", address, str(os.getpid())],
            cwd=self.cwd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            start_new_session=True)
        self.address = address
        return self

    def stop(self) -> None:
        import subprocess

        proc, self._proc = self._proc, None
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> KernelZygote:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# ----------------------------------------------------------------------- the zygote process
def _preload() -> None:
    import importlib

    # as ipykernel sets it before a kernel imports matplotlib (IPKernelApp.init_gui_pylab)
    if not os.environ.get("MPLBACKEND"):
        os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:  # a kernel that needs it fails as an ordinary kernel would
            pass
    try:
        from cxlab.text._resources import pos_tokenizer

        pos_tokenizer()  # jieba's dictionary with the CX words, and its tagger (≈ 0.9 s)
    except Exception:  # noqa: BLE001, S110 - left for the first report to fill (or fail)
        pass


def _read_request(conn) -> tuple[dict, list[int]]:
    import json
    import socket

    data, fds, _, _ = socket.recv_fds(conn, 1 << 16, 3)
    if len(data) < 4:
        raise OSError("short request")
    size = int.from_bytes(data[:4], "big")
    body = data[4:]
    while len(body) < size:
        chunk = conn.recv(size - len(body))
        if not chunk:
            raise OSError("truncated request")
        body += chunk
    return json.loads(body.decode("utf-8")), list(fds)


def _watch(pid: int) -> None:
    """Exit this kernel when the process standing in for it (its stub) is gone."""
    import select
    import time

    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        os._exit(1)
    except OSError:  # cannot watch it that way: look every half second
        while True:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:
                pass
            time.sleep(0.5)
    select.select([fd], [], [])
    os._exit(1)


def _become_kernel(listener, conn, request: dict, fds: list[int], preload_env: dict) -> None:
    """In the forked child: turn into the kernel the stub asked for (never returns).

    ``preload_env``: the variables the preload set in the zygote's environment, which a kernel
    that had imported the same modules would have too."""
    import atexit
    import random
    import signal
    import threading

    code = 1
    try:
        listener.close()
        conn.close()
        os.setsid()
        for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        for name, value in preload_env.items():
            os.environ.setdefault(name, value)
        launcher = Path(sys.modules["ipykernel"].__file__).parents[1] / "ipykernel_launcher.py"
        sys.argv = [str(launcher), *request["args"]]
        random.seed()
        if "numpy" in sys.modules:
            sys.modules["numpy"].random.seed()
        threading.Thread(target=_watch, args=(int(request["stub"]),), daemon=True,
                         name="cxlab-stub-watch").start()
        from ipykernel import kernelapp

        # the kernel exits if the zygote goes (ipykernel's parent poller; its parent is the
        # zygote, not the worker that JPY_PARENT_PID names)
        try:
            kernelapp.launch_new_instance(
                argv=[*request["args"], f"--IPKernelApp.parent_handle={os.getppid()}"])
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        atexit._run_exitfuncs()  # as the interpreter would at the end of ipykernel_launcher
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001, S110 - exiting anyway
                pass
    finally:
        os._exit(code)


def serve(address: str, parent: int) -> None:
    """The zygote's main loop: preload, then fork a kernel for each request."""
    import gc
    import json
    import select
    import socket
    import warnings

    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(address)
    listener.listen(16)  # workers may connect while the preload runs; they wait in the backlog
    before = dict(os.environ)
    _preload()
    preload_env = {k: v for k, v in os.environ.items() if before.get(k) != v}
    # what every kernel inherits stays out of the cyclic collector's way (and its pages are
    # not touched, so not copied, by each kernel's collections)
    gc.collect()
    gc.freeze()
    while os.getppid() == parent:
        while True:  # reap kernels that have exited
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
        ready, _, _ = select.select([listener], [], [], 1.0)
        if not ready:
            continue
        conn, _ = listener.accept()
        fds: list[int] = []
        try:
            request, fds = _read_request(conn)
            with warnings.catch_warnings():
                # The preloaded libraries run native threads (OpenBLAS' pools of numpy and
                # scipy, pyarrow's jemalloc): all register fork handlers, as forking after
                # importing them is what multiprocessing's "fork" start method always did.
                # Python >= 3.12 warns about forking with threads in general.
                warnings.simplefilter("ignore", DeprecationWarning)
                pid = os.fork()
            if pid == 0:
                _become_kernel(listener, conn, request, fds, preload_env)
            conn.sendall(json.dumps({"pid": pid}).encode("utf-8"))
        except Exception as err:  # noqa: BLE001 - the stub then starts an ordinary kernel
            try:
                conn.sendall(json.dumps({"error": f"{type(err).__name__}: {err}"}).encode("utf-8"))
            except OSError:
                pass
        finally:
            for fd in fds:
                os.close(fd)
            conn.close()


if __name__ == "__main__":
    # like ipykernel_launcher: the working directory is not on sys.path while modules load
    if sys.path and (sys.path[0] in ("", os.getcwd())):
        del sys.path[0]
    try:
        serve(sys.argv[1], int(sys.argv[2]))
    except Exception as err:  # noqa: BLE001 - the kernels then start as ordinary kernels
        print(f"cxlab: kernel zygote stopped ({type(err).__name__}: {err}); report kernels "
              "start without it", file=sys.stderr)
        sys.exit(1)
