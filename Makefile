# Red Vest — the two commands: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
HOST ?= 127.0.0.1
PORT ?= 5000
# Two workers on two cores: every worker has its own SQLite files and its own PostgreSQL database.
PYTEST_ARGS ?= -n 2
# Rate limits hold for the whole server: `make run` counts them in Redis when it answers at REDIS_URL (or in the
# RATELIMIT_STORAGE_URI you set); with per-process memory:// it serves with one worker process.
REDIS_URL ?= redis://127.0.0.1:6379
RATELIMIT_STORAGE_URI ?= $(shell $(BIN)/python -c 'import sys, redis; redis.Redis.from_url(sys.argv[1], socket_connect_timeout=1).ping()' $(REDIS_URL) 2>/dev/null && echo $(REDIS_URL) || echo memory://)
WORKERS ?= 2
RUN_WORKERS = $(if $(filter memory://%,$(RATELIMIT_STORAGE_URI)),1,$(WORKERS))

.PHONY: run test setup setup-test constraints messages migration bench-seed clean

run: setup  ## set up, migrate, seed the city demo if empty, keep it alive, compute its signals, serve on http://127.0.0.1:5000
	@$(BIN)/python -c 'import socket, sys; s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind((sys.argv[1], int(sys.argv[2])))' $(HOST) $(PORT) 2>/dev/null \
	  || { echo "Port $(PORT) on $(HOST) is in use: stop what serves there, or run make run PORT=5001"; exit 1; }
	$(BIN)/volunteer-app db upgrade
	$(BIN)/volunteer-app seed-demo --scale city --if-empty
	$(BIN)/volunteer-app demo refresh
	$(BIN)/volunteer-app signals refresh
	RATELIMIT_STORAGE_URI=$(RATELIMIT_STORAGE_URI) WEB_CONCURRENCY=$(RUN_WORKERS) \
	$(BIN)/granian --interface wsgi --host $(HOST) --port $(PORT) --workers $(RUN_WORKERS) --blocking-threads 4 --access-log --factory volunteer_app:create_app

test: setup-test  ## set up with test extras and run the whole suite
	$(BIN)/pytest $(PYTEST_ARGS)

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# constraints.txt: the exact versions the suite passed with (pyproject.toml keeps the supported ranges)
$(STAMP): pyproject.toml constraints.txt | $(VENV)/bin/python
	$(BIN)/pip install --quiet -c constraints.txt -e .
	touch $@

$(TEST_STAMP): pyproject.toml constraints.txt $(STAMP)
	$(BIN)/pip install --quiet -c constraints.txt -e '.[test]'
	touch $@

setup: $(STAMP)
setup-test: $(TEST_STAMP)

constraints:  ## upgrade: a new venv with the newest versions pyproject.toml allows, pinned in constraints.txt (then run make test)
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	{ grep '^#' constraints.txt; $(BIN)/pip freeze --exclude-editable; } > constraints.txt.new
	mv constraints.txt.new constraints.txt
	touch $(STAMP) $(TEST_STAMP)

migration: setup  ## regenerate the initial migration from the models (before the first release only)
	rm -f migrations/versions/0001_initial.py /tmp/volunteer-app-migration.db
	DATABASE_URL=sqlite:////tmp/volunteer-app-migration.db $(BIN)/alembic -c migrations/alembic.ini revision --autogenerate --rev-id 0001 -m initial
	@ls migrations/versions/

bench-seed: setup
	$(BIN)/python benchmarks/seed_bench.py

clean:
	rm -rf $(VENV) instance/volunteer.db*

messages: setup  ## AREA=name DIRS="paths": extract messages of those paths into volunteer_app/translations/AREA (zh_Hans_CN, the directory Babel looks for when the locale is zh_CN)
	@test -n "$(AREA)" -a -n "$(DIRS)" || (echo 'usage: make messages AREA=accounts DIRS="volunteer_app/accounts templates/accounts"'; exit 2)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --omit-header -o /tmp/rv-$(AREA).pot $(DIRS)
	@if [ -f volunteer_app/translations/$(AREA)/zh_Hans_CN/LC_MESSAGES/messages.po ]; then \
	  $(BIN)/pybabel update --no-fuzzy-matching --omit-header -i /tmp/rv-$(AREA).pot -d volunteer_app/translations/$(AREA) -l zh_Hans_CN; \
	else $(BIN)/pybabel init -i /tmp/rv-$(AREA).pot -d volunteer_app/translations/$(AREA) -l zh_Hans_CN; fi
