"""Tests for cxlab.ipa: R's attitude data (published means and correlations), rules, properties.

Provenance of the published values: tests/reference/ipa_attitude.md.
"""

from __future__ import annotations

import types

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlab.ipa import analyze

ITEMS = ["complaints", "privileges", "learning", "raises", "critical", "advance"]

# R `summary(attitude)`, row "Mean" (printed to 4 significant digits)
PUBLISHED_MEAN = {
    "complaints": 66.6,  # summary(attitude): Mean :66.6
    "privileges": 53.13,  # summary(attitude): Mean :53.13
    "learning": 56.37,  # summary(attitude): Mean :56.37
    "raises": 64.63,  # summary(attitude): Mean :64.63
    "critical": 74.77,  # summary(attitude): Mean :74.77
    "advance": 42.93,  # summary(attitude): Mean :42.93
}
# R `cor(attitude)`, row "rating" (printed to 7 decimals)
PUBLISHED_COR = {
    "complaints": 0.8254176,  # cor(attitude)["rating", "complaints"]
    "privileges": 0.4261169,  # cor(attitude)["rating", "privileges"]
    "learning": 0.6236782,  # cor(attitude)["rating", "learning"]
    "raises": 0.5901390,  # cor(attitude)["rating", "raises"]
    "critical": 0.1564392,  # cor(attitude)["rating", "critical"]
    "advance": 0.1550863,  # cor(attitude)["rating", "advance"]
}
# Worked by hand from the two printed tables (tests/reference/ipa_attitude.md): crosshair at
# mean performance 59.74 and mean importance 0.4628.
HAND_QUADRANT = {
    "complaints": "keep_up",
    "privileges": "low_priority",
    "learning": "concentrate_here",
    "raises": "keep_up",
    "critical": "possible_overkill",
    "advance": "low_priority",
}


@pytest.fixture(scope="module")
def attitude(reference_data) -> pd.DataFrame:
    return pd.read_csv(reference_data / "attitude.csv").drop(columns="rownames")


@pytest.fixture(scope="module")
def attitude_ipa(attitude) -> pd.DataFrame:
    return analyze(attitude, items=ITEMS, outcome="rating")


def test_attitude_performance_is_published_mean(attitude_ipa):
    got = attitude_ipa.set_index("item")["performance"]
    for item, value in PUBLISHED_MEAN.items():
        assert got[item] == pytest.approx(value, abs=0.005), item  # half a printed unit


def test_attitude_importance_is_published_correlation(attitude_ipa):
    got = attitude_ipa.set_index("item")["importance"]
    for item, value in PUBLISHED_COR.items():
        assert got[item] == pytest.approx(value, abs=5e-8), item  # half a printed unit


def test_attitude_quadrants_and_problems(attitude_ipa):
    res = attitude_ipa.set_index("item")
    assert res["quadrant"].to_dict() == HAND_QUADRANT
    problem = {"concentrate_here": "主要问题", "low_priority": "次要问题",
               "keep_up": "无", "possible_overkill": "无"}
    assert res["problem"].to_dict() == {k: problem[v] for k, v in HAND_QUADRANT.items()}
    cross = attitude_ipa.attrs["crosshair"]
    # mean of the published means / correlations (tests/reference/ipa_attitude.md)
    assert cross["performance"] == pytest.approx(59.74, abs=0.005)
    assert cross["importance"] == pytest.approx(0.4628, abs=5e-5)


def test_attitude_priority(attitude_ipa):
    res = attitude_ipa.set_index("item")
    assert res.loc["learning", "priority"] == 1  # the only concentrate_here item
    assert sorted(res["priority"]) == list(range(1, 7))
    # the rest follow decreasing gap = z(importance) - z(performance), from the published values
    imp = pd.Series(PUBLISHED_COR)
    perf = pd.Series(PUBLISHED_MEAN)
    gap = (imp - imp.mean()) / imp.std() - (perf - perf.mean()) / perf.std()
    rest = gap.drop("learning").sort_values(ascending=False).index.tolist()
    assert res.drop("learning").sort_values("priority").index.tolist() == rest
    assert res["gap"].to_numpy() == pytest.approx(gap[ITEMS].to_numpy(), abs=1e-3)


