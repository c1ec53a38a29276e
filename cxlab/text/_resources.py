"""Package data of cxlab.text: jieba user dictionary, stop words and sentiment lexicons.

The files live in ``cxlab/text/data/`` (shipped as package data) and are read once per process
through :mod:`importlib.resources`; they are part of the code, not user parameters.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import cache, lru_cache
from importlib import resources

__all__ = ["data_lines", "lexicon", "normalize", "tokenizer", "pos_tokenizer", "word_set"]

_LOCK = threading.Lock()


def data_lines(name: str) -> list[str]:
    """Non-empty, non-comment lines of ``cxlab/text/data/<name>``."""
    text = resources.files("cxlab.text").joinpath("data", name).read_text(encoding="utf-8")
    return [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]


@cache
def word_set(name: str) -> frozenset[str]:
    """The first field of every line of a word-list file, lower-cased."""
    return frozenset(ln.split("\t")[0].strip().lower() for ln in data_lines(name))


@cache
def lexicon(name: str) -> dict[str, float]:
    """A ``word<TAB>weight`` file as a dict (lower-cased keys)."""
    out: dict[str, float] = {}
    for ln in data_lines(name):
        word, _, weight = ln.partition("\t")
        out[word.strip().lower()] = float(weight)
    return out


# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space map one-to-one onto ASCII, so the
# translated text has exactly the same length as the original (spans stay aligned).
_FULLWIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20


def normalize(text: str) -> str:
    """Length-preserving normalisation: full-width ASCII to ASCII, lower case, NFC."""
    out = unicodedata.normalize("NFC", text).translate(_FULLWIDTH).lower()
    return out if len(out) == len(text) else text.translate(_FULLWIDTH).lower()


def _initialize(tok) -> None:
    """``tok.initialize()``, reading jieba's prefix-dictionary cache file in one piece.

    For the default dictionary jieba unmarshals its cache file (``jieba.cache`` in the temp
    directory, written by jieba on first use) straight from the file object, which reads it in
    many small pieces: 1.1 s. Unmarshalling the file's bytes gives the same dictionary in
    0.45 s. Without a readable cache, or for another dictionary, jieba does it all itself.
    """
    import marshal
    import os
    import tempfile

    import jieba

    if tok.dictionary == jieba.DEFAULT_DICT and not tok.cache_file:
        path = os.path.join(tok.tmp_dir or tempfile.gettempdir(), "jieba.cache")
        try:
            with open(path, "rb") as fh:
                freq, total = marshal.loads(fh.read())
        except (OSError, EOFError, ValueError, TypeError):
            pass
        else:
            if isinstance(freq, dict) and freq and total:
                tok.FREQ, tok.total, tok.initialized = freq, total, True
                return
    tok.initialize()


@lru_cache(maxsize=1)
def tokenizer():
    """A private :class:`jieba.Tokenizer` with the CX user dictionary (initialised once, ~0.5 s).

    A private instance leaves jieba's global default tokenizer untouched. Lexicon words are
    added so that sentiment words stay whole tokens.
    """
    import logging

    import jieba

    jieba.setLogLevel(logging.WARNING)
    with _LOCK:
        tok = jieba.Tokenizer()
        _initialize(tok)
        for ln in data_lines("user_dict.txt"):
            parts = ln.split()
            word = parts[0]
            freq = int(parts[1]) if len(parts) > 1 else None
            tag = parts[2] if len(parts) > 2 else None
            tok.add_word(word, freq, tag)
        for name in ("sentiment.txt",):
            for word in lexicon(name):
                if re.fullmatch(r"[\u4e00-\u9fff]{2,}", word) and word not in tok.FREQ:
                    tok.add_word(word, 800)
    return tok


@lru_cache(maxsize=1)
def pos_tokenizer():
    """A :class:`jieba.posseg.POSTokenizer` sharing :func:`tokenizer`'s dictionary.

    Importing :mod:`jieba.posseg` already reads the part-of-speech table of the default
    dictionary (0.3 s) for jieba's global tagger. When this call is the one that imports it
    (so nobody can have changed that table yet) and :func:`tokenizer` uses the same
    dictionary, the tagger starts from a copy of that table instead of reading the file again.
    """
    import sys

    tok = tokenizer()
    with _LOCK:
        fresh = "jieba.posseg" not in sys.modules
        import jieba.posseg as pseg

        if fresh and pseg.dt.tokenizer.dictionary == tok.dictionary:
            tagger = pseg.POSTokenizer.__new__(pseg.POSTokenizer)
            tagger.tokenizer = tok
            tagger.word_tag_tab = dict(pseg.dt.word_tag_tab)
            return tagger
    return pseg.POSTokenizer(tok)
