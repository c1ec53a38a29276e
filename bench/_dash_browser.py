"""Filter changes timed in a real browser (Playwright driving Debian's Chromium) against
``cxlab dashboard`` serving a warehouse on a loopback port.

Each change sets one filter widget's value through BokehJS (what a click does: the browser
sends the new value over the websocket, the server re-queries and sends the new figures back)
and waits until the page has the server's answer: the refresh counter of the status line
(``#cx-refresh``, written last by ``Dashboard.refresh``) has gone up and a frame was painted.
The time is ``performance.now()`` in the page, from the change to that frame.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench._common import ROOT

__all__ = ["chromium", "time_filter_changes"]

#: the filter widgets a change picks from (their titles in the page)
WIDGETS = ("起始期间", "截止期间", "机构", "渠道", "行", "列", "指标")
#: the pivot's own widgets: changed with the pivot tab shown
PIVOT_WIDGETS = ("行", "列", "指标")
#: the tabs a sidebar filter change is made on (one drawn at random per change)
TABS = ("KPI 与趋势", "机构排名", "透视分析")

_SETUP = """() => {
  const doc = window.Bokeh.documents[0];
  const models = [...doc.all_models];
  const stamp = models.find(m => typeof m.text === "string" && m.text.includes("cx-refresh"));
  const widgets = {};
  for (const m of models)
    if (typeof m.title === "string" && "value" in m && "options" in m) widgets[m.title] = m;
  const tabs = models.find(m => Array.isArray(m.tabs) && m.tabs.length && "active" in m);
  window.__cx = {stamp, widgets, tabs};
  const n = () => Number((stamp.text.match(/data-n=(?:&quot;|\\\\?")(\\d+)/) || [0, -1])[1]);
  window.__cx.n = n;
  const opts = {};
  for (const [t, m] of Object.entries(widgets))
    opts[t] = {multi: Array.isArray(m.value), value: m.value,
               options: m.options.map(o => Array.isArray(o) ? o[0] : o)};
  const titles = tabs ? tabs.tabs.map(t => t.title) : [];
  return {n: n(), widgets: opts, tabs: titles};
}"""

_SHOW_TAB = """async (i) => {
  const {tabs, stamp} = window.__cx;
  const frame = () => new Promise(r => requestAnimationFrame(() => r()));
  const fresh = () => ((stamp.text.match(/data-fresh=(?:&quot;|\\?")([0-9,]*)/) || [0, ""])[1])
                        .split(",").includes(String(i));
  tabs.active = i;
  const t0 = performance.now();
  while (!fresh()) {
    if (performance.now() - t0 > 60000) throw new Error("tab not updated within 60 s");
    await frame();
  }
}"""

_CHANGE = """async ([title, value]) => {
  const {widgets, n} = window.__cx;
  const frame = () => new Promise(r => requestAnimationFrame(() => r()));
  const n0 = n();
  const t0 = performance.now();
  widgets[title].value = value;
  while (n() <= n0) {
    if (performance.now() - t0 > 60000) throw new Error("no refresh within 60 s");
    await frame();
  }
  await frame();
  return {ms: performance.now() - t0, n: n(), text: window.__cx.stamp.text};
}"""


def chromium() -> str | None:
    """Debian's Chromium, or None."""
    return shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists()
                                        else None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _changes(widgets: dict, n: int, seed: int) -> list[tuple[str, str, object]]:
    """``n`` (tab shown, widget title, new value), each value different from the widget's
    current one (an unchanged value sends nothing to the server); pivot widgets are changed on
    the pivot tab, the sidebar's filters on a tab drawn at random."""
    rng = np.random.default_rng(seed)
    titles = [t for t in WIDGETS if t in widgets]
    current = {t: widgets[t]["value"] for t in titles}
    out = []
    while len(out) < n:
        t = str(rng.choice(titles))
        opts = widgets[t]["options"]
        if widgets[t]["multi"]:
            k = int(rng.integers(0, min(3, len(opts)) + 1))
            value = sorted(str(v) for v in rng.choice(opts, k, replace=False)) if k else []
            same = value == sorted(current[t] or [])
        else:
            value = str(rng.choice(opts))
            same = value == current[t]
        if not same:
            current[t] = value
            tab = "透视分析" if t in PIVOT_WIDGETS else str(rng.choice(TABS))
            out.append((tab, t, value))
    return out


def time_filter_changes(warehouse: Path, *, unit: str, n_changes: int, seed: int = 1,
                        tmp: Path) -> dict:
    """Serve ``warehouse``, log in as a user of ``unit`` and time ``n_changes`` random filter
    changes in the browser; {"ms": [...], "server_start_s": s, "skipped": reason or None}."""
    exe = chromium()
    if exe is None:
        return {"skipped": "Debian's chromium is not installed (apt-get install chromium)"}
    import yaml
    from playwright.sync_api import sync_playwright

    from cxlab.dashboard import hash_password

    users = tmp / "users.yaml"
    users.write_text(yaml.safe_dump({"bench": {"password_hash": hash_password("bench-pw",
                                                                              iterations=2000),
                                               "unit": unit}}))
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    log = open(tmp / "dashboard.log", "w")
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "cxlab", "dashboard", "--port", str(port),
                             "--warehouse", str(warehouse), "--users", str(users)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 300
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("cxlab dashboard did not start: "
                                       + (tmp / "dashboard.log").read_text()[-500:]) from None
                time.sleep(0.2)
        started = time.perf_counter() - t0
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(f"http://127.0.0.1:{port}/login")
            page.fill("#username", "bench")
            page.fill("#password", "bench-pw")
            page.click("#login-submit")
            page.wait_for_selector("#cx-refresh", timeout=300_000)
            page.wait_for_load_state("networkidle")
            state = page.evaluate(_SETUP)
            missing = [t for t in ("起始期间", "截止期间", "行") if t not in state["widgets"]]
            if missing:
                raise RuntimeError(f"dashboard widgets not found in the page: {missing}")
            ms = []
            for tab, title, value in _changes(state["widgets"], n_changes, seed):
                if tab in state["tabs"]:       # shown first, untimed
                    page.evaluate(_SHOW_TAB, state["tabs"].index(tab))
                    page.wait_for_timeout(50)
                got = page.evaluate(_CHANGE, [title, value])
                ms.append(got["ms"])
                if os.environ.get("CXLAB_BENCH_DEBUG"):
                    print(tab, title, value, round(got["ms"]), got.get("text", "")[-60:],
                          flush=True)
                page.wait_for_timeout(50)   # let a trailing refresh (if any) land first
            browser.close()
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
    return {"ms": ms, "server_start_s": started, "skipped": None}
