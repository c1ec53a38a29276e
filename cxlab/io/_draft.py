"""``cxlab draft``: draft ``params/codebook.yaml``, ``sources.yaml`` and ``org.yaml`` from exports.

A CX team's own export (问卷星 text or code export, Qualtrics, SPSS, CSV/Excel, …) is read with
:func:`cxlab.io.read_export`; every column is classified from its header and its answers:

- metadata (response id, submission time, channel), personal data (phone, e-mail, name, IP, ID
  number, company: by header and by value pattern; written as ``pii:`` rules, never as items),
  the branch question (its answers become the organisation's units);
- items: the 0–10 recommend question (NPS), rating scales of known label families (满意, 同意,
  好/差, 容易/困难, English satisfied/agree/easy/excellent) coded so that a higher code is a
  better answer, numeric scales (0–10, 1–10), Kano pairs, single choice, multiple choice, open
  text, dates.

What cannot be decided from the files is listed in the review list (``params/DRAFT-REVIEW.md``)
rather than guessed silently. The output is deterministic: the same exports give the same bytes,
and a later wave of the same survey gives the same files (option lists, branches and codes
already in an earlier draft are kept).
"""

from __future__ import annotations

import functools
import json
import os
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import yaml

from cxlab.config import Codebook, Org, params_from_dict
from cxlab.errors import CxlabError
from cxlab.io._multiselect import _tokens, option_name
from cxlab.io._sources import Sources
from cxlab.io._validate import norm_text, parse_number

__all__ = ["DraftResult", "draft_params", "DRAFT_FILES"]

#: files written under ``<project>/params/``
DRAFT_FILES = ("codebook.yaml", "sources.yaml", "org.yaml", "DRAFT-REVIEW.md")

# ---- vocabularies -------------------------------------------------------------------------------

#: rating-scale label families, best answer first: (name, label, [(Chinese label, aliases…)…])
_FAMILIES: list[tuple[str, str, list[tuple[str, ...]]]] = [
    ("sat5", "满意度(5级)", [("非常满意", "very satisfied", "extremely satisfied"),
                          ("满意", "satisfied", "somewhat satisfied"),
                          ("一般", "neither satisfied nor dissatisfied", "neutral"),
                          ("不满意", "dissatisfied", "somewhat dissatisfied"),
                          ("非常不满意", "very dissatisfied", "extremely dissatisfied")]),
    ("sat5b", "满意度(5级)", [("非常满意",), ("比较满意",), ("一般",), ("比较不满意",), ("非常不满意",)]),
    ("sat7", "满意度(7级)", [("非常满意", "very satisfied", "extremely satisfied"),
                          ("满意", "satisfied", "moderately satisfied"),
                          ("比较满意", "somewhat satisfied", "slightly satisfied"),
                          ("一般", "neither satisfied nor dissatisfied", "neutral"),
                          ("比较不满意", "somewhat dissatisfied", "slightly dissatisfied"),
                          ("不满意", "dissatisfied", "moderately dissatisfied"),
                          ("非常不满意", "very dissatisfied", "extremely dissatisfied")]),
    ("agree5", "同意程度(5级)", [("非常同意", "strongly agree"), ("同意", "agree", "somewhat agree"),
                             ("一般", "neither agree nor disagree", "中立", "不确定"),
                             ("不同意", "disagree", "somewhat disagree"),
                             ("非常不同意", "strongly disagree")]),
    ("agree5b", "同意程度(5级)", [("非常同意",), ("比较同意",), ("一般", "中立", "不确定"),
                              ("比较不同意",), ("非常不同意",)]),
    ("agree7", "同意程度(7级)", [("非常同意", "strongly agree"), ("同意", "agree"),
                             ("比较同意", "somewhat agree"),
                             ("一般", "neither agree nor disagree", "中立"),
                             ("比较不同意", "somewhat disagree"), ("不同意", "disagree"),
                             ("非常不同意", "strongly disagree")]),
    ("good5", "五级评价", [("好", "excellent"), ("良好", "very good"), ("一般", "good", "average"),
                       ("较差", "fair"), ("差", "poor")]),
    ("good5b", "五级评价", [("非常好",), ("好",), ("一般",), ("差",), ("非常差",)]),
    ("good5c", "五级评价", [("很好",), ("较好",), ("一般",), ("较差",), ("很差",)]),
    ("ease5", "费力度(5级,越高越容易)", [("非常容易", "very easy", "extremely easy"),
                                  ("比较容易", "easy", "somewhat easy"),
                                  ("一般", "neither easy nor difficult", "neutral"),
                                  ("比较困难", "difficult", "somewhat difficult"),
                                  ("非常困难", "very difficult", "extremely difficult")]),
    ("ease5b", "费力度(5级,越高越容易)", [("非常容易",), ("容易",), ("一般",), ("困难",), ("非常困难",)]),
    ("ease7", "费力度(7级,越高越容易)", [("非常容易", "very easy", "extremely easy"),
                                  ("容易", "easy", "moderately easy"),
                                  ("比较容易", "somewhat easy", "slightly easy"),
                                  ("一般", "neither easy nor difficult", "neutral"),
                                  ("比较困难", "somewhat difficult", "slightly difficult"),
                                  ("困难", "difficult", "moderately difficult"),
                                  ("非常困难", "very difficult", "extremely difficult")]),
    ("effort5", "费力度(5级,越高越省力)", [("非常省力",), ("比较省力",), ("一般",), ("比较费力",),
                                   ("非常费力",)]),
]
_EASE = ("ease5", "ease5b", "ease7", "effort5")
_SAT = ("sat5", "sat5b", "sat7")

#: Kano answers, code 1 like … 5 dislike (cxlab.kano)
_KANO = [("喜欢", "like", "我喜欢", "很喜欢", "我很喜欢", "非常喜欢"),
         ("理应如此", "expect", "must-be", "must be", "理所当然", "必须这样", "应该的", "它理应如此"),
         ("无所谓", "neutral", "都可以", "无所谓/都行"),
         ("能忍受", "live with", "live_with", "tolerate", "可以忍受", "我能忍受", "勉强接受"),
         ("不喜欢", "dislike", "我不喜欢", "很不喜欢", "我很不喜欢")]

_RX_NPS = re.compile(r"(推荐|recommend|\bnps\b|likely|可能性)", re.I)
_RX_OVERALL = re.compile(r"(总体|整体|综合|总的来说|总而言之|overall|in general|总评)", re.I)
_RX_SAT = re.compile(r"(满意|satisf)", re.I)
_RX_EASE = re.compile(r"(容易|困难|费力|省力|方便|easy|difficult|effort)", re.I)
_RX_AGREE = re.compile(r"(同意|agree)", re.I)
_RX_GOOD = re.compile(r"(评价|好|差|rate|rating)", re.I)
_RX_BRANCH = re.compile(r"(网点|分支|支行|分行|门店|机构|营业部|营业厅|分公司|分店|办事处|"
                        r"\bbranch|\boffice\b|\bstore\b|\boutlet\b|\bshop\b)", re.I)
_RX_PII_HEADER = re.compile(
    r"(姓名|名字|手机号|手机号码|电话号码|联系电话|联系方式|邮箱|电子邮件|e-?mail|身份证|证件号|微信号|"
    r"qq号|住址|家庭地址|详细地址|通讯地址|工作单位|单位名称|公司名称|客户单位|所在单位|所在公司|"
    r"ip地址|ip address|\bipaddress\b|\b(first|last|full|your|sur|given|family)\s*name\b|"
    r"\bphone\b|\bmobile\b|\btelephone\b|\bcompany\b|\bemployer\b|\baddress\b)", re.I)
_RX_PII_EXACT = re.compile(r"^(电话|手机|地址|公司|单位|ip|name|姓名|email|e-mail|phone|qq|微信)$", re.I)
_RX_CUSTOMER = re.compile(r"(客户编号|客户号|客户id|会员号|会员编号|customer[ _]?id|"
                          r"member[ _]?id|externalreference|external reference)", re.I)
_RX_COMMENT = re.compile(r"(建议|意见|评价|想说|改进|原因|comment|feedback|suggest|improve|"
                         r"anything else|why)", re.I)
_RX_ID = re.compile(r"^(id|respondent[ _]?id|response[ _]?id|record[ _]?id|case[ _]?id|序号|编号|"
                    r"答卷编号|问卷编号|样本编号)$", re.I)
_RX_SUBMIT = re.compile(r"(提交|完成时间|填写时间|答题时间|submit|recorded|end ?date|completed)", re.I)
_RX_KANO_Q = re.compile(r"^(如果|假如|假设|若|if\b)", re.I)
_RX_KANO_NEG = re.compile(r"(没有|不具备|不支持|不提供|不能|无法|不带|不含|只有|不会|\bnot\b|n't\b|"
                          r"\bwithout\b|\bno\b)", re.I)

_PII_VALUES = [
    ("e-mail", re.compile(r"^[\w.+-]+@[\w-]+(\.[\w-]+)+$")),
    ("手机号", re.compile(r"^(\+?86[- ]?)?1[3-9][0-9]{9}$")),
    ("电话号码", re.compile(r"^(\+?[0-9]{1,3}[ -])?(\(?0?[0-9]{2,4}\)?[ -])[0-9]{3,4}[ -]?[0-9]{3,4}$")),
    ("身份证号", re.compile(r"^[1-9][0-9]{16}[0-9Xx]$")),
    ("IP 地址", re.compile(r"^[0-9]{1,3}(\.[0-9]{1,3}){3}(\s*[(（].*[)）])?$")),
]

_DATE_RX = re.compile(r"^[0-9]{4}[-/年.][0-9]{1,2}[-/月.][0-9]{1,2}日?([ T][0-9]{1,2}:[0-9]{2}"
                      r"(:[0-9]{2})?)?$")
_WJX_LABEL_PREFIX = r'^\s*(?:第\s*)?[0-9]+\s*(?:题)?\s*[、.．:：]\s*'
_WJX_MISSING = ["(跳过)", "（跳过）", "(空)", "（空）", "-2", "-3", ""]
_PERIOD_FROM_FILENAME = r'(?<![0-9])(20[0-9]{2}Q[1-4])(?![0-9])'
_OTHER_RX = re.compile(r"^(其他|其它|other)", re.I)

_FAMILY_NAMES = {
    "wjx_text": "wjx", "wjx_code": "wjx", "qualtrics": "qualtrics", "surveymonkey": "surveymonkey",
    "limesurvey": "limesurvey", "spss": "spss", "csv": "csv", "excel": "excel", "parquet": "parquet",
}
_READER_DESC = {"wjx_text": "问卷星 按选项文本", "wjx_code": "问卷星 按选项序号", "qualtrics": "Qualtrics",
                "surveymonkey": "SurveyMonkey", "limesurvey": "LimeSurvey", "spss": "SPSS",
                "csv": "CSV", "excel": "Excel", "parquet": "parquet"}

