"""Each set's own metric (their READMEs define them): Zyte's shingle P/R/F1 with a bootstrap,
trafilatura's with/without snippets (micro P/R/F1), fundus' title and date agreement."""

from __future__ import annotations

import re
import statistics
import unicodedata
from collections import Counter
from datetime import datetime

import numpy as np

from bench.extraction.pages import Page

_TOKEN = re.compile(r"\w+")


def shingles(text: str | None, n: int = 4) -> Counter:
    tokens = _TOKEN.findall(text or "")
    return Counter(tuple(tokens[i:i + n]) for i in range(max(1, len(tokens) - n + 1)) if tokens[i:i + n])


def shingle_counts(true: str, pred: str | None) -> tuple[float, float, float]:
    """Upstream ``string_shingle_matching``: (tp, fp, fn) of the shingle multisets, over their sum."""
    t, p = shingles(true), shingles(pred)
    tp = sum((t & p).values())
    fp = sum((p - t).values())
    fn = sum((t - p).values())
    s = tp + fp + fn
    return (tp / s, fp / s, fn / s) if s else (0.0, 0.0, 0.0)


def _precision(tp, fp, fn):
    if fp == fn == 0:
        return 1.0
    if tp == fp == 0:
        return 0.0
    return tp / (tp + fp)


def _recall(tp, fp, fn):
    if fp == fn == 0:
        return 1.0
    if tp == fn == 0:
        return 0.0
    return tp / (tp + fn)


def page_f1(c: tuple[float, float, float]) -> float:
    tp, fp, fn = c
    return 2 * tp / (2 * tp + fp + fn) if (2 * tp + fp + fn) else 1.0


def shingle_summary(counts: list[tuple[float, float, float]], exact: list[bool], n_boot: int) -> dict:
    p = np.array([_precision(*c) if c[0] + c[1] > 0 else np.nan for c in counts])
    r = np.array([_recall(*c) if c[0] + c[2] > 0 else np.nan for c in counts])
    P, R = float(np.nanmean(p)), float(np.nanmean(r))
    out = {"P": P, "R": R, "F1": 2 * P * R / (P + R) if P + R else 0.0, "acc": float(np.mean(exact)) if exact else 0.0}
    if n_boot and len(counts) > 1:
        idx = np.random.default_rng(0).integers(0, len(counts), size=(n_boot, len(counts)))
        with np.errstate(invalid="ignore"):
            bp, br = np.nanmean(p[idx], axis=1), np.nanmean(r[idx], axis=1)
        bf = 2 * bp * br / (bp + br)
        out.update(P_sd=float(np.std(bp, ddof=1)), R_sd=float(np.std(br, ddof=1)), F1_sd=float(np.std(bf, ddof=1)))
    return out


def wsnorm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def snippet_counts(truth: dict, text: str | None) -> tuple[int, int, int, int, list[bool], list[bool]]:
    """trafilatura's ``count_item``: (tp, fp, fn, tn) and which with/without snippets were found."""
    if text:
        t = wsnorm(text)
        found_with = [wsnorm(w) in t for w in truth["with"]]
        found_without = [wsnorm(w) in t for w in truth["without"]]
    else:
        found_with, found_without = [False] * len(truth["with"]), [False] * len(truth["without"])
    tp, fp = sum(found_with), sum(found_without)
    return tp, fp, len(found_with) - tp, len(found_without) - fp, found_with, found_without


def micro(rows) -> dict:
    tp = sum(r[0] for r in rows)
    fp = sum(r[1] for r in rows)
    fn = sum(r[2] for r in rows)
    tn = sum(r[3] for r in rows)
    P = tp / (tp + fp) if tp + fp else 0.0
    R = tp / (tp + fn) if tp + fn else 0.0
    return {"P": P, "R": R, "F1": 2 * tp / (2 * tp + fp + fn) if tp else 0.0,
            "acc": (tp + tn) / (tp + fp + fn + tn) if rows else 0.0, "tp": tp, "fp": fp, "fn": fn, "tn": tn}


_QUOTES = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "„": '"', "«": '"', "»": '"', "–": "-", "—": "-", "\u00a0": " "})


