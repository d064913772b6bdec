"""Words by jieba's dictionary and jieba's method, with the domain dictionary; cache under var/.

Two readers share one dictionary: the learned models (`words`, on every message) and the policy
search (`tokenizer()`, a jieba.Tokenizer for lcut_for_search). `words` re-implements jieba's cut
(HMM off) over that dictionary — the same words in well under half the time, and a message can be
classified without importing jieba at all (its HMM tables alone cost 0.2 s and 20 MB at start).
tests/test_nlp.py checks `words` against jieba's own cut on every corpus message.

The dictionary is jieba's dict.txt without its rarest words (frequency below MIN_WORD_FREQ): a
fifth of the memory and of the load time, and the same cross-validated accuracy (docs/nlp.md);
then nlp/data/userdict.txt and whatever `add_words` teaches it (the roster, policy terms).
"""
from __future__ import annotations

import importlib.metadata
import importlib.util
import logging
import marshal
import math
import os
import re
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
USER_DICT = DATA / "userdict.txt"
MIN_WORD_FREQ = 20
JIEBA_VERSION = importlib.metadata.version("jieba")   # the dictionary file is jieba's own


class Dictionary:
    """word → frequency (0 for a prefix of a longer word, as jieba keeps them) and their total."""

    def __init__(self, freq: dict, total: int):
        self.freq, self.total = freq, total
        self.log_prob: dict[str, float] = {}

    def add_word(self, word: str, freq: int) -> None:
        """As jieba.Tokenizer.add_word: the word, its prefixes, the total."""
        self.freq[word] = freq
        self.total += freq
        for end in range(1, len(word)):
            self.freq.setdefault(word[:end], 0)
        self.log_prob.clear()     # every log-probability depends on the total


_dictionary: Dictionary | None = None
_tokenizer = None   # the jieba.Tokenizer over the same dictionary, built when search needs it


def _cache_dir() -> Path:
    # The bot passes its var/ through BOT_VAR_DIR; standalone use falls back to ./var.
    return Path(os.environ.get("BOT_VAR_DIR") or Path(__file__).resolve().parent.parent / "var")


def dictionary_signature() -> str:
    """What decides the words: jieba's dictionary and the trimming (the corpus fingerprint includes it)."""
    return f"jieba {JIEBA_VERSION} dict.txt min_freq {MIN_WORD_FREQ}"


def _jieba_dict_file() -> Path:
    spec = importlib.util.find_spec("jieba")   # where jieba is, without importing it
    return Path(spec.origin).resolve().parent / "dict.txt"


def _trimmed_dictionary(cache_dir: Path) -> Path:
    """jieba's dict.txt without words rarer than MIN_WORD_FREQ, written once into var/."""
    path = cache_dir / f"jieba-{JIEBA_VERSION}-dict-f{MIN_WORD_FREQ}.txt"
    if not path.exists():
        kept = [line for line in _jieba_dict_file().read_text(encoding="utf-8").splitlines()
                if line.strip() and int(line.split(" ")[1]) >= MIN_WORD_FREQ]
        _write_atomically(path, ("\n".join(kept) + "\n").encode("utf-8"))
    return path


def _write_atomically(path: Path, data: bytes) -> None:
    partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")   # processes may race: replace whole
    partial.write_bytes(data)
    os.replace(partial, path)


def _load_dictionary() -> Dictionary:
    """The trimmed dictionary's prefix table from var/ (marshal, ~20 ms), built once if missing."""
    cache_dir = _cache_dir()
    cache_dir.mkdir(parents=True, exist_ok=True)
    source = _trimmed_dictionary(cache_dir)
    cache = cache_dir / f"jieba-{JIEBA_VERSION}-f{MIN_WORD_FREQ}.prefix"
    freq = total = None
    if cache.exists() and cache.stat().st_mtime >= source.stat().st_mtime:
        try:
            freq, total = marshal.loads(cache.read_bytes())
        except (EOFError, ValueError, TypeError):
            freq = None
    if freq is None:
        freq, total = {}, 0
        for line in source.read_text(encoding="utf-8").splitlines():
            word, count = line.split(" ")[:2]
            freq[word] = int(count)
            total += int(count)
            for end in range(1, len(word)):
                freq.setdefault(word[:end], 0)
        _write_atomically(cache, marshal.dumps((freq, total)))
    dictionary = Dictionary(freq, total)
    for line in USER_DICT.read_text(encoding="utf-8").splitlines():   # "word freq [tag]", as jieba reads it
        parts = line.strip().split(" ")
        if parts[0]:
            dictionary.add_word(parts[0], int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 1)
    return dictionary


