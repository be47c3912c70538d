# Two commands on a fresh machine with Python 3.11+:  `make run`  and  `make test`.
PYTHON ?= python3
VENV := .venv
UV := .tools/bin/uv
export UV_PYTHON_DOWNLOADS := never

.PHONY: install run test lint format bench clean

$(UV):
	$(PYTHON) -m venv .tools
	.tools/bin/python -m pip install --quiet --disable-pip-version-check uv==0.13.8

# Installs exactly what uv.lock pins into .venv.
install: $(UV)
	$(UV) sync --frozen --python $(PYTHON)

# Opens the console on the embedded database, loaded with demo data, as one of the demo's
# service-desk agents (DEMO_AS=katrin.vogel for the supervisor, DEMO_AS= for your OS login).
DEMO_AS ?= jonas.becker
run: install
	$(VENV)/bin/cc-tui demo
	$(VENV)/bin/cc-tui $(if $(DEMO_AS),--as $(DEMO_AS))

# One worker per core (pytest-xdist); each worker has its own test databases.
test: install
	$(VENV)/bin/pytest -n auto

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports --no-logo

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

clean:
	rm -rf .tools $(VENV)
