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
