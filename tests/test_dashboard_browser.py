"""The dashboard in a real browser: Playwright drives Debian's Chromium against `cxlab dashboard`
started on a free loopback port with a sample warehouse (3,000 responses).

Checked for the company, a region and a branch user: login, figures equal `cxlab.metrics.nps` on
the same slice after a filter (URL and widget), and no out-of-scope data (another branch's name,
code or verbatim) in the page or in any HTTP response or websocket frame, even with a
hand-edited URL.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
if CHROMIUM is None and os.environ.get("CI") != "true":
    pytest.skip("Debian's chromium is not installed (apt-get install chromium); CI requires it",
                allow_module_level=True)
from playwright.sync_api import sync_playwright  # noqa: E402  (a dev dependency)

USERS = {"boss": ("ALL", "boss-pw-1"), "east": ("EAST", "east-pw-2"), "sh": ("SH01", "sh-pw-3"),
         "gz": ("GZ01", "gz-pw-4")}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from cxlab.config import load_org
    from cxlab.dashboard import hash_password
    from cxlab.datasets import make_sample_data
    from cxlab.io import ingest, load_responses

    tmp = tmp_path_factory.mktemp("dash")
    make_sample_data(tmp / "raw", seed=3, responses=3000, codebook=ROOT / "params/codebook.yaml",
                     org=ROOT / "params/org.yaml")
    ingest([tmp / "raw"], warehouse=tmp / "wh", codebook=ROOT / "params/codebook.yaml",
           sources=ROOT / "params/sources.yaml", org=ROOT / "params/org.yaml",
           quarantine_dir=tmp / "q")
    users = tmp / "secrets" / "users.yaml"
    users.parent.mkdir()
    users.write_text(yaml.safe_dump({name: {"password_hash": hash_password(pw, iterations=2000),
                                            "unit": unit} for name, (unit, pw) in USERS.items()}))
    port = _free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("CXLAB_DASHBOARD_USERS", None)
    log = open(tmp / "server.log", "w")
    proc = subprocess.Popen([sys.executable, "-m", "cxlab", "dashboard", "--port", str(port),
                             "--warehouse", str(tmp / "wh"), "--users", str(users)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 90
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError((tmp / "server.log").read_text()) from None
            time.sleep(0.3)
    # the sample params weight the reports (params/weighting.yaml): the dashboard built the
    # reports' weights table before listening; the expected figures use the same weights
    from cxlab.report._aggregates import load_weights

    resp = load_responses(tmp / "wh")
    w, _ = load_weights(tmp / "wh")
    resp = resp.assign(period=resp["period"].astype(str), response_id=resp["response_id"].astype(str))
    resp = resp.merge(w.assign(period=w["period"].astype(str), response_id=w["response_id"].astype(str))
                      [["period", "response_id", "weight"]], on=["period", "response_id"], how="left")
    assert resp["weight"].notna().all()
    yield {"url": f"http://127.0.0.1:{port}", "responses": resp,
           "org": load_org(ROOT / "params/org.yaml"), "warehouse": tmp / "wh"}
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


_DOM_TEXT = """() => {
  const out = [];
  const walk = (n) => {
    if (n.shadowRoot) walk(n.shadowRoot);
    if (n.attributes) for (const a of n.attributes) out.push(a.value);
    if (n.value !== undefined && typeof n.value === "string") out.push(n.value);
    for (const c of n.childNodes) { if (c.nodeType === 3) out.push(c.textContent); else walk(c); }
  };
  walk(document.documentElement);
  return out.join("\\n");
}"""


class Session:
    """A logged-in page that records every HTTP response body and websocket frame."""

    def __init__(self, browser, base: str, user: str):
        self.base, self.traffic = base, []
        self.ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
        self.page = self.ctx.new_page()
        self.page.on("websocket", lambda ws: ws.on("framereceived", self._frame))
        self.page.on("response", self._response)
        self.page.goto(f"{base}/login")
        self.page.fill("#username", user)
        self.page.fill("#password", USERS[user][1])
        self.page.click("#login-submit")
        self.page.wait_for_load_state("networkidle")

    def _frame(self, payload):
        self.traffic.append(payload if isinstance(payload, str) else payload.decode("utf-8", "replace"))

    def _response(self, resp):
        if "/static/" in resp.url:   # Panel/Bokeh's JS and CSS bundles: the same for every user
            return
        try:
            self.traffic.append(resp.text())
        except Exception:  # redirects and aborted requests have no body
            pass

    def open(self, query: str = "") -> None:
        self.page.goto(f"{self.base}/{query}")
        self.page.wait_for_selector("#cx-nps", timeout=60_000)
        self.page.wait_for_load_state("networkidle")

    def nps_shown(self) -> str:
        return self.page.locator("#cx-nps").inner_text().strip()

    def wait_nps(self, want: str, timeout: float = 30) -> str:
        """The NPS shown once it equals ``want`` or ``timeout`` seconds passed (updates arrive
        over the websocket after a filter change)."""
        deadline = time.monotonic() + timeout
        while (got := self.nps_shown()) != want and time.monotonic() < deadline:
            time.sleep(0.2)
        return got

    def wait_fresh(self, tab: int, timeout: float = 30) -> None:
        """Wait until tab ``tab`` shows the current filters (tabs are queried when shown; the
        status line lists the up-to-date ones)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            fresh = self.page.locator("#cx-refresh").get_attribute("data-fresh") or ""
            if str(tab) in fresh.split(","):
                return
            time.sleep(0.1)
        raise AssertionError(f"tab {tab} not brought up to date within {timeout} s")

    def dom_text(self) -> str:
        """Every text node, input value and attribute value of the page, shadow roots included
        (Panel renders its components in shadow DOM, which ``inner_text`` does not enter)."""
        return self.page.evaluate(_DOM_TEXT)

    def all_text(self) -> str:
        """The DOM text after each tab was shown, plus all recorded traffic."""
        texts = []
        for i, tab in enumerate(self.page.locator(".bk-tab").all()):
            tab.click()
            self.wait_fresh(i)
            texts.append(self.dom_text())
        return "\n".join(texts + self.traffic)

    def close(self):
        self.ctx.close()


