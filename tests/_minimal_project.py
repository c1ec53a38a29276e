"""A small project built from scratch for the report-layout tests: params (codebook with
roles, sources, org with three branches; no CRM, no logs, no Kano, no targets or alerts unless
asked), a CSV export per period with seeded answers, ingested into a warehouse."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

ORG = """version: 1
company: {code: ALL, name: 示例零售公司}
units:
  - {code: B1, name: 一号店}
  - {code: B2, name: 二号店}
  - {code: B3, name: 三号店}
"""

SOURCES = """version: 1
period_from_filename: '(?<![0-9])(20[0-9]{2}Q[1-4])(?![0-9])'
surveys:
  generic:
    readers: [csv]
    missing: [""]
    response_id: {column: response_id}
    branch: {column: branch}
    submitted_at: [{column: submitted_at}]
    pii: []
    ignore: []
    auto_labels: true
    items: []
"""

#: The minimal questionnaire: the recommend question (not called ``ltr``), three ratings on an
#: agreement scale, a comment.
CODEBOOK_NPS = """version: 1
survey: 门店体验调查
scales:
  rec11: {kind: numeric, label: 推荐意愿(0-10), min: 0, max: 10}
  agree5:
    kind: ordinal
    label: 同意程度
    codes: {5: 非常同意, 4: 同意, 3: 一般, 2: 不同意, 1: 非常不同意}
  text: {kind: text, label: 开放题}
items:
  - {id: recommend, label: 您向亲友推荐本店的可能性有多大?, section: 总体, scale: rec11, role: measure}
  - {id: staff, label: 店员专业, section: 评价, scale: agree5, role: measure}
  - {id: speed, label: 结账快捷, section: 评价, scale: agree5, role: measure}
  - {id: clean, label: 环境整洁, section: 评价, scale: agree5, role: measure}
  - {id: remark, label: 其他意见, section: 建议, scale: text, role: text}
roles: {nps: recommend, comment: remark}
"""

#: A drafted questionnaire without a recommend question: overall satisfaction on a 1-7 scale
#: (top box 3 = 5-7), three ratings, a single-choice question.
CODEBOOK_NO_NPS = """version: 1
survey: 门店满意度调查
scales:
  sat7:
    kind: ordinal
    label: 满意度(1-7)
    codes: {7: 非常满意, 6: 满意, 5: 比较满意, 4: 一般, 3: 比较不满意, 2: 不满意, 1: 非常不满意}
    top_box: 3
  agree5:
    kind: ordinal
    label: 同意程度
    codes: {5: 非常同意, 4: 同意, 3: 一般, 2: 不同意, 1: 非常不同意}
  visit:
    kind: category
    label: 到店目的
    options: [日常采购, 促销活动, 退换货, 其他]
items:
  - {id: visit, label: 您本次到店的主要目的, section: 背景, scale: visit, role: dimension}
  - {id: sat, label: 总体而言您对本店是否满意?, section: 总体, scale: sat7, role: measure}
  - {id: staff, label: 店员专业, section: 评价, scale: agree5, role: measure}
  - {id: speed, label: 结账快捷, section: 评价, scale: agree5, role: measure}
  - {id: clean, label: 环境整洁, section: 评价, scale: agree5, role: measure}
