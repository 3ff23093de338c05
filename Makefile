# chsim — the whole set-up on a fresh Debian/Ubuntu machine that has rustup:
#   make run    install what is missing, build, serve the built-in demo on http://localhost:8080
#   make test   install what is missing, then every check and test (what CI runs)

APT_PACKAGES := clang libclang-dev libxmlsec1-dev pkg-config xmlsec1 libxml2-utils libssl-dev python3 python3-venv redis-server
VENV := .venv
STAMP := $(VENV)/.requirements-installed

.PHONY: run test deps venv build lint toolchain

# Install the Debian packages samael's xmlsec bindings, the interop tests and the shared-store tests
# (redis-server, started by the tests themselves) need (only missing ones).
deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# rustfmt and clippy, which a minimal rustup profile leaves out.
toolchain:
	@for c in rustfmt clippy; do \
	  rustup component list --installed 2>/dev/null | grep -q "^$$c" || rustup component add $$c; \
	done

# Python virtual environment with the independent SAML peers (pysaml2) for the interop tests.
venv: $(STAMP)
$(STAMP): tests/interop/requirements.txt | deps
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -r tests/interop/requirements.txt
	touch $(STAMP)

build: deps
	cargo build

run: build
	cargo run -- serve

lint: deps toolchain
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings

test: deps venv lint
	cargo test --all-targets
