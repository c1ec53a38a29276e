"""Tests for cxlab.kano: published examples (kanosurveys.com, krano), formulas, properties.

Provenance of every published value: tests/reference/kano_published.md.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cxlab.config import load_codebook
from cxlab.kano import CATEGORIES, classify, evaluate, from_wide

# ---------------------------------------------------------------- published reference examples


@pytest.fixture(scope="module")
def heated_seats(reference_data) -> pd.DataFrame:
    df = pd.read_csv(reference_data / "kanosurveys_heated_seats.csv")
    df["feature"] = "heated seats"
    return df


def test_heated_seats_each_response_matches_published_category(heated_seats):
    # kanosurveys.com/kano-analysis, Method #1 table: Delighter = A, Indifferent = I, Reverse = R
    published = heated_seats["published_category"].map(
        {"Attractive(Delighter)": "A", "Indifferent": "I", "Reverse": "R"}
    )
    assert published.notna().all()
    got = classify(heated_seats)
    assert got.tolist() == published.tolist()


def test_heated_seats_tally_and_category(heated_seats):
    res = evaluate(heated_seats)
    assert len(res) == 1
    row = res.iloc[0]
    # kanosurveys.com/kano-analysis: "Delighter 3, Indifferent 1, Reverse 2" -> Delighter
    assert (row["a"], row["i"], row["r"]) == (3, 1, 2)
    assert (row["o"], row["m"], row["q"]) == (0, 0, 0)
    assert row["n"] == 6
    assert row["category"] == "A"


@pytest.fixture(scope="module")
def krano(reference_data) -> pd.DataFrame:
    wide = pd.read_csv(reference_data / "krano_example_data.csv", header=None)
    pairs = [(j + 1, 2 * j, 2 * j + 1) for j in range(wide.shape[1] // 2)]
    return evaluate(from_wide(wide, pairs=pairs)).set_index("feature")


def test_krano_published_relevant_features(krano):
    # suntorytimed/krano img/webinterface.png (commit f96fa78), table "relevant features":
    #   Attribute 2: Classification A, CS 0.42, DS -0.14
    #   Attribute 7: Classification M, CS 0.00, DS -0.71
    # krano prints its curve at x = 0.99 as "CS" (src/kano.R lines 44 and 133), slightly below
    # CS itself, hence atol=0.01 for Better; DS is the curve at x = 0, exact up to rounding.
    assert krano.loc[2, "category"] == "A"
    assert krano.loc[2, "better"] == pytest.approx(0.42, abs=0.01)
    assert krano.loc[2, "worse"] == pytest.approx(-0.14, abs=0.005)
    assert krano.loc[7, "category"] == "M"
    assert krano.loc[7, "better"] == pytest.approx(0.00, abs=0.005)
    assert krano.loc[7, "worse"] == pytest.approx(-0.71, abs=0.005)


def test_krano_unimportant_features(krano):
    # img/webinterface.png lists only features 2 and 7 as relevant; src/kano.R lines 103-131
    # send every feature whose modal category is not M, O or A to the "unimportant" tab.
    for feature in (1, 3, 4, 5, 6):
        assert krano.loc[feature, "category"] not in ("A", "O", "M")


def test_krano_counts_match_krano_evaluation_table(reference_data, krano):
    # The evaluation matrix exactly as written in suntorytimed/krano src/kano.R lines 51-52;
    # R fills matrix(..., nrow=5, ncol=5) column-major and indexes evtable[functional, dysf].
    r_vector = ["Q", "R", "R", "R", "R", "A", "I", "I", "I", "R", "A", "I", "I",
                "I", "R", "A", "I", "I", "I", "R", "O", "M", "M", "M", "Q"]
    evtable = np.array(r_vector, dtype=object).reshape((5, 5), order="F")
    wide = pd.read_csv(reference_data / "krano_example_data.csv", header=None).to_numpy()
    for j in range(wide.shape[1] // 2):
        cats = [evtable[f - 1, d - 1] for f, d in wide[:, 2 * j: 2 * j + 2]]
        for c in CATEGORIES:
            assert krano.loc[j + 1, c.lower()] == cats.count(c), (j + 1, c)


# ---------------------------------------------------------------- formulas


def _frame(pairs, feature="x"):
    return pd.DataFrame({
        "feature": [feature] * len(pairs),
        "functional": [p[0] for p in pairs],
        "dysfunctional": [p[1] for p in pairs],
    })


def test_evaluation_table_cells():
    # Berger et al. (1993) table; e.g. proofofthepudding "Classic Kano survey analysis" table
    expected = {
        (1, 1): "Q", (1, 2): "A", (1, 3): "A", (1, 4): "A", (1, 5): "O",
        (2, 1): "R", (2, 5): "M", (3, 5): "M", (4, 5): "M", (3, 3): "I",
        (5, 1): "R", (5, 4): "R", (5, 5): "Q", (4, 2): "I",
    }
    df = _frame(list(expected))
    assert classify(df).tolist() == list(expected.values())


def test_better_worse_strength():
    # 4 A, 3 O, 2 M, 1 I, 1 R, 1 Q (n = 12); Timko (Berger et al. 1993) and Lee & Newcomb (1997)
    pairs = [(1, 3)] * 4 + [(1, 5)] * 3 + [(2, 5)] * 2 + [(3, 3)] + [(5, 1)] + [(1, 1)]
    row = evaluate(_frame(pairs)).iloc[0]
    assert row["category"] == "A"
    assert row["better"] == pytest.approx((4 + 3) / 10, rel=1e-12)
    assert row["worse"] == pytest.approx(-(3 + 2) / 10, rel=1e-12)
    assert row["category_strength"] == pytest.approx((4 - 3) / 12, rel=1e-12)
    assert row["total_strength"] == pytest.approx((4 + 3 + 2) / 12, rel=1e-12)


def test_continuous_scores():
    # the.datastory.guide "Continuous Scale Analysis of the Kano Model": functional like 4,
    # expect 2, neutral 0, tolerate -1, dislike -2; dysfunctional like -2, expect -1, neutral 0,
    # tolerate 2, dislike 4.
    pairs = [(1, 5), (2, 3), (4, 1), (5, 4)]
    row = evaluate(_frame(pairs)).iloc[0]
    assert row["functional_mean"] == pytest.approx((4 + 2 - 1 - 2) / 4, rel=1e-12)
    assert row["dysfunctional_mean"] == pytest.approx((4 + 0 - 2 + 2) / 4, rel=1e-12)


@pytest.mark.parametrize(
    ("pairs", "significant"),
    [
        # heated seats: a = 3 (A), b = 2 (R), n = 6: 1.65*sqrt(5*7/12) = 2.82 > |3-2|
        ([(1, 2)] * 3 + [(5, 4)] * 2 + [(3, 3)], False),
        # a = 8 (M), b = 2 (I), n = 10: 1.65*sqrt(10*10/20) = 3.69 <= 6
        ([(2, 5)] * 8 + [(3, 3)] * 2, True),
        # a = 5 (M), b = 3 (I), n = 10 (+2 A): 1.65*sqrt(8*12/20) = 3.61 > 2
        ([(2, 5)] * 5 + [(3, 3)] * 3 + [(1, 3)] * 2, False),
        # a = 4 (M), b = 1 (I), n = 5: 1.65*sqrt(5*5/10) = 2.61 <= 3 (a 1.96 quantile gives 3.10)
        ([(2, 5)] * 4 + [(3, 3)], True),
        # single answer: a = 1, b = 0, n = 1: 1.65*sqrt(1*1/2) = 1.17 > 1
        ([(2, 5)], False),
        # a = 2, b = 0, n = 2: 1.65*sqrt(2*2/4) = 1.65 <= 2
        ([(2, 5)] * 2, True),
    ],
)
def test_fong(pairs, significant):
    # Fong (1996), as given by Sauerwein et al. (1996): not significant when
    # |a - b| < 1.65 * sqrt((a + b)(2n - a - b) / (2n))
    assert bool(evaluate(_frame(pairs)).iloc[0]["fong_significant"]) is significant


@pytest.mark.parametrize(
    ("pairs", "expected"),
    [
        ([(2, 5), (1, 5)], "M"),  # M = O -> M
        ([(1, 5), (1, 3)], "O"),  # O = A -> O
        ([(1, 3), (3, 3)], "A"),  # A = I -> A
        ([(2, 5), (1, 5), (1, 3), (3, 3)], "M"),  # all four tied -> M
        ([(3, 3), (5, 1)], "I"),  # I = R -> I (R/Q only win when strictly more frequent)
        ([(1, 3), (1, 1)], "A"),  # A = Q -> A
        ([(5, 1), (1, 1)], "R"),  # R = Q -> R
        ([(5, 1), (5, 2), (3, 3)], "R"),  # R strictly most frequent -> R
        ([(1, 1), (5, 5), (3, 3)], "Q"),  # Q strictly most frequent -> Q
    ],
)
def test_tie_break(pairs, expected):
    # API.md: ties broken M > O > A > I; R and Q documented in evaluate's Notes
    assert evaluate(_frame(pairs)).iloc[0]["category"] == expected


def test_answer_vocabularies_agree():
    codes = _frame([(1, 5), (2, 5), (3, 4), (4, 1), (5, 3), (1, 2)])
    english = codes.replace({"functional": {1: "like", 2: "expect", 3: "neutral", 4: "live_with",
                                            5: "dislike"},
                             "dysfunctional": {1: "Like", 2: "must-be", 3: "Neutral",
                                               4: "tolerate", 5: "DISLIKE"}})
    chinese = codes.replace({c: {1: "喜欢", 2: "理应如此", 3: "无所谓", 4: "能忍受", 5: "不喜欢"}
                             for c in ("functional", "dysfunctional")})
    strings = codes.astype({"functional": str, "dysfunctional": str})
    expected = evaluate(codes)
    for other in (english, chinese, strings,
                  codes.astype({"functional": float, "dysfunctional": float})):
        pd.testing.assert_frame_equal(evaluate(other), expected)


def test_categorical_answers():
    df = _frame([("喜欢", "不喜欢"), ("理应如此", "不喜欢")])
    df["functional"] = df["functional"].astype("category")
    df["dysfunctional"] = df["dysfunctional"].astype("category")
    row = evaluate(df).iloc[0]
    assert (row["o"], row["m"]) == (1, 1)


@pytest.mark.parametrize("bad", ["love it", 6, 0, "很喜欢", True])
def test_unknown_answer_raises_naming_value(bad):
    df = _frame([(1, 5), (bad, 5)])
    with pytest.raises(ValueError, match=r"functional") as err:
        evaluate(df)
    assert repr(bad) in str(err.value)


def test_missing_answers_are_not_counted():
    df = _frame([(1, 5), (None, 5), (2, np.nan), (2, 5)])
    row = evaluate(df).iloc[0]
    assert row["n"] == 2
    assert (row["o"], row["m"]) == (1, 1)
    assert classify(df).isna().tolist() == [False, True, True, False]


def test_feature_without_answers():
    df = pd.concat([_frame([(1, 5)], "a"), _frame([(None, None)], "b")], ignore_index=True)
    res = evaluate(df).set_index("feature")
    assert res.loc["b", "n"] == 0
    assert pd.isna(res.loc["b", "category"])
    assert math.isnan(res.loc["b", "better"])
    assert pd.isna(res.loc["b", "fong_significant"])


def test_columns_and_order():
    df = pd.concat([_frame([(1, 5)], "zeta"), _frame([(2, 5)], "alpha")], ignore_index=True)
    res = evaluate(df)
    assert list(res.columns) == [
        "feature", "n", "a", "o", "m", "i", "r", "q", "category", "better", "worse",
        "category_strength", "total_strength", "fong_significant", "functional_mean",
        "dysfunctional_mean",
    ]
    assert res["feature"].tolist() == ["zeta", "alpha"]  # order of first appearance


def test_custom_column_names_and_missing_columns():
    df = _frame([(1, 5)]).rename(columns={"feature": "feat", "functional": "f", "dysfunctional": "d"})
    res = evaluate(df, feature="feat", functional="f", dysfunctional="d")
    assert res["feature"].tolist() == ["x"]
    with pytest.raises(ValueError, match="columns not found"):
        evaluate(df)


def test_does_not_mutate_input():
    df = _frame([("like", "dislike"), (2, 5)])
    before = df.copy()
    evaluate(df)
    pd.testing.assert_frame_equal(df, before)


def test_by_equals_manual_groupby():
    rng = np.random.default_rng(7)
    df = pd.DataFrame({
        "branch": rng.choice(["SH01", "BJ02"], 200),
        "feature": rng.choice(["app", "voice", "color"], 200),
        "functional": rng.integers(1, 6, 200),
        "dysfunctional": rng.integers(1, 6, 200),
    })
    res = evaluate(df, by="branch")
    assert list(res.columns[:2]) == ["branch", "feature"]
    for branch, part in df.groupby("branch"):
        manual = evaluate(part.reset_index(drop=True))
        got = res[res["branch"] == branch].drop(columns="branch")
        got = got.set_index("feature").loc[manual["feature"]].reset_index()
        pd.testing.assert_frame_equal(got, manual)


# ---------------------------------------------------------------- from_wide


def test_from_wide_with_codebook_pairs():
    codebook = load_codebook("params/codebook.yaml")
    rng = np.random.default_rng(3)
    cols = {c: rng.integers(1, 6, 5) for p in codebook.kano for c in (p.functional, p.dysfunctional)}
    wide = pd.DataFrame(cols)
    wide["branch"] = ["SH01"] * 5
    as_models = from_wide(wide, pairs=codebook.kano, keep="branch")
    as_dicts = from_wide(wide, pairs=[p.model_dump() for p in codebook.kano], keep=["branch"])
    pd.testing.assert_frame_equal(as_models, as_dicts)
    assert list(as_models.columns) == ["branch", "respondent", "feature", "functional",
                                       "dysfunctional"]
    assert len(as_models) == 5 * len(codebook.kano)
    assert list(pd.unique(as_models["feature"])) == [p.feature for p in codebook.kano]
    first = codebook.kano[0]
    part = as_models[as_models["feature"] == first.feature]
    assert part["functional"].tolist() == wide[first.functional].tolist()
    assert part["dysfunctional"].tolist() == wide[first.dysfunctional].tolist()
    assert part["respondent"].tolist() == list(wide.index)


def test_from_wide_errors():
    wide = pd.DataFrame({"f": [1], "d": [5]})
    with pytest.raises(ValueError, match="columns not found"):
        from_wide(wide, pairs=[("x", "f", "nope")])
    with pytest.raises(ValueError, match="pairs is empty"):
        from_wide(wide, pairs=[])
    with pytest.raises(ValueError, match="duplicate features"):
        from_wide(wide, pairs=[("x", "f", "d"), ("x", "f", "d")])
    with pytest.raises(ValueError, match="keys"):
        from_wide(wide, pairs=[{"feature": "x", "functional": "f"}])
    with pytest.raises(ValueError, match="each pair"):
        from_wide(wide, pairs=[("x", "f")])


# ---------------------------------------------------------------- properties

_answer = st.one_of(st.integers(1, 5), st.none())


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["p", "q", "r"]), _answer, _answer), min_size=1,
                max_size=60))
def test_counts_sum_to_n(rows):
    df = pd.DataFrame(rows, columns=["feature", "functional", "dysfunctional"])
    res = evaluate(df)
    counts = res[["a", "o", "m", "i", "r", "q"]].sum(axis=1)
    assert (counts == res["n"]).all()
    complete = df.dropna(subset=["functional", "dysfunctional"]).groupby("feature").size()
    assert res.set_index("feature")["n"].to_dict() == {
        f: int(complete.get(f, 0)) for f in pd.unique(df["feature"])
    }
    ok = res["n"] > 0
    assert res.loc[ok, "total_strength"].between(0, 1).all()
    assert res.loc[ok, "category_strength"].between(0, 1).all()
    for _, row in res[ok].iterrows():
        top = max(row[c.lower()] for c in CATEGORIES)
        assert row[row["category"].lower()] == top
        if not math.isnan(row["better"]):
            assert 0 <= row["better"] <= 1
            assert -1 <= row["worse"] <= 0


_EN = {1: ["like", "Like", "I like it"], 2: ["expect", "must-be", "Must be"],
       3: ["neutral", "NEUTRAL"], 4: ["live_with", "live with", "tolerate"], 5: ["dislike"]}
_ZH = {1: "喜欢", 2: "理应如此", 3: "无所谓", 4: "能忍受", 5: "不喜欢"}


@settings(max_examples=50, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["p", "q"]), st.integers(1, 5), st.integers(1, 5),
                          st.integers(0, 10), st.integers(0, 10), st.booleans()),
                min_size=1, max_size=40))
def test_labels_and_codes_give_the_same_result(rows):
    codes = pd.DataFrame([r[:3] for r in rows], columns=["feature", "functional", "dysfunctional"])

    def label(code, pick, zh):
        return _ZH[code] if zh else _EN[code][pick % len(_EN[code])]

    labels = pd.DataFrame({
        "feature": codes["feature"],
        "functional": [label(r[1], r[3], r[5]) for r in rows],
        "dysfunctional": [label(r[2], r[4], not r[5]) for r in rows],
    })
    pd.testing.assert_frame_equal(evaluate(labels), evaluate(codes))


# ---------------------------------------------------------------- survey weights


def test_weighted_by_hand():
    """Weighted category counts are sums of weights; Better/Worse (Berger et al. 1993, Timko:
    better = (A+O)/(A+O+M+I), worse = -(O+M)/(A+O+M+I)), strengths and DuMouchel means are
    computed on them. Hand computation for the six rows below."""
    pairs = [(1, 3), (1, 3), (1, 5), (2, 5), (3, 3), (5, 1)]  # A, A, O, M, I, R
    df = _frame(pairs).assign(w=[2.0, 1.0, 3.0, 1.0, 0.5, 1.5])
    row = evaluate(df, weight="w").iloc[0]
    # A = 2 + 1 = 3, O = 3, M = 1, I = 0.5, R = 1.5, Q = 0; total 9
    assert [row[c] for c in "aomirq"] == [3.0, 3.0, 1.0, 0.5, 1.5, 0.0]
    assert row["n"] == 6 and row["weighted_n"] == 9.0
    assert row["effective_n"] == pytest.approx(81 / 17.5, rel=1e-12)  # 9² / Σw² (4+1+9+1+.25+2.25)
    assert row["deff"] == pytest.approx(6 / (81 / 17.5), rel=1e-12)
    assert row["category"] == "O"  # A = O = 3: tie broken M > O > A > I
    assert row["better"] == pytest.approx((3 + 3) / 7.5, rel=1e-12)
    assert row["worse"] == pytest.approx(-(3 + 1) / 7.5, rel=1e-12)
    assert row["category_strength"] == 0.0
    assert row["total_strength"] == pytest.approx(7 / 9, rel=1e-12)
    # functional scores 4, 4, 4, 2, 0, -2 and dysfunctional 0, 0, 4, 4, 0, -2, weighted
    assert row["functional_mean"] == pytest.approx((8 + 4 + 12 + 2 + 0 - 3) / 9, rel=1e-12)
    assert row["dysfunctional_mean"] == pytest.approx((0 + 0 + 12 + 4 + 0 - 3) / 9, rel=1e-12)
    # unweighted, the same rows give A = 2, O = M = I = 1: category A, better 3/5
    plain = evaluate(df).iloc[0]
    assert plain["category"] == "A" and plain["better"] == pytest.approx(3 / 5, rel=1e-12)


def test_weighted_equals_replicated_rows():
    """A weight of k counts as the row k times: every share, coefficient, strength, mean and the
    modal category equal those of the unweighted evaluation of the replicated rows."""
    rng = np.random.default_rng(22)
    n = 300
    df = pd.DataFrame({"feature": rng.choice(["app", "seat", "wifi"], n),
                       "seg": rng.choice(["x", "y"], n),
                       "functional": rng.integers(1, 6, n).astype(float),
                       "dysfunctional": rng.integers(1, 6, n).astype(float),
                       "w": rng.integers(1, 4, n).astype(float)})
    df.loc[rng.random(n) < 0.05, "functional"] = np.nan
    weighted = evaluate(df, by="seg", weight="w")
    replicated = evaluate(df.loc[df.index.repeat(df["w"].astype(int))], by="seg")
    same = ["seg", "feature", "a", "o", "m", "i", "r", "q", "category", "better", "worse",
            "category_strength", "total_strength", "functional_mean", "dysfunctional_mean"]
    pd.testing.assert_frame_equal(weighted[same], replicated[same], check_dtype=False,
                                  rtol=1e-12)
    np.testing.assert_allclose(weighted["weighted_n"], replicated["n"], rtol=1e-12)
    assert (weighted["n"] < replicated["n"]).all()  # n stays the unweighted number of pairs


def test_weighted_fong_uses_the_effective_sample_size():
    """Equal weights: the unweighted test. Unequal: shares × Kish n_eff as counts, n = n_eff."""
    pairs = [(2, 5)] * 8 + [(3, 3)] * 2  # M = 8, I = 2 of 10: significant unweighted
    eq = evaluate(_frame(pairs).assign(w=3.0), weight="w").iloc[0]
    assert bool(eq["fong_significant"]) and eq["effective_n"] == pytest.approx(10, rel=1e-12)
    # one M row carries weight 30: M share 37/39, I 2/39, n_eff = 39² / (900 + 7 + 2) = 1.673
    w = [30.0] + [1.0] * 9
    row = evaluate(_frame(pairs).assign(w=w), weight="w").iloc[0]
    n_eff = 39**2 / 909
    f1, f2 = 37 / 39 * n_eff, 2 / 39 * n_eff
    threshold = 1.65 * math.sqrt((f1 + f2) * (2 * n_eff - f1 - f2) / (2 * n_eff))
    assert abs(f1 - f2) < threshold  # 1.502 < 1.509: not significant with this little information
    assert row["effective_n"] == pytest.approx(n_eff, rel=1e-12)
    assert bool(row["fong_significant"]) is False


def test_weight_errors():
    df = _frame([(1, 3), (2, 5)])
    with pytest.raises(ValueError, match="columns not found"):
        evaluate(df, weight="w")
    with pytest.raises(ValueError, match="non-negative"):
        evaluate(df.assign(w=[1.0, -1.0]), weight="w")
