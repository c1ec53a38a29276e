"""Dashboard logic without a browser: users, password hashes, scopes, the scoped query builder."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cxlab.config import load_codebook, load_org, load_targets
from cxlab.dashboard import (
    Filters,
    User,
    clean_filters,
    company_benchmark,
    hash_password,
    kpis,
    league,
    load_users,
    nps_by,
    open_warehouse,
    pivot,
    scope_branches,
    scope_for,
    verbatims,
    verify_password,
)
from cxlab.errors import CxlabError
from cxlab.metrics import nps

ORG = load_org("params/org.yaml")
CODEBOOK = load_codebook("params/codebook.yaml")
SECRET_GZ = "广州机密原声:投诉处理太慢"


# ------------------------------------------------------------------------------ users, hashes

def test_pbkdf2_matches_rfc7914_vector():
    # RFC 7914 §11, PBKDF2-HMAC-SHA256 (P="passwd", S="salt", c=1): first 32 bytes of the DK
    # 55 ac 04 6e 56 e3 08 9f ec 16 91 c2 25 44 b6 05 f9 41 85 21 6d de 04 65 e6 8b 9d 57 c2 0d ac bc
    stored = "pbkdf2_sha256$1$salt$55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
    assert verify_password("passwd", stored)
    assert not verify_password("passwd2", stored)
    assert hash_password("passwd", iterations=1, salt="salt") == stored


def test_sha256_hashes():
    # FIPS 180-2 Appendix B.1: SHA-256("abc")
    abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert verify_password("abc", f"sha256${abc}")
    assert verify_password("c", "sha256$ab$" + abc)            # salt "ab" + password "c"
    assert not verify_password("abd", f"sha256${abc}")
    for bad in ("", "md5$abc", "pbkdf2_sha256$x$salt$00", "sha256"):
        assert not verify_password("abc", bad)


def _write_users(path, entries):
    import yaml
    path.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    return path


def test_load_users_validates(tmp_path):
    h = hash_password("pw", iterations=10)
    ok = _write_users(tmp_path / "u.yaml", {"boss": {"password_hash": h, "unit": "ALL"},
                                             "sh": {"password_hash": h, "unit": "SH01"}})
    users = load_users(ok, org=ORG)
    assert users["sh"].unit == "SH01" and verify_password("pw", users["boss"].password_hash)
    with pytest.raises(CxlabError, match="unknown unit 'XX99'"):
        load_users(_write_users(tmp_path / "a.yaml", {"x": {"password_hash": h, "unit": "XX99"}}), org=ORG)
    with pytest.raises(CxlabError, match="password_hash must be"):
        load_users(_write_users(tmp_path / "b.yaml", {"x": {"password_hash": "plain", "unit": "ALL"}}), org=ORG)
    with pytest.raises(CxlabError, match="not found"):
        load_users(tmp_path / "missing.yaml", org=ORG)


def test_scope_branches():
    assert scope_branches(ORG, "ALL") == tuple(ORG.branch_codes)
    assert scope_branches(ORG, "EAST") == ("SH01", "HZ01", "NJ01", "SU01")
    assert scope_branches(ORG, "GZ01") == ("GZ01",)
    with pytest.raises(CxlabError, match="unknown org unit"):
        scope_branches(ORG, "NOPE")
    s = scope_for(User(name="sh", password_hash="x", unit="SH01"), ORG)
    assert s.allowed(["GZ01", "SH01", "SH01", "SH01' OR '1'='1", None]) == ["SH01"]


# ------------------------------------------------------------------------------ a tiny warehouse

def _part(root, period, branch, frame):
    d = root / "responses" / f"period={period}" / f"branch={branch}"
    d.mkdir(parents=True)
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), d / "part-0.parquet")


@pytest.fixture(scope="module")
def wh(tmp_path_factory):
    """SH01: 60 responses in 2026Q2 and 2026Q3; GZ01: 50 with a planted secret comment; BJ01:
    20 (a small base)."""
    root = tmp_path_factory.mktemp("wh")
    rng = np.random.default_rng(7)
    frames = {}
    for branch, n, comment in (("SH01", 60, "上海的评论"), ("GZ01", 50, SECRET_GZ), ("BJ01", 20, "北京评论")):
        for period in ("2026Q2", "2026Q3"):
            f = pd.DataFrame({
                "response_id": [f"{branch}{period}{i}" for i in range(n)],
                "customer_id": [f"c{i}" for i in range(n)],
                "channel": rng.choice(["链接", "短信"], size=n),
                "ltr": rng.integers(0, 11, size=n),
                "csat": rng.integers(1, 6, size=n),
                "svc_attitude": rng.integers(1, 6, size=n),
                "comment": [comment] * (n - 1) + ["请联系我 13812345678"],
            })
            _part(root, period, branch, f)
            frames[(branch, period)] = f.assign(branch=branch, period=period)
    w = open_warehouse(root, codebook=CODEBOOK, org=ORG)
    yield w, pd.concat(frames.values(), ignore_index=True)
    w.close()


def _scope(unit):
    return scope_for(User(name="u", password_hash="x", unit=unit), ORG)


def test_branch_user_never_gets_another_branch(wh):
    w, raw = wh
    sh = _scope("SH01")
    for f in (Filters(branches=("GZ01",)), Filters(branches=("GZ01", "SH01")),
              Filters(dims={"region": ("华南区",)}), Filters(branches=("SH01' OR '1'='1",))):
        got = nps_by(w, f, sh, by=["branch"])
        assert set(got["branch"]) <= {"SH01"}, f
        lg = league(w, f, sh)
        assert set(lg["branch"]) <= {"SH01"}
        v = verbatims(w, f, sh, limit=1000)
        assert not any(SECRET_GZ in c for c in v["comment"])
        assert set(v["branch_name"]) <= {"上海分公司"}
        p = pivot(w, f, sh, rows="branch", cols=None, measure="count")
        assert set(p["branch"]) <= {"SH01"}
    # only out-of-scope branches asked: falls back to the whole (own) scope, never to GZ01
    got = nps_by(w, Filters(branches=("GZ01",)), sh)
    assert int(got["n"].iloc[0]) == int((raw["branch"] == "SH01").sum())


def test_sql_injection_in_values_and_columns_is_inert(wh):
    w, raw = wh
    boss = _scope("ALL")
    total = int(raw["ltr"].notna().sum())
    evil = "x') OR 1=1 --"
    assert nps_by(w, Filters(dims={"channel": (evil,)}), boss).empty
    # an unknown column name (SQL in the key) is dropped, not interpolated
    f = clean_filters(w, Filters(dims={'channel" = channel OR 1=1 --': ("链接",)}), boss)
    assert f.dims == {}
    assert int(nps_by(w, Filters(dims={'x" OR 1=1 --': ("a",)}), boss)["n"].iloc[0]) == total
    # malformed periods are dropped
    f = clean_filters(w, Filters(period_from="2026Q2' OR 1=1 --", period_to="2026Q3"), boss)
    assert f.period_from is None and f.period_to == "2026Q3"
    with pytest.raises(ValueError, match="unknown dimension"):
        pivot(w, Filters(), boss, rows="ltr; DROP TABLE dash", cols=None, measure="count")


def test_nps_equals_metrics_nps_on_the_same_slice(wh):
    w, raw = wh
    east = _scope("EAST")
    f = Filters(period_from="2026Q2", period_to="2026Q3", dims={"channel": ("链接",)})
    got = nps_by(w, f, east).iloc[0]
    sl = raw[(raw["branch"] == "SH01") & (raw["channel"] == "链接")]
    assert len(sl) >= 30
    want = nps(sl.astype({"ltr": float}), score="ltr").iloc[0]
    assert got["n"] == want["n"]
    for c in ("nps", "se", "ci_low", "ci_high"):
        assert got[c] == pytest.approx(want[c], rel=1e-9)
    k = kpis(w, f, east, load_targets("params/targets.yaml")).set_index("kpi")
    assert k.loc["nps", "value"] == pytest.approx(want["nps"], rel=1e-9)
    csat_want = 100 * (sl["csat"] >= 4).mean()   # csat5 top-2 = 4, 5
    assert k.loc["csat", "value"] == pytest.approx(csat_want, rel=1e-9)


def test_company_benchmark_is_the_whole_company(wh):
    w, raw = wh
    b = company_benchmark(w, Filters(period_from="2026Q3", period_to="2026Q3", branches=("SH01",)))
    sl = raw[raw["period"] == "2026Q3"]
    assert b["n"] == len(sl)
    assert b["nps"] == pytest.approx(nps(sl.astype({"ltr": float})).iloc[0]["nps"], rel=1e-9)
    # kept per period range (the table never changes): other periods get their own figure, and
    # other filters (branch, channel) the same company figure
    both = company_benchmark(w, Filters(period_from="2026Q2", period_to="2026Q3"))
    assert both["n"] == len(raw)
    again = company_benchmark(w, Filters(period_from="2026Q3", period_to="2026Q3",
                                         dims={"channel": ("短信",)}))
    assert again == b and set(w.benchmarks) >= {("2026Q3", "2026Q3"), ("2026Q2", "2026Q3")}


def test_small_bases_are_blank(wh):
    w, raw = wh
    boss = _scope("ALL")
    f = Filters(period_from="2026Q3", period_to="2026Q3")
    lg = league(w, f, boss).set_index("branch")
    assert lg.loc["BJ01", "n"] == 20 and np.isnan(lg.loc["BJ01", "nps"])
    assert pd.isna(lg.loc["BJ01", "rank"]) and not np.isnan(lg.loc["SH01", "nps"])
    assert list(lg["rank"].dropna()) == list(range(1, len(lg["rank"].dropna()) + 1))
    p = pivot(w, f, boss, rows="branch", cols=None, measure="top2", item="svc_attitude").set_index("branch")
    assert np.isnan(p.loc["BJ01", "value"])
    sh = raw[(raw["branch"] == "SH01") & (raw["period"] == "2026Q3")]
    assert p.loc["SH01", "value"] == pytest.approx(100 * (sh["svc_attitude"] >= 4).mean(), rel=1e-9)
    m = pivot(w, f, boss, rows="branch", cols="channel", measure="mean", item="svc_attitude")
    cell = m[(m["branch"] == "SH01") & (m["channel"] == "链接")].iloc[0]
    want = sh[sh["channel"] == "链接"]["svc_attitude"]
    assert cell["n"] == len(want)
    if len(want) >= 30:
        assert cell["value"] == pytest.approx(want.mean(), rel=1e-9)
    else:
        assert np.isnan(cell["value"])
    c = pivot(w, f, boss, rows="branch", cols=None, measure="count").set_index("branch")
    assert c.loc["BJ01", "value"] == 20   # counts are not suppressed


@pytest.mark.parametrize("counts", [(5, 3, 2), (0, 0, 1), (40, 0, 0), (0, 7, 0), (1, 1, 1),
                                    (12345, 6789, 4321), (29, 1, 0)])
def test_nps_from_counts_equals_metrics_nps(counts):
    from cxlab.dashboard import nps_from_counts
    from cxlab.metrics._nps import scores_from_counts

    got = nps_from_counts(*counts)
    want = nps(scores_from_counts(*counts)).iloc[0]
    for c in ("n", "promoters", "passives", "detractors", "pct_promoters", "pct_passives",
              "pct_detractors", "nps", "se", "ci_low", "ci_high"):
        # nan_ok: the se of a single answer is undefined (n/(n-1) convention, issue 22)
        assert got[c] == pytest.approx(want[c], rel=1e-12, abs=1e-12, nan_ok=True), c


def test_nps_from_counts_random_counts():
    from cxlab.dashboard import nps_from_counts
    from cxlab.metrics._nps import scores_from_counts

    rng = np.random.default_rng(21)
    for p, pas, d in rng.integers(0, 400, size=(40, 3)):
        if p + pas + d == 0:
            continue
        want = nps(scores_from_counts(p, pas, d)).iloc[0]
        got = nps_from_counts(p, pas, d)
        assert [got[c] for c in ("nps", "se", "ci_low", "ci_high")] == pytest.approx(
            [want[c] for c in ("nps", "se", "ci_low", "ci_high")], rel=1e-12, abs=1e-12)


def test_touchpoints_match_pandas(wh):
    from cxlab.dashboard import touchpoints

    w, raw = wh
    t = touchpoints(w, Filters(journey=("售后服务",)), _scope("EAST")).set_index("item")
    assert list(t.index) == ["svc_attitude"]          # the only 售后服务 item in the tiny warehouse
    sh = raw.loc[raw["branch"] == "SH01", "svc_attitude"]
    assert t.loc["svc_attitude", "n"] == len(sh)
    assert t.loc["svc_attitude", "mean"] == pytest.approx(sh.mean(), rel=1e-9)
    assert t.loc["svc_attitude", "top2"] == pytest.approx(100 * (sh >= 4).mean(), rel=1e-9)
    assert touchpoints(w, Filters(touchpoint=("产品外观",)), _scope("EAST")).empty


def test_verbatims_are_redacted(wh):
    w, _ = wh
    v = verbatims(w, Filters(), _scope("SH01"), limit=1000)
    assert len(v) == 120
    assert not any("13812345678" in c for c in v["comment"])
    assert any("[电话]" in c for c in v["comment"])


def test_saved_views_are_per_user(tmp_path):
    from cxlab.dashboard._views import delete_view, list_views, load_view, save_view

    save_view(tmp_path, "sh", "大客户", {"customer_type": ["大客户"], "period_from": "2026Q1"})
    save_view(tmp_path, "../../etc/passwd", "x", {"a": 1})     # the file name is a hash
    assert list_views(tmp_path, "sh") == ["大客户"]
    assert list_views(tmp_path, "east") == []
    assert load_view(tmp_path, "sh", "大客户") == {"customer_type": ["大客户"], "period_from": "2026Q1"}
    assert load_view(tmp_path, "east", "大客户") == {}
    files = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*.json"))
    assert len(files) == 2 and all(p.parts[:2] == ("_dashboard", "views") for p in files)
    with pytest.raises(CxlabError, match="view name"):
        save_view(tmp_path, "sh", "   ", {})
    delete_view(tmp_path, "sh", "大客户")
    assert list_views(tmp_path, "sh") == []


def test_cli_refuses_missing_or_in_repo_users_file(tmp_path, monkeypatch, capsys):
    from pathlib import Path

    from cxlab.cli import main

    monkeypatch.delenv("CXLAB_DASHBOARD_USERS", raising=False)
    assert main(["dashboard", "--warehouse", str(tmp_path)]) == 1
    assert "CXLAB_DASHBOARD_USERS" in capsys.readouterr().err
    inside = Path("params") / "dashboard-users-test.yaml"       # inside the project folder
    try:
        _write_users(inside, {"boss": {"password_hash": hash_password("pw", iterations=10),
                                       "unit": "ALL"}})
        assert main(["dashboard", "--users", str(inside), "--warehouse", str(tmp_path)]) == 1
        assert "outside the project folder" in capsys.readouterr().err
    finally:
        inside.unlink(missing_ok=True)


def test_cli_hash_password(monkeypatch, capsys):
    import io

    from cxlab.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret\n"))
    assert main(["dashboard", "--hash-password"]) == 0
    assert verify_password("s3cret", capsys.readouterr().out.strip())


def test_forged_widget_values_are_reset_on_the_server(wh):
    """What a hand-crafted websocket message can do: set widget values. Out-of-scope values are
    reset before any query, and no pane carries another branch's data."""
    import threading

    from cxlab.dashboard._app import Dashboard

    w, _ = wh
    d = Dashboard(w, _scope("SH01"), load_targets("params/targets.yaml"), lock=threading.Lock())

    def panes() -> str:
        for i in range(len(d.tabs)):   # tabs are brought up to date when shown
            d.tabs.active = i
        d.tabs.active = 0
        return "".join(str(p.object) for p in (
            d.kpi_pane, d.trend_table, d.league_pane, d.pivot_pane, d.touch_pane, d.verb_pane))
    assert "上海分公司" in panes()
    d.branch.value = ["GZ01"]
    assert d.branch.value == []
    d.dim_widgets["region"].value = ["华南区"]
    assert d.dim_widgets["region"].value == []
    d.rows.value = "branch"
    d.rows.value = "ltr; DROP TABLE dash"
    assert d.rows.value in w.dimensions
    assert d.rejected.visible
    text = panes()
    assert "广州" not in text and SECRET_GZ not in text and "北京分公司" not in text
    assert "上海分公司" in text


