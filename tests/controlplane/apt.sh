# Sourced by deps.sh and deps-node.sh: installs the Debian packages given that are not yet
# installed, and says which were already there. Needs a `say` function in the caller.
apt_ensure() {
  local p missing=() sudo=() log
  for p in "$@"; do
    if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" != installed ]]; then
      missing+=("$p")
    fi
  done
  if ((${#missing[@]} == 0)); then
    say "apt packages present ($*)"
    return 0
  fi
  say "installing apt packages: ${missing[*]}"
  ((EUID == 0)) || sudo=(sudo)
  # apt's chatter goes to a log that is shown only if the install fails.
  log="$(mktemp)"
  if ! { "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q &&
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
      apt-get install -y -q --no-install-recommends "${missing[@]}"; } >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    rm -f "$log"
    echo "apt-get failed" >&2
    return 1
  fi
  rm -f "$log"
}
