"""Data-driven topics: TF-IDF on jieba tokens + non-negative matrix factorisation (numpy)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cxlab.text._frame import id_frame, text_column
from cxlab.text._tokenize import tokenize

__all__ = ["TopicResult", "topics"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TopicResult:
    """Topics found by :func:`topics`.

    Attributes
    ----------
    terms : DataFrame
        ``topic, rank, term, weight`` — the top terms of each topic (weight = NMF loading).
    documents : DataFrame
        ``response_id`` (or ``index``), ``topic`` (dominant topic; missing when the comment has
        no vocabulary term), ``weight`` (its loading).
    k : int
        Number of topics.
    n_documents : int
        Comments with at least one vocabulary term.
    vocabulary_size : int
        Number of terms used.
    reconstruction_error : float
        Frobenius norm ‖X − WH‖ of the fit.
    """

    terms: pd.DataFrame
    documents: pd.DataFrame
    k: int
    n_documents: int
    vocabulary_size: int
    reconstruction_error: float

    def to_frame(self) -> pd.DataFrame:
        """One row per topic: ``topic, label`` (top five terms), ``n``, ``share``."""
        counts = self.documents["topic"].value_counts()
        top = self.terms[self.terms["rank"] <= 5].groupby("topic")["term"].agg(" / ".join)
        out = pd.DataFrame({"topic": np.arange(self.k)})
        out["label"] = out["topic"].map(top).fillna("")
        out["n"] = out["topic"].map(counts).fillna(0).astype(int)
        out["share"] = out["n"] / self.n_documents if self.n_documents else np.nan
        return out

    def _repr_html_(self) -> str:
        return self.to_frame().to_html(index=False)


def _nndsvd(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """NNDSVD initialisation (Boutsidis & Gallopoulos 2008), zeros filled with a small value."""
    u, s, vt = np.linalg.svd(x, full_matrices=False)
    w = np.zeros((x.shape[0], k))
    h = np.zeros((k, x.shape[1]))
    w[:, 0] = np.sqrt(s[0]) * np.abs(u[:, 0])
    h[0, :] = np.sqrt(s[0]) * np.abs(vt[0, :])
    for j in range(1, k):
        uj, vj = u[:, j], vt[j, :]
        up, un = np.maximum(uj, 0), np.maximum(-uj, 0)
        vp, vn = np.maximum(vj, 0), np.maximum(-vj, 0)
        mp = np.linalg.norm(up) * np.linalg.norm(vp)
        mn = np.linalg.norm(un) * np.linalg.norm(vn)
        if mp >= mn:
            uu, vv, m = up / (np.linalg.norm(up) or 1), vp / (np.linalg.norm(vp) or 1), mp
        else:
            uu, vv, m = un / (np.linalg.norm(un) or 1), vn / (np.linalg.norm(vn) or 1), mn
        w[:, j] = np.sqrt(s[j] * m) * uu
        h[j, :] = np.sqrt(s[j] * m) * vv
    eps = x.mean() / 100 if x.size else 1e-6
    w[w < 1e-12] = eps
    h[h < 1e-12] = eps
    return w, h


def topics(
    data: pd.DataFrame,
    *,
    text: str = "comment",
    k: int = 6,
    top_terms: int = 10,
    min_df: int = 2,
    max_df: float = 0.5,
    max_terms: int = 2000,
    max_iter: int = 300,
) -> TopicResult:
    """Data-driven topics of free-text comments (TF-IDF + NMF).

    Comments are tokenised with :func:`cxlab.text.tokenize` (CX dictionary, stop words), terms
    of one Chinese character are dropped, the vocabulary keeps terms in at least ``min_df``
    comments and at most ``max_df`` of them (the ``max_terms`` most frequent), the matrix is
    TF-IDF weighted (smooth idf, rows L2-normalised) and factorised by NMF with NNDSVD
    initialisation and Lee–Seung multiplicative updates. Deterministic: no random start.

    Unlike :func:`tag_themes`, topics are not fixed in advance; use them to discover what the
    taxonomy misses.

    Returns
    -------
    TopicResult

    Raises
    ------
    ValueError
        If ``k`` is not a positive integer or there are fewer usable comments/terms than ``k``.

    References
    ----------
    Lee, D. D. & Seung, H. S. (2001). Algorithms for non-negative matrix factorization.
    *NIPS 13*, 556–562. Boutsidis, C. & Gallopoulos, E. (2008). SVD based initialization:
    a head start for nonnegative matrix factorization. *Pattern Recognition* 41, 1350–1362.

    Examples
    --------
    >>> import pandas as pd
    >>> docs = ["物流太慢了", "物流很慢,快递不行", "快递物流慢", "客服态度差", "客服态度不好", "态度恶劣的客服"]
    >>> r = topics(pd.DataFrame({"comment": docs}), k=2, top_terms=3)
    >>> sorted(r.terms.groupby("topic")["term"].first())
    ['客服', '物流']
    """
    if not isinstance(k, int | np.integer) or k < 1:
        raise ValueError(f"k must be a positive integer, got {k!r}")
    col = text_column(data, text)
    docs = [[t for t in tokenize(v) if len(t) >= 2] for v in col]
    df_count: Counter[str] = Counter()
    for d in docs:
        df_count.update(set(d))
    n_docs = sum(1 for d in docs if d)
    limit = max_df * n_docs if isinstance(max_df, float) else max_df
    vocab = [t for t, c in df_count.items() if c >= min_df and c <= max(limit, min_df)]
    vocab.sort(key=lambda t: (-df_count[t], t))
    vocab = sorted(vocab[:max_terms])
    index = {t: i for i, t in enumerate(vocab)}
    rows = [i for i, d in enumerate(docs) if any(t in index for t in d)]
    if len(rows) < k or len(vocab) < k:
        raise ValueError(
            f"too little text for k={k} topics: {len(rows)} usable comments, {len(vocab)} terms "
            f"(min_df={min_df}); lower k or min_df"
        )
    x = np.zeros((len(rows), len(vocab)))
    for r, i in enumerate(rows):
        for t in docs[i]:
            j = index.get(t)
            if j is not None:
                x[r, j] += 1.0
    dfv = np.array([df_count[t] for t in vocab], dtype=float)
    idf = np.log((1 + len(rows)) / (1 + dfv)) + 1.0
    x *= idf
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    w, h = _nndsvd(x, k)
    eps = 1e-10
    for _ in range(max_iter):
        h *= (w.T @ x) / (w.T @ w @ h + eps)
        w *= (x @ h.T) / (w @ (h @ h.T) + eps)
    err = float(np.linalg.norm(x - w @ h))
    recs = []
    for topic in range(k):
        order = np.argsort(-h[topic], kind="stable")[:top_terms]
        for rank, j in enumerate(order, start=1):
            recs.append((topic, rank, vocab[j], float(h[topic, j])))
    terms = pd.DataFrame.from_records(recs, columns=["topic", "rank", "term", "weight"])
    documents = id_frame(data)
    topic_col = pd.array([pd.NA] * len(docs), dtype="Int64")
    weight_col = np.full(len(docs), np.nan)
    best = np.argmax(w, axis=1)
    for r, i in enumerate(rows):
        topic_col[i] = int(best[r])
        weight_col[i] = float(w[r, best[r]])
    documents["topic"] = topic_col
    documents["weight"] = weight_col
    return TopicResult(terms=terms, documents=documents, k=int(k), n_documents=len(rows),
                       vocabulary_size=len(vocab), reconstruction_error=err)
