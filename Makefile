# iwp: the two commands a new user needs are `make demo` and `make test`.
# Both install the system packages they need (Debian/Ubuntu) and build in release mode.

CARGO ?= cargo
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# System packages: GDAL to read/write GIS files, SQLite (configured directly for staging),
# gdal-bin for ogrinfo/gdalinfo checks,
# slurm-client for scontrol (hostlist agreement tests), slurmctld + slurmd for the workflow tests
# on a throwaway localhost cluster (tests/slurm/cluster.sh), tmux for the iwp-progress view test.
APT_PACKAGES := libgdal-dev libsqlite3-dev gdal-bin pkg-config slurm-client slurmctld slurmd tmux
DEMO_DIR ?= demo-out

.PHONY: deps build test demo clean-demo

deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing system packages:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust (https://rustup.rs) first"; exit 1; }

build: deps
	$(CARGO) build --release --workspace

test: build
	$(CARGO) test --release --workspace

demo: build
	bash examples/demo.sh $(DEMO_DIR)

clean-demo:
	rm -rf $(DEMO_DIR)