#: known metadata columns by platform: column -> ("meta", field) | ("pii",) | ("ignore",)
_PLATFORM_META: dict[str, dict[str, tuple[str, ...]]] = {
    "wjx": {"序号": ("meta", "response_id"), "提交答卷时间": ("meta", "submitted_at"),
            "所用时间": ("ignore",), "所用时间_秒": ("ignore",), "来源": ("meta", "channel"),
            "来源详情": ("pii",), "来自IP": ("pii",)},
    "qualtrics": {"ResponseId": ("meta", "response_id"), "ResponseID": ("meta", "response_id"),
                  "RecordedDate": ("meta", "submitted_at"), "EndDate": ("meta", "submitted_at"),
                  "StartDate": ("ignore",), "Status": ("ignore",), "Progress": ("ignore",),
                  "Duration (in seconds)": ("ignore",), "Finished": ("ignore",),
                  "UserLanguage": ("ignore",), "IPAddress": ("pii",),
                  "RecipientLastName": ("pii",), "RecipientFirstName": ("pii",),
                  "RecipientEmail": ("pii",), "LocationLatitude": ("pii",),
                  "LocationLongitude": ("pii",), "ExternalReference": ("meta", "customer_id"),
                  "DistributionChannel": ("meta", "channel")},
    "surveymonkey": {"Respondent ID": ("meta", "response_id"), "End Date": ("meta", "submitted_at"),
                     "Start Date": ("ignore",), "Collector ID": ("ignore",),
                     "IP Address": ("pii",), "Email Address": ("pii",), "First Name": ("pii",),
                     "Last Name": ("pii",), "Custom Data 1": ("meta", "customer_id")},
    "limesurvey": {"id": ("meta", "response_id"), "submitdate": ("meta", "submitted_at"),
                   "lastpage": ("ignore",), "startlanguage": ("ignore",), "seed": ("ignore",),
                   "startdate": ("ignore",), "datestamp": ("ignore",), "ipaddr": ("pii",),
                   "email": ("pii",), "firstname": ("pii",), "lastname": ("pii",),
                   "refurl": ("pii",), "token": ("meta", "customer_id")},
}
_CHANNEL_VALUES = {
    "wjx": {"手机提交": "手机网页", "微信": "微信", "链接": "链接"},
    "qualtrics": {"anonymous": "链接", "sms": "短信", "email": "邮件", "social": "社交媒体",
                  "qr": "二维码"},
}


# ---- results --------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True, kw_only=True)
class DraftResult:
    """What :func:`draft_params` drafted.

    Attributes
    ----------
    codebook, sources, org
        The drafted parameter models (validated as ``cxlab ingest`` loads them).
    texts
        File name (``codebook.yaml``, ``sources.yaml``, ``org.yaml``, ``DRAFT-REVIEW.md``) →
        the text written under ``<project>/params/``.
    review
        The review list: ``(level, text)`` with level ``必须处理`` (must be done before the
        exports load as intended) or ``请核对`` (a decision to check).
    written, unchanged
        Paths written, and paths left alone because they already held the same text.
    """

    codebook: Codebook
    sources: Sources
    org: Org
    texts: dict[str, str]
    review: list[tuple[str, str]]
    written: list[Path] = field(default_factory=list)
    unchanged: list[Path] = field(default_factory=list)

    def to_frame(self) -> pd.DataFrame:
        """The review list: one row per entry, ``level, text``."""
        return pd.DataFrame(self.review, columns=["level", "text"])

    def _repr_html_(self) -> str:
        import html

        return "<pre>" + html.escape(self.texts["DRAFT-REVIEW.md"]) + "</pre>"

    def summary(self) -> str:
        """The review list as printed by ``cxlab draft``, then the files written/unchanged."""
        review, _, _ = self.texts["DRAFT-REVIEW.md"].partition("\n## 题目")
        lines = [review.rstrip(), "", f"({len(self.codebook.items)} 个题目的列表见 "
                 "params/DRAFT-REVIEW.md; the drafted items are listed there)", ""]
        lines += [f"wrote {p}" for p in self.written]
        lines += [f"unchanged {p}" for p in self.unchanged]
        return "\n".join(lines)


# ---- helpers ---------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1 << 16, typed=True)
def _nfkc_cached(s: object) -> str:
    return norm_text(s)


def _nfkc(s: object) -> str:
    try:
        return _nfkc_cached(s)
    except TypeError:  # unhashable
        return norm_text(s)


def _natural_key(s: str) -> tuple:
    parts = re.split(r"([0-9]+(?:\.[0-9]+)?)", s)
    key: list = []
    for k, p in enumerate(parts):
        if k % 2:
            key.append((0, float(p), ""))
        elif p:
            key.append((1, 0.0, p))
    # options starting with a number first, "other" options last
    return (1 if _OTHER_RX.match(s) else 0, 0 if parts and parts[0] == "" else 1, key)


def _is_missing(v: object) -> bool:
    if v is None or v is pd.NA or v is pd.NaT:
        return True
    if isinstance(v, float) and v != v:
        return True
    return isinstance(v, str) and not v.strip()


def _int(v: object) -> int | None:
    """The whole number a cell holds (``"7"``, ``7.0``), else ``None``."""
    try:
        return _int_cached(v)
    except TypeError:  # unhashable
        return _int_cached.__wrapped__(v)


@functools.lru_cache(maxsize=1 << 16, typed=True)
def _int_cached(v: object) -> int | None:
    num = parse_number(v) if not isinstance(v, bool) else None
    if num is None or not float(num).is_integer():
        return None
    return int(num)


def _strip_free_text(tok: str) -> str:
    """``其他【请注明】〖free text〗`` → ``其他【请注明】``."""
    return re.sub(r"〖.*?〗", "", tok, flags=re.S).strip()


def _option_name(tok: str) -> str:
    """The option as listed in the codebook: free text and a 【请注明】 placeholder removed."""
    return option_name(tok)


def _split_multi(v: str, sep: str) -> list[str]:
    """A multi-select answer's options (``sep`` inside 〖free text〗 does not split)."""
    return _tokens(v, sep)


def _family_lookup(fam: list[tuple[str, ...]]) -> dict[str, int]:
    n = len(fam)
    out: dict[str, int] = {}
    for rank, words in enumerate(fam):
        for w in words:
            out.setdefault(_nfkc(w).lower(), n - rank)
    return out


def _match_family(values: list[str]) -> str | None:
    """The smallest label family holding every value (``None`` if none does)."""
    vals = {_nfkc(v).lower() for v in values}
    if not vals:
        return None
    best = None
    for name, _, fam in _FAMILIES:
        if vals <= set(_family_lookup(fam)) and (best is None or len(fam) < best[1]):
            best = (name, len(fam))
    return best[0] if best else None


def _family(name: str) -> tuple[str, list[tuple[str, ...]]]:
    for n, label, fam in _FAMILIES:
        if n == name:
            return label, fam
    raise KeyError(name)


def _kano_lookup() -> dict[str, int]:
    out = {}
    for code, words in enumerate(_KANO, start=1):
        for w in words:
            out[_nfkc(w).lower()] = code
    return out


def _pii_kind(values: list) -> str | None:
    """What personal data at least half of the distinct answers look like, else ``None``."""
    texts = [_nfkc(v) for v in dict.fromkeys(v for v in values if not _is_missing(v))]
    if len(texts) < 1:
        return None
    for what, rx in _PII_VALUES:
        hits = sum(1 for t in texts if rx.match(t))
        if hits and hits >= 0.5 * len(texts):
            return what
    return None


def _looks_date(values: list) -> bool:
    texts = list(dict.fromkeys(v for v in values if not _is_missing(v)))
    if not texts:
        return False
    if all(isinstance(v, pd.Timestamp) or hasattr(v, "year") for v in texts):
        return True
    hits = sum(1 for v in texts if isinstance(v, str) and _DATE_RX.match(_nfkc(v)))
    return hits >= 0.9 * len(texts)


def _slug(text: str) -> str:
    s = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    s = re.sub(r"[^a-z0-9]+", "_", s).strip("_")
    if not s or not s[0].isalpha():
        s = "q_" + s if s else ""
    return s[:30].rstrip("_")


# ---- YAML text ----------------------------------------------------------------------------------

_PLAIN_OK = re.compile(r"^[^\s\-?:,\[\]{}#&*!|>'\"%@`][^,\[\]{}#\n]*$")


def _q(v: object) -> str:
    """A YAML scalar usable inside flow collections: plain when safe, else double-quoted."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v)
    s = str(v)
    if _PLAIN_OK.match(s) and ": " not in s and not s.endswith((":", " ")):
        try:  # plain only where PyYAML reads it back unchanged, also inside { } and [ ]
            if (yaml.safe_load(s) == s and yaml.safe_load("{a: " + s + ", b: 1}") == {"a": s, "b": 1}
                    and yaml.safe_load("[" + s + ", 1]") == [s, 1]
                    and yaml.safe_load("{" + s + ": 1}") == {s: 1}):
                return s
        except yaml.YAMLError:
            pass
    return json.dumps(s, ensure_ascii=False)


def _sq(pattern: str) -> str:
    """A regular expression as a single-quoted YAML scalar (backslashes kept)."""
    return "'" + pattern.replace("'", "''") + "'"


def _flow(d: dict) -> str:
    parts = []
    for k, v in d.items():
        if v is None:
            continue
        parts.append(f"{_q(k)}: {_flowv(v)}")
    return "{" + ", ".join(parts) + "}"


def _flowv(v: object) -> str:
    if isinstance(v, dict):
        return _flow(v)
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_flowv(x) for x in v) + "]"
    if isinstance(v, _Regex):
        return _sq(v.text)
    return _q(v)


@dataclass(frozen=True)
class _Regex:
    text: str


def _comment(text: str) -> str:
    return " ".join(str(text).split())


# ---- reading and column analysis ---------------------------------------------------------------

@dataclass
class _Export:
    path: Path
    name: str
    reader: str
    family: str
    df: pd.DataFrame
    labels: dict[str, str]
    value_labels: dict[str, dict]
    qnums: dict[str, int]


@dataclass
class _Question:
    key: tuple
    label: str
    section: str | None
    qnum: int | None
    order: tuple
    columns: dict[str, list[str]] = field(default_factory=dict)    # family -> columns
    headers: set[str] = field(default_factory=set)                  # headers / column names
    texts: list = field(default_factory=list)                       # text-export answers
    codes: list = field(default_factory=list)                       # wjx_code answers
    pairs: Counter = field(default_factory=Counter)                 # (code, text) from paired rows
    spread: list[str] | None = None                                 # options from 0/1 columns
    spread_cols: dict[str, list[str]] = field(default_factory=dict)
    other_cols: dict[str, str] = field(default_factory=dict)        # family -> "other" text column
    value_labels: dict | None = None
    readers: set[str] = field(default_factory=set)
    multi_hint: bool = False
    spread_rules: dict[str, dict] = field(default_factory=dict)     # family -> spread rule
    # decisions
    kind: str = ""          # nps numeric ordinal kano multi category text date pii branch
    scale: str = ""
    role: str = "measure"
    item_id: str = ""
    notes: list[str] = field(default_factory=list)
    options: list[str] = field(default_factory=list)
    shown: list[int] | None = None
    scale_def: dict | None = None
    pii_why: str = ""


def _read_all(paths: list[Path]) -> list[_Export]:
    from cxlab.io._readers import read_export

    out = []
    for p in paths:
        df = read_export(p)
        attrs = dict(df.attrs)
        reader = str(attrs.get("source"))
        out.append(_Export(path=p, name=p.name, reader=reader,
                           family=_FAMILY_NAMES.get(reader, reader), df=df,
                           labels={k: _nfkc(v) for k, v in (attrs.get("labels") or {}).items()
                                   if isinstance(v, str) and v.strip()},
                           value_labels=dict(attrs.get("value_labels") or {}),
                           qnums=dict(attrs.get("question_numbers") or {})))
    return out


def _expand(paths) -> list[Path]:
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    files: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "_")))
                for n in sorted(filenames):
                    if n.startswith((".", "~$")) or n.lower().endswith((".md", ".txt", ".json",
                                                                       ".yaml", ".yml")):
                        continue
                    files.append(Path(dirpath) / n)
        elif p.exists():
            files.append(p)
        else:
            raise CxlabError(f"{p}: no such file or folder")
    if not files:
        raise CxlabError("no export given: name one or more export files (or folders)")
    return files


_WJX_SPREAD = re.compile(r"^第\s*([0-9]+)\s*题\s*[(（](.*)[)）]$", re.S)
_WJX_ROW = re.compile(r"^([0-9]+)[(（](.*)[)）]$", re.S)
_WJX_Q = re.compile(r"^([0-9]+)[、.．]\s*(.*)$", re.S)


def _values(series: pd.Series) -> list:
    return [v for v in series.tolist() if not _is_missing(v)]


def _label_spread(ex: _Export) -> dict[str, tuple]:
    """Multi-selects spread over one column per choice whose question text reads
    ``<question> - <choice>`` (Qualtrics ``Q7_1``, ``Q7_2``… plus ``Q7_4_TEXT``; SurveyMonkey
    choice columns): column → ``(question, choice or None for the "other" text column, rule)``.
    A group counts when every choice column holds only its choice text or 1 (or nothing) and
    at most one column ("other") holds free text."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for col in ex.df.columns:
        col = str(col)
        lab = ex.labels.get(col, col) if ex.family == "qualtrics" else col
        if ex.family == "qualtrics" and not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*_[0-9]+(_TEXT)?", col):
            continue
        lab = re.sub(r"\s*-\s*(Text|Selected Choice)$", "", lab)
        head, sep, tail = lab.rpartition(" - ")
        if sep:
            groups.setdefault(head.strip(), []).append((col, tail.strip()))
    out: dict[str, tuple] = {}
    for question, members in groups.items():
        if len([c for c, _ in members if not c.endswith("_TEXT")]) < 2:
            continue
        others, ok = 0, True
        for col, opt in members:
            vals = {_nfkc(v) for v in _values(ex.df[col])}
            if col.endswith("_TEXT") and ex.family == "qualtrics":
                continue
            if vals <= {_nfkc(opt), "1", "0"}:
                continue
            if _OTHER_RX.match(opt) and others == 0:
                others += 1
                continue
            ok = False
            break
        if not ok:
            continue
        if ex.family == "qualtrics":
            prefixes = {re.match(r"(.+?)_[0-9]+", c).group(1) for c, _ in members}
            if len(prefixes) != 1:
                continue
            prefix = prefixes.pop()
            rule = {"joined": prefix,
                    "pattern": rf"^(?P<question>{re.escape(prefix)})_(?P<option>[0-9]+(_TEXT)?)$",
                    "option_code": r"^(?P<pos>[0-9]+)$", "other": r"_TEXT$",
                    "selected": ["1"], "unselected": ["0"]}
            for col, opt in members:
                out[col] = (question, None if col.endswith("_TEXT") else opt, rule)
        else:
            rule = {"joined": question,
                    "pattern": rf"^(?P<question>{re.escape(question)}) - (?P<option>.+)$",
                    "selected": [], "unselected": []}
            for col, opt in members:
                out[col] = (question, opt, rule)
    return out


