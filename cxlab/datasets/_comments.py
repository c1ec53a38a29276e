"""Chinese open comments built from planted themes and sentiment (docs/sample-data.md)."""

from __future__ import annotations

import numpy as np

THEMES = ["appearance", "usage", "function", "quality", "price", "delivery",
          "service_attitude", "response_speed", "resolution"]
SENTIMENTS = ["正面", "负面", "中性"]

# Verbal item -> the theme a respondent writes about when that item stands out.
ITEM_THEME = {
    "look_shape": "appearance", "look_color": "appearance", "look_logo": "appearance",
    "look_package": "appearance", "use_comfort": "usage", "use_switch": "usage",
    "use_heat": "usage", "fit_expectation": "usage", "func_1": "function", "func_2": "function",
    "func_3": "function", "use_stability": "quality", "svc_presale": "service_attitude",
    "svc_attitude": "service_attitude", "svc_delivery": "delivery",
    "svc_response": "response_speed", "svc_resolution": "resolution",
}

TEMPLATES: dict[str, dict[str, list[str]]] = {
    "appearance": {
        "正面": ["外观设计很漂亮,放在客厅里很上档次", "颜色和造型都很好看,家里人都喜欢",
                 "包装很精致,拆箱的时候感觉很用心", "机身小巧,外形简洁大方", "做工精细,外观质感不错"],
        "负面": ["外观有点土,颜色不太好看", "包装太简陋了,收到时盒子都压坏了",
                 "体积偏大,摆在家里很占地方", "Logo印得歪了,外壳还有划痕", "造型过时,和宣传图差别很大"],
        "中性": ["外观中规中矩吧", "颜色还可以,没什么特别的", "包装一般,能用就行",
                 "外形和其他牌子差不多", "大小还算合适"],
    },
    "usage": {
        "正面": ["用起来很顺手,操作简单", "加热很快,几分钟屋里就暖和了", "开关反应灵敏,老人也会用",
                 "使用很舒服,没有噪音", "整体使用体验超出预期"],
        "负面": ["操作太复杂了,说明书也看不懂", "发热太慢,开了半天还是冷的", "按键反应迟钝,要按好几次",
                 "用着不舒服,噪音很大", "跟我预期的差距很大,有点失望"],
        "中性": ["使用体验还行", "用了一段时间,感觉一般", "操作上需要适应一下",
                 "加热速度一般般", "没有特别的感受"],
    },
    "function": {
        "正面": ["智能温控很实用,温度很稳定", "定时预约功能很方便,回家就是暖的", "节能模式省电明显",
                 "功能很齐全,该有的都有", "温控精准,比老款强多了"],
        "负面": ["智能温控不准,温度忽高忽低", "定时预约经常失灵", "节能模式没什么效果,电费还是很高",
                 "功能太少,和宣传的不一样", "很多功能用不上,反而复杂"],
        "中性": ["功能够用", "节能模式效果说不上来", "温控功能还可以",
                 "预约功能偶尔用一下", "功能和同价位产品差不多"],
    },
    "quality": {
        "正面": ["运行很稳定,用了三个月没出过问题", "质量过硬,很耐用", "做工扎实,质量可靠",
                 "一直很稳定,没有故障", "品质不错,值得信赖"],
        "负面": ["用了不到一个月就坏了", "经常自动断电重启,质量太差", "运行不稳定,时好时坏",
                 "有异味,担心安全问题", "质量问题太多,已经返修两次"],
        "中性": ["质量还行,暂时没发现问题", "稳定性一般", "用的时间不长,质量还不好说",
                 "偶尔有小毛病,不影响使用", "质量和价格相符"],
    },
    "price": {
        "正面": ["性价比很高,价格实惠", "活动价很划算", "这个价格买到这个品质很值",
                 "价格公道,比别家便宜", "优惠力度大,买得值"],
        "负面": ["价格太贵了,不值这个钱", "比电商平台贵了好几百", "刚买就降价,心里不舒服",
                 "性价比太低", "配件和延保收费太高"],
        "中性": ["价格还可以接受", "价格和其他品牌差不多", "贵不贵见仁见智",
                 "价格中等", "等活动再买可能更划算"],
    },
    "delivery": {
        "正面": ["送货很快,第二天就到了", "安装师傅很专业,安装得很仔细", "配送准时,还帮忙搬上楼",
                 "上门安装很及时", "物流快,安装也顺利"],
        "负面": ["配送太慢了,等了一个多星期", "安装师傅迟到两个小时还不打招呼", "送货时把包装弄破了",
                 "安装要额外收费,事先没说", "约好的安装时间一改再改"],
        "中性": ["配送时间正常", "安装还行", "物流速度一般",
                 "送货安装按流程来的", "安装师傅话不多,装完就走了"],
    },
    "service_attitude": {
        "正面": ["客服态度非常好,很耐心", "售前顾问讲解很专业", "服务人员热情周到",
                 "客服小姐姐说话很客气", "门店导购很专业,推荐得很到位"],
        "负面": ["客服态度很差,爱答不理", "售前说得天花乱坠,买了就不管了", "服务人员不耐烦,还挂电话",
                 "导购一问三不知", "投诉后态度依然很冷淡"],
        "中性": ["服务态度还可以", "客服回答比较程式化", "服务一般,没什么印象",
                 "导购介绍得比较简单", "态度正常"],
    },
    "response_speed": {
        "正面": ["客服响应很快,几分钟就回复了", "报修当天就有人联系", "电话一打就通,效率很高",
                 "在线客服秒回", "反馈问题后很快就有回应"],
        "负面": ["客服电话一直打不通", "报修三天都没人联系", "在线客服排队半小时",
                 "邮件发了一周都没回复", "响应太慢,等得心急"],
        "中性": ["响应速度一般", "客服回复有时快有时慢", "电话要等一会儿才接通",
                 "报修后第二天才有人联系", "响应速度还算正常"],
    },
    "resolution": {
        "正面": ["问题一次就解决了,很满意", "维修师傅很快找到了故障原因", "售后处理很彻底,没有再出问题",
                 "换货很爽快,解决得很好", "问题处理结果让人满意"],
        "负面": ["问题反映了好几次都没解决", "修了两次还是同样的毛病", "售后只会推脱,问题一直拖着",
                 "换货流程太麻烦,最后也没解决", "投诉后没有任何结果"],
        "中性": ["问题算是解决了,但过程有点长", "售后处理还行", "问题暂时解决,不知道会不会再出现",
                 "维修结果一般", "处理方案勉强接受"],
    },
}
OPENERS = {"正面": ["", "", "总体来说,", "很满意,", "好评!", "用了一段时间,"],
           "负面": ["", "", "说实话,", "非常失望,", "差评,", "必须吐槽一下,"],
           "中性": ["", "", "总的来说,", "感觉", "用下来", ""]}