def test_a_filter_change_updates_the_shown_tab_and_the_others_when_shown(wh):
    """Lazy tabs: a filter change runs the shown tab's queries only; another tab is brought up
    to date (to the same filters) when it is shown, and the status line says which are."""
    import threading

    from cxlab.dashboard._app import Dashboard

    w, _ = wh
    d = Dashboard(w, _scope("ALL"), load_targets("params/targets.yaml"), lock=threading.Lock())
    league = next(i for i, views in enumerate(d._tab_views) if views == ("league",))
    assert d.league_pane.object == ""                     # never shown: never queried
    assert 'data-fresh="0"' in d.status_pane.object
    d.tabs.active = league
    assert "广州" in d.league_pane.object and "北京" in d.league_pane.object
    d.tabs.active = 0
    before = d.league_pane.object
    d.branch.value = ["SH01"]                               # filter change on the KPI tab
    assert d.league_pane.object == before                   # stale until shown
    assert 'data-fresh="0"' in d.status_pane.object
    d.tabs.active = league
    assert "上海" in d.league_pane.object and "广州" not in d.league_pane.object
    assert f'data-fresh="0,{league}"' in d.status_pane.object


def test_login_throttle_backs_off_per_key():
    from cxlab.dashboard._throttle import LoginThrottle

    now = [1000.0]
    t = LoginThrottle(free=3, base=30, cap=120, window=900, clock=lambda: now[0])
    for _ in range(3):
        assert t.wait("user:a") == 0
        t.failed("user:a")
    assert t.wait("user:a") == 0                       # the free attempts
    t.failed("user:a")                                 # 4th failure: locked 30 s
    assert t.wait("user:a") == 30 and t.wait("user:b") == 0
    now[0] += 29
    assert t.wait("user:a") == pytest.approx(1)
    now[0] += 1
    assert t.wait("user:a") == 0
    t.failed("user:a")                                 # 5th: 60 s, then 120 s (the cap)
    assert t.wait("user:a") == 60
    now[0] += 60
    t.failed("user:a")
    assert t.wait("user:a") == 120
    now[0] += 120
    t.failed("user:a")
    assert t.wait("user:a") == 120
    t.succeeded("user:a")
    assert t.wait("user:a") == 0
    t.failed("user:c")
    now[0] += 901                                      # old failures are forgotten
    for _ in range(3):
        t.failed("user:c")
    assert t.wait("user:c") == 0


