# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages the tests drive: a real browser, exiftool for metadata checks, wrk for benches;
# systemd-analyze, nginx, caddy and openssl check the files of deploy/ (tests/test_deploy.py);
# postgresql: the throw-away cluster of the tests that run on both stores (tests/conftest.py).
TEST_DEBS := chromium libimage-exiftool-perl wrk systemd nginx-light caddy openssl openjdk-17-jre-headless \
	postgresql

# The versions every install uses (pip constraints), for the same install on every machine.
# `make lock` refreshes it from pyproject.toml's ranges (after adding or upgrading a dependency).
LOCK := requirements.lock

.PHONY: demo serve test install install-test debs locales messages lint lock bench clean

$(VENV)/.installed: pyproject.toml $(LOCK)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c $(LOCK) -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml $(LOCK)
	$(PY) -m pip install --quiet -c $(LOCK) -e '.[test]'
	touch $@

lock:
	rm -rf .venv-lock
	$(PYTHON) -m venv .venv-lock
	.venv-lock/bin/pip install --quiet --upgrade pip
	.venv-lock/bin/pip install --quiet -e '.[test]'
	( echo "# pip constraints for every install: refreshed by 'make lock' from pyproject.toml"; \
	  .venv-lock/bin/pip freeze --exclude-editable ) > $(LOCK)
	rm -rf .venv-lock

install: $(VENV)/.installed locales

install-test: $(VENV)/.installed-test locales debs

locales: $(VENV)/.installed
	$(VENV)/bin/pybabel compile -d forum/locales -D messages --statistics

# Interface texts are English msgids. Besides _(), ngettext() and N_(), the messages passed to the
# error classes and to check_rate() (5th argument) are msgids: gettext is applied where shown.
MESSAGE_KEYWORDS := -k ForumError -k BadRequest -k Unauthorized -k Forbidden -k NotFound \
	-k Conflict -k TooLarge -k Invalid -k UnknownReference -k Contradiction -k TooManyRequests \
	-k Unavailable -k TooSlow \
	-k check_rate:5

# Refresh forum/locales/messages.pot from the code and templates, then both catalogs; translate
# in fr/ what `pybabel update` left empty or marked fuzzy (tests/test_i18n.py checks), then
# `make locales`. English msgstrs stay empty: the msgids are the English texts.
messages: $(VENV)/.installed
	$(VENV)/bin/pybabel extract -F babel.cfg $(MESSAGE_KEYWORDS) -c TRANSLATORS: \
		--add-location=file --project=Vigie -o forum/locales/messages.pot .
	$(VENV)/bin/pybabel update -i forum/locales/messages.pot -d forum/locales -D messages \
		--ignore-obsolete -l fr
	$(VENV)/bin/pybabel update -i forum/locales/messages.pot -d forum/locales -D messages \
		--ignore-obsolete --no-fuzzy-matching -l en

debs:
	@missing=""; for p in $(TEST_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		echo "Installing Debian packages:$$missing"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$missing; \
	fi

demo: install
	$(PY) -m forum demo --port 8080

serve: install
	$(PY) -m forum serve

# The whole suite, measured: the share of forum/ it runs is printed, and under the floor
# (pyproject.toml, [tool.coverage.report] fail_under) the run fails.
test: install-test
	$(PY) -m coverage erase
	$(PY) -m coverage run -m pytest -q
	@# A process killed on purpose (tests/test_workers.py) leaves a partial data file: dropped.
	@$(PY) -m coverage combine -q 2>/dev/null; rm -f .coverage.*
	@echo "Coverage of forum/ (floor: $$($(PY) -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["tool"]["coverage"]["report"]["fail_under"])') %):"
	@$(PY) -m coverage report --format=total

lint: install-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy forum

bench: install-test
	$(PY) bench/thread_page.py

clean:
	rm -rf $(VENV) .venv-lock data demo-data .coverage .coverage.*
