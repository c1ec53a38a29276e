"""Shared helpers: timing (medians of interleaved A/B runs), peak memory of a subprocess, and
the result record every benchmark returns."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Check", "ROOT", "fmt_s", "interleaved", "load_note", "median", "run_python"]

#: the project root (benchmarks run with it as the working directory, like `make bench`)
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Check:
    """One line of the benchmark report.

    ``baseline_s``/``fast_s`` are medians in seconds; ``ratio`` is ``baseline_s / fast_s``
    (or, for a fraction target, ``fast_s / baseline_s``). ``met`` is ``None`` when the check
    could not run (``skipped`` says why).
    """

    bench: str
    name: str
    target: str
    baseline_label: str = ""
    baseline_s: float | None = None
    fast_label: str = ""
    fast_s: float | None = None
    ratio: float | None = None
    met: bool | None = None
    skipped: str | None = None
    runs: dict[str, list[float]] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)

    def lines(self) -> list[str]:
        head = f"[{self.bench}] {self.name}"
        if self.skipped:
            return [f"{head}: SKIPPED — {self.skipped}  (target {self.target})"]
        out = [head]
        if self.baseline_label:
            out.append(f"    baseline  {self.baseline_label}: {fmt_s(self.baseline_s)}"
                       f"{_runs(self.runs.get('baseline'))}")
        if self.fast_label:
            out.append(f"    cxlab     {self.fast_label}: {fmt_s(self.fast_s)}"
                       f"{_runs(self.runs.get('fast'))}")
        ratio = "" if self.ratio is None else f"ratio {self.ratio:,.3g}  "
        verdict = {True: "MET", False: "MISSED", None: "n/a"}[self.met]
        out.append(f"    {ratio}target {self.target}  → {verdict}")
        for k, v in self.extra.items():
            out.append(f"    {k}: {v}")
        return out

    def to_json(self) -> dict:
        return {k: getattr(self, k) for k in ("bench", "name", "target", "baseline_label",
                                              "baseline_s", "fast_label", "fast_s", "ratio",
                                              "met", "skipped", "runs", "extra")}


def _runs(values: Sequence[float] | None) -> str:
    if not values or len(values) < 2:
        return ""
    return "  (runs: " + ", ".join(f"{v:.3g}" for v in values) + ")"


def fmt_s(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.1f} ms"
    return f"{seconds:.2f} s"


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def interleaved(funcs: dict[str, Callable[[], object]], repeats: int
                ) -> dict[str, list[float]]:
    """Run each function ``repeats`` times, alternating A, B, A, B… (order flipped every
    round) so that background load hits both sides alike; return the wall times."""
    names = list(funcs)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(repeats):
        order = names if r % 2 == 0 else names[::-1]
        for n in order:
            t0 = time.perf_counter()
            funcs[n]()
            times[n].append(time.perf_counter() - t0)
    return times


_RSS_WRAPPER = r"""
import json, resource, sys, time, runpy
sys.argv = [sys.argv[1]] + sys.argv[2:]
t0 = time.perf_counter()
ns = runpy.run_path(sys.argv[0], run_name="__main__")
wall = time.perf_counter() - t0
ru = resource.getrusage(resource.RUSAGE_SELF)
peak_kb = ru.ru_maxrss
try:  # Linux: this process's own high-water mark (ru_maxrss keeps the one of the process
    # image before exec, i.e. of the parent it was forked from when that one was larger)
    with open("/proc/self/status") as fh:
        peak_kb = next(int(ln.split()[1]) for ln in fh if ln.startswith("VmHWM:"))
except (OSError, StopIteration, ValueError):
    pass
print("__BENCH__" + json.dumps({"wall": wall, "maxrss_kb": peak_kb,
                                "user": ru.ru_utime, "sys": ru.ru_stime}))
"""


def run_python(script: str | Path, *args: str, cwd: str | Path | None = None,
               env: dict | None = None, timeout: float = 3600) -> dict:
    """Run ``script`` in a fresh interpreter; return its in-process wall time (imports of the
    script included, interpreter start excluded), peak RSS (MiB), CPU seconds and stdout."""
    proc = subprocess.run([sys.executable, "-c", _RSS_WRAPPER, str(script), *map(str, args)],
                          cwd=cwd or ROOT, env={**os.environ, **(env or {})}, capture_output=True,
                          text=True, timeout=timeout)
    if proc.returncode != 0:
        raise RuntimeError(f"{script} failed (exit {proc.returncode}):\n{proc.stderr[-3000:]}")
    stats = None
    out_lines = []
    for line in proc.stdout.splitlines():
        if line.startswith("__BENCH__"):
            stats = json.loads(line[len("__BENCH__"):])
        else:
            out_lines.append(line)
    if stats is None:
        raise RuntimeError(f"{script}: no timing line in its output")
    return {"wall": stats["wall"], "rss_mib": stats["maxrss_kb"] / 1024,
            "cpu": stats["user"] + stats["sys"], "stdout": "\n".join(out_lines)}


def load_note() -> str:
    """A one-line note on the machine load (cores, load averages) for the report."""
    try:
        la = os.getloadavg()
        load = f"load average {la[0]:.2f} / {la[1]:.2f} / {la[2]:.2f}"
    except OSError:
        load = "load average unknown"
    return f"{os.cpu_count()} cores, {load}"