def _lime_spread(ex: _Export) -> dict[str, tuple]:
    """LimeSurvey multiple choice: ``Q8[SQ001]`` … = ``Y`` or empty, ``Q8[other]`` free text."""
    groups: dict[str, list[tuple[str, str]]] = {}
    for col in ex.df.columns:
        m = re.fullmatch(r"(.+)\[(SQ[0-9]+|other)\]", str(col))
        if m:
            groups.setdefault(m.group(1), []).append((str(col), m.group(2)))
    out: dict[str, tuple] = {}
    for question, members in groups.items():
        codes = [(c, o) for c, o in members if o != "other"]
        if len(codes) < 2 or not all({_nfkc(v) for v in _values(ex.df[c])} <= {"Y"}
                                     for c, _ in codes):
            continue
        rule = {"joined": question,
                "pattern": rf"^(?P<question>{re.escape(question)})\[(?P<option>[^\]]+)\]$",
                "option_code": r"^SQ(?P<pos>[0-9]+)$", "other": r"^other$",
                "selected": ["Y"], "unselected": ["N"]}
        for col, opt in members:
            out[col] = (question, None if opt == "other" else opt, rule)
    return out


# ---- the drafter ----------------------------------------------------------------------------------

class _Drafter:
    def __init__(self, exports: list[_Export], previous: dict):
        self.exports = exports
        self.prev = previous
        self.questions: dict[tuple, _Question] = {}
        self.review: list[tuple[str, str]] = []
        self.fam_meta: dict[str, dict] = {}      # family -> {field: column, ...}
        self.fam_pii: dict[str, list[tuple[str, str, str]]] = {}   # family -> (selector, value, why)
        self.fam_ignore: dict[str, list[tuple[str, str]]] = {}
        self.fam_readers: dict[str, list[str]] = {}
        self.branch_q: _Question | None = None
        self.about: list[_Question | None] = []     # the question each review entry is about
        self.lime_codes: list[_Question] = []       # LimeSurvey questions answered by code only
        self.pending_other: list[tuple] = []        # Qualtrics "other" text columns, by base
        self.current: _Question | None = None

    # -- review
    def must(self, text: str) -> None:
        self._note("必须处理", text)

    def check(self, text: str) -> None:
        self._note("请核对", text)

    def _note(self, level: str, text: str) -> None:
        if (level, text) not in self.review:
            self.review.append((level, text))
            self.about.append(self.current)

    def final_review(self) -> list[tuple[str, str]]:
        """The review entries, without those about columns that turned out to be metadata."""
        return [r for r, q in zip(self.review, self.about, strict=True)
                if q is None or q.kind not in ("response_id", "submitted_at")]

    # -- step 1: columns -> questions
    def collect(self) -> None:
        for fi, ex in enumerate(self.exports):
            fam = ex.family
            self.fam_readers.setdefault(fam, [])
            if ex.reader not in self.fam_readers[fam]:
                self.fam_readers[fam].append(ex.reader)
            meta = self.fam_meta.setdefault(fam, {})
            known = _PLATFORM_META.get(fam, {})
            spread = (_label_spread(ex) if fam in ("qualtrics", "surveymonkey")
                      else _lime_spread(ex) if fam == "limesurvey" else {})
            for ci, col in enumerate(ex.df.columns):
                col = str(col)
                label = ex.labels.get(col, col)
                if col in spread:
                    self._collect_spread(fi, ci, ex, col, *spread[col])
                    continue
                if col in known:
                    what = known[col]
                    if what[0] == "meta":
                        if what[1] == "submitted_at":
                            meta.setdefault("submitted_at", [])
                            if col not in meta["submitted_at"]:
                                meta["submitted_at"].append(col)
                            if not _values(ex.df[col]):
                                meta.setdefault("_empty_times", set()).add(ex.name)
                        else:
                            meta.setdefault(what[1], col)
                    elif what[0] == "pii":
                        self._add_pii(fam, "column", col, "平台的个人信息列")
                    else:
                        self._add_ignore(fam, "column", col)
                    continue
                if fam == "qualtrics" and re.fullmatch(r"Q[0-9A-Za-z_]*_NPS_GROUP", col):
                    self._add_ignore(fam, "pattern", r"_NPS_GROUP$")
                    continue
                if fam == "qualtrics" and col.endswith("_TEXT"):
                    base = col[: -len("_TEXT")]
                    m = re.fullmatch(r"(.+)_[0-9]+", base)
                    if m and m.group(1) in ex.df.columns:
                        self.pending_other.append((fam, m.group(1), col, ex))
                        continue
                self._collect_question(fi, ci, ex, col, label)
        for fam, base, col, ex in self.pending_other:
            q = self._find(fam, base)
            if q is not None:
                q.other_cols[fam] = col
            else:
                self._collect_question(99, 0, ex, col, ex.labels.get(col, col))
        self._pair_wjx()

    def _collect_spread(self, fi: int, ci: int, ex: _Export, col: str, question: str,
                        option: str | None, rule: dict) -> None:
        """One option column of a multi-select spread over columns (Qualtrics ``Q7_1…``,
        SurveyMonkey ``<question> - <choice>``); ``option`` None = the "other" text column."""
        key = (ex.family, "spread", rule["joined"])
        q = self.questions.get(key)
        if q is None:
            q = self.questions[key] = _Question(key=key, label=_nfkc(question), section=None,
                                                qnum=None, order=(fi, ci))
            q.spread = []
            q.spread_rules[ex.family] = rule
        q.readers.add(ex.reader)
        q.headers.add(col)
        q.columns.setdefault(ex.family, [])
        q.spread_cols.setdefault(option or "", []).append(col)
        if option is not None and option not in q.spread:
            q.spread.append(option)

    def _find(self, fam: str, col: str) -> _Question | None:
        for q in self.questions.values():
            if col in q.columns.get(fam, []):
                return q
        return None

    def _add_pii(self, fam: str, sel: str, value: str, why: str) -> None:
        lst = self.fam_pii.setdefault(fam, [])
        if not any(s == sel and v == value for s, v, _ in lst):
            lst.append((sel, value, why))

    def _add_ignore(self, fam: str, sel: str, value: str) -> None:
        lst = self.fam_ignore.setdefault(fam, [])
        if (sel, value) not in lst:
            lst.append((sel, value))

    def _collect_question(self, fi: int, ci: int, ex: _Export, col: str, label: str) -> None:
        fam = ex.family
        section = None
        qnum = None
        spread_opt = None
        if fam == "wjx":
            m = _WJX_SPREAD.match(col)
            if m:
                qnum, spread_opt = int(m.group(1)), m.group(2).strip()
                key = ("wjx", qnum, None)
                label = ""
            elif (m := _WJX_Q.match(col)):
                qnum = int(m.group(1))
                key = ("wjx", qnum, None)
                label = _nfkc(m.group(2))
            elif (m := _WJX_ROW.match(col)):
                qnum = int(m.group(1))
                label = _nfkc(m.group(2))
                key = ("wjx", qnum, label)
                section = f"第{qnum}题"
            else:
                key = ("wjx", col)
                label = _nfkc(col)
        else:
            text = label if fam != "surveymonkey" else col
            if fam in ("qualtrics", "surveymonkey"):
                text = re.sub(r"\s*-\s*(Selected Choice|Response|Open-Ended Response)$", "", text)
                if " - " in text:
                    head, _, tail = text.rpartition(" - ")
                    section, text = _nfkc(head), _nfkc(tail)
            label = _nfkc(text) if text else _nfkc(col)
            key = (fam, col)
        q = self.questions.get(key)
        if q is None:
            q = self.questions[key] = _Question(key=key, label=label, section=section, qnum=qnum,
                                                order=(fi, ci))
        if label and not q.label:
            q.label = label
        q.readers.add(ex.reader)
        q.headers.add(col)
        if col not in q.columns.setdefault(fam, []):
            q.columns[fam].append(col)
        s = ex.df[col]
        if spread_opt is not None:
            if q.spread is None:
                q.spread = []
            if spread_opt not in q.spread:
                q.spread.append(spread_opt)
            q.spread_cols.setdefault(spread_opt, []).append(col)
            return
        vals = _values(s)
        # a code export writes choices as positions, fill-in answers as text
        if ex.reader == "wjx_code" and all(_int(v) is not None for v in vals):
            q.codes.extend(vals)
        else:
            q.texts.extend(vals)
        if ex.value_labels.get(col):
            q.value_labels = {k: _nfkc(v) for k, v in ex.value_labels[col].items()}
        if fam == "qualtrics" and "Selected Choice" in ex.labels.get(col, ""):
            q.multi_hint = True

    def _pair_wjx(self) -> None:
        texts = [e for e in self.exports if e.reader == "wjx_text" and "序号" in e.df.columns]
        codes = [e for e in self.exports if e.reader == "wjx_code" and "序号" in e.df.columns]
        self.paired = bool(texts and codes)
        for t in texts:
            for c in codes:
                tids = t.df["序号"].astype("string")
                cids = c.df["序号"].astype("string")
                common = set(tids.dropna()) & set(cids.dropna())
                if len(common) < 0.9 * max(len(tids), len(cids)):
                    continue
                tt = t.df.assign(_k=tids.to_numpy()).set_index("_k")
                cc = c.df.assign(_k=cids.to_numpy()).set_index("_k")
                if not (tt.index.is_unique and cc.index.is_unique):
                    continue
                keys = sorted(common)
                for col in t.df.columns:
                    if col not in c.df.columns or col in _PLATFORM_META["wjx"]:
                        continue
                    q = self._find("wjx", col)
                    if q is None:
                        continue
                    both = Counter(zip(cc.loc[keys, col].tolist(), tt.loc[keys, col].tolist(),
                                       strict=True))
                    for (cv, tv), n in both.items():
                        if _is_missing(tv) or _is_missing(cv) or _int(cv) is None:
                            continue
                        text = _option_name(str(tv)) if isinstance(tv, str) else tv
                        q.pairs[(_int(cv), text)] += n

    # -- step 2: decide every question
    def decide(self) -> None:
        qs = sorted(self.questions.values(), key=lambda q: q.order)
        for q in qs:
            self.current = q
            self._decide(q)
        self.current = None
        self.branch_qs: dict[str, _Question] = {}     # export family -> its branch question
        for q in (q for q in qs if q.kind == "branch"):
            fam = next(iter(q.columns))
            if fam in self.branch_qs:
                self.current = q
                q.kind = "category"
                self.check(f"第二个网点/分支类题目「{q.label}」按单选题处理; 网点取自"
                           f"「{self.branch_qs[fam].label}」")
                self._decide_category(q)
                self.current = None
            else:
                self.branch_qs[fam] = q
        self.branch_q = next(iter(self.branch_qs.values()), None)

    def _decide(self, q: _Question) -> None:
        """Sets ``q.kind`` (and scale, role, options) from the header and the answers."""
        label = q.label
        heads = " ".join([label, *q.headers, q.section or ""])
        texts = q.texts
        codes = q.codes
        # personal data by header, then by value
        if _RX_PII_HEADER.search(label) or _RX_PII_EXACT.match(label.strip()) or any(
                _RX_PII_EXACT.match(h.strip()) for h in q.headers):
            words = [_nfkc(v) for v in texts if isinstance(v, str) and _int(v) is None]
            rated = bool(texts) and (
                (len(words) == len(texts) and (_match_family(words) is not None or set(
                    w.lower() for w in words) <= set(_kano_lookup())))
                or (not words and all(0 <= (_int(v) or 0) <= 10 for v in texts)
                    and not _pii_kind(texts)))
            if rated and not _pii_kind(texts):
                self.check(f"「{label}」: 题目像个人信息 (姓名/电话/公司…), 但答案是评分; 按评分题导入, "
                           "请核对")
            elif not _RX_BRANCH.search(label) or _pii_kind(texts):
                q.kind, q.pii_why = "pii", "题目/列名像个人信息"
                return
        pii = _pii_kind(texts) or (_pii_kind([str(v) for v in codes]) if codes and not texts
                                   and all(_int(v) is not None and _int(v) > 10**9 for v in codes)
                                   else None)
        if pii:
            q.kind, q.pii_why = "pii", f"答案像{pii}"
            return
        # customer id (kept pseudonymised)
        if _RX_CUSTOMER.search(label) and q.spread is None:
            q.kind = "customer_id"
            return
        if q.spread is not None or any("┋" in str(v) for v in texts) or (
                q.multi_hint and any("," in str(v) for v in texts)):
            self._decide_multi(q)
            return
        nums = [_int(v) for v in texts]
        all_int = bool(texts) and all(n is not None for n in nums)
        if _RX_BRANCH.search(heads) and q.section is None and not _RX_NPS.search(heads):
            distinct = {_nfkc(v) for v in texts} | {_int(v) for v in codes}
            words = [v for v in texts if isinstance(v, str) and _int(v) is None]
            named = (bool(words) and len(words) == len(texts) and _match_family(words) is None
                     and not {_nfkc(v).lower() for v in words} <= set(_kano_lookup()))
            rating = _RX_SAT.search(heads) or _RX_EASE.search(heads) or _RX_AGREE.search(
                heads) or _RX_KANO_Q.search(label)
            if (named or (all_int and q.value_labels) or (codes and not texts and not rating)) and (
                    1 <= len(distinct) <= 500
                    and not (len(texts) > 20 and len(distinct) == len(texts))):
                q.kind = "branch"
                return
        # value labels (SPSS)
        if q.value_labels and (not texts or all_int):
            if self._decide_labelled(q, [n for n in nums if n is not None]):
                return
        # recommend question
        if _RX_NPS.search(heads):
            cvals = [_int(v) for v in codes]
            ok_t = not texts or (all_int and all(0 <= n <= 10 for n in nums))
            ok_c = not codes or all(c is not None and 1 <= c <= 11 for c in cvals)
            if ok_t and ok_c and (texts or codes):
                q.kind, q.scale = "nps", "ltr11"
                if codes and not texts and not self.paired:
                    self.check(f"「{label}」: 只有按选项序号导出; 按问卷星约定, 序号 1 = 0 分 … 11 = 10 分")
                if q.pairs:
                    bad = [(c, t) for (c, t) in q.pairs if _int(t) != c - 1]
                    if bad:
                        self.check(f"「{label}」: 按选项序号与文本不是 序号-1 = 分数 ({bad[:3]}); "
                                   "请核对 sources.yaml positions")
                return
        if texts and _looks_date(texts):
            q.kind, q.scale, q.role = "date", "date", "dimension"
            return
        str_texts = [v for v in texts if isinstance(v, str) and _int(v) is None]
        # rating families by answer text
        fam = _match_family(str_texts) if str_texts and len(str_texts) == len(texts) else None
        if fam is None and str_texts and len(str_texts) == len(texts):
            # family of the text answers plus the position pairs' texts
            fam = _match_family(str_texts + [str(t) for (_, t) in q.pairs])
        if fam is not None:
            self._decide_family(q, fam)
            return
        kano = _kano_lookup()
        if str_texts and len(str_texts) == len(texts) and {
                _nfkc(v).lower() for v in str_texts} <= set(kano):
            q.kind, q.scale = "kano", "kano5"
            return
        if codes and not texts:
            self._decide_codes_only(q)
            return
        if all_int:
            lo, hi = min(nums), max(nums)
            # the range the question states, e.g. "(1-10)", "0到10分", else from the answers (a
            # wave without 0 answers still drafts 0-10, so later waves are not out of range)
            said = re.search(r"(?<![0-9])([01])\s*(?:-|~|～|—|到|至)\s*(5|7|10)(?![0-9])", label)
            if said and int(said.group(1)) <= lo and hi <= int(said.group(2)):
                bounds = (int(said.group(1)), int(said.group(2)))
            elif lo >= 0 and hi <= 10:
                bounds = (0, 10) if (lo == 0 or hi > 7) else (1, 7) if hi > 5 else (1, 5)
            else:
                bounds = None
            if bounds is not None:
                name = {(0, 10): "score11", (1, 10): "rating10", (1, 5): "rating1_5",
                        (1, 7): "rating1_7"}.get(bounds)
                if name is None:
                    name = f"rating{bounds[0]}_{bounds[1]}"
                    _SCALES_FIXED.setdefault(name, {"kind": "numeric", "min": bounds[0],
                                                    "max": bounds[1],
                                                    "label": f"评分({bounds[0]}-{bounds[1]})"})
                q.kind, q.scale = "numeric", name
                how = "题目写明" if said and bounds == (int(said.group(1)), int(said.group(2))) \
                    else "按答案推断"
                self.check(f"「{label}」: 数字答案 {lo}–{hi}, 无选项文字; 按 {bounds[0]}–{bounds[1]} "
                           f"分量表处理 ({how}), 假定越高越好; 不是推荐题")
                return
            q.kind, q.scale, q.role = "text", "number", "dimension"
            self.check(f"「{label}」: 数字答案 {lo}–{hi}, 不是量表; 以文本保存 (scale number)")
            return
        self._decide_category(q)

    def _decide_multi(self, q: _Question) -> None:
        q.kind, q.role = "multi", "dimension"
        sep = "┋" if any("┋" in str(v) for v in q.texts) or "wjx" in q.columns else ","
        seqs: list[list[str]] = []
        for v in q.texts:
            if _int(v) is not None and not isinstance(v, str):
                continue
            seqs.append([_option_name(t) for t in _split_multi(str(v), sep)])
        prev = self.prev.get("options", {}).get(self._planned_id(q))
        if q.spread is not None and "limesurvey" in q.spread_rules:
            opts = [f"选项{k}" for k in range(1, len(q.spread) + 1)]
            if q.spread_cols.get(""):
                opts.append("其他")
            self.must(f"「{q.label}」(LimeSurvey 多选 {', '.join(q.spread)}): 导出只有子问题代码, 选项文字"
                      "未知; 请在 codebook 中把 选项1… 改成问卷中的选项文字 (按 SQ001, SQ002… 的顺序)")
        elif q.spread is not None:
            opts = [_option_name(o) for o in q.spread]
            extra = [o for s in seqs for o in s if o not in opts]
            if extra:
                self.check(f"「{q.label}」: 文本导出的选项 {sorted(set(extra))[:5]} 不在按选项序号导出的列中")
        else:
            opts = _merge_orders(seqs)
            if "qualtrics" in q.columns and all(_int(o) is not None for o in opts):
                self.check(f"「{q.label}」(多选): 只有选项编号 (numeric export), 选项文字未知; "
                           "请把 options 改成问卷中的选项文字 (按编号顺序)")
                opts = sorted(opts, key=lambda o: _int(o))
            elif "wjx" in q.columns:
                self.check(f"「{q.label}」(多选): 选项顺序由答案推断 (问卷星按问卷顺序连接选项); "
                           "有未被选过的选项时请补上")
        if prev:
            opts = list(prev) + [o for o in opts if o not in prev]
        others = [o for o in opts if _OTHER_RX.match(o)]
        opts = [o for o in opts if not _OTHER_RX.match(o)] + others
        q.options = opts
        if "qualtrics" in q.columns and q.other_cols and not others:
            self.check(f"「{q.label}」: 有“其他”文本列 {list(q.other_cols.values())}, 但选项中没有“其他”")

    def _decide_family(self, q: _Question, fam: str) -> None:
        # an earlier draft's family for this question wins when it holds every answer (a wave
        # without 比较满意 answers must not turn a 7-point scale into a 5-point one)
        before = self.prev.get("families", {}).get(q.label)
        if before and before != fam:
            answers = {_nfkc(v).lower() for v in q.texts if isinstance(v, str)}
            if answers <= set(_family_lookup(_family(before)[1])):
                fam = before
        label, words = _family(fam)
        n = len(words)
        q.kind, q.scale = "ordinal", fam
        lookup = _family_lookup(words)
        desc = list(range(n, 0, -1))
        if q.pairs:
            obs = {}
            for (c, t), _ in q.pairs.most_common():
                code = lookup.get(_nfkc(t).lower())
                if code is not None and c not in obs:
                    obs[c] = code
            if obs and all(obs[p] == n + 1 - p for p in obs):
                q.shown = desc
            elif obs and all(obs[p] == p for p in obs):
                q.shown = list(range(1, n + 1))
            elif obs and len(obs) == n:
                q.shown = [obs[p] for p in sorted(obs)]
            else:
                q.shown = desc
                self.check(f"「{q.label}」: 按选项序号与文本的对应不完整, 假定选项按“最好在前”显示")
        else:
            q.shown = desc

    def _decide_labelled(self, q: _Question, nums: list[int]) -> bool:
        vl = {k: v for k, v in q.value_labels.items() if isinstance(k, int)}
        if not vl:
            return False
        heads = " ".join([q.label, *q.headers])
        fam = _match_family(list(vl.values()))
        if fam is not None:
            _, words = _family(fam)
            lookup = _family_lookup(words)
            ranks = {c: lookup[_nfkc(t).lower()] for c, t in vl.items()}
            items = sorted(ranks.items())
            asc = all(b[1] > a[1] for a, b in zip(items, items[1:], strict=False))
            if asc and all(c == r for c, r in ranks.items()) and len(ranks) == len(words):
                q.kind, q.scale = "ordinal", fam
                q.shown = list(range(len(words), 0, -1))
                return True
            q.kind, q.scale = "ordinal", f"{self._planned_id(q)}_scale"
            q.scale_def = {"kind": "ordinal", "label": _family(fam)[0],
                           "codes": {c: t for c, t in sorted(vl.items(), reverse=True)},
                           "shown": [c for c, _ in sorted(vl.items(), reverse=not asc)]}
            if not asc:
                self.must(f"「{q.label}」: SPSS 代码越大答案越差 ({', '.join(f'{c}={t}' for c, t in sorted(vl.items()))}); "
                          "cxlab 要求代码越大越好: 请先在 SPSS 中反向编码 (RECODE) 再导入")
            return True
        if _RX_NPS.search(heads) and all(0 <= n <= 10 for n in nums) and all(
                0 <= c <= 10 for c in vl):
            q.kind, q.scale = "nps", "ltr11"
            return True
        if len(vl) >= 2 and all(n in vl for n in nums):
            # coded single choice: keep the codes, labels in the codebook
            q.kind, q.role = "ordinal", "dimension"
            q.scale = f"{self._planned_id(q)}_scale"
            q.scale_def = {"kind": "ordinal", "label": q.label,
                           "codes": dict(sorted(vl.items())), "shown": sorted(vl)}
            self.check(f"「{q.label}」: 带值标签的代码题, 按分类 (dimension) 保存代码 "
                       f"({', '.join(f'{c}={t}' for c, t in sorted(vl.items()))}); 若是评分题请改 role")
            return True
        return False

    def _decide_codes_only(self, q: _Question) -> None:
        heads = " ".join([q.label, q.section or ""])
        cvals = [_int(v) for v in q.codes]
        hi = max(c for c in cvals if c is not None) if any(c is not None for c in cvals) else 0
        fam = None
        if _RX_EASE.search(heads):
            fam = "ease7" if hi > 5 else "ease5"
        elif _RX_SAT.search(heads):
            fam = "sat7" if hi > 5 else "sat5"
        elif _RX_AGREE.search(heads):
            fam = "agree7" if hi > 5 else "agree5"
        if _RX_KANO_Q.search(q.label) and hi <= 5:
            q.kind, q.scale = "kano", "kano5"
            self.check(f"「{q.label}」: 只有按选项序号导出; 按 Kano 题处理 (1 喜欢 … 5 不喜欢)")
            return
        if fam is not None and hi <= len(_family(fam)[1]):
            q.kind, q.scale = "ordinal", fam
            n = len(_family(fam)[1])
            q.shown = list(range(n, 0, -1))
            self.check(f"「{q.label}」: 只有按选项序号导出, 按题目文字假定为 {_family(fam)[0]}, "
                       "序号 1 = 最好的答案; 请核对")
            return
        q.kind, q.role = "category", "dimension"
        prev = self.prev.get("options", {}).get(self._planned_id(q))
        if prev:
            q.options = list(prev)
        else:
            q.options = []
            self.must(f"「{q.label}」: 只有按选项序号导出, 选项文字未知 (答案存为序号 1–{hi}); "
                      "请在 codebook 的 options 中按问卷顺序填写选项, 或同时提供按选项文本导出再运行 draft")

    def _decide_category(self, q: _Question) -> None:
        texts = [_nfkc(v) if isinstance(v, str) else str(_int(v) if _int(v) is not None else v)
                 for v in q.texts]
        distinct = sorted(set(texts))
        n = len(texts)
        avg = sum(len(t) for t in texts) / n if n else 0
        if not texts and not q.pairs:
            q.kind, q.scale, q.role = "text", "text", "text"
            self.check(f"「{q.label}」: 没有任何答案, 按开放题处理; 请核对题型")
            return
        if avg > 20 or len(distinct) > 30 or (n >= 10 and len(distinct) > 0.6 * n) or (
                n >= 5 and len(distinct) == n) or (
                _RX_COMMENT.search(q.label) and len(distinct) > 0.5 * n):
            q.kind, q.scale, q.role = "text", "text", "text"
            return
        q.kind, q.role = "category", "dimension"
        if "limesurvey" in q.columns and all(re.fullmatch(r"A[0-9]+", t) for t in texts):
            q.options = []          # answer codes only: kept as written (A1, A2…)
            self.lime_codes.append(q)
            return
        options = sorted({_option_name(t) for t in texts}, key=_natural_key)
        if q.pairs:
            pos: dict[int, str] = {}
            for (c, t), _ in q.pairs.most_common():
                if c not in pos and isinstance(t, str):
                    pos[c] = t
            hi = max(pos)
            ordered = [pos.get(k, f"选项{k}") for k in range(1, hi + 1)]
            gaps = [k for k in range(1, hi + 1) if k not in pos]
            if gaps:
                self.must(f"「{q.label}」: 序号 {gaps} 没人选过, 选项文字未知; 请把 codebook 中的 "
                          + ", ".join(f"选项{k}" for k in gaps) + " 改成问卷中的选项文字")
            options = ordered + [o for o in options if o not in ordered]
        prev = self.prev.get("options", {}).get(self._planned_id(q))
        if prev:
            options = list(prev) + [o for o in options if o not in prev]
        q.options = options
        if not q.pairs:
            shown = "/".join(options[:4]) + ("/…" if len(options) > 4 else "")
            msg = f"「{q.label}」: {len(options)} 个不同答案 ({shown}), 按单选题处理"
            if "wjx" in q.columns:
                msg += ("; 选项顺序未知 (只有按选项文本导出), 已按其中的数字 (再按文字) 排序, 请核对; 若要导入按选项序号导出"
                        "请按问卷顺序排列 options")
            if n >= 10 and len(distinct) > 0.3 * n or 10 < len(distinct) <= 30:
                msg += "; 若是开放题请改为 scale: text"
            self.check(msg)

    def resolve_generic_meta(self) -> None:
        """Response id and submission time of exports without a platform layout (SPSS, CSV,
        Excel, parquet): an id-like column with unique values, a submit-time-like date column."""
        for fam in self.fam_readers:
            if fam in _PLATFORM_META:
                continue
            meta = self.fam_meta.setdefault(fam, {})
            qs = sorted((q for q in self.questions.values() if fam in q.columns),
                        key=lambda q: q.order)
            exports = [e for e in self.exports if e.family == fam]

            def unique(q: _Question, exports=exports, fam=fam) -> bool:
                for e in exports:
                    for c in q.columns.get(fam, []):
                        if c not in e.df.columns:
                            continue
                        s = e.df[c]
                        if not (s.notna().all() and s.is_unique and len(s) > 1):
                            return False
                return True

            cands = [q for q in qs if q.kind not in ("pii", "branch", "multi") and (
                any(_RX_ID.match(h.strip()) for h in q.headers) or _RX_ID.match(q.label))]
            cands += [q for q in qs if q.kind in ("text", "numeric", "category") and all(
                _int(v) is not None for v in q.texts) and q not in cands]
            rid = next((q for q in cands if unique(q)), None)
            if rid is not None:
                rid.kind = "response_id"
                meta["response_id"] = rid.columns[fam][0]
            sub = next((q for q in qs if q.kind == "date" and (
                _RX_SUBMIT.search(q.label) or any(_RX_SUBMIT.search(h) for h in q.headers))), None)
            if sub is not None:
                sub.kind = "submitted_at"
                meta["submitted_at"] = list(sub.columns[fam])

    def merge_platforms(self) -> None:
        """One item for one question asked on several platforms: questions of different export
        families with the same text, kind and scale are merged (问卷星 first, whose option
        order decodes its code export)."""
        kinds = ("nps", "numeric", "ordinal", "kano", "multi", "category", "text", "date")
        qs = sorted((q for q in self.questions.values() if q.kind in kinds),
                    key=lambda q: (0 if "wjx" in q.columns else 1, q.order))
        first: dict[tuple, _Question] = {}
        for q in qs:
            sig = (_nfkc(q.label).lower(), q.kind,
                   q.kind if q.kind in ("multi", "category") else q.scale)
            into = first.get(sig)
            if into is None or set(into.columns) & set(q.columns) or q.scale_def or into.scale_def:
                first.setdefault(sig, q)
                continue
            for fam, cols in q.columns.items():
                into.columns.setdefault(fam, []).extend(cols)
            for opt, cols in q.spread_cols.items():
                into.spread_cols.setdefault(opt, []).extend(cols)
            into.other_cols.update(q.other_cols)
            into.spread_rules.update(q.spread_rules)
            into.headers |= q.headers
            into.options += [o for o in q.options if o not in into.options]
            if into.kind == "multi":
                others = [o for o in into.options if _OTHER_RX.match(o)]
                into.options = [o for o in into.options if not _OTHER_RX.match(o)] + others
            into.order = min(into.order, q.order)
            q.kind = "merged"
        merged = {fam for q in qs if q.kind != "merged" and len(q.columns) > 1 for fam in q.columns}
        lonely = [f for f in self.fam_readers if f not in merged]
        if len(self.fam_readers) > 1 and lonely:
            self.check(f"{', '.join(lonely)} 导出与其他导出没有相同的题目, 像是不同的问卷; 一个项目通常对应"
                       "一份问卷, 请核对 (题目按题目文字合并)")

    # -- step 3: ids, roles, kano pairs
    def _planned_id(self, q: _Question) -> str:
        if q.item_id:
            return q.item_id
        fam, *rest = q.key
        if fam == "wjx" and q.qnum is not None:
            if q.key[2] is None:
                base = f"q{q.qnum}"
            else:
                rows = [x for x in self.questions.values()
                        if x.key[0] == "wjx" and x.qnum == q.qnum and x.key[2] is not None]
                rows.sort(key=lambda x: x.order)
                base = f"q{q.qnum}_{rows.index(q) + 1}"
        elif fam == "surveymonkey":     # no variable names: the column's position
            base = f"q{q.order[1] + 1}"
        else:
            col = str(rest[-1])
            base = _slug(col) or _slug(q.label) or "q"
            if not re.match(r"^[a-z]", base):
                base = "q_" + base
        return base

    def assign_ids(self) -> None:
        items = [q for q in sorted(self.questions.values(), key=lambda q: q.order)
                 if q.kind in ("nps", "numeric", "ordinal", "kano", "multi", "category", "text",
                               "date")]
        nps = sorted((q for q in items if q.kind == "nps"), key=lambda q: (
            not re.search(r"(推荐|recommend|\bnps\b)", q.label, re.I), q.order))
        used: set[str] = set()
        special: dict[int, str] = {}
        if nps:
            special[id(nps[0])] = "ltr"
            for q in nps[1:]:
                q.kind, q.scale = "numeric", "ltr11"
                self.check(f"「{q.label}」: 第二个推荐题; 按 0–10 评分处理, NPS 取「{nps[0].label}」")
        self.csat = self._pick(items, lambda q: q.kind == "ordinal" and q.scale in _SAT
                               and q.section is None and bool(_RX_OVERALL.search(q.label)))
        if self.csat is None:
            self.csat = self._pick(items, lambda q: q.kind == "ordinal" and q.role == "measure"
                                   and bool(_RX_OVERALL.search(q.label)) and q.section is None)
        self.ces = self._pick(items, lambda q: q.kind == "ordinal" and q.scale in _EASE
                              and q.section is None)
        if self.ces is None:
            self.ces = self._pick(items, lambda q: q.kind == "ordinal" and q.scale in _EASE)
        if self.csat is not None:
            special[id(self.csat)] = "csat"
        if self.ces is not None:
            special[id(self.ces)] = "ces"
        texts = [q for q in items if q.kind == "text" and q.role == "text"]
        self.comment = next((q for q in texts if _RX_COMMENT.search(q.label)), None) or (
            texts[-1] if texts else None)
        if self.comment is not None:
            special[id(self.comment)] = "comment"
        for q in items:
            base = special.get(id(q)) or self._planned_id(q)
            iid, k = base, 2
            while iid in used:
                iid, k = f"{base}_{k}", k + 1
            used.add(iid)
            q.item_id = iid
        self.items = items
        self.nps = nps[0] if nps else None
        # labels must be unique for the label-based wjx mapping
        seen: dict[str, _Question] = {}
        for q in items:
            lab = q.label or q.item_id
            if lab in seen:
                q.label = f"{lab}({q.section or q.item_id})" if q.section else f"{lab}({q.item_id})"
                q.notes.append("dup_label")
            q.label = q.label or q.item_id
            seen[q.label] = q
        self._kano_pairs()
        if len(texts) > 1 and self.comment is not None:
            self.check(f"有 {len(texts)} 道开放题; roles.comment 取「{self.comment.label}」")

    @staticmethod
    def _pick(items, pred):
        hits = [q for q in items if pred(q)]
        return hits[0] if hits else None

    def _kano_pairs(self) -> None:
        kano = [q for q in self.items if q.kind == "kano"]
        self.kano: list[tuple[str, str, str]] = []
        pending: list[_Question] = []
        for q in kano:
            neg = bool(_RX_KANO_NEG.search(q.label))
            if not neg:
                pending.append(q)
                continue
            target = _strip_neg(q.label)
            match = next((f for f in pending if _similar(_strip_neg(f.label), target)), None)
            if match is None and pending:
                match = pending[0]
            if match is None:
                self.check(f"「{q.label}」: Kano 反向题找不到对应的正向题; 请在 kano: 中配对")
                continue
            pending.remove(match)
            self.kano.append((_feature(match.label), match.item_id, q.item_id))
        for f in pending:
            self.check(f"「{f.label}」: Kano 正向题找不到对应的反向题 (如果…没有/不具备…); 请在 kano: 中配对")
        names = [k[0] for k in self.kano]
        for i, (f, a, b) in enumerate(self.kano):
            if names.count(f) > 1:
                self.kano[i] = (f"{f}({a})", a, b)

    # -- step 4: organisation
    def units(self) -> tuple[list[tuple[str, str]], dict]:
        """``[(code, name)]`` and the sources bits (branch rule, positions branch order)."""
        prev_codes: dict[str, str] = dict(self.prev.get("units", {}))
        if not self.branch_qs:
            if prev_codes:
                return sorted(((c, n) for n, c in prev_codes.items()), key=lambda x: x[0]), {}
            return [("MAIN", "全部受访者")], {}
        names: list[str] = []
        wjx_order: list[str] | None = None
        recodes: dict[str, dict[str, str]] = {}
        for fam, q in sorted(self.branch_qs.items(), key=lambda x: x[0] != "wjx"):
            got, order, recode = self._branch_names(q)
            names += [n for n in got if n not in names]
            if recode:
                recodes[fam] = recode
            if fam == "wjx":
                wjx_order = order
        # codes: keep earlier drafts' codes, then B01, B02…
        units: list[tuple[str, str]] = []
        taken = set(prev_codes.values())
        k = 1
        for name in [*prev_codes, *[n for n in names if n not in prev_codes]]:
            code = prev_codes.get(name)
            if code is None:
                while f"B{k:02d}" in taken:
                    k += 1
                code = f"B{k:02d}"
                taken.add(code)
            units.append((code, name))
        units.sort(key=lambda u: u[0])
        return units, {"recode": recodes, "order": wjx_order}

    def _branch_names(self, q: _Question) -> tuple[list[str], list[str] | None, dict[str, str]]:
        names: list[str] = []
        wjx_order: list[str] | None = None
        recode: dict[str, str] = {}
        if q.value_labels:
            vl = {k: v for k, v in q.value_labels.items()}
            for code in sorted(vl, key=lambda c: (str(type(c)), c)):
                names.append(vl[code])
                recode[str(code)] = vl[code]
            missing = sorted({_int(v) for v in q.texts} - set(vl), key=str)
            if missing:
                self.must(f"网点列「{q.label}」: 代码 {missing} 没有值标签; 请在 org.yaml 中补上这些网点")
        else:
            texts = sorted({_nfkc(v) if isinstance(v, str) else str(_int(v) or v) for v in q.texts},
                           key=_natural_key)
            names = list(texts)
            if q.pairs or q.codes:
                pos: dict[int, str] = {}
                for (c, t), _ in q.pairs.most_common():
                    if c not in pos and isinstance(t, str):
                        pos[c] = _nfkc(t)
                hi = max([c for c in (_int(v) for v in q.codes) if c is not None] + list(pos) + [0])
                prev_order = self.prev.get("branch_order") or []
                for k, name in enumerate(prev_order, start=1):
                    if k not in pos and name not in pos.values() and not name.startswith("选项"):
                        pos[k] = name
                hi = max(hi, len(prev_order))
                wjx_order = [pos.get(k, f"选项{k}") for k in range(1, hi + 1)]
                gaps = [k for k in range(1, hi + 1) if k not in pos]
                if gaps:
                    self.must(f"网点题「{q.label}」: 序号 {gaps} 的网点名称未知 (按选项序号导出); 请在 "
                              "org.yaml 和 sources.yaml positions.branch 中改成问卷中的网点名称")
                names = wjx_order + [n for n in names if n not in wjx_order]
        return names, wjx_order, recode