def test_columns_and_labels(attitude):
    res = analyze(attitude, items=ITEMS, outcome="rating", labels={"complaints": "投诉处理"})
    assert list(res.columns) == ["item", "label", "performance", "importance", "quadrant",
                                 "priority", "problem", "gap"]
    assert res["item"].tolist() == ITEMS
    assert res["label"].tolist() == ["投诉处理", *ITEMS[1:]]


def test_does_not_mutate_input(attitude):
    before = attitude.copy()
    analyze(attitude, items=ITEMS, outcome="rating")
    pd.testing.assert_frame_equal(attitude, before)


# ---------------------------------------------------------------- stated importance, crosshairs


@pytest.fixture
def five_point() -> pd.DataFrame:
    return pd.DataFrame({
        "speed": [2, 2, 3, 3],  # mean 2.5
        "staff": [4, 4, 5, 5],  # mean 4.5
        "price": [3, 4, 3, 4],  # mean 3.5
        "app": [1, 2, 2, 1],  # mean 1.5
    })


STATED = {"speed": 4.5, "staff": 4.0, "price": 2.0, "app": 3.5}


def test_stated_with_scale_midpoint(five_point):
    res = analyze(five_point, items=list(STATED), importance="stated", stated=STATED,
                  crosshair="scale", scale=(1, 5))
    # midpoint 3 on both axes: speed (4.5, 2.5) high/low; staff (4.0, 4.5) high/high;
    # price (2.0, 3.5) low/high; app (3.5, 1.5) high/low
    assert res.attrs["crosshair"] == {"performance": 3.0, "importance": 3.0, "method": "scale"}
    assert res.set_index("item")["quadrant"].to_dict() == {
        "speed": "concentrate_here", "staff": "keep_up", "price": "possible_overkill",
        "app": "concentrate_here",
    }
    # gap = (imp - 3)/sd(imp) - (perf - 3)/sd(perf): speed 1.5/s_i + .5/s_p > app .5/s_i + 1.5/s_p
    # since sd(imp) = 1.080 < sd(perf) = 1.291
    assert res.set_index("item")["priority"].to_dict() == {
        "speed": 1, "app": 2, "staff": 3, "price": 4,
    }


def test_stated_accepts_series_and_median(five_point):
    res = analyze(five_point, items=list(STATED), importance="stated",
                  stated=pd.Series(STATED), crosshair="median")
    # median performance (2.5, 4.5, 3.5, 1.5) = 3.0; median importance (4.5, 4, 2, 3.5) = 3.75
    assert res.attrs["crosshair"]["performance"] == pytest.approx(3.0, abs=1e-12)
    assert res.attrs["crosshair"]["importance"] == pytest.approx(3.75, abs=1e-12)
    assert res.set_index("item")["quadrant"].to_dict() == {
        "speed": "concentrate_here", "staff": "keep_up", "price": "possible_overkill",
        "app": "low_priority",
    }


def test_scale_crosshair_with_derived_importance(attitude):
    res = analyze(attitude, items=ITEMS, outcome="rating", crosshair="scale", scale=(0, 100))
    assert res.attrs["crosshair"]["performance"] == 50.0
    assert res.attrs["crosshair"]["importance"] == pytest.approx(
        np.mean(list(PUBLISHED_COR.values())), abs=1e-6)  # mean of cor(attitude) row "rating"
    assert res.set_index("item").loc["advance", "quadrant"] == "low_priority"  # 42.93 < 50


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"importance": "regression"}, r"allowed: \['correlation', 'stated', 'johnson', 'lmg'\]"),
        ({"crosshair": "centre"}, r"allowed: \['mean', 'median', 'scale'\]"),
        ({"crosshair": "scale"}, r"scale=\(lo, hi\)"),
        ({"crosshair": "scale", "scale": (5, 1)}, r"lo < hi"),
        ({"outcome": None}, r"needs outcome="),
        ({"importance": "lmg", "outcome": None}, r"needs outcome="),
        ({"importance": "stated"}, r"needs stated="),
        ({"importance": "stated", "stated": {"complaints": 1}}, r"stated importance missing"),
        ({"stated": {"complaints": 1}}, r"only used with importance='stated'"),
        ({"items": ["complaints", "nope"]}, r"columns not found: \['nope'\]"),
        ({"items": []}, r"items is empty"),
        ({"items": ["rating", "complaints"]}, r"must not be one of the items"),
    ],
)
def test_bad_arguments(attitude, kwargs, message):
    args = {"items": ITEMS, "outcome": "rating", **kwargs}
    with pytest.raises(ValueError, match=message):
        analyze(attitude, **args)