roles: {csat: sat}
"""

SIZES = {"B1": 80, "B2": 60, "B3": 20}     # B3 below the reporting base of 30
PERIODS = ("2026Q2", "2026Q3")
NAMES = {"B1": "一号店", "B2": "二号店", "B3": "三号店"}
COMMENTS = ["店员很热情,服务周到", "结账排队太慢,希望多开收银台", "环境干净整洁", "价格有点贵", ""]


def answers(kind: str, seed: int = 7) -> pd.DataFrame:
    """Seeded answers, one frame per project: ratings driven by one latent satisfaction."""
    rng = np.random.default_rng(seed)
    rows = []
    for period in PERIODS:
        for b, n in SIZES.items():
            shift = {"B1": 0.5, "B2": -0.3, "B3": 0.0}[b] + (0.2 if period == "2026Q3" else 0)
            z = rng.normal(shift, 1.0, n)
            r = {k: np.clip(np.round(3.4 + 0.9 * z + rng.normal(0, 0.7, n)), 1, 5).astype(int)
                 for k in ("staff", "speed", "clean")}
            for i in range(n):
                row = {"response_id": f"{period}-{b}-{i:03d}", "branch": NAMES[b],
                       "submitted_at": f"{period[:4]}-{3 * int(period[-1]) - 1:02d}-15 10:00:00"}
                row |= {k: int(v[i]) for k, v in r.items()}
                if kind == "nps":
                    row["recommend"] = int(np.clip(np.round(7.5 + 1.8 * z[i] + rng.normal(0, 1)), 0, 10))
                    row["remark"] = COMMENTS[i % len(COMMENTS)]
                else:
                    row["sat"] = int(np.clip(np.round(5 + 1.3 * z[i] + rng.normal(0, 0.8)), 1, 7))
                    row["visit"] = ["日常采购", "促销活动", "退换货", "其他"][
                        int(rng.choice(4, p=[0.55, 0.25, 0.12, 0.08] if b != "B2" else [0.3, 0.5, 0.12, 0.08]))]
                rows.append(row)
    return pd.DataFrame(rows)


def build(base: Path, kind: str, *, report_yaml: str | None = None,
          text_yaml: bool = True) -> tuple[Path, Path, pd.DataFrame]:
    """Write params and raw CSVs under ``base``, ingest; returns (params_dir, warehouse, answers)."""
    from cxlab.io import ingest

    params = base / "params"
    params.mkdir(parents=True)
    (params / "org.yaml").write_text(ORG, encoding="utf-8")
    (params / "sources.yaml").write_text(SOURCES, encoding="utf-8")
    (params / "codebook.yaml").write_text(CODEBOOK_NPS if kind == "nps" else CODEBOOK_NO_NPS,
                                          encoding="utf-8")
    if text_yaml and kind == "nps":
        shutil.copy(ROOT / "params" / "text.yaml", params / "text.yaml")
    if report_yaml is not None:
        (params / "report.yaml").write_text(report_yaml, encoding="utf-8")
    df = answers(kind)
    raw = base / "raw"
    raw.mkdir()
    for period in PERIODS:
        df[df["response_id"].str.startswith(period)].to_csv(raw / f"survey_{period}.csv", index=False)
    rep = ingest([raw], warehouse=base / "warehouse", quarantine_dir=base / "q",
                 codebook=params / "codebook.yaml", sources=params / "sources.yaml",
                 org=params / "org.yaml")
    assert rep.quarantined == 0 and rep.accepted == len(df), rep
    return params, base / "warehouse", df


#: A codebook for the real 问卷星 export shared/real-exports/wjx/wjx_800_800_0.xls (profile and
#: interest questions: single choice and multi-select; no rating, no recommend question).
CODEBOOK_WJX = """version: 1
survey: 手机与兴趣爱好调查
scales:
  phones: {kind: category, label: 手机部数, options: [1部, 2部, 3部, 4部及以上]}
  price: {kind: category, label: 手机价格, options: [免费赠送的, 0-799元, 800-999元, 1000-1499元, 1500-1999元, 2000-2499元, 2500-2999元, 3000-3499元, 3500元及以上, 其他]}
  gender: {kind: category, label: 性别, options: [男, 女]}
  age: {kind: category, label: 年龄, options: [16~19岁, 20~24岁, 25~29岁, 30~34岁, 35~39岁, 40~49岁, 50~59岁, 60岁以上]}
  income: {kind: category, label: 月收入, options: [无收入, 3000元以下, 3001-5000元, 5001-8000元, 8001-10000元, 10001-15000元, 15000元以上, 不知道/拒绝回答]}
  hobbies: {kind: multi, label: 兴趣爱好, options: [运动, 影视, 购物, 阅读, 美食, 旅游, 音乐, 健康, IT数码, 摄影, 游戏动漫, 艺术, 手工艺, 其他]}
  share: {kind: category, label: 爱好投入占收入比重, options: [没有投入, 10%左右, 20%左右, 30%左右, 40%左右, 50%左右, 超过50%]}
  news: {kind: multi, label: 关注资讯, options: [财经, 娱乐八卦, 时尚, 电子科技类, 汽车类, 政治/军事, 体育类, ACG文化(动漫、游戏等), 不关注, 其他]}
items:
  - {id: phones, label: 手机部数, section: 手机, scale: phones, role: dimension}
  - {id: price, label: 手机价格, section: 手机, scale: price, role: dimension}
  - {id: gender, label: 性别, section: 背景, scale: gender, role: dimension}
  - {id: age, label: 年龄, section: 背景, scale: age, role: dimension}
  - {id: income, label: 月收入, section: 背景, scale: income, role: dimension}
  - {id: hobbies, label: 兴趣爱好, section: 爱好, scale: hobbies, role: dimension}
  - {id: share, label: 爱好投入占收入比重, section: 爱好, scale: share, role: dimension}
  - {id: news, label: 关注资讯, section: 资讯, scale: news, role: dimension}
"""
WJX_FILE = ROOT.parent / "shared" / "real-exports" / "wjx" / "wjx_800_800_0.xls"


def build_wjx(base: Path) -> tuple[Path, Path]:
    """The real 问卷星 text export ingested for one unit (the file names no branch)."""
    import yaml

    from cxlab.io import ingest

    params = base / "params"
    params.mkdir(parents=True)
    (params / "org.yaml").write_text(
        "version: 1\ncompany: {code: ALL, name: 手机用户调研}\nunits:\n  - {code: HQ, name: 总部}\n",
        encoding="utf-8")
    (params / "codebook.yaml").write_text(CODEBOOK_WJX, encoding="utf-8")
    src = yaml.safe_load((ROOT / "params" / "sources.yaml").read_text(encoding="utf-8"))
    src["surveys"], src["tables"] = {"wjx": src["surveys"]["wjx"]}, {}
    (params / "sources.yaml").write_text(yaml.safe_dump(src, allow_unicode=True), encoding="utf-8")
    raw = base / "raw"
    raw.mkdir()
    shutil.copy(WJX_FILE, raw / WJX_FILE.name)
    rep = ingest([raw], warehouse=base / "warehouse", quarantine_dir=base / "q",
                 codebook=params / "codebook.yaml", sources=params / "sources.yaml",
                 org=params / "org.yaml", period="2026Q3", branch="HQ")
    assert rep.quarantined == 0 and rep.accepted == 800, rep
    return params, base / "warehouse"