def _merge_orders(seqs: list[list[str]]) -> list[str]:
    """One order of all options consistent with the order inside each answer (问卷星 joins the
    chosen options in questionnaire order); ties broken by natural sort, so the result depends
    on the set of orderings seen, not on the order of the rows."""
    nodes: set[str] = set()
    after: dict[str, set[str]] = {}
    for s in seqs:
        nodes.update(s)
        for a, b in zip(s, s[1:], strict=False):
            if a != b:
                after.setdefault(a, set()).add(b)
    indeg = {n: 0 for n in nodes}
    for bs in after.values():
        for b in bs:
            indeg[b] += 1
    out: list[str] = []
    ready = sorted((n for n in nodes if indeg[n] == 0), key=_natural_key)
    while ready:
        n = ready.pop(0)
        out.append(n)
        for b in sorted(after.get(n, ()), key=_natural_key):
            indeg[b] -= 1
            if indeg[b] == 0:
                ready.append(b)
        ready.sort(key=_natural_key)
    if len(out) < len(nodes):  # contradictory orders: the rest by natural sort
        out += sorted(nodes - set(out), key=_natural_key)
    return out


def _strip_neg(label: str) -> str:
    s = _nfkc(label)
    s = re.sub(r"(不具备|不支持|不提供|没有|不能|无法|不带|不含|不会)", lambda m: m.group(1)[1:]
               if m.group(1) not in ("没有",) else "有", s)
    s = re.sub(r"\b(did not|does not|do not|doesn't|didn't|don't|not|without|no)\b", "", s,
               flags=re.I)
    return re.sub(r"\s+", "", s).lower()


