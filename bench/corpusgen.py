"""Generated article text with realistic statistics, for benchmarks: nobody's writing.

Words are drawn from a Zipf-distributed vocabulary of invented words, so two generated
articles share 5-word shingles about as rarely as two real news articles do (J ~ 0.003),
and lengths follow news (200-1,200 words in 4-20 paragraphs).
"""

from __future__ import annotations

import numpy as np

SYLLABLES = ["ka", "lo", "mer", "sten", "vi", "dra", "pol", "an", "te", "rus", "bel", "ko", "ni", "sar", "do",
             "lin", "fe", "gu", "ha", "jo", "mi", "ne", "or", "pa", "qui", "ri", "so", "tu", "va", "we"]


def vocabulary(size: int = 40_000, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    words = set()
    while len(words) < size:
        n = int(rng.integers(1, 5))  # 30 + 900 + 27,000 + 810,000 possible words
        words.add("".join(rng.choice(SYLLABLES, n)))
    return np.array(sorted(words, key=len))  # short words are the frequent ones, as in language


class Generator:
    def __init__(self, seed: int = 0, vocab_size: int = 40_000):
        self.rng = np.random.default_rng(seed)
        self.vocab = vocabulary(vocab_size, seed)
        ranks = np.arange(1, len(self.vocab) + 1)
        weights = 1.0 / ranks**1.05
        self.cdf = np.cumsum(weights / weights.sum())

    def words(self, n: int) -> list[str]:
        return self.vocab[np.searchsorted(self.cdf, self.rng.random(n))].tolist()

    def article(self) -> tuple[str, list[str]]:
        total = int(self.rng.integers(200, 1200))
        paragraphs = int(np.clip(total // 60, 4, 20))
        words = self.words(total)
        cuts = np.linspace(0, total, paragraphs + 1).astype(int)
        paras = []
        for a, b in zip(cuts[:-1], cuts[1:]):
            chunk = words[a:b]
            paras.append(" ".join(chunk).capitalize() + ".")
        title = " ".join(self.words(int(self.rng.integers(5, 12)))).capitalize()
        return title, paras
