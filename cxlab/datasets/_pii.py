"""Fake but realistic personal data (names, companies, phones, e-mails, IPs), vectorised.

Small hand-written lists: no external faker. Every function takes an explicit
``np.random.Generator`` and returns numpy arrays of ``str`` so that a million rows stay fast.
"""

from __future__ import annotations

import numpy as np

SURNAMES = np.array(list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
))
GIVEN_CHARS = np.array(list(
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国红梅玲文辉鑫宇浩然子轩雨欣思怡博文嘉怡佳琪俊杰志强晓东海燕立新春梅丹凯"
))
PINYIN = np.array([
    "wang", "li", "zhang", "liu", "chen", "yang", "huang", "zhao", "wu", "zhou", "xu", "sun",
    "ma", "zhu", "hu", "guo", "he", "gao", "lin", "luo", "zheng", "liang", "xie", "song",
    "tang", "han", "feng", "deng", "cao", "peng", "zeng", "xiao", "tian", "dong", "pan", "jiang",
])
GIVEN_PINYIN = np.array([
    "wei", "fang", "na", "min", "jing", "li", "qiang", "lei", "jun", "yang", "yong", "yan",
    "jie", "juan", "tao", "ming", "chao", "xia", "ping", "gang", "hua", "hong", "mei", "xin",
    "yu", "hao", "ran", "xuan", "qi", "kai", "dan", "lin", "bo", "tong", "yue", "chen",
])
MAIL_DOMAINS = np.array(["qq.com", "163.com", "126.com", "sina.com", "foxmail.com", "outlook.com",
                         "hotmail.com", "aliyun.com", "139.com", "sohu.com"])
COMPANY_WORDS = np.array([
    "恒信", "华腾", "鼎盛", "瑞丰", "宏达", "金桥", "永安", "天合", "中联", "博远", "泰和", "新元",
    "联创", "汇通", "长青", "嘉禾", "同德", "盛世", "安泰", "明远", "卓越", "佳和", "万豪", "东方",
    "海纳", "星辰", "润德", "启航", "正阳", "广源", "富达", "凯旋", "锦程", "立信", "诚达", "光华",
])
INDUSTRY_SUFFIX = {
    "制造业": ["机械制造有限公司", "电子科技有限公司", "精密工业有限公司", "新材料股份有限公司"],
    "零售业": ["商贸有限公司", "连锁超市有限公司", "百货有限公司", "电子商务有限公司"],
    "金融业": ["投资管理有限公司", "融资租赁有限公司", "保险代理有限公司", "财富管理有限公司"],
    "教育": ["教育科技有限公司", "培训学校", "文化教育有限公司", "实验学校"],
    "医疗健康": ["医疗器械有限公司", "健康管理有限公司", "门诊部", "生物科技有限公司"],
}
GENERIC_SUFFIX = ["科技有限公司", "贸易有限公司", "实业有限公司", "服务有限公司"]
MOBILE_PREFIX = np.array(["130", "131", "132", "133", "135", "136", "137", "138", "139", "150",
                          "151", "152", "155", "156", "158", "159", "166", "170", "176", "177",
                          "180", "181", "182", "185", "186", "187", "188", "189", "191", "195",
                          "198", "199"])

# Branch code -> (city name, IP prefixes with their 问卷星 "省-市" annotation)
BRANCH_PLACE = {
    "SH01": ("上海", ["116.228", "101.230", "180.168"], "上海-上海"),
    "HZ01": ("杭州", ["115.236", "122.224", "60.191"], "浙江-杭州"),
    "NJ01": ("南京", ["58.213", "180.110", "221.226"], "江苏-南京"),
    "SU01": ("苏州", ["58.211", "221.224", "49.72"], "江苏-苏州"),
    "GZ01": ("广州", ["113.108", "183.6", "59.41"], "广东-广州"),
    "SZ01": ("深圳", ["119.123", "183.14", "14.153"], "广东-深圳"),
    "XM01": ("厦门", ["27.154", "110.84", "117.28"], "福建-厦门"),
    "BJ01": ("北京", ["123.112", "114.242", "61.135"], "北京-北京"),
    "TJ01": ("天津", ["111.161", "117.13", "60.28"], "天津-天津"),
    "JN01": ("济南", ["60.208", "119.164", "27.223"], "山东-济南"),
}
OTHER_PLACES = [("36.110", "安徽-合肥"), ("171.217", "四川-成都"), ("113.57", "湖北-武汉"),
                ("222.90", "陕西-西安"), ("106.57", "重庆-重庆")]


