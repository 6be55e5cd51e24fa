"""``python -m collector``: the ``collector`` command (used by ``collector schedule`` for crawls)."""

from .cli import main

main(prog_name="collector")