def test_non_numeric_and_constant_items(attitude):
    df = attitude.assign(text=["a"] * len(attitude), constant=1.0)
    with pytest.raises(TypeError, match="numeric"):
        analyze(df, items=["complaints", "text"], outcome="rating")
    with pytest.raises(ValueError, match=r"\['constant'\]"):
        analyze(df, items=["complaints", "constant"], outcome="rating")


# ---------------------------------------------------------------- johnson / lmg via cxlab.drivers


@pytest.mark.parametrize("method", ["johnson", "lmg"])
def test_relative_importance_shares_are_used(attitude, monkeypatch, method):
    import cxlab.drivers

    calls = []
    shares = dict(zip(ITEMS, [0.4, 0.05, 0.25, 0.15, 0.1, 0.05], strict=True))

    def fake(data, *, outcome, drivers, method="lmg", weight=None, always=None, groups=None):
        calls.append((outcome, list(drivers), method))
        table = pd.DataFrame({
            "driver": list(reversed(drivers)),  # order must not matter
            "importance": [shares[d] * 0.7 for d in reversed(drivers)],
            "share": [shares[d] for d in reversed(drivers)],
            "rank": range(1, len(drivers) + 1),
        })
        return types.SimpleNamespace(table=table, r2=0.7, n=len(data), method=method)

    monkeypatch.setattr(cxlab.drivers, "relative_importance", fake, raising=False)
    res = analyze(attitude, items=ITEMS, outcome="rating", importance=method)
    assert calls == [("rating", ITEMS, method)]
    assert res.set_index("item")["importance"].to_dict() == pytest.approx(shares, abs=1e-15)
    # mean share 1/6: complaints, learning high; learning 56.37 < 59.74 -> concentrate_here
    assert res.set_index("item").loc["learning", "quadrant"] == "concentrate_here"
    assert res.set_index("item").loc["complaints", "quadrant"] == "keep_up"


# ---------------------------------------------------------------- properties

_scores = st.lists(st.integers(1, 10), min_size=6, max_size=6)


@settings(max_examples=50, deadline=None)
@given(
    st.lists(_scores, min_size=2, max_size=8),
    st.lists(st.floats(0, 1, allow_nan=False), min_size=6, max_size=6),
    st.floats(-50, 50, allow_nan=False),
)
def test_shifting_performance_keeps_quadrants_stated(columns, weights, shift):
    items = [f"q{k}" for k in range(len(columns))]
    df = pd.DataFrame({it: col for it, col in zip(items, columns, strict=True)}, dtype=float)
    stated = {it: weights[k % 6] for k, it in enumerate(items)}
    base = analyze(df, items=items, importance="stated", stated=stated)
    moved = analyze(df + shift, items=items, importance="stated", stated=stated)
    assert moved["quadrant"].tolist() == base["quadrant"].tolist()
    assert moved["priority"].tolist() == base["priority"].tolist()


@settings(max_examples=50, deadline=None)
@given(st.integers(2, 6), st.integers(0, 2**32 - 1), st.integers(-20, 20))
def test_shifting_performance_keeps_quadrants_correlation(k, seed, shift):
    rng = np.random.default_rng(seed)
    items = [f"q{j}" for j in range(k)]
    df = pd.DataFrame(rng.integers(1, 6, size=(25, k)), columns=items).astype(float)
    df["overall"] = df.sum(axis=1) + rng.integers(0, 3, 25)
    if (df[items].std() == 0).any():
        return
    base = analyze(df, items=items, outcome="overall")
    moved_df = df.copy()
    moved_df[items] = moved_df[items] + shift
    moved = analyze(moved_df, items=items, outcome="overall")
    assert moved["quadrant"].tolist() == base["quadrant"].tolist()
    assert moved["performance"].to_numpy() == pytest.approx(
        base["performance"].to_numpy() + shift, abs=1e-9)


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 100, allow_nan=False), st.floats(0, 1, allow_nan=False)),
                min_size=1, max_size=10))
