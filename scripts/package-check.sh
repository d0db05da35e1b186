#!/usr/bin/env bash
# Checks the packages `make dist` built, as an installer would (`make package-check`):
#  - dpkg-deb --info/--contents of both: binaries, unit, config, desktop entry, icons in place;
#    the declared dependencies; the desktop package at most 15 MB;
#  - apt-get install --simulate of each .deb resolves its dependencies on this system;
#  - the systemd unit passes `systemd-analyze verify` (its hardening score is printed);
#  - the server binary unpacked from its package: check-config accepts the packaged config
#    and refuses bad files naming the key; `migrate` builds a fresh database; `serve
#    --config` starts on another fresh database and answers /readyz.
# The desktop binary unpacked from its package is driven through WebDriver by the Makefile
# (tests/webdriver/package_smoke.rs). Needs PostgreSQL on DATABASE_URL.
#   scripts/package-check.sh <dist folder> <folder to unpack into>
set -euo pipefail
dist=$(cd "$1" && pwd)
unpack=$2
: "${DATABASE_URL:?set DATABASE_URL to a PostgreSQL that may create databases}"
here=$(cd "$(dirname "$0")/.." && pwd)

fail() { echo "package-check: FAILED: $*" >&2; exit 1; }
ok() { echo "package-check: ok: $*"; }
one() { # the single file matching a glob
  local f; f=$(compgen -G "$1") || fail "no $1"
  [ "$(wc -l <<<"$f")" = 1 ] || fail "more than one $1: $f"
  echo "$f"
}
has() { # has <listing> <path> <what>
  grep -qE "[[:space:]](\\./|)${2#/}\$" <<<"$1" || fail "$3: no $2 in the package"
}

desktop_deb=$(one "$dist/rapport_*.deb")
server_deb=$(one "$dist/rapport-server_*.deb")
(cd "$dist" && sha256sum --check --quiet SHA256SUMS) || fail "SHA256SUMS does not match"
ok "SHA256SUMS matches both packages"

## --- the desktop package -------------------------------------------------------------------
info=$(dpkg-deb --info "$desktop_deb")
echo "$info" | sed -n '/Package:/,$p'
field() { dpkg-deb --field "$1" "$2"; }
[ "$(field "$desktop_deb" Package)" = rapport ] || fail "the desktop package is not named rapport"
depends=$(field "$desktop_deb" Depends)
for dep in libwebkit2gtk-4.1-0 libgtk-3-0 'default-dbus-session-bus | dbus-session-bus' \
  'gnome-keyring | libkf5wallet-bin'; do
  grep -qF "$dep" <<<"$depends" || fail "the desktop package does not depend on $dep: $depends"
done
contents=$(dpkg-deb --contents "$desktop_deb")
has "$contents" /usr/bin/rapport-desktop "desktop"
bins=$(grep -oE '[[:space:]](\./|)usr/bin/[^ ]+$' <<<"$contents" | sed -E 's#^[[:space:]](\./|)usr/bin/##' | sort | tr '\n' ' ')
[ "$bins" = "rapport-desktop " ] || fail "the desktop package ships other programs in /usr/bin: $bins"
has "$contents" /usr/share/applications/Rapport.desktop "desktop"
for size in 32x32 128x128 256x256@2; do
  has "$contents" "/usr/share/icons/hicolor/$size/apps/rapport-desktop.png" "desktop icon $size"
done
bytes=$(stat -c %s "$desktop_deb")
[ "$bytes" -le $((15 * 1024 * 1024)) ] || fail "the desktop package is $bytes bytes, over 15 MB"
ok "desktop package: $(basename "$desktop_deb") $((bytes / 1024)) KiB, binary, entry and icons in place"

