# Shell helpers shared by scripts/test, scripts/bench and scripts/fuzz;
# source it from the repository root.

step() { printf '\n==> %s\n' "$*"; }

# Installs Debian packages when a command is missing (needs root or sudo).
ensure_command() {
  local command=$1; shift
  command -v "$command" >/dev/null 2>&1 && return 0
  step "installing $* (for $command)"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@"
}

# Debian installs nats-server and nginx in /usr/sbin, which a non-root PATH
# may lack; the tests and the benchmark look there too.
sbin_command() { command -v "$1" 2>/dev/null || { [ -x "/usr/sbin/$1" ] && echo "/usr/sbin/$1"; }; }
