#!/usr/bin/env bash
# Builds rapport-server's .deb from the release binary and packaging/server with dpkg-deb
# (on every Debian machine already: no packaging tool to install).
#   scripts/build-server-deb.sh <release binary> <version> <output folder>
# Depends: is computed from the binary's shared libraries by dpkg-shlibdeps.
set -euo pipefail
bin=$1 version=$2 out=$3
here=$(cd "$(dirname "$0")/.." && pwd)
src="$here/packaging/server"
arch=$(dpkg --print-architecture)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
root="$work/root"

install -D -m 0755 "$bin" "$root/usr/bin/rapport-server"
strip --strip-unneeded "$root/usr/bin/rapport-server"
install -D -m 0644 "$src/rapport-server.service" "$root/lib/systemd/system/rapport-server.service"
install -D -m 0644 "$src/server.toml" "$root/etc/rapport/server.toml"
# The secrets template; postinst copies it to /etc/rapport/server.env, mode 0640.
install -D -m 0644 "$src/server.env" "$root/usr/share/rapport-server/server.env"
install -D -m 0644 "$here/crates/server/README.md" "$root/usr/share/doc/rapport-server/README.md"
install -d -m 0755 "$root/DEBIAN"
for s in postinst prerm postrm; do install -m 0755 "$src/$s" "$root/DEBIAN/$s"; done
echo /etc/rapport/server.toml >"$root/DEBIAN/conffiles"

# dpkg-shlibdeps wants a debian/control beside it.
mkdir -p "$work/debian"
printf 'Source: rapport-server\n\nPackage: rapport-server\nArchitecture: any\n' \
  >"$work/debian/control"
shlibs=$(cd "$work" && dpkg-shlibdeps -O "root/usr/bin/rapport-server" 2>/dev/null |
  sed -n 's/^shlibs:Depends=//p')
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)

cat >"$root/DEBIAN/control" <<CONTROL
Package: rapport-server
Version: $version
Architecture: $arch
Maintainer: Rapport <rapport@localhost>
Section: net
Priority: optional
Installed-Size: $size
Depends: ${shlibs}, adduser
Recommends: postgresql
Description: Rapport central service
 The shared truth of a Rapport team: staff identity, teams and roles, and the
 sync API the Rapport desktop app pushes its changes to and pulls them from.
 Runs as a hardened systemd service (rapport-server.service) on PostgreSQL,
 configured in /etc/rapport/server.toml, its secrets in /etc/rapport/server.env.
CONTROL

mkdir -p "$out"
deb="$out/rapport-server_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
echo "$deb"
