"""Open-ended feedback: Chinese tokenisation, themes, sentiment, topics and PII redaction.

- :func:`tokenize` — jieba with a CX dictionary and stop words;
- :func:`analyse_comments` — each comment analysed once (:class:`CommentAnalysis`), for several
  of the views below without segmenting the comments again;
- :func:`tag_themes`, :func:`theme_summary` — keyword-rule themes of ``params/text.yaml``
  (:class:`Taxonomy`, :func:`load_taxonomy`), with aspect-level sentiment;
- :func:`sentiment` — 正面/负面/中性 from a lexicon with negation and intensifiers;
- :func:`topics` — data-driven topics (TF-IDF + non-negative matrix factorisation);
- :func:`frequent_issues`, :func:`quotes` — high-frequency negative themes and example quotes,
  always passed through :func:`redact` (phones, e-mails, ID numbers, names);
- :func:`classification_report` — precision/recall/F1 for evaluating the above.

Quotes are plain text, not HTML-escaped: the report layer escapes every cell when rendering.
"""

from cxlab.text._evaluate import classification_report
from cxlab.text._redact import PLACEHOLDERS, redact
from cxlab.text._sentiment import LABELS, sentiment, sentiment_of
from cxlab.text._taxonomy import THEME_IDS, Taxonomy, Theme, load_taxonomy
from cxlab.text._themes import (
    CommentAnalysis,
    analyse_comments,
    frequent_issues,
    quotes,
    tag_themes,
    theme_summary,
)
from cxlab.text._tokenize import tokenize
from cxlab.text._topics import TopicResult, topics

__all__ = [
    "LABELS", "PLACEHOLDERS", "THEME_IDS", "CommentAnalysis", "Taxonomy", "Theme", "TopicResult",
    "analyse_comments", "classification_report", "frequent_issues", "load_taxonomy", "quotes", "redact",
    "sentiment", "sentiment_of", "tag_themes", "theme_summary", "tokenize", "topics",
]