def test_a_filter_change_queries_the_shown_tab_once_and_is_not_debounced(wh, monkeypatch):
    """The KPI tab's cards and trend come from one computation per change (not one per view);
    the filter widgets and the tabs are exempt from Panel's 50 ms debounce of browser changes
    (``Syncable._priority_changes``), the other widgets keep it."""
    import threading

    from cxlab.dashboard import _app

    w, _ = wh
    d = _app.Dashboard(w, _scope("ALL"), load_targets("params/targets.yaml"), lock=threading.Lock())
    calls = []
    real = _app.kpis
    monkeypatch.setattr(_app, "kpis", lambda *a, **k: calls.append(1) or real(*a, **k))
    d.branch.value = ["SH01"]
    assert len(calls) == 1
    for widget in d.synced.values():
        assert "value" in widget._priority_changes
    assert "active" in d.tabs._priority_changes
    assert "value" not in d.view_name._priority_changes
    assert "value" not in type(d.period_from)._priority_changes   # the class is untouched


def test_warm_up_builds_a_company_dashboard_without_writing(wh):
    import threading

    from cxlab.dashboard._app import warm_up

    w, _ = wh
    before = sorted(p.relative_to(w.root) for p in w.root.rglob("*"))
    warm_up(w, load_targets("params/targets.yaml"), lock=threading.Lock())
    assert sorted(p.relative_to(w.root) for p in w.root.rglob("*")) == before