def test_priority_is_a_ranking_with_concentrate_here_first(points):
    items = [f"q{k}" for k in range(len(points))]
    df = pd.DataFrame({it: [p[0]] for it, p in zip(items, points, strict=True)})
    res = analyze(df, items=items, importance="stated",
                  stated={it: p[1] for it, p in zip(items, points, strict=True)})
    assert sorted(res["priority"]) == list(range(1, len(items) + 1))
    n_first = int((res["quadrant"] == "concentrate_here").sum())
    firsts = res.loc[res["priority"] <= n_first, "quadrant"]
    assert (firsts == "concentrate_here").all()
    assert set(res["problem"]) <= {"主要问题", "次要问题", "无"}


@pytest.mark.parametrize("method", ["johnson", "lmg"])
def test_relative_importance_integration(attitude, method):
    # wiring with the real cxlab.drivers: importance is the driver's share, aligned by item
    from cxlab.drivers import relative_importance

    table = relative_importance(attitude, outcome="rating", drivers=ITEMS, method=method).table
    res = analyze(attitude, items=ITEMS, outcome="rating", importance=method)
    expected = table.set_index("driver")["share"].reindex(ITEMS).to_numpy()
    assert res["importance"].to_numpy() == pytest.approx(expected, abs=1e-12)
    assert res["importance"].sum() == pytest.approx(1.0, abs=1e-9)


def test_weighted_performance_and_correlation(attitude):
    """weight=: performance is the weighted mean, importance the weighted Pearson r (numpy's
    frequency-free ``np.cov(aweights=)``, as R ``cov.wt(cor = TRUE)``); unit weights give the
    unweighted analysis and scaling the weights changes nothing."""
    rng = np.random.default_rng(3)
    d = attitude.assign(w=rng.choice([0.2, 1.0, 4.0], size=len(attitude)))
    res = analyze(d, items=ITEMS, outcome="rating", weight="w").set_index("item")
    for it in ITEMS:
        x, y, w = d[it].to_numpy(float), d["rating"].to_numpy(float), d["w"].to_numpy()
        assert res.loc[it, "performance"] == pytest.approx(np.average(x, weights=w), rel=1e-12)
        c = np.cov(np.vstack([x, y]), aweights=w)
        assert res.loc[it, "importance"] == pytest.approx(c[0, 1] / np.sqrt(c[0, 0] * c[1, 1]),
                                                          rel=1e-10)
    plain = analyze(attitude, items=ITEMS, outcome="rating")
    ones = analyze(d.assign(w=1.0), items=ITEMS, outcome="rating", weight="w")
    np.testing.assert_allclose(ones["importance"], plain["importance"], rtol=1e-12)
    np.testing.assert_allclose(ones["performance"], plain["performance"], rtol=1e-12)
    scaled = analyze(d.assign(w=d["w"] * 7), items=ITEMS, outcome="rating", weight="w")
    np.testing.assert_allclose(scaled["importance"], res.loc[ITEMS, "importance"], rtol=1e-12)
    assert not np.allclose(res.loc[ITEMS, "performance"], plain["performance"])
    with pytest.raises(ValueError, match="not found"):
        analyze(d, items=ITEMS, outcome="rating", weight="nope")


def test_equal_performances_after_a_shift_keep_the_priority():
    """Regression (hypothesis example): items with equal means that differ only by
    floating-point noise after a shift have no spread, so the priority keeps the item order."""
    cols = [[1, 1, 3, 10, 10, 10], [1, 1, 3, 10, 10, 10], [1, 1, 6, 7, 10, 10]]
    items = ["q0", "q1", "q2"]
    df = pd.DataFrame(dict(zip(items, cols, strict=True)), dtype=float)
    stated = dict.fromkeys(items, 0.0)
    base = analyze(df, items=items, importance="stated", stated=stated)
    moved = analyze(df + 0.8, items=items, importance="stated", stated=stated)
    assert moved["priority"].tolist() == base["priority"].tolist() == [1, 2, 3]