def _shot(s: Session, name: str) -> None:
    """A full-page screenshot into $CXLAB_SHOTS (when set), to look at by eye."""
    if os.environ.get("CXLAB_SHOTS"):
        s.page.screenshot(path=str(Path(os.environ["CXLAB_SHOTS"]) / f"dashboard-{name}.png"),
                          full_page=True)


def _q(**params) -> str:
    return "?" + "&".join(f"{k}={quote(v if isinstance(v, str) else json.dumps(v, ensure_ascii=False))}"
                          for k, v in params.items())


def _expected_nps(responses, branches, periods) -> str:
    """The reports' (weighted) NPS of the slice: cxlab.metrics.nps with the survey weights."""
    from cxlab.metrics import nps

    sl = responses[responses["branch"].isin(branches) & responses["period"].isin(periods)]
    return f"{nps(sl.astype({'ltr': float}), score='ltr', weight='weight').iloc[0]['nps']:.1f}"


def _forms(text: str) -> tuple[str, str]:
    """The text as written and JSON-escaped (Bokeh sends non-ASCII as \\uXXXX)."""
    return text, json.dumps(text)[1:-1]


def _leaks(haystack: str, needles, *, token: bool = False) -> list[str]:
    """The needles found in the haystack (as written or JSON-escaped). ``token=True`` matches
    whole tokens only (branch codes: four letters/digits also occur by chance inside base64
    data and hashes)."""
    if token:
        return sorted({n for n in needles
                       if re.search(rf"(?<![A-Za-z0-9]){re.escape(n)}(?![A-Za-z0-9])", haystack)})
    return sorted({n for n in needles for f in _forms(n) if f in haystack})


def _other_verbatims(responses, own: set[str]) -> set[str]:
    """Comments (as written and redacted) from other branches that occur nowhere in the
    user's own comments (the sample data shares phrases between branches)."""
    from cxlab.text import redact

    c = responses.dropna(subset=["comment"])
    is_own = c["branch"].isin(own)
    mine, others = set(c.loc[is_own, "comment"]), set(c.loc[~is_own, "comment"])
    red = {t: redact(t) for t in mine | others}
    blob = "\n".join(mine | {red[m] for m in mine})
    cands = {t for t in others if len(t) >= 8} | {red[t] for t in others if len(red[t]) >= 8}
    return {t for t in cands if t not in blob}


def test_login_required(server):
    req = urllib.request.Request(server["url"] + "/")

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None

    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.build_opener(NoRedirect).open(req, timeout=10)
    assert err.value.code == 302 and "/login" in err.value.headers["Location"]


def test_wrong_password_is_refused(server, browser):
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(server["url"] + "/login")
    page.fill("#username", "sh")
    page.fill("#password", "sh-pw-WRONG")
    page.click("#login-submit")
    page.wait_for_load_state("networkidle")
    assert "/login" in page.url and page.locator("#cx-nps").count() == 0
    ctx.close()