CLOSERS = {"正面": ["。", "!", ",继续加油!", ",会推荐给朋友。", "。👍"],
           "负面": ["。", "!", ",希望尽快改进。", ",不会再买了。", ",请给个说法!"],
           "中性": ["。", "", ",希望越做越好。", "。", ",仅供参考。"]}
MARKUP = ["<script>alert('xss')</script>产品不错", "=HYPERLINK(\"http://example.com/win\",\"点击领奖\")",
          "<b>客服</b>态度<i>很好</i> & 响应快", "=1+1 公式测试 <img src=x onerror=alert(1)>"]


def plant_comments(rng: np.random.Generator, items: dict[str, np.ndarray], nps_cat: np.ndarray,
                   price_gap: np.ndarray, pii_names: np.ndarray, pii_phones: np.ndarray,
                   pii_mails: np.ndarray) -> dict[str, np.ndarray]:
    """Comment text plus planted theme, sentiment and flags for every respondent.

    ``items`` maps verbal item id -> codes 1..5 (0 = skipped); ``nps_cat`` is -1/0/1
    (detractor/passive/promoter); ``price_gap`` is direct - expected price band.
    Returns arrays ``comment, theme, sentiment, pii, markup`` (theme/sentiment "" when empty).
    """
    n = len(nps_cat)
    ids = list(items)
    mat = np.column_stack([items[i] for i in ids]).astype(float)
    mat[mat == 0] = 3.0
    jitter = rng.random(mat.shape) * 0.5
    low = np.array([ITEM_THEME[ids[j]] for j in np.argmin(mat + jitter, axis=1)])
    high = np.array([ITEM_THEME[ids[j]] for j in np.argmax(mat - jitter, axis=1)])
    rand_theme = np.array(THEMES)[rng.integers(0, len(THEMES), n)]

    u = rng.random(n)
    p_neg = np.select([nps_cat < 0, nps_cat == 0], [0.75, 0.30], 0.05)
    p_neu = np.select([nps_cat < 0, nps_cat == 0], [0.20, 0.45], 0.20)
    sentiment = np.where(u < p_neg, "负面", np.where(u < p_neg + p_neu, "中性", "正面"))

    v = rng.random(n)
    theme = np.where(sentiment == "正面", high, low)
    theme = np.where((sentiment == "负面") & (price_gap > 0) & (v > 0.72), "price", theme)
    theme = np.where((sentiment == "正面") & (price_gap < 0) & (v > 0.80), "price", theme)
    theme = np.where(v < 0.20, rand_theme, theme)

    empty = rng.random(n) < np.where(nps_cat == 0, 0.35, 0.20)
    t_idx = rng.integers(0, 5, n)
    o_idx = rng.integers(0, 6, n)
    c_idx = rng.integers(0, 5, n)
    body = [TEMPLATES[t][s][k] for t, s, k in zip(theme.tolist(), sentiment.tolist(), t_idx.tolist(), strict=False)]
    openers = [OPENERS[s][k] for s, k in zip(sentiment.tolist(), o_idx.tolist(), strict=False)]
    closers = [CLOSERS[s][k] for s, k in zip(sentiment.tolist(), c_idx.tolist(), strict=False)]
    comment = np.array([a + b + c for a, b, c in zip(openers, body, closers, strict=False)], dtype=object)

    # ~5 % of written comments carry PII; a handful carry markup or a formula.
    pii_kind = rng.integers(0, 3, n)
    pii = (~empty) & (rng.random(n) < 0.05)
    tails = np.where(pii_kind == 0, np.char.add("有问题请打我电话", pii_phones.astype(str)),
                     np.where(pii_kind == 1, np.char.add("结果请发我邮箱", pii_mails.astype(str)),
                              np.char.add(pii_names.astype(str), "师傅上门时说过会跟进")))
    comment[pii] = comment[pii] + " " + tails[pii]
    markup = np.zeros(n, dtype=bool)
    cand = np.flatnonzero(~empty & ~pii)
    k = min(len(cand), max(4, n // 800))
    if k:
        pick = np.sort(rng.choice(cand, size=k, replace=False))
        markup[pick] = True
        for j, row in enumerate(pick):
            probe = MARKUP[j % len(MARKUP)]
            comment[row] = probe + comment[row] if probe.startswith("=") else comment[row] + probe
    comment[empty] = ""
    theme = np.where(empty, "", theme)
    sentiment = np.where(empty, "", sentiment)
    return {"comment": comment, "theme": theme, "sentiment": sentiment, "pii": pii,
            "markup": markup}