rm -rf "$unpack" && mkdir -p "$unpack/desktop" "$unpack/server"
dpkg-deb -x "$desktop_deb" "$unpack/desktop"
entry="$unpack/desktop/usr/share/applications/Rapport.desktop"
grep -qx 'Name=Rapport' "$entry" || fail "the desktop entry is not named Rapport"
grep -qx 'Exec=rapport-desktop' "$entry" || fail "the desktop entry does not start rapport-desktop"
grep -qx 'Icon=rapport-desktop' "$entry" || fail "the desktop entry has no icon"
grep -q '^MimeType=' "$entry" && fail "the desktop entry claims MIME types"
if command -v desktop-file-validate >/dev/null; then desktop-file-validate "$entry"; fi
file -b "$unpack/desktop/usr/bin/rapport-desktop" | grep -q ', stripped' ||
  fail "the desktop binary is not stripped"
ok "desktop entry: Name, Exec, Icon, no MIME types; binary stripped"

## --- the service package -------------------------------------------------------------------
dpkg-deb --info "$server_deb" | sed -n '/Package:/,$p'
[ "$(field "$server_deb" Package)" = rapport-server ] || fail "the service package is misnamed"
field "$server_deb" Depends | grep -q 'libc6' || fail "the service package does not declare libc6"
field "$server_deb" Depends | grep -q 'adduser' || fail "postinst needs adduser"
contents=$(dpkg-deb --contents "$server_deb")
has "$contents" /usr/bin/rapport-server "service"
has "$contents" /lib/systemd/system/rapport-server.service "service"
has "$contents" /etc/rapport/server.toml "service"
grep -qE '^-rw-r--r-- root/root .* \./etc/rapport/server\.toml$' <<<"$contents" ||
  fail "server.toml is not root-owned 0644"
dpkg-deb --ctrl-tarfile "$server_deb" | tar -xO ./conffiles | grep -qx /etc/rapport/server.toml ||
  fail "server.toml is not a conffile (an upgrade would overwrite the admin's edits)"
dpkg-deb -x "$server_deb" "$unpack/server"
dpkg-deb -e "$server_deb" "$unpack/server/DEBIAN"
sh -n "$unpack/server/DEBIAN/postinst" && grep -q 'adduser --system' "$unpack/server/DEBIAN/postinst" ||
  fail "postinst does not create the service's user"
unit="$unpack/server/lib/systemd/system/rapport-server.service"
for line in User=rapport NoNewPrivileges=yes ProtectSystem=strict StateDirectory=rapport \
  'EnvironmentFile=-/etc/rapport/server.env' \
  'ExecStart=/usr/bin/rapport-server --config /etc/rapport/server.toml serve'; do
  grep -qxF "$line" "$unit" || fail "the unit lacks $line"
done
ok "service package: binary, unit, config (conffile, 0644), maintainer scripts in place"

if command -v systemd-analyze >/dev/null; then
  # verify checks ExecStart's binary exists: point a copy at the unpacked one. It only warns
  # about an unknown key (exit 0), so any word from it fails the check.
  mkdir -p "$unpack/verify"
  sed "s#^ExecStart=/usr/bin/#ExecStart=$unpack/server/usr/bin/#" "$unit" \
    >"$unpack/verify/rapport-server.service"
  out=$(systemd-analyze verify --man=no "$unpack/verify/rapport-server.service" 2>&1) ||
    fail "systemd-analyze verify refuses the unit: $out"
  [ -z "$out" ] || fail "systemd-analyze verify warns about the unit: $out"
  ok "the unit passes systemd-analyze verify; $(systemd-analyze security --offline=true \
    --root="$unpack/server" /lib/systemd/system/rapport-server.service | tail -1 | sed 's/^→ //')"
fi

## --- as apt would install them -------------------------------------------------------------
for deb in "$desktop_deb" "$server_deb"; do
  out=$(apt-get install --simulate --no-install-recommends "$deb" 2>&1) ||
    fail "apt-get cannot install $(basename "$deb"): $out"
  pkg=$(field "$deb" Package)
  grep -q "^Inst $pkg " <<<"$out" || fail "apt-get would not install $pkg: $out"
  ok "apt-get install --simulate $(basename "$deb"): $(grep -c '^Inst ' <<<"$out") packages to install"
done

