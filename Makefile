# The README's two commands: `make run` and `make test`. Each works on a fresh machine.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

TRANSLATIONS := web/translations
LANGUAGES := zh en
CATALOGS := $(foreach l,$(LANGUAGES),$(TRANSLATIONS)/$(l)/LC_MESSAGES/messages.mo)

.PHONY: run test lint install clean translations messages bench

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(BIN)/ruff check engine web tests $(wildcard bench)
	$(BIN)/ruff format --check engine web tests $(wildcard bench)
	$(BIN)/lint-imports

# All tests on SQLite and, at the same time (one run per core), the app's (tests/web) and the
# browser tests (tests/e2e, after the app's, so the two runs' browsers seldom overlap) again on
# PostgreSQL; tests/integration runs on both already, and tests/processes and tests/unit use no
# database. Without a PostgreSQL server the second run's tests skip and say so. The PostgreSQL run's report is printed after the SQLite one's; the target
# fails if either run failed. The browser tests (tests/e2e) load bpmn-js and form-js from node_modules.
test: lint translations node_modules/.package-lock.json
	@$(BIN)/pytest -q -p no:cacheprovider --db=postgresql tests/web tests/e2e > .pytest-postgresql.log 2>&1 & pg=$$!; \
	$(BIN)/pytest -q; sqlite=$$?; \
	wait $$pg; postgresql=$$?; \
	echo "== tests/web and tests/e2e on PostgreSQL (ran alongside) =="; cat .pytest-postgresql.log; \
	echo "== exit status: SQLite run $$sqlite, PostgreSQL run $$postgresql =="; \
	test $$sqlite -eq 0 && test $$postgresql -eq 0

# The pages' browser libraries (bpmn-js, form-js) from npm, exactly as locked. --ignore-scripts:
# no package's install script runs (form-js pulls Carbon packages whose scripts start telemetry).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --ignore-scripts

# Compiled catalogs (.mo) are build output, not committed.
translations: $(CATALOGS)

$(TRANSLATIONS)/%/LC_MESSAGES/messages.mo: $(TRANSLATIONS)/%/LC_MESSAGES/messages.po $(STAMP)
	$(BIN)/pybabel compile --statistics -d $(TRANSLATIONS) -D messages -l $*

# After changing user-facing text: extract it again and merge it into the catalogs to translate.
messages: $(STAMP)
	$(BIN)/pybabel extract -F $(TRANSLATIONS)/babel.cfg -k lazy_gettext -k N_ --no-location \
		--sort-output --project Upgradeflow -o $(TRANSLATIONS)/messages.pot web
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) -D messages --no-fuzzy-matching

# Serves on http://127.0.0.1:5000 with one demo user per group (printed by `upgradeflow demo`).
run: $(STAMP) translations node_modules/.package-lock.json
	$(BIN)/upgradeflow db upgrade
	$(BIN)/upgradeflow deploy processes forms
	$(BIN)/upgradeflow demo
	@echo "Upgradeflow: http://127.0.0.1:5000  (log in with a demo user above)"
	$(BIN)/upgradeflow run --host 127.0.0.1 --port 5000

# The benchmarks (bench/): figures printed and written to bench/RESULTS.md, SQLite and PostgreSQL.
bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
