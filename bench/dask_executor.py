"""Beyond one machine: the report fan-out on a Dask ``distributed`` cluster vs the local pool.

Both render the same jobs (company + branch reports of one period, HTML + PDF) from a tiny
template over a tiny warehouse, so the figure is the executor's overhead, not the analyses:

- baseline: ``render_all(executor="local", jobs=2)`` (process pool);
- dask: ``render_all(executor="dask", scheduler=cluster.scheduler_address)`` on a
  ``distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True)`` on 127.0.0.1
  (cluster start-up excluded: a real cluster is already running).

There is no speed target (on one 2-core machine Dask can only add overhead); the check is that
the outputs are the same reports, and the ratio is printed for the record.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from bench._common import Check, median
from bench._tiny import BRANCHES, write_templates, write_tiny_params, write_tiny_warehouse

NAME = "dask"


def run(quick: bool = False) -> list[Check]:
    from distributed import LocalCluster

    from bench.reports import fast_run

    branches = ["ALL", *(BRANCHES[:1] if quick else BRANCHES)]
    repeats = 1 if quick else 2
    with tempfile.TemporaryDirectory(prefix="cxlab-bench-dask-") as tmp:
        tmp = Path(tmp)
        wh = write_tiny_warehouse(tmp / "warehouse")
        tpl = write_templates(tmp / "templates")
        params = write_tiny_params(tmp / "params")
        with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                          host="127.0.0.1", dashboard_address=None) as cluster:
            times: dict[str, list[float]] = {"local": [], "dask": []}
            outputs = {}
            for r in range(repeats):
                for side in (("local", "dask") if r % 2 == 0 else ("dask", "local")):
                    out = tmp / f"{side}-{r}"
                    t0 = time.perf_counter()
                    s = fast_run(wh, "2026Q3", out, force=True, branches=branches, templates=tpl,
                                 executor=side, jobs=2, params_dir=params,
                                 scheduler=cluster.scheduler_address if side == "dask" else None)
                    times[side].append(time.perf_counter() - t0)
                    outputs[side] = sorted(s.rendered)
                    html = sorted(p.name for p in (out / "2026Q3").glob("*.html"))
                    pdf = sorted(p.name for p in (out / "2026Q3").glob("*.pdf"))
                    outputs[side + "_files"] = (html, pdf)
    b, f = median(times["local"]), median(times["dask"])
    same = outputs["local"] == outputs["dask"] and outputs["local_files"] == outputs["dask_files"]
    return [Check(
        bench=NAME, name=f"executor overhead, {len(branches)} tiny reports (HTML + PDF)",
        target="none (informational); outputs must match",
        baseline_label="render_all(executor='local', jobs=2)", baseline_s=b,
        fast_label="render_all(executor='dask') on LocalCluster(2 workers)", fast_s=f,
        ratio=b / f, met=None if same else False,
        runs={"baseline": times["local"], "fast": times["dask"]},
        extra={"same reports rendered": same},
    )]