def _similar(a: str, b: str) -> bool:
    if a == b:
        return True
    import difflib

    return difflib.SequenceMatcher(None, a, b).ratio() >= 0.8


def _feature(label: str) -> str:
    s = _nfkc(label)
    s = re.sub(r"^(如果|假如|假设|若)", "", s)
    s = re.sub(r"^(if\s+)", "", s, flags=re.I)
    s = re.split(r"[,，?？]", s)[0].strip()
    return s or label


# ---- writing -------------------------------------------------------------------------------------

_SCALES_FIXED = {
    "ltr11": {"kind": "numeric", "label": "推荐意愿(0-10)", "min": 0, "max": 10},
    "score11": {"kind": "numeric", "label": "评分(0-10)", "min": 0, "max": 10},
    "rating10": {"kind": "numeric", "label": "评分(1-10)", "min": 1, "max": 10},
    "rating1_5": {"kind": "numeric", "label": "评分(1-5)", "min": 1, "max": 5},
    "rating1_7": {"kind": "numeric", "label": "评分(1-7)", "min": 1, "max": 7},
    "kano5": {"kind": "ordinal", "label": "Kano 功能/反向问题",
              "codes": {i + 1: w[0] for i, w in enumerate(_KANO)}, "shown": [1, 2, 3, 4, 5]},
    "text": {"kind": "text", "label": "开放题"},
    "date": {"kind": "text", "label": "日期/时间"},
    "number": {"kind": "text", "label": "数字(原样保存)"},
}


