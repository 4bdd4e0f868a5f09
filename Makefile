# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian packages the tests drive: a real browser, exiftool for metadata checks, wrk for benches.
TEST_DEBS := chromium libimage-exiftool-perl wrk

.PHONY: demo serve test install install-test debs locales lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed locales

install-test: $(VENV)/.installed-test locales debs

locales: $(VENV)/.installed
	$(VENV)/bin/pybabel compile --use-fuzzy -d forum/locales -D messages --statistics

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

test: install-test
	$(PY) -m pytest -q

lint: install-test
	$(VENV)/bin/ruff check .

bench: install-test
	$(PY) bench/thread_page.py

clean:
	rm -rf $(VENV) data demo-data
