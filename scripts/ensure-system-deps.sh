#!/usr/bin/env bash
# Installs what the tests need that npm cannot bring: redis-server and
# redis-cli (real Redis processes, standalone and Cluster) and Chromium (the
# verification-page tests drive it with playwright-core), and what the polyglot
# test generates a Python gRPC client with (protoc, the well-known .proto files,
# grpc_python_plugin, Debian's python3 with grpcio and protobuf), and tmux (the
# `handoff login` tests drive the command in a real pseudo-terminal). Debian
# packages only, and only when missing. Playwright never downloads a browser here.
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v redis-cli >/dev/null 2>&1 || missing+=(redis-tools)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v tmux >/dev/null 2>&1 || missing+=(tmux)
command -v protoc >/dev/null 2>&1 || missing+=(protobuf-compiler)
[[ -f /usr/include/google/protobuf/timestamp.proto ]] || missing+=(libprotobuf-dev)
command -v grpc_python_plugin >/dev/null 2>&1 || missing+=(protobuf-compiler-grpc)
/usr/bin/python3 -c "import grpc" >/dev/null 2>&1 || missing+=(python3-grpcio)
/usr/bin/python3 -c "import google.protobuf" >/dev/null 2>&1 || missing+=(python3-protobuf)
((${#missing[@]} == 0)) && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "missing system packages: ${missing[*]}" >&2
  echo "install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
echo "installing ${missing[*]} from Debian's packages" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