## --- the unpacked service binary -----------------------------------------------------------
server="$unpack/server/usr/bin/rapport-server"
# Errors as an admin sees them (no backtraces); the database only from the files below.
unset RUST_BACKTRACE RUST_LIB_BACKTRACE
tmp=$(mktemp -d)
pid=""
dbs=()
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  for db in "${dbs[@]}"; do psql "$DATABASE_URL" -qc "DROP DATABASE IF EXISTS $db" || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fresh_db() {
  local db="rapport_pkg_$$_$1"
  psql "$DATABASE_URL" -qc "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
  dbs+=("$db")
  echo "$db"
}
db_url() { sed -E "s#/[^/?]*(\\?.*)?\$#/$1\\1#" <<<"$DATABASE_URL"; }

env -u DATABASE_URL "$server" --config "$unpack/server/etc/rapport/server.toml" check-config ||
  fail "check-config refuses the packaged server.toml"
ok "check-config accepts the packaged /etc/rapport/server.toml"

# Bad files: refused, exit status non-zero, the message names the key.
refuses() { # refuses <key> <file contents> [mode]
  local f="$tmp/bad.toml"
  printf '%b' "$2" >"$f"
  chmod "${3:-0644}" "$f"
  local out
  if out=$(env -u DATABASE_URL "$server" --config "$f" check-config 2>&1); then
    fail "check-config accepted a bad file ($1): $out"
  fi
  grep -qF "$1" <<<"$out" || fail "check-config's error does not name $1: $out"
  ok "check-config refuses a bad $1: $(head -1 <<<"$out")"
}
refuses server.listen '[server]\nlisten = "localhost"\n'
refuses server.listn '[server]\nlistn = "127.0.0.1:8080"\n'
refuses database.max_connections '[database]\nmax_connections = 0\n'
refuses retention.tombstone_days '[retention]\ntombstone_days = "ninety"\n'
refuses database.url '[database]\nurl = "postgres://rapport:secret@db/rapport"\n' 0644
refuses database.url '[server]\nlisten = "127.0.0.1:8080"\n'

db=$(fresh_db migrate)
cat >"$tmp/migrate.toml" <<TOML
[database]
url = "$(db_url "$db")"
TOML
chmod 0600 "$tmp/migrate.toml"
env -u DATABASE_URL "$server" --config "$tmp/migrate.toml" migrate | tee "$tmp/migrate.out"
want=$(find "$here/migrations/server" -name '*.sql' | wc -l)
got=$(psql "$(db_url "$db")" -tAc 'SELECT count(*) FROM _sqlx_migrations WHERE success')
[ "$got" = "$want" ] || fail "migrate applied $got of $want migrations"
ok "migrate on a fresh database applied all $want migrations"

db=$(fresh_db serve)
cat >"$tmp/server.toml" <<TOML
[server]
listen = "127.0.0.1:0"
[database]
url = "$(db_url "$db")"
max_connections = 4
[retention]
tombstone_days = 30
TOML
chmod 0600 "$tmp/server.toml"
env -u DATABASE_URL "$server" --config "$tmp/server.toml" serve >"$tmp/serve.out" 2>"$tmp/serve.err" &
pid=$!
addr=""
for _ in $(seq 1 300); do # up to 30 s for the "listening on" line
  addr=$(sed -n 's#^rapport-server listening on \(http://.*\)$#\1#p' "$tmp/serve.out")
  [ -n "$addr" ] && break
  kill -0 "$pid" 2>/dev/null || fail "serve exited: $(cat "$tmp/serve.err")"
  sleep 0.1
done
[ -n "$addr" ] || fail "serve did not start within 30 s: $(cat "$tmp/serve.err")"
ready=$(curl -fsS "$addr/readyz") || fail "/readyz did not answer 200"
[ "$ready" = ready ] || fail "/readyz answered $ready"
kill -TERM "$pid"
wait "$pid" || fail "serve did not stop cleanly on SIGTERM"
pid=""
ok "serve --config on a fresh database answered /readyz at $addr and stopped on SIGTERM"
echo "package-check: every package check passed"
