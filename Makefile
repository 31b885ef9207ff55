# Convene — developer entry points. `make` alone lists them.
#
# The local stack (RabbitMQ, PostgreSQL, SMTP sink) runs without Docker under
# .local/<profile>/; see docs/operations.md.

SHELL := /bin/bash
.DEFAULT_GOAL := help

# Extra arguments for `make test` (e.g. ARGS="--filter RegistrationTests") and `make bench`.
ARGS ?=
# debug (default, quick to build) or release; used by build and run.
CONFIGURATION ?= debug
export CONFIGURATION
# What `make fmt` formats (only the paths that exist).
SWIFT_SOURCES := $(wildcard Package.swift Shared Services Tests)

STACK := compose/local/stack.sh

.PHONY: help run test bench stack-up stack-down compose-config build fmt clean-local

help: ## List the targets
	@echo "Convene — make targets:"
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-15s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo "Variables: ARGS=\"...\" (test, bench), CONFIGURATION=debug|release (build, run), GATEWAY_PORT=8080 (run)"

run: ## Start the local stack, build, run all services (gateway on :8080); Ctrl-C stops
	@bash compose/local/run.sh

test: ## Build and run the tests against a private stack (ARGS="--filter X" for a subset)
	@bash compose/local/test.sh $(ARGS)

bench: ## Run the benchmarks (compose/local/bench.sh)
	@test -f compose/local/bench.sh || { echo "compose/local/bench.sh does not exist yet" >&2; exit 1; }
	@bash compose/local/bench.sh $(ARGS)

stack-up: ## Start the test-profile stack and leave it running (env: .local/test/env)
	@bash $(STACK) up test

stack-down: ## Stop the test-profile stack (data is kept)
	@bash $(STACK) down test

compose-config: ## Validate compose/compose.yaml (installs docker-compose if missing)
	@if ! command -v docker-compose >/dev/null 2>&1; then \
		if [ "$$(id -u)" != 0 ]; then echo "docker-compose is missing; as root: apt-get install -y --no-install-recommends docker-compose" >&2; exit 1; fi; \
		echo "installing docker-compose (without the container engine it recommends)"; \
		apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker-compose; \
	fi
	@NOTIFICATION_SECRET_KEY=$${NOTIFICATION_SECRET_KEY:-config-check-only} \
		PLATFORM_SECRET_KEY=$${PLATFORM_SECRET_KEY:-config-check-only} \
		GATEWAY_TOKEN_SECRET=$${GATEWAY_TOKEN_SECRET:-config-check-only} \
		UPLOAD_ENCRYPTION_KEY=$${UPLOAD_ENCRYPTION_KEY:-config-check-only} docker-compose -f compose/compose.yaml config -q && echo "compose/compose.yaml: valid"

build: ## swift build (CONFIGURATION=debug|release)
	swift build -c $(CONFIGURATION)

fmt: ## Format the Swift sources with swift-format, if available
	@if swift format --version >/dev/null 2>&1; then \
		swift format --in-place --recursive --parallel $(SWIFT_SOURCES); \
	elif command -v swift-format >/dev/null 2>&1; then \
		swift-format --in-place --recursive --parallel $(SWIFT_SOURCES); \
	else \
		echo "swift-format is not installed; nothing to do"; \
	fi

clean-local: ## Stop both local stacks and delete .local/ (all local data)
	@bash $(STACK) clean run
	@bash $(STACK) clean test
	rm -rf .local
