"""``python -m bench [--quick] [--only NAME] [--profile] [--json PATH]`` — run the benchmarks.

Each benchmark prints the baseline and cxlab timings (medians of interleaved runs), their
ratio and the target. Exit status: 0 when every judged target is met, 1 when one is missed (or
a benchmark could not run), 2 on usage errors. ``--quick`` runs tiny inputs in seconds (a
smoke test: timings are printed but not judged, and the exit status ignores them).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path

from bench._common import ROOT, Check, load_note

#: name → module, in the order they run
BENCHMARKS = {
    "lmg": "bench.lmg",
    "aggregate": "bench.aggregate",
    "ingest": "bench.ingest",
    "reports": "bench.reports",
    "dask": "bench.dask_executor",
    "raking": "bench.raking",
    "dashboard": "bench.dashboard",
}


def run(names: list[str], *, quick: bool, profile: bool = False) -> list[Check]:
    checks: list[Check] = []
    for name in names:
        mod = importlib.import_module(BENCHMARKS[name])
        print(f"== {name} ({'quick' if quick else 'full'}) — {load_note()}", flush=True)
        t0 = time.perf_counter()
        try:
            kwargs = {"profile": profile} if profile and name in ("ingest", "reports") else {}
            got = mod.run(quick=quick, **kwargs)
        except Exception as err:  # noqa: BLE001 - report it, run the others
            traceback.print_exc()
            got = [Check(bench=name, name=name, target="—",
                         skipped=f"failed: {type(err).__name__}: {str(err).splitlines()[0][:300]}")]
        for c in got:
            if quick and c.met is not None and not c.skipped:
                c.extra["note"] = "quick mode: tiny inputs, target not judged"
                c.met = None
            print("\n".join(c.lines()), flush=True)
        print(f"   ({time.perf_counter() - t0:.0f} s)\n", flush=True)
        checks.extend(got)
    return checks


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="tiny inputs, seconds; targets not judged")
    ap.add_argument("--only", action="append", choices=sorted(BENCHMARKS), metavar="NAME",
                    help=f"run only this benchmark (repeatable): {', '.join(BENCHMARKS)}")
    ap.add_argument("--profile", action="store_true",
                    help="also profile ingest (cProfile) and one report (kernel/cells/export)")
    ap.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    args = ap.parse_args(argv)
    os.chdir(ROOT)  # templates, params/ and the kernel's cwd are relative to the project root
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    names = args.only or list(BENCHMARKS)
    checks = run(names, quick=args.quick, profile=args.profile)
    missed = [c for c in checks if c.met is False or (c.skipped and not args.quick)]
    print("== summary —", load_note())
    for c in checks:
        verdict = ("SKIPPED" if c.skipped else {True: "met", False: "MISSED", None: "—"}[c.met])
        ratio = "" if c.ratio is None else f" ratio {c.ratio:,.3g}"
        print(f"  {verdict:8} [{c.bench}] {c.name}:{ratio} (target {c.target})")
    if args.json:
        Path(args.json).write_text(json.dumps({"load": load_note(), "quick": args.quick,
                                               "checks": [c.to_json() for c in checks]},
                                              ensure_ascii=False, indent=2, default=str))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
