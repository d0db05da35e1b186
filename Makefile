# Rapport: `make run` opens the app on demo data; `make test` runs every check.
# Both install what a fresh Debian bookworm machine lacks (apt packages, npm packages,
# tauri-driver) before they build.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
CARGO_TARGET_DIR ?= $(CURDIR)/target
export CARGO_TARGET_DIR
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APP_BIN := $(CARGO_TARGET_DIR)/debug/rapport-desktop
APT_PACKAGES := libwebkit2gtk-4.1-dev xvfb xauth webkit2gtk-driver gnome-keyring keyutils \
	dbus-daemon build-essential pkg-config curl dovecot-imapd python3-aiosmtpd
# The server tests give each test its own database on this PostgreSQL (`#[sqlx::test]`).
# The password only matters where ensure-postgres.sh had to install a cluster (trust ignores it).
DATABASE_URL ?= postgres://postgres:postgres@127.0.0.1:5432/postgres
export DATABASE_URL
# `make server` keeps its data in this database of the same PostgreSQL.
SERVER_DATABASE_URL ?= postgres://postgres:postgres@127.0.0.1:5432/rapport
SERVER_LISTEN ?= 127.0.0.1:8080
# Where `make run` keeps its demo workspace (see README: "Where data lives").
RUN_DATA_DIR ?= $(HOME)/.local/share/rapport/demo

.PHONY: all run test deps deps-apt deps-node deps-driver deps-sqlx ui app fmt clippy bindings \
	check-bindings sqlx-db sqlx-prepare sqlx-check rust-test sync-test ui-check webdriver postgres bench bench-launch bench-memory launch-bench-build bench-server bench-sync bench-intake bench-oncall server \
	deps-bundler dist package-check

all: app

## --- installing what is missing -------------------------------------------------------
deps: deps-apt deps-node deps-driver

deps-apt:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update -qq; \
	  DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing; \
	fi

deps-node: ui/node_modules/.package-lock.json

ui/node_modules/.package-lock.json: ui/package-lock.json ui/package.json
	npm --prefix ui ci --no-audit --no-fund
	@touch $@

deps-driver:
	@command -v tauri-driver >/dev/null || cargo install tauri-driver --version '^2' --locked

postgres:
	@bash scripts/ensure-postgres.sh

# sqlx-cli, pinned to the sqlx in Cargo.lock: `make sqlx-prepare` and `make sqlx-check` run it.
SQLX_CLI_VERSION := 0.9.0
deps-sqlx:
	@cargo sqlx --version 2>/dev/null | grep -qx "sqlx-cli-sqlx $(SQLX_CLI_VERSION)" || \
	  cargo install sqlx-cli --version '=$(SQLX_CLI_VERSION)' --no-default-features \
	    --features postgres,rustls --locked

## --- building ---------------------------------------------------------------------------
ui: deps-node
	npm --prefix ui run build

# The app embeds ui/dist at compile time, so the UI is built first. The `custom-protocol`
# feature (on by default in src-tauri) makes the binary serve the embedded UI.
app: deps-apt ui
	cargo build -p rapport-desktop --features tauri/custom-protocol

run: deps app
	@mkdir -p "$(RUN_DATA_DIR)"
	@if [ -z "$${DISPLAY:-}" ] && [ -z "$${WAYLAND_DISPLAY:-}" ]; then \
	  echo "no display: running under Xvfb"; \
	  RAPPORT_DATA_DIR="$(RUN_DATA_DIR)" xvfb-run -a -s "-screen 0 1280x800x24" $(APP_BIN) --demo; \
	else \
	  RAPPORT_DATA_DIR="$(RUN_DATA_DIR)" $(APP_BIN) --demo; \
	fi

## --- checks -----------------------------------------------------------------------------
# package-check last: it builds both release packages (`make dist`) and checks them as an
# installer would, the packaged desktop binary through WebDriver.
test: deps fmt ui clippy check-bindings sqlx-check rust-test sync-test ui-check webdriver package-check
	@echo "make test: every check passed"

fmt:
	cargo fmt --all --check

clippy: ui
	cargo clippy --workspace --all-targets --features rapport-desktop/custom-protocol -- -D warnings

bindings:
	cargo run -q -p rapport-desktop --bin rapport-bindings -- ui/src/bindings.ts

check-bindings:
	cargo run -q -p rapport-desktop --bin rapport-bindings -- --check ui/src/bindings.ts

# The server's compile-time checked queries (`sqlx::query!`) build from the offline data in
# crates/server/.sqlx (SQLX_OFFLINE=true in .cargo/config.toml). `make sqlx-prepare` rewrites
# it after a query or a migration changed; `make sqlx-check` fails when the committed data no
# longer matches the queries and the schema of migrations/server. Both describe the queries
# against this throw-away database, dropped and migrated afresh each time.
SQLX_PREPARE_DATABASE_URL ?= postgres://postgres:postgres@127.0.0.1:5432/rapport_sqlx_prepare

