"""A questionnaire cxlab has never seen, as a CX team would export it from 问卷星.

A retail bank's branch-service survey: its own branch names (支行), a 非常满意…非常不满意 scale, a
0–10 recommend question worded its own way, a reasons multi-select with an "other" answer, an age
band single choice, a name and a phone question, and a comment. The answers are drawn with a
fixed seed; :func:`expected` computes the headline figures by hand from the rows (no cxlab code),
so a test can compare them with what the reports show.
"""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

BRANCHES = ["北京朝阳支行", "上海浦东支行", "广州天河支行"]
SAT = ["非常满意", "满意", "一般", "不满意", "非常不满意"]          # best first, as shown
SAT_CODE = {"非常满意": 5, "满意": 4, "一般": 3, "不满意": 2, "非常不满意": 1}
REASONS = ["离家近", "利率有竞争力", "服务态度好", "手机银行方便"]
AGES = ["18-25岁", "26-35岁", "36-45岁", "46岁及以上"]
ITEMS = ["柜台服务", "等候时间", "手机银行"]

HEADERS = [
    "序号", "提交答卷时间", "所用时间", "来源", "来源详情", "来自IP",
    "1、您办理业务的网点是?",
    "2、您的姓名",
    "3、您的手机号码",
    "4、您有多大可能把我行推荐给亲友?(0-10分)",
    *(f"{5 + k}、您对{name}的满意程度" for k, name in enumerate(ITEMS)),
    "8、总体而言,您对我行的服务满意吗?",
    "9、您选择我行的原因是?",
    "10、您的年龄段",
    "11、您对我行还有什么意见或建议?",
]
PHONE_PREFIX = "139"            # the phone question
COMMENT_PHONE_PREFIX = "138"    # phones written into comments (redacted in reports)


def rows(*, n_per_cell: int = 40, seed: int = 7) -> list[list]:
    """Answers for two quarters (2026Q2, 2026Q3) × three branches, ``n_per_cell`` each."""
    rnd = random.Random(seed)
    out: list[list] = []
    k = 0
    for q, start in (("2026Q2", dt.datetime(2026, 4, 3, 9)), ("2026Q3", dt.datetime(2026, 7, 2, 9))):
        for b, branch in enumerate(BRANCHES):
            for _ in range(n_per_cell):
                k += 1
                quality = rnd.random() + 0.25 * b - (0.3 if q == "2026Q3" and b == 2 else 0)
                ltr = max(0, min(10, round(4 + 6 * quality + rnd.gauss(0, 1.5))))
                sats = [SAT[max(0, min(4, round(3.2 - 3 * quality + rnd.gauss(0, 0.8))))]
                        for _ in ITEMS]
                overall = SAT[max(0, min(4, round(3 - 3 * quality + rnd.gauss(0, 0.7))))]
                chosen = [r for r in REASONS if rnd.random() < 0.4]
                if rnd.random() < 0.1:
                    chosen.append("其他〖工资代发〗")
                when = start + dt.timedelta(days=rnd.randrange(80), minutes=rnd.randrange(600))
                out.append([
                    k, when.strftime("%Y-%m-%d %H:%M:%S"), f"{rnd.randrange(60, 400)}秒",
                    "微信", "N/A", f"10.{b}.{k % 250}.{k % 7}(北京-北京)",
                    branch, f"客户{k:04d}", f"{PHONE_PREFIX}{k:08d}", ltr, *sats, overall,
                    "┋".join(chosen) if chosen else "(跳过)", rnd.choice(AGES),
                    rnd.choice(["", "", "排队太久了", f"请联系我 {COMMENT_PHONE_PREFIX}{k:08d}", "服务很好"]),
                ])
    return out


def write_wjx_text(path: Path, data: list[list] | None = None) -> Path:
    """The rows as a 问卷星 "按选项文本" .xlsx export."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(HEADERS)
    for r in data if data is not None else rows():
        ws.append(r)
    wb.save(path)
    return path


def expected(data: list[list] | None = None) -> dict:
    """Headline figures by hand: per (period, branch or None): n, NPS, top-2 share of the overall
    satisfaction question (%), and the mean of each rated item (非常满意 = 5 … 非常不满意 = 1)."""
    data = data if data is not None else rows()
    cells: dict[tuple[str, str | None], list[list]] = {}
    for r in data:
        month = int(r[1][5:7])
        period = f"{r[1][:4]}Q{(month - 1) // 3 + 1}"
        for key in ((period, r[6]), (period, None)):
            cells.setdefault(key, []).append(r)
    out = {}
    for key, rs in cells.items():
        ltr = [r[9] for r in rs]
        n = len(ltr)
        prom = sum(v >= 9 for v in ltr)
        det = sum(v <= 6 for v in ltr)
        overall = [SAT_CODE[r[13]] for r in rs]
        out[key] = {
            "n": n,
            "nps": 100 * (prom - det) / n,
            "top2": 100 * sum(v >= 4 for v in overall) / len(overall),
            "means": {name: sum(SAT_CODE[r[10 + j]] for r in rs) / n
                      for j, name in enumerate(ITEMS)},
        }
    return out