def _pick(rng: np.random.Generator, arr: np.ndarray, n: int) -> np.ndarray:
    return arr[rng.integers(0, len(arr), n)]


def _digits(rng: np.random.Generator, n: int, width: int) -> np.ndarray:
    vals = rng.integers(0, 10 ** width, n)
    return np.char.zfill(vals.astype(str), width)


def names(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Chinese (surname, given name) arrays; given names have one or two characters."""
    sur = _pick(rng, SURNAMES, n)
    g1 = _pick(rng, GIVEN_CHARS, n)
    g2 = _pick(rng, GIVEN_CHARS, n)
    two = rng.random(n) < 0.65
    given = np.where(two, np.char.add(g1, g2), g1)
    return sur, given


def mobiles(rng: np.random.Generator, n: int) -> np.ndarray:
    """Mainland mobile numbers ``1[3-9]x xxxx xxxx`` (11 digits)."""
    return np.char.add(_pick(rng, MOBILE_PREFIX, n), _digits(rng, n, 8))


def emails(rng: np.random.Generator, n: int) -> np.ndarray:
    """Personal e-mail addresses such as ``zhangwei88@163.com``."""
    local = np.char.add(_pick(rng, PINYIN, n), _pick(rng, GIVEN_PINYIN, n))
    num = rng.integers(1, 2000, n).astype(str)
    use_num = rng.random(n) < 0.7
    local = np.where(use_num, np.char.add(local, num), local)
    return np.char.add(np.char.add(local, "@"), _pick(rng, MAIL_DOMAINS, n))


def companies(rng: np.random.Generator, cities: np.ndarray, industries: np.ndarray) -> np.ndarray:
    """Company names ``<city><字号><industry suffix>``, e.g. 上海恒信机械制造有限公司."""
    n = len(cities)
    word = _pick(rng, COMPANY_WORDS, n)
    k = rng.integers(0, 4, n)
    suffix = np.empty(n, dtype=object)
    for ind in np.unique(industries):
        mask = industries == ind
        opts = np.array(INDUSTRY_SUFFIX.get(str(ind), GENERIC_SUFFIX))
        suffix[mask] = opts[k[mask] % len(opts)]
    return np.char.add(np.char.add(cities.astype(str), word), suffix.astype(str))


def ips(rng: np.random.Generator, branches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(IPv4 address, 问卷星 place annotation) for respondents of each branch; ~8 % elsewhere."""
    n = len(branches)
    prefix = np.empty(n, dtype=object)
    place = np.empty(n, dtype=object)
    k = rng.integers(0, 3, n)
    for code in np.unique(branches):
        mask = branches == code
        _, prefixes, where = BRANCH_PLACE.get(str(code), BRANCH_PLACE["SH01"])
        prefix[mask] = np.array(prefixes)[k[mask]]
        place[mask] = where
    away = rng.random(n) < 0.08
    j = rng.integers(0, len(OTHER_PLACES), n)
    other = np.array(OTHER_PLACES, dtype=object)
    prefix[away] = other[j[away], 0]
    place[away] = other[j[away], 1]
    a = rng.integers(1, 255, n).astype(str)
    b = rng.integers(1, 255, n).astype(str)
    ip = np.char.add(np.char.add(np.char.add(np.char.add(prefix.astype(str), "."), a), "."), b)
    return ip, place.astype(str)


def city_of(branch: str) -> str:
    return BRANCH_PLACE.get(branch, ("上海",))[0]