@lru_cache(maxsize=1)
def domain_terms() -> frozenset[str]:
    """The words of the domain dictionary (nlp/data/userdict.txt): 留抵退税, 稳岗返还, 高企, 环评…"""
    return frozenset(line.split(" ")[0] for line in USER_DICT.read_text(encoding="utf-8").splitlines()
                     if line.strip())


def dictionary() -> Dictionary:
    global _dictionary
    if _dictionary is None:
        _dictionary = _load_dictionary()
    return _dictionary


def tokenizer():
    """A jieba.Tokenizer over the shared dictionary (for the policy search's lcut_for_search)."""
    global _tokenizer
    if _tokenizer is None:
        import jieba  # only the search needs jieba itself (and its HMM tables); classifying does not
        jieba.setLogLevel(logging.WARNING)
        shared = dictionary()
        tk = jieba.Tokenizer(dictionary=str(_trimmed_dictionary(_cache_dir())))
        tk.FREQ, tk.total, tk.initialized = shared.freq, shared.total, True
        _tokenizer = tk
    tk = _tokenizer
    tk.total = dictionary().total   # words added since: the same total on both sides
    return tk


def add_words(words) -> int:
    """Teach the dictionary names from the database (enterprises, policy titles)."""
    shared, count = dictionary(), 0
    for word in words:
        word = (word or "").strip()
        if 1 < len(word) <= 40 and " " not in word:
            shared.add_word(word, 2000)
            count += 1
    return count


# --- jieba's cut, faster ---------------------------------------------------------------------
_BLOCK = re.compile("[\u4E00-\u9FD5a-zA-Z0-9+#&._%\\-]+")   # jieba's re_han_default


def words(text: str) -> list[str]:
    """The words of two or more characters that jieba's cut (HMM off) finds in text.

    jieba builds a dict of word-graph edges and maximises over generators; here the same best path
    is computed in one backward pass, with word log-probabilities cached."""
    shared = dictionary()
    get, cache = shared.freq.get, shared.log_prob
    log_total = math.log(shared.total)
    found = []
    for block in _BLOCK.findall(text):
        n = len(block)
        if n == 1:
            continue
        score, end = [0.0] * (n + 1), [0] * n
        for k in range(n - 1, -1, -1):     # best path from k: the likeliest word starting at k + the rest
            best, best_end, i, frag = None, k, k, block[k]
            while True:
                f = get(frag)
                if f is None:              # no dictionary word starts with frag
                    break
                if f:
                    p = cache.get(frag)
                    if p is None:
                        p = cache[frag] = math.log(f) - log_total
                    s = p + score[i + 1]
                    if best is None or s >= best:   # ties go to the longer word, as in jieba
                        best, best_end = s, i
                i += 1
                if i >= n:
                    break
                frag = block[k:i + 1]
            score[k] = -log_total + score[k + 1] if best is None else best
            end[k] = best_end
        x, latin = 0, ""
        while x < n:
            y = end[x] + 1
            if y - x == 1 and block[x].isascii() and block[x].isalnum():
                latin += block[x]          # single Latin letters and digits run together, as in jieba
            else:
                if len(latin) > 1:
                    found.append(latin)
                latin = ""
                if y - x > 1:
                    found.append(block[x:y])
            x = y
        if len(latin) > 1:
            found.append(latin)
    return found
