"""Fictional article text for tests: deterministic, varied, and nobody's writing."""

from __future__ import annotations

import random

SUBJECTS = ["The council", "A spokesperson", "The harbour board", "Local traders", "The new mayor", "Residents",
            "The transport office", "A panel of engineers", "The school trust", "Volunteers", "The regional court",
            "Fishermen", "The museum director", "Two councillors", "The water company", "Nurses at the clinic"]
VERBS = ["announced", "questioned", "postponed", "welcomed", "criticised", "approved", "rejected", "reviewed",
         "funded", "delayed", "defended", "investigated", "extended", "cancelled", "praised", "proposed"]
OBJECTS = ["the plan for a second ferry pier", "a rise in parking charges", "the closure of the night market",
           "repairs to the sea wall", "a study of river pollution", "the budget for street lighting",
           "a ban on heavy lorries in the old town", "new opening hours for the pool", "the tram extension",
           "a grant for the youth orchestra", "the sale of the old fire station", "plans for a cycle bridge",
           "a survey of empty shops", "the merger of two primary schools", "a festival on the quay"]
TAILS = ["after a long meeting on Tuesday", "despite objections from neighbours", "citing rising costs",
         "in a letter to the regional paper", "following a petition with thousands of names", "for the third time this year",
         "before the summer holidays", "under pressure from the opposition", "with support from local businesses",
         "after an independent review", "without giving a date", "to the surprise of many observers"]


SYLLABLES = ["ka", "lo", "mer", "sten", "vi", "dra", "pol", "an", "te", "rus", "bel", "ko", "ni", "sar", "do", "lin"]


def name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def sentence(rng: random.Random) -> str:
    # Invented names and figures keep two articles from sharing many 5-word shingles.
    return (
        f"{rng.choice(SUBJECTS)} of {name(rng)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} worth {rng.randint(2, 900)} "
        f"thousand {rng.choice(TAILS)}, said {name(rng)} {name(rng)}, who {rng.choice(VERBS)} {rng.choice(OBJECTS)} "
        f"in {rng.randint(1990, 2025)}."
    )


def article(seed: int, paragraphs: int = 6, sentences: int = 3) -> tuple[str, list[str]]:
    """(title, paragraphs) of a fictional news article."""
    rng = random.Random(seed)
    title = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} (story {seed})"
    body = [" ".join(sentence(rng) for _ in range(sentences)) for _ in range(paragraphs)]
    return title, body
