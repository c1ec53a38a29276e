"""PII redaction for quoting free text: phones, e-mails, ID-card numbers, personal names."""

from __future__ import annotations

import re
from functools import lru_cache

from cxlab.text._resources import data_lines, lexicon, normalize, pos_tokenizer
from cxlab.text._tokenize import is_blank

__all__ = ["PLACEHOLDERS", "redact"]

#: Placeholder per kind of personal data.
PLACEHOLDERS = {"id_card": "[身份证]", "email": "[邮箱]", "phone": "[电话]", "name": "[姓名]"}

_SEP = r"[-\s.]?"
# 18-digit resident ID: 6-digit area, YYYYMMDD birth date, 3-digit sequence, check digit or X.
_ID_CARD = re.compile(
    r"(?<![0-9a-z])[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9x]"
    r"(?![0-9a-z])"
)
_EMAIL = re.compile(r"[a-z0-9._%+\-]+@[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.[a-z]{2,}")
# Mobile: optional +86/0086, 1[3-9]x then 8 digits, optionally grouped 3-4-4 by - . or space.
_MOBILE = re.compile(
    r"(?<![0-9])(?:(?:\+|00)?86[-\s]?)?1[3-9]\d" + _SEP + r"\d{4}" + _SEP + r"\d{4}(?![0-9])"
)
# Landline: (0xx) / 0xx- area code then 7–8 digits, optional extension; 400/800 service numbers.
_LANDLINE = re.compile(
    r"(?<![0-9])(?:\(0\d{2,3}\)\s?|0\d{2,3}[-\s])\d{3,4}[-\s]?\d{4}(?:\s?(?:转|-|ext\.?)\s?\d{1,5})?(?![0-9])"
    r"|(?<![0-9])0\d{2,3}\d{7,8}(?![0-9])"
    r"|(?<![0-9])[48]00[-\s]?\d{3}[-\s]?\d{4}(?![0-9])"
)
_TITLES = (
    "先生|女士|小姐|太太|经理|总监|主管|主任|师傅|老师|总|工|医生|律师|同学|阿姨|大姐|大哥|姐|哥"
)


_TITLE_END = re.compile(rf"(?:{_TITLES})$")


@lru_cache(maxsize=1)
def _surnames() -> tuple[frozenset[str], str]:
    names: list[str] = []
    for ln in data_lines("surnames.txt"):
        names.extend(ln.split())
    double = [n for n in names if len(n) == 2]
    single = [n for n in names if len(n) == 1]
    alt = "|".join(double) + ("|" if double else "") + "[" + "".join(single) + "]"
    return frozenset(names), alt


@lru_cache(maxsize=1)
def _title_pattern() -> re.Pattern:
    _, surname = _surnames()
    # surname (+ up to two given-name characters) + title: 王先生, 李娜女士, 张经理, 欧阳经理
    return re.compile(rf"(?:{surname})[\u4e00-\u9fff]{{0,2}}?(?=(?:{_TITLES}))")


# 小王 / 老李: only the most common surnames, and not in words such as 小时, 老师, 小程序.
_FAMILIAR = re.compile(
    r"(?:小|老)(?:王|李|张|刘|陈|杨|黄|赵|吴|周|徐|孙|朱|胡|郭|何|林|罗|郑|梁|谢|"
    r"宋|唐|许|韩|冯|邓|曹|彭|曾|肖|董|袁|潘|蒋|蔡|杜|魏|吕|丁|沈|姚|卢|姜|崔|钟|谭|陆|汪|廖|贾|夏|"
    r"邹|孟|熊|秦|邱|薛|侯|贺|顾|龚|邵|钱|严|戴|孔|汤)"
    r"(?=[^\u4e00-\u9fff]|$|[很说也都就是的态人帮给在已又还来去把被和跟挺非特真上])"
)