def _family_scale(name: str, shown: list[int] | None) -> dict:
    label, words = _family(name)
    n = len(words)
    codes = {n - i: w[0] for i, w in enumerate(words)}
    aliases = {}
    for i, w in enumerate(words):
        for a in w[1:]:
            aliases.setdefault(_nfkc(a).lower(), n - i)
    out = {"kind": "ordinal", "label": label, "codes": codes,
           "shown": shown or list(range(n, 0, -1))}
    if name == "ease7":
        out["top_box"] = 3
    if aliases:
        out["aliases"] = aliases
    return out


def _kano_scale() -> dict:
    d = dict(_SCALES_FIXED["kano5"])
    aliases = {}
    for i, w in enumerate(_KANO):
        for a in w[1:]:
            aliases[_nfkc(a).lower()] = i + 1
    d["aliases"] = aliases
    return d


_SECTION = {"nps": "总体评价", "csat": "总体评价", "ces": "总体评价", "kano": "功能需求(Kano)",
            "text": "开放题", "multi": "基本信息", "category": "基本信息", "date": "基本信息"}


class _Writer:
    def __init__(self, d: _Drafter, files: list[_Export]):
        self.d = d
        self.files = files

    # -- codebook
    def codebook(self) -> str:
        d = self.d
        scales: dict[str, dict] = {}
        for q in d.items:
            if q.scale_def is not None:
                scales[q.scale] = q.scale_def
            elif q.kind in ("multi", "category"):
                q.scale = q.item_id
                sc = {"kind": q.kind, "label": f"{q.label}(选项)"}
                if q.options:
                    sc["options"] = q.options
                elif q.kind == "multi":
                    sc["options"] = ["其他"]
                scales[q.scale] = sc
            elif q.kind == "kano":
                scales["kano5"] = _kano_scale()
            elif q.kind == "ordinal":
                if q.scale in scales and q.shown and scales[q.scale]["shown"] != q.shown:
                    new = f"{q.scale}_{q.item_id}"
                    scales[new] = _family_scale(q.scale, q.shown)
                    q.scale = new
                else:
                    scales.setdefault(q.scale, _family_scale(q.scale, q.shown))
            else:
                scales.setdefault(q.scale, dict(_SCALES_FIXED[q.scale]))
        lines = [
            "# cxlab codebook — DRAFTED by `cxlab draft` from the survey's exports (listed in",
            "# params/DRAFT-REVIEW.md with what to check). Edit freely: this file is yours.",
            "#",
            "# Codes: a higher code is a better answer (非常满意 = 5 … 非常不满意 = 1). `shown` lists",
            "# the codes in the order the questionnaire shows the answers (position 1 first): exports",
            "# that answer by position (问卷星 按选项序号) are decoded with it. `options` of a single",
            "# or multiple choice list the answers in questionnaire order (\"other\" last).",
            "# role: measure (rating), dimension (profile/choice), text (open text); personal data is",
            "# not listed here: sources.yaml drops it (pii:).",
            "version: 1",
            f"survey: {_q(self.survey_name())}",
            "",
            "scales:",
        ]
        for name, sc in scales.items():
            lines.append(f"  {_q(name)}:")
            for k in ("kind", "label", "min", "max", "codes", "shown", "top_box", "options",
                      "aliases"):
                if k in sc:
                    v = sc[k]
                    lines.append(f"    {k}: {_flowv(v)}")
                    if k == "top_box":
                        lines[-1] += "            # the best 3 answers count as easy"
        lines += ["", "items:"]
        for q in d.items:
            role = q.role
            section = q.section or _SECTION.get(
                "csat" if q is d.csat else "ces" if q is d.ces else q.kind,
                "基本信息" if q.role == "dimension" else "评价")
            entry = {"id": q.item_id, "label": q.label, "section": section, "scale": q.scale,
                     "role": role}
            cols = sorted({c for cs in q.columns.values() for c in cs}
                          | {c for cs in q.spread_cols.values() for c in cs})
            where = ", ".join(cols[:2]) + (f" +{len(cols) - 2}" if len(cols) > 2 else "")
            lines.append(f"  - {_flow(entry)}   # {_comment(where)}")
        lines += [
            "",
            "# Analysis roles (report sections read them): nps = 0-10 recommend question, csat =",
            "# overall satisfaction (top-2 box), ces = effort (higher = easier), overall = outcome",
            "# of key drivers and IPA, attributes = the attribute ratings, comment = main open text.",
            "roles:",
        ]
        roles = self.roles()
        if all(v is None or v == [] for v in roles.values()):
            lines[-1] = "roles: {}"
        for k, v in roles.items():
            if v is None or v == []:
                lines.append(f"  # {k}: (none found)")
            else:
                lines.append(f"  {k}: {_flowv(v)}")
        if d.kano:
            lines += ["", "kano:"]
            for f, a, b in d.kano:
                lines.append(f"  - {_flow({'feature': f, 'functional': a, 'dysfunctional': b})}")
        return "\n".join(lines) + "\n"

    def roles(self) -> dict:
        d = self.d
        kano_ids = {x for _, a, b in d.kano for x in (a, b)}
        head = {q.item_id for q in (d.nps, d.csat, d.ces) if q is not None}
        attrs = [q.item_id for q in d.items if q.role == "measure" and q.item_id not in head
                 and q.item_id not in kano_ids and q.kind in ("ordinal", "numeric")
                 and q.scale != "ltr11"]
        overall = d.nps or d.csat
        return {"nps": d.nps.item_id if d.nps else None,
                "csat": d.csat.item_id if d.csat else None,
                "ces": d.ces.item_id if d.ces else None,
                "overall": overall.item_id if overall else None,
                "attributes": attrs,
                "comment": d.comment.item_id if d.comment else None}

    def survey_name(self) -> str:
        if self.d.prev.get("survey"):
            return str(self.d.prev["survey"])
        stem = self.files[0].path.stem
        stem = re.sub(r"(?<![0-9])20[0-9]{2}Q[1-4](?![0-9])", "", stem).strip("_- ")
        stem = re.sub(r"[_\- ]*(按选项文本|按选项序号|文本|序号|text|code)$", "", stem,
                      flags=re.I).strip("_- ")
        return stem or "问卷"

    # -- org
    def org(self, units: list[tuple[str, str]]) -> str:
        lines = [
            "# cxlab organisation — DRAFTED by `cxlab draft`.",
            "# Every branch answer of the exports is one unit (a unit without sub-units is a branch,",
            "# the level responses are tagged with). Codes must be capital letters/digits; rename",
            "# them freely (B01 → BJCY) before the first ingest. To group branches into regions,",
            "# nest them: `units: [{code: NORTH, name: 华北区, units: [{code: B01, …}]}]`, or use",
            "# `regions:` as in the sample project. Owners (`owner:`) receive the unit's reports.",
            "version: 1",
            "company: {code: ALL, name: 公司}   # the report title: write your company's name",
            "units:",
        ]
        for code, name in units:
            lines.append(f"  - {_flow({'code': code, 'name': name})}")
        return "\n".join(lines) + "\n"

    # -- sources
    def sources(self, org_bits: dict) -> str:
        lines = [
            "# cxlab sources — DRAFTED by `cxlab draft`: how the export columns map to the codebook.",
            "# Rules (see the sample project's params/sources.yaml for every key): a column is named",
            "# by `column:` (variable name), `label:` (question text), `pattern:` / `label_pattern:`",
            "# (regular expressions). `pii:` columns are never loaded; `ignore:` columns neither;",
            "# columns no rule maps are not loaded and listed by `cxlab ingest`.",
            "version: 1",
            "",
            "ignore_files: [\"README*\", \"*.md\", \".*\"]",
            "",
            "# Period of a response: --period, else YYYYQn in the file name, else the quarter of its",
            "# submission time.",
            f"period_from_filename: {_sq(_PERIOD_FROM_FILENAME)}",
            "",
            "surveys:",
        ]
        for fam in self._families():
            lines += self._survey_block(fam, org_bits)
        return "\n".join(lines) + "\n"

    def _families(self) -> list[str]:
        out = []
        for e in self.files:
            if e.family not in out:
                out.append(e.family)
        return out

    def _survey_block(self, fam: str, org_bits: dict) -> list[str]:
        d = self.d
        meta = d.fam_meta.get(fam, {})
        readers = (["wjx_text", "wjx_code"] if fam == "wjx" else list(d.fam_readers[fam]))
        out = [f"  # {'-' * 88}", f"  {fam}:", f"    readers: {_flowv(readers)}"]
        wjx = fam == "wjx"
        if wjx:
            out.append(f"    label_prefix: {_sq(_WJX_LABEL_PREFIX)}")
            out.append(f"    missing: {_flowv(_WJX_MISSING)}")
            out.append('    multi_sep: "┋"')
        elif fam == "qualtrics":
            out.append('    missing: ["", "-99"]')
            joined = [q for q in d.items if fam in q.columns and q.kind == "multi"
                      and fam not in q.spread_rules]
            if any(fam in q.spread_rules for q in d.items) and not joined:
                out.append('    multi_sep: "┋"   # choices spread over columns, joined with ┋')
            else:
                out.append('    multi_sep: ","')
                if any(fam in q.spread_rules for q in d.items):
                    d.must("Qualtrics: 同一导出里既有逗号连接的多选题, 又有按列展开的多选题; 两种格式不能共用 "
                           "multi_sep, 请用同一种导出格式 (Export options: split multi-value fields)")
        else:
            out.append('    missing: ["", "N/A", "NA"]')
            out.append('    multi_sep: "┋"')
        spread_qs = [q for q in d.items if fam in q.spread_rules]
        if spread_qs:
            out.append("    # multi-selects exported as one column per choice, joined into one column")
            out.append("    spread:")
            for q in spread_qs:
                r = dict(q.spread_rules[fam])
                rule = {"pattern": _Regex(r["pattern"]), "item": q.item_id}
                for k in ("option_code", "other"):
                    if k in r:
                        rule[k] = _Regex(r[k])
                rule["selected"] = r["selected"]
                rule["unselected"] = r["unselected"]
                out.append(f"      - {_flow(rule)}")
        # positions and spread (问卷星 code export)
        if wjx:
            pos: dict = {"readers": ["wjx_code"]}
            bq = d.branch_qs.get("wjx")
            if bq is not None and org_bits.get("order"):
                pos["branch"] = org_bits["order"]
            out.append("    # 按选项序号 (wjx_code): a choice cell is the option's position, 1 = first shown")
            out.append(f"    positions: {_flowv(pos)}")
            spread = [q for q in d.items if q.kind == "multi" and q.spread is not None]
            out.append("    # multi-selects exported as 0/1 columns 第N题(选项) are joined into one column")
            out.append("    spread:")
            for q in spread:
                rx = rf"^(?P<question>第\s*{q.qnum}\s*题)\s*[(（](?P<option>.*)[)）]$"
                out.append(f"      - {{pattern: {_sq(rx)}, item: {q.item_id}}}")
            if not spread:
                out.append("      - {pattern: " + _sq(r"^(?P<question>第\s*[0-9]+\s*题)\s*[(（]"
                                                      r"(?P<option>.*)[)）]$") + "}")
        # metadata
        rid = meta.get("response_id")
        if rid is None:
            d.must(f"{fam}: 没有找到答卷编号列 (每行唯一); 请在导出中加入编号列, 并写入 sources.yaml "
                   f"surveys.{fam}.response_id")
            out.append("    response_id: {column: response_id}   # NOT FOUND: name the unique id column")
        elif wjx:
            out.append(f"    response_id: {{column: {_q(rid)}, template: \"wjx-{{period}}-{{value}}\"}}"
                       "   # 序号 restarts in every export")
        elif fam in ("qualtrics", "surveymonkey"):
            out.append(f"    response_id: {_flow({'column': rid})}")
        else:
            out.append(f"    response_id: {{column: {_q(rid)}, template: \"{fam}-{{period}}-{{value}}\"}}")
        cust = [q for q in d.questions.values() if q.kind == "customer_id" and fam in q.columns]
        if "customer_id" in meta:
            out.append(f"    customer_id: {_flow({'column': meta['customer_id']})}   # pseudonymised")
        elif cust:
            sel = {"label": cust[0].label} if wjx else {"column": cust[0].columns[fam][0]}
            out.append(f"    customer_id: {_flow(sel)}   # pseudonymised on ingest")
        bq = d.branch_qs.get(fam)
        if bq is not None:
            sel = {"label": bq.label} if wjx else {"column": bq.columns[fam][0]}
            if org_bits.get("recode", {}).get(fam):
                sel["values"] = org_bits["recode"][fam]
            out.append(f"    branch: {_flow(sel)}")
        else:
            out.append("    # branch: no branch column: give `cxlab ingest --branch CODE`")
        subs = list(meta.get("submitted_at", []))
        if subs:
            out.append(f"    submitted_at: {_flowv([{'column': c} for c in subs])}")
        if "channel" in meta:
            ch = {"column": meta["channel"]}
            if fam in _CHANNEL_VALUES:
                ch["values"] = _CHANNEL_VALUES[fam]
            out.append(f"    channel: {_flow(ch)}")
        # personal data
        pii = list(d.fam_pii.get(fam, []))
        for q in sorted(d.questions.values(), key=lambda q: q.order):
            if q.kind == "pii" and fam in q.columns:
                if wjx and q.qnum is not None and q.key[2] is None:
                    pii.append(("label", q.label, q.pii_why))
                else:
                    for c in q.columns[fam]:
                        pii.append(("column", c, q.pii_why))
        out.append("    pii:   # personal data: never loaded")
        for sel, val, why in pii:
            out.append(f"      - {_flow({sel: val})}   # {_comment(why)}")
        if not pii:
            out[-1] = "    pii: []"
        ign = list(d.fam_ignore.get(fam, []))
        if wjx:
            ign = [x for x in ign if x[1] not in ("所用时间", "所用时间_秒")] + [("pattern", "^所用时间")]
        for q in d.questions.values():
            if q.kind == "ignore" and fam in q.columns:
                ign += [("column", c) for c in q.columns[fam]]
        out.append("    ignore:" if ign else "    ignore: []")
        for sel, val in ign:
            v = _Regex(val) if sel == "pattern" else val
            out.append(f"      - {{{sel}: {_flowv(v)}}}")
        # items
        if wjx:
            out.append("    auto_labels: true   # a column whose question text equals an item label maps to it")
            explicit = [q for q in d.items if "wjx" in q.columns and "dup_label" in q.notes]
            out.append("    items:" if explicit else "    items: []")
            for q in explicit:
                for c in q.columns["wjx"]:
                    out.append(f"      - {_flow({'item': q.item_id, 'column': c})}")
        else:
            out.append("    auto_labels: false")
            mapped = [q for q in d.items if fam in q.columns]
            out.append("    items:" if mapped else "    items: []")
            for q in mapped:
                if fam in q.spread_rules:
                    out.append(f"      - {_flow({'item': q.item_id, 'column': q.spread_rules[fam]['joined']})}"
                               "   # the joined choice columns")
                    continue
                for c in q.columns[fam]:
                    rule = {"item": q.item_id, "column": c}
                    if fam in q.other_cols:
                        rule["other_text"] = q.other_cols[fam]
                    out.append(f"      - {_flow(rule)}")
        return out


