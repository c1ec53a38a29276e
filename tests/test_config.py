"""Parameter files load, and bad ones give one clear line naming file and key."""

from __future__ import annotations

import pytest

from cxlab.config import Codebook, Org, load_codebook, load_org, load_params, load_targets
from cxlab.errors import ParamsError


def test_codebook_matches_seed_000_instrument():
    cb = load_codebook()
    sections = {i.section for i in cb.items}
    # seed 000 §04 客户体验调研表 sections
    assert {"产品外观", "产品使用", "产品功能", "产品定位", "整体评价及建议", "产品价格"} <= sections
    assert cb.ids(section="产品外观") == ["look_shape", "look_color", "look_logo", "look_package"]
    assert cb.ids(section="产品使用") == ["use_comfort", "use_stability", "use_switch", "use_heat"]
    assert cb.ids(section="产品功能") == ["func_1", "func_2", "func_3"]
    assert cb.scales["verbal5"].codes == {5: "好", 4: "良好", 3: "一般", 2: "较差", 1: "差"}
    assert set(cb.pii_items) == {"respondent_name", "respondent_company", "respondent_contact"}
    assert cb.scale_of("ltr").min == 0 and cb.scale_of("ltr").max == 10
    assert cb.scale_of("ces").hi == 7
    assert 4 <= len(cb.kano) <= 6
    for item in cb.attribute_items + ["ltr", "csat", "ces"]:
        assert cb.item(item).journey and cb.item(item).touchpoint, item


def test_org_has_regions_and_branches():
    org = load_org()
    assert len(org.regions) == 3
    assert 8 <= len(org.branch_codes) <= 12
    assert org.customer_types == ["大客户", "普通客户"]
    assert org.region_of("SH01").name == "华东区"
    with pytest.raises(KeyError, match="unknown branch 'XX99'"):
        org.branch("XX99")


def test_targets_from_seed_004():
    t = load_targets()
    assert t.kpi("csat").target == 85 and t.kpi("csat").op == ">="
    assert t.kpi("nps").target == 40
    assert t.kpi("complaint_response_hours").target == 2
    assert t.kpi("phone_answer_seconds").target == 30
    assert t.kpi("annual_churn").op == "<" and t.kpi("annual_churn").target == 10
    assert t.kpi("nps").met(40) and not t.kpi("nps").met(39.9)
    assert t.kpi("annual_churn").met(9.9) and not t.kpi("annual_churn").met(10)


def _write(tmp_path, text):
    p = tmp_path / "bad.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_unknown_key_is_named(tmp_path):
    p = _write(tmp_path, "version: 1\ncompany: {code: ALL, name: X}\nregions: []\n"
               "customer_types: []\nindustries: []\ncolour: red\n")
    with pytest.raises(ParamsError, match=r"bad\.yaml: colour: unknown key"):
        load_params(p, Org)


def test_missing_key_is_named(tmp_path):
    p = _write(tmp_path, "version: 1\nregions: []\ncustomer_types: []\nindustries: []\n")
    with pytest.raises(ParamsError, match=r"bad\.yaml: company: missing required key"):
        load_params(p, Org)


def test_wrong_type_is_named(tmp_path):
    p = _write(tmp_path, "version: 1\ncompany: {code: ALL, name: X}\nregions: 5\n"
               "customer_types: []\nindustries: []\n")
    with pytest.raises(ParamsError, match=r"bad\.yaml: regions: .*list"):
        load_params(p, Org)


def test_dangling_scale_reference(tmp_path):
    p = _write(tmp_path, """
version: 1
survey: s
scales: {t: {kind: text, label: t}}
journey: [整体]
items: [{id: a, label: A, section: S, scale: nope, role: measure}]
""")
    with pytest.raises(ParamsError, match="unknown scale 'nope'"):
        load_params(p, Codebook)


def test_invalid_yaml_names_line(tmp_path):
    p = _write(tmp_path, "version: 1\nitems: [a, b\n")
    with pytest.raises(ParamsError, match=r"bad\.yaml: line \d+"):
        load_params(p, Codebook)


def test_missing_file(tmp_path):
    with pytest.raises(ParamsError, match="parameter file not found"):
        load_codebook(tmp_path / "nope.yaml")


def test_project_root_is_found_from_a_notebook_folder(tmp_path, monkeypatch):
    import os

    from cxlab.config import project_root, use_project_root

    root = tmp_path / "proj"
    (root / "params").mkdir(parents=True)
    (root / "params" / "codebook.yaml").write_text("version: 1\n", encoding="utf-8")
    nb_dir = root / "notebooks" / "exploratory"
    nb_dir.mkdir(parents=True)
    assert project_root(nb_dir) == root.resolve()
    monkeypatch.chdir(nb_dir)
    assert use_project_root() == root.resolve()
    assert os.getcwd() == str(root.resolve())
    with pytest.raises(ParamsError, match="no params/codebook.yaml here or above"):
        project_root(tmp_path)
