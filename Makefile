# Two commands for a newcomer: `make demo` and `make test`. Each builds .venv itself.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test bench bench-quick clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) on PATH (or run: make PYTHON=python3 ...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# The example corpus is fiction (examples/make_corpus.py writes it); its sites are in examples/configs.
demo: $(STAMP)
	rm -f demo.db demo.db-wal demo.db-shm
	$(BIN)/collector --db demo.db --config examples/configs import examples/corpus
	$(BIN)/collector --db demo.db stats
	$(BIN)/collector --db demo.db lineage https://dailyledger.example/2026/03/04/harbour-bridge-tolls
	$(BIN)/collector --db demo.db lineage https://dailyledger.example/2026/03/05/library-night-hours

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/run.py

# Every benchmark at a small size (minutes): that they work, not what they measure (bench/README.md).
bench-quick: $(STAMP)
	$(BIN)/python bench/run.py --quick

clean:
	rm -rf $(VENV) demo.db demo.db-wal demo.db-shm

# Crawl vs import on a local site of 2,000 generated pages (bench/crawl.py; not run by the tests).
.PHONY: bench-crawl
bench-crawl: $(STAMP)
	$(BIN)/python bench/crawl.py
