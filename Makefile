# `make demo` and `make test` set up everything they need (see scripts/setup.sh), then do their job.
SHELL := /bin/bash
DB ?= telephony_demo
TEST_DB ?= telephony_test
HTTP_PORT ?= 8069
export DB TEST_DB HTTP_PORT

.PHONY: demo test setup stop-demo stop bench screenshots i18n

setup:
	@bash scripts/setup.sh

## Create (or update) the demo database on the sandbox provider and serve it on http://127.0.0.1:$(HTTP_PORT)
demo: setup
	@bash scripts/demo.sh

## Run the whole test suite on a fresh database; ends with pytest's summary line
test: setup
	@bash scripts/test.sh $(TESTS)

## Stop a demo server started with `make demo DETACH=1`
stop-demo:
	@bash scripts/demo.sh stop

## Stop everything `make demo` / `make test` left running: the demo server and the private PostgreSQL
stop:
	@bash scripts/stop.sh

## Run the benchmarks of bench/ (see bench/README.md)
bench: setup
	@bash bench/run.sh

## Regenerate the translation template from the code and merge it into i18n/*.po (then translate what it reports)
i18n: setup
	@bash scripts/i18n.sh

## Screenshots of the Built-in Telephony page (docs/screenshots/, also in Spanish and Chinese: a CJK font is installed) from a running `make demo`
screenshots:
	@fc-list :lang=zh | grep -q . || [ "$$(id -u)" != 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-wqy-microhei >/dev/null
	@node scripts/screenshots.mjs
