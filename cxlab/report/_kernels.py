"""Warm kernels: one Jupyter kernel per worker process, reused from report to report.

Starting a kernel and importing the analysis stack (pandas, matplotlib, seaborn, statsmodels,
jieba, cxlab) costs ~3 s of CPU a report, as much as several report sections. A worker of the
local process pool therefore keeps its kernel between reports and, before each new report,
puts the kernel back into the state of a freshly started one: user namespace and output
history cleared, execution count 1, working directory, ``sys.path``, environment, warnings
filters and matplotlib settings as they were right after start, figures closed. Imported
modules stay imported — that is the saving — and what survives a reset is frozen out of the
cyclic garbage collector's way (``gc.freeze``), so a report's collections walk its own objects
only. Module-level caches of cxlab are keyed by their inputs, and a pool (with its kernels)
lives for one ``render_all`` run, over unchanging data.

A kernel is discarded (and the next report gets a fresh one) after any failure, so a report
that breaks the kernel cannot affect the next. ``CXLAB_WARM_KERNELS=0`` turns reuse off. In the
local process pool the workers' kernels are forked from a kernel zygote that has imported the
analysis stack once for the whole run (``_zygote.py``; ``CXLAB_KERNEL_ZYGOTE=0`` turns it off).
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
    # a new history session: with history kept, numbering from 1 again in the old session
    # collides with lines already saved ("Session/line number was not unique", in the report)
    shell.reset(new_session=True)
    shell.execution_count = 1
    # What survives a reset is the kernel's imports and caches, kept for the next report. Move
    # them out of the cyclic collector's sight: the collections of the next report, and the full
    # one that starts the next reset (IPython's display hook flush), then walk that report's
    # objects only, not the ~200,000 of the analysis stack (≈ 0.4 s of CPU a reset). Frozen
    # objects are still freed by reference counting; the report's own garbage is collected
    # first, here.
    gc.collect()
    gc.freeze()


_SNAPSHOT = "import cxlab.report._kernels as _k; _k.snapshot_state(); del _k"
_RESTORE = "import cxlab.report._kernels as _k; _k.restore_state()"


# ------------------------------------------------------------------------------ worker side
def switched_on(variable: str) -> bool:
    """False when the environment variable is ``0``, ``false`` or ``no`` (default: on)."""
    return os.environ.get(variable, "1").strip().lower() not in ("0", "false", "no")


def warm_kernels_enabled() -> bool:
    """False when ``CXLAB_WARM_KERNELS=0`` (every report then starts its own kernel)."""
    return switched_on("CXLAB_WARM_KERNELS")


class WarmKernel:
    """A kernel kept alive across reports in one process.

    ``manager()`` returns a ready kernel manager (started on first use, reset on later uses)
    to pass to ``papermill.execute_notebook(..., engine_name=ENGINE, km=...)``; ``release()``
    after a report starts the reset at once, so that the kernel resets while the worker writes
    the report's HTML and PDF; ``discard()`` shuts it down.
    """

    def __init__(self, kernel_name: str, *, cwd: str, extra_arguments: list[str] | None = None,
                 timeout: float = 120, zygote: str | None = None) -> None:
        self.kernel_name = kernel_name
        self.cwd = cwd
        self.zygote = zygote  # address of a kernel zygote to fork kernels from (_zygote.py)
        self.extra_arguments = list(extra_arguments or [])
        self.timeout = timeout
        self._km = None
        self._kc = None  # shell-only client that sends the snapshot and the resets
        self._used = False
        self._pending: str | None = None  # msg_id of a reset sent by release()

    def manager(self):
        """A started kernel in its fresh state (an ``AsyncKernelManager``, what nbclient uses
        for the kernels it starts itself: its liveness polling then notices a kernel that dies
        mid-report)."""
        if self._km is not None and not self._call(self._km.is_alive):
            self.discard()
        if self._km is None:
            if self.zygote:
                from cxlab.report._zygote import kernel_manager

                km = kernel_manager(self.kernel_name, self.zygote)
            else:
                from jupyter_client.manager import AsyncKernelManager

                km = AsyncKernelManager(kernel_name=self.kernel_name)
            self._call(km.start_kernel, cwd=self.cwd, extra_arguments=self.extra_arguments)
            self._km, self._used = km, False
            try:
                self._snapshot()
            except Exception:
                self.discard()
                raise
        elif self._used or self._pending:
            try:
                self._reply(self._pending or self._send(_RESTORE))
            except Exception:  # noqa: BLE001 - a kernel that cannot reset is replaced
                self.discard()
                return self.manager()
            finally:
                self._pending = None
        self._used = True
        return self._km

    def release(self) -> None:
        """The report using the kernel is done: start resetting it for the next one now."""
        if self._km is not None and self._used and not self._pending:
            try:
                self._pending = self._send(_RESTORE)
            except Exception:  # noqa: BLE001 - manager() will find out and start afresh
                self.discard()

    def discard(self) -> None:
        """Shut the kernel down now (the next :meth:`manager` starts a new one)."""
        km, kc = self._km, self._kc
        self._km, self._kc, self._used, self._pending = None, None, False, None
        if kc is not None:
            kc.stop_channels()
        if km is not None:
            try:
                self._call(km.shutdown_kernel, now=True)
            except Exception:  # noqa: BLE001 - already dead or gone: nothing left to stop
                pass

    @staticmethod
    def _call(method, *args, **kwargs):
        from jupyter_core.utils import run_sync

        return run_sync(method)(*args, **kwargs)

    def _snapshot(self) -> None:
        """Record the new kernel's fresh state, on the shell channel as soon as it answers.

        No readiness handshake first (jupyter_client's ``wait_for_ready`` also waits for IOPub,
        0.2 s a round): the request is queued by ZMQ until the kernel has bound its socket,
        and only the reply is needed.
        """
        self._reply(self._send(_SNAPSHOT), what="kernel start")

    def _send(self, code: str) -> str:
        """Send ``code`` for silent execution on the shell channel; return the request id.

        The reset client listens on the shell channel only: its replies are all it needs, and
        an IOPub subscription would queue every output of every report.
        """
        if self._kc is None:
            from jupyter_client.blocking import BlockingKernelClient

            kc = BlockingKernelClient()
            kc.load_connection_info(self._km.get_connection_info())
            kc.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
            self._kc = kc
        return self._kc.execute(code, silent=True, store_history=False)

    def _reply(self, msg_id: str, what: str = "kernel reset") -> None:
        """Wait for the reply to ``msg_id``, giving up if the kernel dies or times out (the
        messages are those of jupyter_client's readiness check, which the runner retries)."""
        import time
        from queue import Empty

        deadline = time.monotonic() + self.timeout
        while True:
            try:
                msg = self._kc.get_shell_msg(timeout=1)
            except Empty:
                if not self._call(self._km.is_alive):
                    raise RuntimeError(f"{what}: Kernel died before replying") from None
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{what}: Kernel didn't respond in "
                                       f"{self.timeout:.0f} seconds") from None
                continue
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return self._check(msg, what)

    @staticmethod
    def _check(reply: dict, what: str) -> None:
        content = reply.get("content", {})
        if content.get("status") != "ok":
            raise RuntimeError(f"{what} failed: {content.get('ename')}: {content.get('evalue')}")