def title_norm(title: str | None) -> str:
    text = unicodedata.normalize("NFKC", title or "").translate(_QUOTES).casefold()
    return " ".join(_TOKEN.findall(text))


def parse_date(value: str | None):
    """(datetime, has_time) or (None, False)."""
    if not value:
        return None, False
    value = value.strip().replace("Z", "+00:00")
    try:
        if re.fullmatch(r"\d{4}-\d\d-\d\d", value):
            return datetime.fromisoformat(value), False
        value = re.sub(r"([+-]\d\d)(\d\d)$", r"\1:\2", value)
        return datetime.fromisoformat(value), True
    except ValueError:
        return None, False


def date_agreement(truth: str | None, ours: str | None) -> tuple[bool, bool | None]:
    """(same day, same minute or None when ours has no time of day).

    The day is compared in the offset fundus states (ours converted when it has a zone); the
    minute as instants when ours has a zone, else as wall-clock times."""
    t, _ = parse_date(truth)
    o, has_time = parse_date(ours)
    if t is None or o is None:
        return False, None
    if o.tzinfo is not None and t.tzinfo is not None:
        day = o.astimezone(t.tzinfo).date() == t.date()
    else:
        day = o.date() == t.date()
    if not has_time:
        return day, None
    if o.tzinfo is not None and t.tzinfo is not None:
        minute = int(o.timestamp() // 60) == int(t.timestamp() // 60)
    else:
        minute = o.replace(tzinfo=None, second=0, microsecond=0) == t.replace(tzinfo=None, second=0, microsecond=0)
    return day, minute




def score_texts(set_name: str, pages: list[Page], texts: dict, n_boot: int, titles=None, dates=None) -> dict:
    if set_name == "zyte":
        counts = [shingle_counts(p.truth["body"], texts.get(p.key)) for p in pages]
        exact = [_TOKEN.findall(p.truth["body"]) == _TOKEN.findall(texts.get(p.key) or "") for p in pages]
        s = shingle_summary(counts, exact, n_boot)
        s["per_page"] = {p.key: page_f1(c) for p, c in zip(pages, counts)}
        s["counts"] = {p.key: c for p, c in zip(pages, counts)}
        return s
    if set_name == "eval":
        rows = {p.key: snippet_counts(p.truth, texts.get(p.key)) for p in pages}
        s = micro(list(rows.values()))
        s["per_page"] = {k: r[0] - r[1] for k, r in rows.items()}
        s["rows"] = rows
        return s
    # fundus
    counts = [shingle_counts(p.truth["body"], texts.get(p.key)) for p in pages]
    s = shingle_summary(counts, [], n_boot)
    s["per_page"] = {p.key: page_f1(c) for p, c in zip(pages, counts)}
    if titles is not None:
        s["title_exact"] = sum((titles.get(p.key) or "").strip() == p.truth["title"].strip() for p in pages) / len(pages)
        s["title_norm"] = sum(title_norm(titles.get(p.key)) == title_norm(p.truth["title"]) for p in pages) / len(pages)
        s["title_in"] = sum(bool(title_norm(p.truth["title"])) and title_norm(p.truth["title"]) in title_norm(titles.get(p.key)) for p in pages) / len(pages)
    if dates is not None:
        agreements = [date_agreement(p.truth["date"], dates.get(p.key)) for p in pages]
        s["date_day"] = sum(a[0] for a in agreements) / len(pages)
        s["date_timed"] = sum(a[1] is not None for a in agreements) / len(pages)
        s["date_minute"] = sum(bool(a[1]) for a in agreements) / len(pages)
        s["date_found"] = sum(bool(dates.get(p.key)) for p in pages) / len(pages)
    return s


def ms(values: list[float]) -> tuple[float, float, float]:
    if not values:
        return 0.0, 0.0, 0.0
    v = sorted(values)
    return 1000 * statistics.fmean(v), 1000 * v[len(v) // 2], 1000 * v[min(len(v) - 1, int(0.9 * len(v)))]


def f3(x, sd=None):
    if x is None:
        return "–"
    return f"{x:.3f}" + (f" ± {sd:.3f}" if sd is not None else "")


def pct(x):
    return "–" if x is None else f"{100 * x:.1f}%"

