"""Warm kernels: one Jupyter kernel per worker process, reused from report to report.

Starting a kernel and importing the analysis stack (pandas, matplotlib, seaborn, statsmodels,
jieba, cxlab) costs ~3 s of CPU a report, as much as several report sections. A worker of the
local process pool therefore keeps its kernel between reports and, before each new report,
puts the kernel back into the state of a freshly started one: user namespace and output
history cleared, execution count 1, working directory, ``sys.path``, environment, warnings
filters and matplotlib settings as they were right after start, figures closed. Imported
modules stay imported — that is the saving. Module-level caches of cxlab are keyed by their
inputs, and a pool (with its kernels) lives for one ``render_all`` run, over unchanging data.

A kernel is discarded (and the next report gets a fresh one) after any failure, so a report
that breaks the kernel cannot affect the next. ``CXLAB_WARM_KERNELS=0`` turns reuse off.
Tests check that a report rendered in a reused kernel is identical to one rendered cold.

The first half of this module runs *inside* the kernel (:func:`snapshot_state`,
:func:`restore_state`); the second half in the worker (:class:`WarmKernel`).
"""

from __future__ import annotations

import os

__all__ = ["ENGINE", "WarmKernel", "restore_state", "snapshot_state", "warm_kernels_enabled"]

#: papermill engine name for executing in a :class:`WarmKernel` (registered on first use)
ENGINE = "cxlab-warm"

_STATE: dict = {}


# ------------------------------------------------------------------------------ kernel side
def snapshot_state() -> None:
    """Record the kernel's fresh state (run once, right after the kernel starts)."""
    import sys
    import warnings

    import matplotlib
    import matplotlib.pyplot  # noqa: F401 - activates the inline backend first, as a report does

    _STATE.update(cwd=os.getcwd(), path=list(sys.path), environ=dict(os.environ),
                  filters=list(warnings.filters), rc=dict(matplotlib.rcParams))


def restore_state() -> None:
    """Put the kernel back into the recorded fresh state before the next report."""
    import gc
    import sys
    import warnings

    import matplotlib
    import matplotlib.pyplot as plt
    from IPython import get_ipython

    plt.close("all")
    os.chdir(_STATE["cwd"])
    sys.path[:] = _STATE["path"]
    os.environ.clear()
    os.environ.update(_STATE["environ"])
    warnings.resetwarnings()  # also forgets which warnings were already shown ("once"/"default")
    warnings.filters[:] = _STATE["filters"]
    dict.update(matplotlib.rcParams, _STATE["rc"])  # values were validated when first set
    shell = get_ipython()
    shell.reset(new_session=False)
    shell.execution_count = 1
    gc.collect()


_SNAPSHOT = "import cxlab.report._kernels as _k; _k.snapshot_state(); del _k"
_RESTORE = "import cxlab.report._kernels as _k; _k.restore_state()"


# ------------------------------------------------------------------------------ worker side
def warm_kernels_enabled() -> bool:
    """False when ``CXLAB_WARM_KERNELS=0`` (every report then starts its own kernel)."""
    return os.environ.get("CXLAB_WARM_KERNELS", "1").strip().lower() not in ("0", "false", "no")


class WarmKernel:
    """A kernel kept alive across reports in one process.

    ``manager()`` returns a ready kernel manager (started on first use, reset on later uses)
    to pass to ``papermill.execute_notebook(..., engine_name=ENGINE, km=...)``; ``discard()``
    shuts it down.
    """

    def __init__(self, kernel_name: str, *, cwd: str, extra_arguments: list[str] | None = None,
                 timeout: float = 120) -> None:
        self.kernel_name = kernel_name
        self.cwd = cwd
        self.extra_arguments = list(extra_arguments or [])
        self.timeout = timeout
        self._km = None
        self._used = False

    def manager(self):
        """A started kernel in its fresh state (an ``AsyncKernelManager``, what nbclient uses
        for the kernels it starts itself: its liveness polling then notices a kernel that dies
        mid-report)."""
        if self._km is not None and not self._call(self._km.is_alive):
            self.discard()
        if self._km is None:
            from jupyter_client.manager import AsyncKernelManager

            km = AsyncKernelManager(kernel_name=self.kernel_name)
            self._call(km.start_kernel, cwd=self.cwd, extra_arguments=self.extra_arguments)
            self._km, self._used = km, False
            try:
                self._run(_SNAPSHOT)
            except Exception:
                self.discard()
                raise
        elif self._used:
            try:
                self._run(_RESTORE)
            except Exception:
                self.discard()
                return self.manager()
        self._used = True
        return self._km

    def discard(self) -> None:
        """Shut the kernel down now (the next :meth:`manager` starts a new one)."""
        km, self._km, self._used = self._km, None, False
        if km is not None:
            try:
                self._call(km.shutdown_kernel, now=True)
            except Exception:  # noqa: BLE001 - already dead or gone: nothing left to stop
                pass

    @staticmethod
    def _call(method, *args, **kwargs):
        from jupyter_core.utils import run_sync

        return run_sync(method)(*args, **kwargs)

    def _run(self, code: str) -> None:
        from jupyter_client.blocking import BlockingKernelClient

        kc = BlockingKernelClient()
        kc.load_connection_info(self._km.get_connection_info())
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=self.timeout)
            reply = kc.execute_interactive(code, silent=True, store_history=False,
                                           timeout=self.timeout, output_hook=lambda msg: None)
        finally:
            kc.stop_channels()
        content = reply.get("content", {})
        if content.get("status") != "ok":
            raise RuntimeError(f"kernel reset failed: {content.get('ename')}: {content.get('evalue')}")


def register_engine() -> None:
    """Register the :data:`ENGINE` papermill engine: papermill's nbclient engine, except that
    the kernel client it opens on a kernel it does not own is closed after the run (nbclient
    leaves it open, and it would leak its sockets and warn when collected)."""
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    if ENGINE in papermill_engines._engines:
        return

    class _Client(PapermillNotebookClient):
        def execute(self, **kwargs):
            try:
                return super().execute(**kwargs)
            finally:
                if self.kc is not None:
                    self.kc.stop_channels()
                    self.kc = None

    class _Engine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(cls, nb_man, kernel_name, log_output=False,
                                     stdout_file=None, stderr_file=None, start_timeout=60,
                                     execution_timeout=None, **kwargs):
            from papermill.engines import logger

            kwargs = {k: v for k, v in kwargs.items()
                      if k not in ("input_path", "timeout", "startup_timeout")}
            return _Client(nb_man, timeout=execution_timeout, startup_timeout=start_timeout,
                           kernel_name=kernel_name, log=logger, log_output=log_output,
                           stdout_file=stdout_file, stderr_file=stderr_file, **kwargs).execute()

    papermill_engines.register(ENGINE, _Engine)