def register_engine() -> None:
    """Register the :data:`ENGINE` papermill engine: papermill's nbclient engine, except that
    the kernel client it opens on a kernel it does not own is closed after the run (nbclient
    leaves it open, and it would leak its sockets and warn when collected)."""
    from jupyter_core.utils import ensure_async, run_sync
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines

    if ENGINE in papermill_engines._engines:
        return

    class _Client(PapermillNotebookClient):
        async def async_start_new_kernel_client(self):
            from nbclient.util import run_hook

            self.kc = self.km.client()
            await ensure_async(self.kc.start_channels())
            await _ready(self.kc, self.km, self.startup_timeout)
            self.kc.allow_stdin = False
            await run_hook(self.on_notebook_start, notebook=self.nb)
            return self.kc

        # nbclient binds its synchronous twin to *its own* coroutine when the class is made
        # (``start_new_kernel_client = run_sync(async_start_new_kernel_client)``), and papermill
        # calls the twin: without rebinding it here the override above never runs.
        start_new_kernel_client = run_sync(async_start_new_kernel_client)

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


async def _ready(kc, km, timeout: float) -> None:
    """Wait until a new client on a running kernel gets the kernel's IOPub messages.

    This is jupyter_client's ``wait_for_ready`` with a 10 ms instead of a 200 ms wait for
    IOPub: a new subscriber misses what the kernel publishes before its subscription has
    reached the kernel (ZMQ's "slow joiner"), so jupyter_client's first round nearly always
    times out, 0.2 s of idle core per report. The kernel is ours (ipykernel, the current
    protocol), so the kernel_info reply needs no protocol adaptation.
    """
    import time
    from queue import Empty

    deadline = time.monotonic() + timeout
    while True:
        kc.kernel_info()
        try:
            reply = await kc.get_shell_msg(timeout=1)
        except Empty:
            reply = None
        if reply is not None and reply["msg_type"] == "kernel_info_reply":
            try:
                await kc.get_iopub_msg(timeout=0.01)
                return
            except Empty:
                pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")
        if not await km.is_alive():
            raise RuntimeError("Kernel died before replying to kernel_info")
