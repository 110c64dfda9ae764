# Two commands do all set-up on a fresh machine:
#   make run    install everything, build the default indexes, start the app on http://localhost:8501
#   make test   install what the tests need (incl. Debian chromium) and run the test suite
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8501
# Everything: unit, db, AppTest, headless-browser and the slow end-to-end test of the embedded default.
PYTEST_ARGS ?= -m ""

.PHONY: install install-test run index test test-fast clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# torch is installed first and pinned: any other version pulls a 5 GB CUDA build here.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e .
	touch $@

install: $(VENV)/.installed

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install -q -e ".[test]"
	@command -v chromium >/dev/null || { echo "installing Debian chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	@test -x /usr/lib/postgresql/15/bin/initdb || { echo "installing Debian postgresql-15 for the database tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-15 >/dev/null; }
	touch $@

install-test: $(VENV)/.installed-test

index: install
	HF_HUB_OFFLINE=1 $(BIN)/bel build-index

# Production settings: no file watcher and no rerun on save (an idle watcher logged thousands
# of inotify overflows); the address comes from .streamlit/config.toml (127.0.0.1) unless ADDRESS is set.
ADDRESS ?=
run: index
	HF_HUB_OFFLINE=1 $(BIN)/streamlit run app.py --server.port $(PORT) --server.headless true \
		--browser.gatherUsageStats false --server.fileWatcherType none --server.runOnSave false \
		$(if $(ADDRESS),--server.address $(ADDRESS))

# Every store test runs on SQLite and on a throwaway PostgreSQL server (.ci/pg.sh: loopback,
# generated password, removed afterwards even when the tests fail).
test: install-test
	@pg=$$(.ci/pg.sh start) && trap '.ci/pg.sh stop "$$pg"' EXIT && \
		BEL_TEST_PG_URL=$$(cat "$$pg/url") HF_HUB_OFFLINE=1 $(BIN)/pytest -q $(PYTEST_ARGS)

test-fast: install-test
	HF_HUB_OFFLINE=1 $(BIN)/pytest -q -m "not slow"

clean:
	rm -rf $(VENV) .pytest_cache
