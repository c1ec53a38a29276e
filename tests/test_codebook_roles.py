"""Analysis driven by the codebook, one vocabulary across the API (issue 23 §3).

- ``scale=`` is a codebook ``Scale`` or an int number of points, and both give identical
  statistics; ``codebook=`` supplies items, roles, scales and labels;
- ``item_summary(by=)`` equals a manual groupby; ``crosstab`` keeps the codebook's category order;
- multi-select indicators are numeric, so their means are the shares;
- the outcome argument is ``outcome=`` everywhere, the old ``target=``/``overall=`` still work
  with a DeprecationWarning and give the same result.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cxlab.config import Codebook, load_codebook, params_from_dict
from cxlab.drivers import dominance, key_drivers, relative_importance
from cxlab.io import split_multiselect
from cxlab.ipa import analyze
from cxlab.metrics import ces, change, crosstab, csat, item_summary, nps, nps_test

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
CB = load_codebook("params/codebook.yaml")

# A small questionnaire whose roles are not the sample's names: the outcome is "overall_sat",
# the recommend item "rec", the attributes "speed", "staff", "price".
SMALL_DICT = {
    "version": 1, "survey": "小问卷",
    "scales": {
        "r11": {"kind": "numeric", "label": "推荐", "min": 0, "max": 10},
        "sat4": {"kind": "ordinal", "label": "满意度(1-4)",
                 "codes": {4: "很满意", 3: "满意", 2: "不满意", 1: "很不满意"}, "top_box": 1},
        "v5": {"kind": "ordinal", "label": "五级", "codes": {5: "好", 4: "良好", 3: "一般",
                                                            2: "较差", 1: "差"}},
        "ease": {"kind": "ordinal", "label": "容易", "codes": {k: str(k) for k in range(1, 6)},
                 "top_box": 2},
    },
    "items": [
        {"id": "rec", "label": "推荐意愿", "section": "总体", "scale": "r11", "role": "measure"},
        {"id": "overall_sat", "label": "总体满意", "section": "总体", "scale": "sat4",
         "role": "measure"},
        {"id": "effort", "label": "容易程度", "section": "总体", "scale": "ease", "role": "measure"},
        {"id": "speed", "label": "速度", "section": "服务", "scale": "v5", "role": "measure"},
        {"id": "staff", "label": "人员", "section": "服务", "scale": "v5", "role": "measure"},
        {"id": "price", "label": "价格", "section": "服务", "scale": "v5", "role": "measure"},
    ],
    "roles": {"nps": "rec", "csat": "overall_sat", "ces": "effort", "overall": "overall_sat"},
}
SMALL = params_from_dict(SMALL_DICT, Codebook)


def small_frame(n: int = 300, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({c: rng.integers(1, 6, n) for c in ("speed", "staff", "price")})
    latent = 0.6 * df.speed + 0.3 * df.staff + rng.normal(0, 1, n)
    df["overall_sat"] = np.clip(np.round(latent), 1, 4).astype(int)
    df["rec"] = np.clip(np.round(latent * 1.5), 0, 10).astype(int)
    df["effort"] = rng.integers(1, 6, n)
    df["g"] = rng.choice(["甲", "乙", "丙"], n)
    return df


# ---------------------------------------------------------------------------------------------
# scale= : a Scale or an int, identical statistics


def test_scale_object_and_int_give_identical_statistics():
    rng = np.random.default_rng(7)
    df = pd.DataFrame({"csat": rng.integers(1, 6, 400), "ces": rng.integers(1, 8, 400),
                       "look_color": rng.integers(1, 6, 400), "b": rng.choice(list("xy"), 400)})
    pd.testing.assert_frame_equal(csat(df, score="csat", scale=CB.scales["csat5"], by="b"),
                                  csat(df, score="csat", scale=5, by="b"))
    pd.testing.assert_frame_equal(ces(df, score="ces", scale=CB.scales["ces7"]),
                                  ces(df, score="ces", scale=7))
    pd.testing.assert_frame_equal(
        item_summary(df, items=["look_color"], scale=CB.scales["verbal5"]),
        item_summary(df, items=["look_color"], scale=5))
    # the codebook gives the same scale and the same numbers
    pd.testing.assert_frame_equal(csat(df, codebook=CB, by="b"), csat(df, score="csat", by="b"))
    pd.testing.assert_frame_equal(ces(df, codebook=CB), ces(df, score="ces"))


def test_codebook_scale_sets_top_box_and_accepts_labels():
    df = pd.DataFrame({"overall_sat": ["很满意", "满意", "满意", "很不满意", 4, None]})
    res = csat(df, codebook=SMALL).iloc[0]
    # sat4 has top_box 1: only 很满意 (4) counts; 2 of 5 valid answers
    assert res["n"] == 5 and res["csat"] == pytest.approx(40.0, rel=1e-12)
    assert csat(df, codebook=SMALL, top_box=2).iloc[0]["csat"] == pytest.approx(80.0, rel=1e-12)
    with pytest.raises(ValueError, match=r"'overall_sat'.* 5 .*1\.\.4|'overall_sat'.*5"):
        csat(pd.DataFrame({"overall_sat": [5]}), codebook=SMALL)
    # ces: the Scale's top_box (2) defines "easy": codes 4-5
    e = ces(pd.DataFrame({"effort": [1, 2, 3, 4, 5]}), codebook=SMALL).iloc[0]
    assert e["pct_easy"] == pytest.approx(40.0, rel=1e-12)


def test_scale_of_the_wrong_type_is_refused_with_the_allowed_types():
    df = pd.DataFrame({"s": [1, 2]})
    with pytest.raises(TypeError, match="cxlab.config.Scale or an int"):
        csat(df, score="s", scale="verbal5")
    with pytest.raises(ValueError, match="no rating codes"):
        csat(df, score="s", scale=CB.scales["text"])
    with pytest.raises(ValueError, match="score= is required"):
        csat(df)


def test_nps_and_change_take_their_item_from_the_codebook_roles():
    df = small_frame()
    pd.testing.assert_frame_equal(nps(df, codebook=SMALL, by="g"), nps(df, score="rec", by="g"))
    a, b = df[df.g == "甲"], df[df.g != "甲"]
    assert nps_test(a, b, codebook=SMALL) == nps_test(a, b, score="rec")
    two = pd.concat([df.assign(period="2026Q1"), df.assign(period="2026Q2")], ignore_index=True)
    got = change(two, metric="csat", codebook=SMALL)
    # the codebook's sat4 scale: top_box 1 (code 4 only), not the top two codes
    share4 = 100 * (df.overall_sat == 4).mean()
    assert got["value"].tolist() == pytest.approx([share4, share4], rel=1e-12)
    assert share4 != pytest.approx(100 * (df.overall_sat >= 3).mean(), rel=1e-3)


# ---------------------------------------------------------------------------------------------
# item_summary: by=, codebook items, shares in %


@SETTINGS
@given(codes=st.lists(st.tuples(st.sampled_from(["a", "b", "c"]),
                                st.one_of(st.none(), st.integers(1, 5)),
                                st.one_of(st.none(), st.integers(1, 5))), min_size=1, max_size=60))
def test_item_summary_by_equals_manual_groupby(codes):
    df = pd.DataFrame(codes, columns=["g", "x", "y"]).astype({"x": "Int64", "y": "Int64"})
    got = item_summary(df, items=["x", "y"], by="g")
    assert list(got.columns[:2]) == ["g", "item"]
    parts = []
    for key, part in df.groupby("g", sort=True):
        parts.append(item_summary(part, items=["x", "y"]).assign(g=key))
    want = pd.concat(parts, ignore_index=True)[list(got.columns)]
    pd.testing.assert_frame_equal(got, want)
    # shares are percentages: the distribution of each answered row sums to 100
    pct = got[[f"pct_{c}" for c in range(5, 0, -1)]]
    answered = got["n"] > 0
    assert np.allclose(pct[answered].sum(axis=1), 100.0, rtol=0, atol=1e-9)


def test_item_summary_from_the_codebook_mixed_scales_and_labels():
    df = small_frame(60)
    df["speed"] = df["speed"].map({5: "好", 4: "良好", 3: "一般", 2: "较差", 1: "差"})
    res = item_summary(df, codebook=SMALL)
    assert res["item"].tolist() == SMALL.attribute_items == ["speed", "staff", "price"]
    assert res["label"].tolist() == ["速度", "人员", "价格"]
    plain = item_summary(small_frame(60), items=["speed"], scale=5)
    assert res.iloc[0]["mean"] == pytest.approx(plain.iloc[0]["mean"], rel=1e-12)
    # items on different scales: one pct column per code, NaN where a code is not on the scale
    mixed = item_summary(df, items=["rec", "overall_sat"], codebook=SMALL)
    assert [c for c in mixed.columns if c.startswith("pct_")] == [f"pct_{c}" for c in range(10, -1, -1)]
    sat = mixed.set_index("item").loc["overall_sat"]
    assert np.isnan(sat["pct_5"]) and np.isnan(sat["pct_0"])
    assert sat["top_box"] == pytest.approx(100 * (df.overall_sat == 4).mean(), rel=1e-12)
    assert sat["top2"] == pytest.approx(100 * (df.overall_sat >= 3).mean(), rel=1e-12)
    assert sat["bottom2"] == pytest.approx(100 * (df.overall_sat <= 2).mean(), rel=1e-12)


def test_item_summary_of_price_bands_by_label():
    bands = CB.scales["price_band"].codes
    df = pd.DataFrame({"price_direct": [bands[1], bands[1], bands[3], bands[5], None]})
    res = item_summary(df, items=["price_direct"], codebook=CB).iloc[0]
    assert res["n"] == 4 and res["pct_1"] == 50.0 and res["pct_3"] == 25.0 and res["mean"] == 2.5


# ---------------------------------------------------------------------------------------------
# crosstab: category order


def test_crosstab_price_bands_in_code_order_not_alphabetical():
    labels = CB.scales["price_band"].codes  # {1: 300元以下, …, 5: 1,000元以上}
    rng = np.random.default_rng(5)
    df = pd.DataFrame({"price_direct": rng.choice(list(labels.values()), 300),
                       "experience_channel": rng.choice(["展会体验", "门店体验", "线上申领",
                                                         "上门试用", "其他渠道"], 300)})
    t = crosstab(df, row="price_direct", col="experience_channel", codebook=CB)
    assert list(dict.fromkeys(t["row"])) == [labels[k] for k in sorted(labels)]
    assert sorted(labels.values()) != [labels[k] for k in sorted(labels)]  # the test can fail
    # banner in options order, the unknown extra value last; letters follow the banner
    banner = list(dict.fromkeys(t["col"]))
    assert banner == ["门店体验", "上门试用", "线上申领", "展会体验", "其他渠道"]
    assert list(dict.fromkeys(t["letter"])) == ["A", "B", "C", "D", "E"]
    # the statistics do not depend on the order
    plain = crosstab(df, row="price_direct", col="experience_channel")
    key = ["row", "col"]
    a = t.drop(columns=["letter", "sig"]).sort_values(key).reset_index(drop=True)
    b = plain.drop(columns=["letter", "sig"]).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)


@SETTINGS
@given(order=st.permutations(["p", "q", "r", "s"]),
       rows=st.lists(st.tuples(st.sampled_from(["p", "q", "r", "s", "zz"]),
                               st.sampled_from(["x", "y"])), min_size=1, max_size=40))
def test_crosstab_explicit_order_is_respected_and_extras_come_last(order, rows):
    df = pd.DataFrame(rows, columns=["r", "c"])
    t = crosstab(df, row="r", col="c", row_order=order, col_order=["y", "x"])
    present = set(df["r"])
    want = [v for v in order if v in present] + (["zz"] if "zz" in present else [])
    assert list(dict.fromkeys(t["row"])) == want
    assert list(dict.fromkeys(t["col"])) == [v for v in ["y", "x"] if v in set(df["c"])]
    assert np.allclose(t.groupby("col")["pct"].sum(), 100.0, rtol=0, atol=1e-9)


# ---------------------------------------------------------------------------------------------
# multi-select: numeric indicators whose means are the shares


@SETTINGS
@given(picks=st.lists(st.one_of(st.none(), st.sets(st.sampled_from(["官方网站", "实体店",
                                                                   "电商平台"]))),
                      min_size=1, max_size=30))
def test_multiselect_indicator_means_are_the_shares(picks):
    s = pd.Series([None if p is None else "┋".join(sorted(p)) for p in picks], dtype="object")
    out = split_multiselect(s, sep="┋", options=["官方网站", "实体店", "电商平台"])
    answered = [p for p in picks if p is not None]
    for opt in ["官方网站", "实体店", "电商平台"]:
        assert out[opt].dtype == np.float64
        assert set(out[opt].dropna().unique()) <= {0.0, 1.0}
        if answered:
            share = sum(opt in p for p in answered) / len(answered)
            assert out[opt].mean() == pytest.approx(share, rel=1e-12, abs=1e-15)
        else:
            assert out[opt].isna().all()


def test_multiselect_other_text_stays_a_string_column():
    out = split_multiselect(pd.Series(["实体店┋其他〖朋友介绍〗", "官方网站", None]))
    assert out["其他__text"].tolist()[0] == "朋友介绍"
    assert pd.api.types.is_string_dtype(out["其他__text"])
    assert out["其他"].tolist()[:2] == [1.0, 0.0] and np.isnan(out["其他"].iloc[2])


# ---------------------------------------------------------------------------------------------
# one outcome vocabulary; deprecations


@pytest.mark.parametrize("func", [relative_importance, dominance, key_drivers])
def test_drivers_target_is_deprecated_for_outcome(func):
    df = small_frame()
    kw = {"bootstrap": 0} if func is key_drivers else {}
    new = func(df, outcome="overall_sat", drivers=["speed", "staff", "price"], **kw)
    with pytest.warns(DeprecationWarning, match=rf"{func.__name__}\(target=...\) is deprecated; "
                                                 r"use outcome="):
        old = func(df, target="overall_sat", drivers=["speed", "staff", "price"], **kw)
    pd.testing.assert_frame_equal(old.to_frame(), new.to_frame())
    with pytest.raises(TypeError, match="both target= and outcome="):
        func(df, target="overall_sat", outcome="overall_sat", drivers=["speed"], **kw)
    # the codebook's roles give the outcome and the drivers
    byrole = func(df, codebook=SMALL, **kw)
    pd.testing.assert_frame_equal(byrole.to_frame(), new.to_frame())


def test_ipa_overall_is_deprecated_for_outcome():
    df = small_frame()
    items = ["speed", "staff", "price"]
    new = analyze(df, items=items, outcome="overall_sat")
    with pytest.warns(DeprecationWarning, match=r"analyze\(overall=...\) is deprecated"):
        old = analyze(df, items=items, overall="overall_sat")
    pd.testing.assert_frame_equal(old, new)
    with pytest.raises(TypeError, match="both overall= and outcome="):
        analyze(df, items=items, overall="overall_sat", outcome="overall_sat")


def test_ipa_from_the_codebook_roles_and_scale():
    df = small_frame()
    res = analyze(df, codebook=SMALL, crosshair="scale")
    assert res["item"].tolist() == ["speed", "staff", "price"]
    assert res["label"].tolist() == ["速度", "人员", "价格"]
    assert res.attrs["crosshair"]["performance"] == 3.0  # midpoint of the v5 scale 1..5
    want = analyze(df, items=["speed", "staff", "price"], outcome="overall_sat",
                   crosshair="scale", scale=(1, 5), labels=SMALL.labels())
    pd.testing.assert_frame_equal(res, want)
    # scale= as an int number of points or a Scale is the same as (lo, hi)
    for scale in (5, SMALL.scales["v5"]):
        pd.testing.assert_frame_equal(
            analyze(df, items=["speed", "staff"], outcome="overall_sat", crosshair="scale",
                    scale=scale),
            analyze(df, items=["speed", "staff"], outcome="overall_sat", crosshair="scale",
                    scale=(1, 5)))


def test_missing_outcome_names_the_keyword():
    df = small_frame()
    with pytest.raises(ValueError, match="outcome= is required"):
        relative_importance(df, drivers=["speed"])
    with pytest.raises(ValueError, match="drivers= is required"):
        relative_importance(df, outcome="rec")
    with pytest.raises(ValueError, match="needs outcome="):
        analyze(df, items=["speed", "staff"])


# ---------------------------------------------------------------------------------------------
# segments and ops read the same roles and scales


def test_segment_scores_csat_scale_object_int_and_codebook_agree():
    from cxlab.segments import segment_scores

    df = small_frame(400, seed=11)
    df["s5"] = np.random.default_rng(2).integers(1, 6, 400)
    as_int = segment_scores(df, by="g", score="s5", metric="csat", scale=5)
    as_obj = segment_scores(df, by="g", score="s5", metric="csat", scale=CB.scales["csat5"])
    pd.testing.assert_frame_equal(as_int, as_obj)
    # the small codebook: overall_sat on sat4 with top_box 1 (code 4 only)
    res = segment_scores(df, by="g", metric="csat", codebook=SMALL).set_index("g")
    for g, part in df.groupby("g"):
        assert res.loc[g, "csat"] == pytest.approx(100 * (part.overall_sat == 4).mean(), rel=1e-12)
        rest = df[df.g != g]
        want = 100 * ((part.overall_sat == 4).mean() - (rest.overall_sat == 4).mean())
        assert res.loc[g, "diff_vs_rest"] == pytest.approx(want, rel=1e-9)


def test_ops_kpis_take_the_columns_and_top_box_from_the_codebook():
    import copy

    from cxlab.ops import compute_kpis

    df = small_frame(200, seed=4).assign(period="2026Q3", branch="SH01")
    got = compute_kpis(df, None, None, codebook=SMALL).set_index("kpi")
    assert got.loc["csat", "value"] == pytest.approx(100 * (df.overall_sat == 4).mean(), rel=1e-12)
    # a top box of two on the 4-point scale counts 3-4, not the 1-5 scale's 4-5
    two = copy.deepcopy(SMALL_DICT)
    two["scales"]["sat4"]["top_box"] = 2
    got2 = compute_kpis(df, None, None, codebook=params_from_dict(two, Codebook)).set_index("kpi")
    assert got2.loc["csat", "value"] == pytest.approx(100 * (df.overall_sat >= 3).mean(),
                                                      rel=1e-12)
    assert got2.loc["csat", "value"] != got.loc["csat", "value"]
    assert got.loc["nps", "value"] == pytest.approx(nps(df, score="rec")["nps"].iloc[0], rel=1e-12)
    # without a codebook the sample's column names and the 4-5 top box, as before
    plain = compute_kpis(df.rename(columns={"rec": "ltr", "overall_sat": "csat"}), None, None)
    assert plain.set_index("kpi").loc["csat", "value"] == pytest.approx(
        100 * (df.overall_sat >= 4).mean(), rel=1e-12)