# ---- the review list ---------------------------------------------------------------------------

def _review_text(d: _Drafter, w: _Writer, units: list[tuple[str, str]], files: list[_Export],
                 roles: dict) -> str:
    lines = ["# cxlab draft — 待核对清单 (review list)", ""]
    lines.append("- 导出文件 (exports): " + "; ".join(
        f"{e.name} ({_READER_DESC.get(e.reader, e.reader)}, {len(e.df)} 行)" for e in files))
    lines.append("")
    kinds = Counter(q.kind for q in d.items)
    names = {"nps": "推荐题", "ordinal": "评分题", "numeric": "数字评分", "kano": "Kano 题",
             "category": "单选", "multi": "多选", "text": "开放题/文本", "date": "日期"}
    lines.append("- 已起草 (drafted): " + ", ".join(f"{names[k]} {kinds[k]}" for k in names
                                                 if kinds.get(k))
                 + f"; Kano 配对 {len(d.kano)}; 网点 {len(units)}")
    role_txt = ", ".join(f"{k}={v if not isinstance(v, list) else len(v)}"
                         for k, v in roles.items() if v)
    lines.append(f"- 角色 (roles): {role_txt or '无'}")
    pii = []
    for lst in d.fam_pii.values():
        pii += [v for _, v, _ in lst]
    pii += [q.label for q in d.questions.values() if q.kind == "pii"]
    lines.append("- 个人信息列, 不导入 (dropped as personal data): " + (", ".join(dict.fromkeys(pii))
                                                               or "无"))
    lines.append("")
    must = [t for lvl, t in d.final_review() if lvl == "必须处理"]
    check = [t for lvl, t in d.final_review() if lvl == "请核对"]
    check.append("报告标题使用 org.yaml 的 company.name (起草为「公司」): 请改为贵公司名称")
    lines.append("## 必须处理 (must do before `cxlab ingest`)")
    lines.append("")
    lines += [f"{i}. {t}" for i, t in enumerate(must, 1)] or ["无 (none)"]
    lines.append("")
    lines.append("## 请核对 (check)")
    lines.append("")
    lines += [f"{i}. {t}" for i, t in enumerate(check, 1)] or ["无 (none)"]
    lines.append("")
    lines.append("## 题目 (items in params/codebook.yaml)")
    lines.append("")
    lines.append("| id | 题目 | 题型 | 量表 | 列 |")
    lines.append("|---|---|---|---|---|")
    role_of: dict[str, str] = {}
    for k, v in roles.items():
        if isinstance(v, str):
            role_of[v] = f"{role_of[v]}, {k}" if v in role_of else k
    for q in d.items:
        kind = names.get(q.kind, q.kind) + (f" ({role_of[q.item_id]})" if q.item_id in role_of
                                            else "")
        cols = sorted({c for cs in q.columns.values() for c in cs}
                      | {c for cs in q.spread_cols.values() for c in cs})
        where = ", ".join(cols[:2]) + (f" +{len(cols) - 2}" if len(cols) > 2 else "")
        cells = [q.item_id, q.label, kind, q.scale, where]
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in cells) + " |")
    lines.append("")
    return "\n".join(lines)