def test_company_user_sees_every_branch_and_figures_match(server, browser):
    s = Session(browser, server["url"], "boss")
    try:
        s.open(_q(period_from="2026Q3", period_to="2026Q3"))
        org, resp = server["org"], server["responses"]
        want = _expected_nps(resp, org.branch_codes, ["2026Q3"])
        assert s.wait_nps(want) == want
        # a filter through the widget: the start period's <select>
        s.page.locator("select").first.select_option("2026Q2")
        want = _expected_nps(resp, org.branch_codes, ["2026Q2", "2026Q3"])
        assert s.wait_nps(want) == want
        assert "period_from=2026Q2" in s.page.url            # the filter lives in the URL
        text = s.all_text()
        # positive control: the leak check below can fail
        assert _leaks(text, [b.name for b in org.branches]) == sorted(b.name for b in org.branches)
        _shot(s, "company")
    finally:
        s.close()


@pytest.mark.parametrize("user", ["east", "sh"])
def test_scoped_user_gets_nothing_outside_scope(server, browser, user):
    from cxlab.dashboard import scope_branches

    org, resp = server["org"], server["responses"]
    own = set(scope_branches(org, USERS[user][0]))
    others = [b for b in org.branches if b.code not in own]
    s = Session(browser, server["url"], user)
    try:
        # hand-edited URL: another branch, another region, a forged pivot dimension
        s.open(_q(period_from="2026Q3", period_to="2026Q3", branch=["GZ01", "BJ01"],
                  region=["华南区"], rows="branch"))
        want = _expected_nps(resp, own, ["2026Q3"])
        assert s.wait_nps(want) == want
        voice = s.page.locator(".bk-tab", has_text="客户原声")
        voice.click()
        s.wait_fresh(s.page.locator(".bk-tab").all_inner_texts().index("客户原声"))
        assert "原声(已脱敏)" in s.dom_text()
        text = s.all_text()
        assert _leaks(text, [b.name for b in others]) == []
        typed = {"GZ01", "BJ01"}          # echoed back from the URL the user typed, not data
        assert _leaks(text, [b.code for b in others if b.code not in typed], token=True) == []
        other_regions = {org.region_name(b.code) for b in others} - {org.region_name(c) for c in own}
        assert _leaks(text, other_regions - {"华南区"}) == []
        assert _leaks(text, _other_verbatims(resp, own)) == []
        # positive control: the own branches' names do arrive
        assert _leaks(text, [org.branch(c).name for c in own]) == sorted(org.branch(c).name for c in own)
        s.page.locator(".bk-tab").first.click()
        _shot(s, user)
    finally:
        s.close()


def test_saved_view_round_trip(server, browser):
    resp = server["responses"]
    channel = sorted(resp.loc[resp["branch"] == "SH01", "channel"].dropna().unique())[0]
    s = Session(browser, server["url"], "sh")
    try:
        s.open(_q(channel=[channel]))
        want = _expected_nps(resp[resp["channel"] == channel], ["SH01"], sorted(resp["period"].unique()))
        assert s.wait_nps(want) == want
        name = "我的渠道视图"
        box = s.page.locator("input[placeholder^='例如']")
        box.fill(name)
        box.press("Enter")
        s.page.locator("button", has_text="保存视图").click()
        s.page.wait_for_timeout(500)
        assert f"已保存:{name}" in s.dom_text()
        s.open("")                                   # no filter in the URL
        overall = _expected_nps(resp, ["SH01"], sorted(resp["period"].unique()))
        assert s.wait_nps(overall) == overall
        s.page.locator("select", has=s.page.locator("option", has_text=name)).select_option(name)
        s.page.locator("button", has_text="打开视图").click()
        assert s.wait_nps(want) == want
    finally:
        s.close()


def _post_login(base: str, user: str, password: str):
    """POST the login form without following redirects: (status, Location, body)."""
    from urllib.parse import urlencode

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *a, **k):
            return None

    req = urllib.request.Request(base + "/login", method="POST",
                                 data=urlencode({"username": user, "password": password}).encode())
    try:
        with urllib.request.build_opener(NoRedirect).open(req, timeout=30) as r:
            return r.status, r.headers.get("Location", ""), r.read().decode()
    except urllib.error.HTTPError as err:
        return err.code, err.headers.get("Location", ""), err.read().decode()


def test_login_rate_limit(server):
    """Five wrong passwords of one user name are free; the sixth locks the name for 30 s: the
    next attempt, even with the right password, is refused with 429 and Retry-After."""
    from urllib.parse import quote as q

    base = server["url"]
    for _ in range(6):
        status, loc, _ = _post_login(base, "gz", "wrong-password")
        assert status == 302 and "error=" + q("用户名或密码错误。") in loc
    status, loc, body = _post_login(base, "gz", USERS["gz"][1])
    assert status == 429 and "登录失败次数过多" in body
    # another user from the same address is not locked (the address allows 20 failures)
    status, loc, _ = _post_login(base, "sh", USERS["sh"][1])
    assert status == 302 and "error=" not in loc
