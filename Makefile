# One-command set-up: `make run` (install + launch the app), `make test` (install + all checks).
# Both create the project's own virtualenv in .venv and install from pyproject.toml.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install run scan test lint bench accuracy screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Launch the desktop app (extra arguments: make run ARGS="scan ~/Videos")
run: $(STAMP)
	$(BIN)/python main.py $(ARGS)

## Headless scan of DIR: make scan DIR=~/Videos
scan: $(STAMP)
	$(BIN)/python main.py scan $(DIR)

## Lint, type-check, the core/Qt boundary, then the test suite (offscreen Qt)
test: $(STAMP) lint
	QT_QPA_PLATFORM=offscreen $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check dedup_gui tests scripts main.py
	$(BIN)/ruff format --check dedup_gui tests scripts main.py
	$(BIN)/lint-imports
	$(BIN)/mypy

## Speed and memory benchmark, with the PDQ reference: make bench DIR=../shared/data/videos
bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python scripts/benchmark.py $(DIR) $(ARGS)

## Accuracy on a benchmark set: make accuracy LIBRARY=/tmp/ndv-dev/library TRUTH=/tmp/ndv-dev/dev_truth.json
accuracy: $(STAMP)
	$(BIN)/python scripts/evaluate.py --library $(LIBRARY) --truth $(TRUTH)

## Screenshots of the real app under Xvfb into docs/screenshots
screenshots: $(STAMP)
	$(BIN)/python scripts/screenshots.py

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .mypy_cache .ruff_cache