# ---- entry point --------------------------------------------------------------------------------

def _previous(params: Path) -> dict:
    """Option lists and branch codes of an earlier draft (kept so that a later wave changes
    nothing)."""
    out: dict = {"options": {}, "units": {}}

    def drafted(name: str) -> bool:   # only files an earlier draft wrote (not the sample's)
        try:
            head = (params / name).read_text(encoding="utf-8")[:200]
        except (OSError, UnicodeDecodeError):
            return False
        return "DRAFTED by `cxlab draft`" in head

    try:
        if not drafted("codebook.yaml"):
            raise OSError
        cb = yaml.safe_load((params / "codebook.yaml").read_text(encoding="utf-8"))
        families = {n for n, _, _ in _FAMILIES}
        out["families"] = {_nfkc(it["label"]): str(it["scale"]).split("_")[0]
                           for it in cb.get("items", [])
                           if str(it["scale"]).split("_")[0] in families}
        for it in cb.get("items", []):
            sc = cb["scales"].get(it["scale"], {})
            if sc.get("kind") in ("category", "multi") and sc.get("options"):
                out["options"][it["id"]] = [str(o) for o in sc["options"]]
        out["survey"] = cb.get("survey")
    except (OSError, yaml.YAMLError, AttributeError, KeyError, TypeError):
        pass
    try:
        if not drafted("sources.yaml"):
            raise OSError
        src = yaml.safe_load((params / "sources.yaml").read_text(encoding="utf-8"))
        order = (((src.get("surveys") or {}).get("wjx") or {}).get("positions") or {}).get("branch")
        if order:
            out["branch_order"] = [str(b) for b in order]
    except (OSError, yaml.YAMLError, AttributeError, TypeError):
        pass
    try:
        from cxlab.config import load_org

        if not drafted("org.yaml"):
            raise OSError
        org = load_org(params / "org.yaml")
        out["units"] = {b.name: b.code for b in org.branches}
    except (CxlabError, OSError):
        pass
    return out


def draft_params(paths, *, project: str | Path = ".", force: bool = False,
                 write: bool = True) -> DraftResult:
    """Draft ``params/codebook.yaml``, ``sources.yaml``, ``org.yaml`` and the review list
    ``params/DRAFT-REVIEW.md`` from survey exports.

    Parameters
    ----------
    paths
        Export files (or folders of them) of any format :func:`cxlab.io.read_export` reads. Give
        a 问卷星 text export and the code export of the same survey together to learn the option
        order of the single-choice questions.
    project
        The project folder; files go to ``<project>/params/``.
    force
        Overwrite existing files that differ. Without it an existing file with other content is
        an error naming the file (identical files are left alone: "unchanged").
    write
        ``False`` drafts without writing (the texts are in the result).

    Returns
    -------
    DraftResult
        The validated models, the file texts, the review list, the files written/unchanged.

    Raises
    ------
    CxlabError
        No export given, an unreadable export (one line naming the file), or an existing file
        that differs without ``force``.
    """
    files = _expand(paths)
    params = Path(project) / "params"
    exports = _read_all(files)
    empty = [e.name for e in exports if len(e.df) == 0]
    if len(empty) == len(exports):
        raise CxlabError(f"{', '.join(empty)}: no answers (0 rows): nothing to draft from; "
                         "export the survey with its responses")
    prev = _previous(params) if force else {"options": {}, "units": {}}
    d = _Drafter(exports, prev)
    d.collect()
    d.decide()
    d.resolve_generic_meta()
    d.merge_platforms()
    d.assign_ids()
    units, org_bits = d.units()
    w = _Writer(d, exports)
    sources_text = w.sources(org_bits)
    codebook_text = w.codebook()
    org_text = w.org(units)
    roles = w.roles()
    _final_review(d, exports, units, roles)
    review_text = _review_text(d, w, units, exports, roles)
    texts = {"codebook.yaml": codebook_text, "sources.yaml": sources_text, "org.yaml": org_text,
             "DRAFT-REVIEW.md": review_text}
    # validate as ingest will load them
    cb = params_from_dict(yaml.safe_load(codebook_text), Codebook, source="drafted codebook.yaml")
    org = params_from_dict(yaml.safe_load(org_text), Org, source="drafted org.yaml")
    src = params_from_dict(yaml.safe_load(sources_text), Sources, source="drafted sources.yaml")
    src.check_items(cb, source="drafted sources.yaml")
    written: list[Path] = []
    unchanged: list[Path] = []
    if write:
        targets = [(params / name, text) for name, text in texts.items()]
        from cxlab.project import is_starter_file

        for path, text in targets:
            # the starter files `cxlab init` wrote (untouched) are there to be replaced
            if path.exists() and not force and not is_starter_file(path):
                try:
                    same = path.read_text(encoding="utf-8") == text
                except (OSError, UnicodeDecodeError):
                    same = False
                if not same:
                    raise CxlabError(f"{path}: already exists and differs from the draft; "
                                     "use --force to overwrite it")
        params.mkdir(parents=True, exist_ok=True)
        for path, text in targets:
            if path.exists():
                try:
                    if path.read_text(encoding="utf-8") == text:
                        unchanged.append(path)
                        continue
                except (OSError, UnicodeDecodeError):
                    pass
            tmp = path.with_name(path.name + ".tmp")
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
            written.append(path)
    return DraftResult(codebook=cb, sources=src, org=org, texts=texts, review=d.final_review(),
                       written=written, unchanged=unchanged)


def _final_review(d: _Drafter, exports: list[_Export], units, roles: dict) -> None:
    if d.branch_q is None:
        d.must("没有找到网点/分支列: org.yaml 只起草了一个单位 MAIN; 导入时请用 "
               "`cxlab ingest 文件 --branch MAIN` (或在 org.yaml 中写入真实网点后用 --branch 代码)")
    else:
        where = "、".join(dict.fromkeys(f"「{q.label}」" for q in d.branch_qs.values()))
        d.check(f"网点取自{where}: {len(units)} 个网点写入 org.yaml units (代码 "
                f"{units[0][0]}…{units[-1][0]}, 可改名); 要分区域, 在 org.yaml 中把网点放进上级 "
                "units 的 units: 下, 或改用 regions:")
        for fam in d.fam_readers:
            if fam not in d.branch_qs:
                d.must(f"{fam} 导出中没有网点/分支列: 导入这些文件时请用 `cxlab ingest 文件 --branch 代码`")
    for meta in d.fam_meta.values():
        empty = meta.get("_empty_times")
        if empty:
            d.must(f"{', '.join(sorted(empty))}: 提交时间列是空的; 导入时请给出期间 "
                   "`cxlab ingest 文件 --period 2026Q3` (或把 2026Q3 写进文件名)")
    times = any(meta.get("submitted_at") for meta in d.fam_meta.values()) or any(
        q.kind == "submitted_at" for q in d.questions.values())
    if not times:
        d.must("导出中没有提交时间列: 导入时请给出期间 `--period YYYYQn` (或把 YYYYQn 写进文件名)")
    if roles.get("nps") is None:
        d.check("没有推荐题 (0–10 推荐意愿): roles.nps 留空, 报告不含 NPS 部分")
    if roles.get("csat") is None:
        d.check("没有找到“总体满意度”题: roles.csat 留空; 如有, 请在 roles.csat 写入其 id")
    if roles.get("ces") is None:
        d.check("没有找到费力度 (容易/困难) 题: roles.ces 留空")
    if d.lime_codes:
        d.must(f"LimeSurvey: {len(d.lime_codes)} 道题只有答案代码 (A1, A2…) 没有选项文字 "
               f"({', '.join(q.label for q in d.lime_codes[:6])}{'…' if len(d.lime_codes) > 6 else ''}); "
               "请用 LimeSurvey 的“完整答案”导出 (answers as full text) 再运行 draft, 否则答案按代码保存")
    text_only = any(e.reader == "wjx_text" for e in exports) and not any(
        e.reader == "wjx_code" for e in exports)
    if text_only and "wjx" in d.branch_qs:
        d.check(f"网点题「{d.branch_qs['wjx'].label}」的选项顺序未知 (只有按选项文本导出): 若也要导入按选项序号"
                "导出, 请在 sources.yaml positions.branch 中按问卷顺序列出网点名称 (或同时提供两种导出再运行 draft)")
    if text_only and any(q.kind == "ordinal" and "wjx" in q.columns for q in d.items):
        d.check("评分题的 shown 假定选项按“最好在前”显示 (非常满意 … 非常不满意); 若也要导入按选项序号导出, "
                "请按问卷核对")
