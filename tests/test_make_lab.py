"""`make lab` runs as root (--allow-root when uid 0) and passes LAB_ARGS through (dry run)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_make_lab_allow_root_and_extra_flags():
    out = subprocess.run(["make", "-n", "lab", "LAB_ARGS=--port 8899 --no-browser"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=True).stdout
    line = next(ln for ln in out.splitlines() if "jupyter lab" in ln)
    assert line.rstrip().endswith("--port 8899 --no-browser")
    assert "--notebook-dir=cxlab/notebooks" in line
    assert ("--allow-root" in line) == (os.getuid() == 0)