sqlx-db: postgres deps-sqlx
	sqlx database reset -y -f --source migrations/server --database-url "$(SQLX_PREPARE_DATABASE_URL)"

sqlx-prepare: sqlx-db
	cd crates/server && DATABASE_URL="$(SQLX_PREPARE_DATABASE_URL)" cargo sqlx prepare -- --all-targets

sqlx-check: sqlx-db
	cd crates/server && DATABASE_URL="$(SQLX_PREPARE_DATABASE_URL)" cargo sqlx prepare --check -- --all-targets

rust-test: postgres
	cargo test --workspace --exclude rapport-tests

# Sync against the real server (in-process, fresh PostgreSQL databases on DATABASE_URL) with
# real clients: conflicts, the cache invariant, the fault proxy, the convergence property
# test (SYNC_PROPTEST_CASES, default 200; `SYNC_PROPTEST_CASES=1000 make sync-test` is the
# nightly-size run), SIGKILL mid-pull and mid-push.
sync-test: postgres
	cargo test -p rapport-tests --test sync

ui-check: deps-node
	npm --prefix ui run check
	npm --prefix ui test

# Inside a private D-Bus session with a test GNOME Keyring (scripts/with-keyring.sh), so the
# sign-in test finds the token in a real Secret Service; the sync tests need PostgreSQL.
# One real window at a time on this machine: two runs of `xvfb-run -a` side by side were seen
# to fail the app's GTK start; a second run (another checkout's make test) waits on the lock.
WEBDRIVER_LOCK ?= /tmp/rapport-webdriver.lock
webdriver: app deps-driver postgres
	RAPPORT_APP_BIN="$(APP_BIN)" flock $(WEBDRIVER_LOCK) dbus-run-session -- scripts/with-keyring.sh \
	  xvfb-run -a -s "-screen 0 1280x800x24" \
	  cargo test -p rapport-tests --test webdriver -- --test-threads=1

# Benches print their figures and the machine they ran on (docs/BENCHMARKS.md).
BENCH_DATA_DIR ?= $(CARGO_TARGET_DIR)/bench/large

bench:
	cargo run --release -p rapport-client --bin rapport-bench

# Launch to first paint (`bench-launch`) and idle memory (`bench-memory`) of the release app
# on the demo and on 10k accounts, interleaved with the empty Tauri app of tests/empty-app
# (the baseline, built here with the same tauri), in a D-Bus session as on a desktop (Rapport
# registers its single instance there). The workspaces live in LAUNCH_BENCH_DIR.
LAUNCH_BENCH_DIR ?= $(CARGO_TARGET_DIR)/bench
LAUNCH_RUNS ?= 20
MEMORY_RUNS ?= 5
LAUNCH_BENCH := RAPPORT_APP_BIN="$(CARGO_TARGET_DIR)/release/rapport-desktop" \
	RAPPORT_EMPTY_APP_BIN="$(CARGO_TARGET_DIR)/release/rapport-empty-app" \
	flock $(WEBDRIVER_LOCK) dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" \
	"$(CARGO_TARGET_DIR)/debug/launch-bench" --data-dir "$(LAUNCH_BENCH_DIR)"

launch-bench-build: deps ui
	cargo build --release -p rapport-desktop -p rapport-empty-app
	cargo build -p rapport-tests --bin launch-bench

bench-launch: launch-bench-build
	$(LAUNCH_BENCH) --runs $(LAUNCH_RUNS)

bench-memory: launch-bench-build
	$(LAUNCH_BENCH) --memory --runs $(MEMORY_RUNS)

# Pulls: this build against the service of an earlier commit (BENCH_BASELINE, built once in a
# git worktree under the target dir) and against pgbench running the pull's own SQL,
# interleaved; then the pull table, edit delay and hardening run (BENCH_SERVER_RUNS=load for
# those alone, =compare for the comparison alone).
BENCH_BASELINE ?= f64abff
BENCH_SERVER_RUNS ?= compare,load
bench-server: postgres
	cargo run --release -p rapport-server --bin rapport-server-bench -- --database-url "$(DATABASE_URL)" \
	  --baseline "$(BENCH_BASELINE)" --runs "$(BENCH_SERVER_RUNS)"

# Initial sync of 100,000 records (the bulk path, and with --ordinary the ordinary apply)
# interleaved with its baselines in the same run: a prepared insert of the same rows in one
# transaction into a plain SQLite table, into the cache's table with its indexes, and with
# its FTS triggers; the pull alone; the machine and load average; then the edit delay A->B.
SYNC_BENCH_ARGS ?= --records 100000 --rounds 3 --ordinary
bench-sync: postgres
	DATABASE_URL="$(DATABASE_URL)" cargo run --release -p rapport-tests --bin sync-bench -- $(SYNC_BENCH_ARGS)

