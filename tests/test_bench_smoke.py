"""Smoke run of every benchmark on tiny inputs (``python -m bench --quick``).

Only checks that each benchmark runs end to end and reports both timings; timings themselves
are never asserted (the machine is shared and noisy; ``make bench`` judges the targets).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.__main__ import BENCHMARKS, main, run  # noqa: E402


@pytest.mark.parametrize("name", list(BENCHMARKS))
def test_benchmark_runs_quick(name, capsys):
    checks = run([name], quick=True)
    assert checks, name
    for c in checks:
        if c.skipped:
            # only a missing input (e.g. templates not landed yet) may skip, never a crash
            assert not c.skipped.startswith("failed"), c.skipped
            continue
        assert c.fast_s is not None and c.fast_s > 0
        assert c.met is None  # quick mode never judges a target
        if name == "ingest":  # the generated file is valid input: read = accepted + quarantined
            assert c.extra["read = accepted + quarantined"] is True
        if name == "aggregate":  # DuckDB and pandas agree cell by cell
            assert c.extra["results identical (n and NPS of every cell)"] is True
    out = capsys.readouterr().out
    assert f"== {name} (quick)" in out


def test_cli_usage_error():
    with pytest.raises(SystemExit) as exc:
        main(["--only", "no-such-benchmark"])
    assert exc.value.code == 2
