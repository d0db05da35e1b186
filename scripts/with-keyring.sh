#!/usr/bin/env bash
# Runs a command with a private GNOME Keyring (Secret Service) on the current D-Bus session
# bus: call it inside `dbus-run-session`. The keyring's files live in a temp folder that is
# removed afterwards, so tests never touch the user's own keyring.
#   dbus-run-session -- scripts/with-keyring.sh <command...>
set -euo pipefail
tmp=$(mktemp -d)
trap 'kill "${GNOME_KEYRING_PID:-}" 2>/dev/null || true; rm -rf "$tmp"' EXIT
mkdir -m 0700 "$tmp/runtime"
export XDG_RUNTIME_DIR="$tmp/runtime"
# The daemon keeps its keyring files under its own XDG_DATA_HOME: a temp one.
# A non-empty password: an empty one leaves the collection unusable.
eval "$(echo -n 'rapport-test-keyring' | XDG_DATA_HOME="$tmp/data" \
  gnome-keyring-daemon --unlock --components=secrets)"
export GNOME_KEYRING_CONTROL GNOME_KEYRING_PID 2>/dev/null || true
"$@"