# Intake: emails/s from a real Dovecot (started by the bench), signed chat calls/s, and the
# chat-to-desktop delay p50/p95.
bench-intake: deps-apt postgres
	DATABASE_URL="$(DATABASE_URL)" cargo run --release -p rapport-tests --bin intake-bench

# On call: pages/s the watcher sends with 10,000 open requests (500 of them P1) to a webhook
# receiver on loopback, its tick with nothing due, and the intake-to-page delay.
bench-oncall: postgres
	cargo run --release -p rapport-server --bin rapport-oncall-bench -- --database-url "$(DATABASE_URL)"

## --- the central service ----------------------------------------------------------------
# Runs rapport-server on $(SERVER_LISTEN) against the `rapport` database (created if missing).
server: postgres
	@psql "$(DATABASE_URL)" -tAc "SELECT 1 FROM pg_database WHERE datname = 'rapport'" | grep -q 1 || \
	  psql "$(DATABASE_URL)" -qc "CREATE DATABASE rapport"
	DATABASE_URL="$(SERVER_DATABASE_URL)" cargo run -p rapport-server -- serve --listen $(SERVER_LISTEN)

## --- packages ---------------------------------------------------------------------------
# `make dist` builds dist/rapport_<version>_<arch>.deb (the desktop app, by Tauri's bundler)
# and dist/rapport-server_<version>_<arch>.deb (the service, by scripts/build-server-deb.sh
# with dpkg-deb), with dist/SHA256SUMS. Release builds, stripped: the release profile keeps
# its symbols for `make bench`, so stripping is asked for here only.
VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' Cargo.toml | head -n 1)
DEB_ARCH := $(shell dpkg --print-architecture)
DIST_DIR := $(CURDIR)/dist
# Tauri's bundler is its CLI from npm, pinned exactly in packaging/desktop/package-lock.json:
# `npm ci` installs it in seconds, where `cargo install tauri-cli` compiles for ~9 minutes.
TAURI_CLI := $(CURDIR)/packaging/desktop/node_modules/.bin/tauri
PACKAGE_UNPACK := $(CARGO_TARGET_DIR)/package-check

deps-bundler: packaging/desktop/node_modules/.package-lock.json

packaging/desktop/node_modules/.package-lock.json: packaging/desktop/package-lock.json packaging/desktop/package.json
	npm --prefix packaging/desktop ci --no-audit --no-fund
	@touch $@

# Both release binaries come from one cargo invocation, so the dependencies they share are
# compiled once; Tauri's bundler then packages the binary already built (`tauri bundle`).
dist: deps-apt ui deps-bundler
	CARGO_PROFILE_RELEASE_STRIP=symbols cargo build --release -p rapport-desktop -p rapport-server \
	  --bin rapport-desktop --bin rapport-server --features rapport-desktop/custom-protocol
	cd src-tauri && "$(TAURI_CLI)" bundle --ci --bundles deb
	rm -rf "$(DIST_DIR)" && mkdir -p "$(DIST_DIR)"
	cp "$(CARGO_TARGET_DIR)/release/bundle/deb/Rapport_$(VERSION)_$(DEB_ARCH).deb" \
	  "$(DIST_DIR)/rapport_$(VERSION)_$(DEB_ARCH).deb"
	scripts/build-server-deb.sh "$(CARGO_TARGET_DIR)/release/rapport-server" "$(VERSION)" "$(DIST_DIR)"
	cd "$(DIST_DIR)" && sha256sum *.deb > SHA256SUMS
	@echo "package sizes:"; cd "$(DIST_DIR)" && for f in *.deb; do \
	  printf '  %-36s %6d KiB (installed %s KiB)\n' "$$f" $$(( $$(stat -c %s "$$f") / 1024 )) \
	    "$$(dpkg-deb --field "$$f" Installed-Size)"; done

# Checks both packages as an installer would (scripts/package-check.sh), then drives the
# desktop binary unpacked from its package through WebDriver (tests/webdriver/package_smoke.rs).
package-check: dist deps-driver postgres
	scripts/package-check.sh "$(DIST_DIR)" "$(PACKAGE_UNPACK)"
	RAPPORT_APP_BIN="$(PACKAGE_UNPACK)/desktop/usr/bin/rapport-desktop" \
	  dbus-run-session -- scripts/with-keyring.sh \
	  xvfb-run -a -s "-screen 0 1280x800x24" \
	  cargo test -p rapport-tests --test webdriver package_smoke -- --test-threads=1
