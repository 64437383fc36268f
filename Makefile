# Two commands matter: `make run` and `make test`. Each sets itself up first.
# Everything CI needs is installed from here; nothing is assumed on the machine
# beyond a Python 3.13, the Lambda runtime the functions run on (python3.13 on
# Amazon Linux 2023): tests, the local stack and the packaging all run on it, so
# the bytecode and the compiled wheels (pydantic-core) that ship are the ones
# Lambda loads. local/find_python.sh finds it (PATH, then pyenv's versions).

PYTHON ?= $(shell sh local/find_python.sh 3.13)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup browser run test check lint imports format typecheck unit bench clean openapi
.PHONY: infra-setup synth deploy test-infra

setup: $(STAMP)

# Re-installs when a requirements file changes; otherwise a no-op.
$(STAMP): requirements.txt requirements-dev.txt invoice_pdf/requirements.txt
	@test -n "$(PYTHON)" || { echo "no Python 3.13 found (PATH or pyenv): the Lambda runtime is python3.13"; exit 1; }
	@test -x $(PY) && $(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' \
	  || { rm -rf $(VENV); $(PYTHON) -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

run: setup
	$(PY) -m local.stack $(ARGS)

# Everything: unit, integration, e2e in .venv; then the infrastructure tests
# in their own virtualenv (the CDK and its linters pin other versions).
test: setup browser imports
	$(PY) -m pytest -n 2 tests $(PYTEST_ARGS)
	$(MAKE) --no-print-directory test-infra

# Debian's Chromium for the browser tests (the dev page, the back office).
# Needs root (CI and this project's machines are); where it cannot be
# installed, those tests skip and say why. axe-core (pinned) checks the back
# office's accessibility; it goes into the git-ignored .browser/.
AXE_CORE_VERSION = 4.14.1
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
	  || echo "could not install chromium: the browser test will be skipped"; }
	@test -f .browser/node_modules/axe-core/axe.min.js \
	  && grep -q '"version": "$(AXE_CORE_VERSION)"' .browser/node_modules/axe-core/package.json \
	  || npm install --prefix .browser --no-save --no-audit --no-fund --silent axe-core@$(AXE_CORE_VERSION) \
	  || echo "could not install axe-core: the accessibility checks will be skipped"

# Lint, types and the fast unit tests: seconds, no AWS.
check: lint imports typecheck unit

lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: setup
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# The layering (pyproject.toml's import-linter contracts; docs/architecture.md).
imports: setup
	$(VENV)/bin/lint-imports --no-logo

typecheck: setup
	$(PY) -m mypy

unit: setup
	$(PY) -m pytest tests/unit -q

# Every benchmark, one after the other (bench/all.py): each prints its table,
# then a summary table and, as the very last line, one JSON object with the
# figures we track (cold_start_ratio, package_mb, round_trips_max,
# sweep_items_read, ...). The default sizes load 50,000 orders into moto and
# take several minutes; BENCH_SCALE=quick makes it a few minutes.
bench: setup
	$(PY) bench/all.py

# The API contract (docs/openapi.json, and chalicelib/api/openapi.json that the
# Lambda serves) and its reference page (docs/api.html),
# generated from the routes; a test fails when the committed ones are stale.
openapi: setup
	$(PY) -m local.openapi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# --- Infrastructure (CDK). A virtualenv of its own: the CDK, jsii and the
# linters stay out of .venv and out of the Lambda package.
VENV_INFRA := .venv-infra
PY_INFRA := $(VENV_INFRA)/bin/python
STAMP_INFRA := $(VENV_INFRA)/.installed
STAGE ?= dev

infra-setup: $(STAMP_INFRA)

$(STAMP_INFRA): requirements.txt requirements-infra.txt
	@test -x $(PY_INFRA) && $(PY_INFRA) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' \
	  || { rm -rf $(VENV_INFRA); $(PYTHON) -m venv $(VENV_INFRA); }
	$(PY_INFRA) -m pip install --quiet --disable-pip-version-check -r requirements-infra.txt
	@touch $(STAMP_INFRA)

# Writes the CloudFormation template of one stage; its path is the last line.
synth: infra-setup
	$(PY_INFRA) -m infrastructure.synth --stage $(STAGE)

# Needs AWS credentials and Node.js; see infrastructure/README.md.
deploy: synth
	infrastructure/deploy.sh $(STAGE)

test-infra: infra-setup
	$(PY_INFRA) -m pytest tests/infra --confcutdir=tests/infra $(PYTEST_ARGS)

# Previews of every email (both locales, HTML and text) rendered from sample
# events; open build/emails/index.html in a browser.
.PHONY: emails
emails: setup
	$(PY) -m local.email_previews --out build/emails
