# Persona Studio: `make run` starts the app on the sample store; `make test` runs everything.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8501

.PHONY: run test journeys lint format sample bench clean

$(VENV)/.app-installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: $(VENV)/.app-installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

run: $(VENV)/.app-installed
	$(PY) -m streamlit run app.py --server.port=$(PORT)

test: $(VENV)/.dev-installed
	bash scripts/ensure_chromium.sh
	bash scripts/ensure_fonts.sh
	bash scripts/ensure_poppler.sh
	bash scripts/ensure_java.sh
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(PY) -m pytest -n 2 --dist loadfile

journeys: $(VENV)/.dev-installed
	bash scripts/ensure_chromium.sh
	bash scripts/ensure_fonts.sh
	bash scripts/ensure_poppler.sh
	$(PY) -m pytest -m journeys

lint: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

format: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

sample: $(VENV)/.app-installed
	$(PY) -m profiling.data.sample --out sample_data

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache test-artifacts