#: jieba ``nr`` tokens that are not names in CX feedback.
_NOT_NAMES = frozenset(
    "师傅 安装师傅 维修师傅 送货师傅 老师 客服 经理 主管 小哥 快递小哥 快递员 销售 导购 店员 工作人员 "
    "高端 高效 高兴 金属 林立 宋体 龙头 石头 白色 黄色 江湖 周到 周末 周期 周边 马上 常用 温度 温控 "
    "安装 安全 安心 文字 方便 方面 方案 明显 明天 明白 时间 时候 包装 包邮 华为 小米 苹果 格力 美的 "
    "海尔 董事长 费用 连接 全部 全新 应该 成功 成本 管理 和谐 司机 商品 史上 鲁大师 江苏 上海 "
    "谢谢 谢意 谢天谢地 多谢 温馨 温暖 华丽 黄金 常常 高兴 程序 简单 简直 车子 项目 关于 关注 宁愿 童锁 康佳 万能 万一 易用 齐全 卫生 孔洞 安装 送货 "
    "维修 高级 常务 金牌 资深 明星 区域 部门 大堂 房产 车间 文员 项目 柜台 应届 成都 武汉 "
    "长沙 南京 杭州 宁波 厦门 苏州 温州 常州 江门 石家庄 包头".split()
)


def _name_spans(text: str) -> list[tuple[int, int]]:
    """Spans of personal names in ``text`` (original, un-normalised characters)."""
    names, _ = _surnames()
    spans = [
        (m.start(), m.end()) for m in _title_pattern().finditer(text) if m.group(0) not in _NOT_NAMES
    ]
    spans += [(m.start(), m.end()) for m in _FAMILIAR.finditer(text)]
    if re.search(r"[\u4e00-\u9fff]", text):
        pos = 0
        for word, flag in pos_tokenizer().cut(text):
            start = text.find(word, pos)
            if start < 0:
                continue
            pos = start + len(word)
            if (flag != "nr" or word in _NOT_NAMES or word.lower() in lexicon("sentiment.txt")
                    or not 2 <= len(word) <= 4):
                continue
            if word[:2] in names or word[0] in names:
                title = _TITLE_END.search(word)
                spans.append((start, pos - (len(title.group(0)) if title else 0)))
    return spans


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    for s, e, kind in sorted(spans, key=lambda x: (x[0], -x[1])):
        if out and s < out[-1][1]:
            ps, pe, pk = out[-1]
            out[-1] = (ps, max(pe, e), pk)
            continue
        out.append((s, e, kind))
    return out


def redact(text: object) -> object:
    """Replace personal data in a free-text answer with placeholders.

    Replaced, in this order: 18-digit resident ID numbers (check character ``X`` allowed) →
    ``[身份证]``; e-mail addresses → ``[邮箱]``; mobile numbers ``1[3-9]`` + 9 digits, also written
    ``138-1234-5678``, ``138 1234 5678`` or with ``+86``, landlines (``021-12345678``,
    ``(0755)8765 4321``, extensions) and 400/800 numbers → ``[电话]``; personal names →
    ``[姓名]``: a common surname followed by up to two characters and a title (王先生, 李娜女士,
    张经理 → ``[姓名]经理``), 小王/老李, and words jieba tags as person names (``nr``) that start
    with a common surname. Full-width digits and letters are recognised.

    The result is plain text, **not** HTML-escaped: quotes can contain ``<`` or ``&``, and the
    report layer (``cxlab.report.tables`` / nbconvert) escapes every cell when rendering.

    Parameters
    ----------
    text : str or None
        ``None``/NaN are returned unchanged.

    Returns
    -------
    str (or the input when it is missing)

    Examples
    --------
    >>> redact("请王先生回电 138-1234-5678 或 wang.li@example.com")
    '请[姓名]先生回电 [电话] 或 [邮箱]'
    >>> redact("身份证11010519491231002X,张伟说会处理")
    '身份证[身份证],[姓名]说会处理'
    """
    if is_blank(text):
        return text
    original = str(text)
    norm = normalize(original)
    spans: list[tuple[int, int, str]] = []
    taken = [False] * len(norm)

    def add(pattern: re.Pattern, kind: str) -> None:
        for m in pattern.finditer(norm):
            if any(taken[m.start():m.end()]):
                continue
            spans.append((m.start(), m.end(), kind))
            for i in range(m.start(), m.end()):
                taken[i] = True

    add(_ID_CARD, "id_card")
    add(_EMAIL, "email")
    add(_MOBILE, "phone")
    add(_LANDLINE, "phone")
    for s, e in _name_spans(original):
        if not any(taken[s:e]):
            spans.append((s, e, "name"))
    out, last = [], 0
    for s, e, kind in _merge(spans):
        out.append(original[last:s])
        out.append(PLACEHOLDERS[kind])
        last = e
    out.append(original[last:])
    return "".join(out)
