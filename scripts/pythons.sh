#!/usr/bin/env bash
# Prints "MINOR PATH" for every CPython on this machine that Ember supports and tests against.
ROOT=$(cd "$(dirname "$0")/.." && pwd)
# pyenv's interpreters, found through pyenv or, without it on PATH, its usual root.
PYENV_DIR=$(pyenv root 2>/dev/null || echo "${PYENV_ROOT:-$HOME/.pyenv}")
if [ -d "$PYENV_DIR/versions" ]; then
  for v in "$PYENV_DIR"/versions/3.*; do
    p="$v/bin/python3"; m=$(basename "$v" | cut -d. -f1,2)
    case "$m" in 3.8|3.9|3.10|3.11|3.12|3.13) [ -x "$p" ] && echo "$m $p";; esac
  done
fi
[ -x /usr/bin/python3.11 ] && echo "3.11-debian /usr/bin/python3.11"
for m in 3.14 3.15; do
  p="$ROOT/.tools/sid-pythons/bin/python$m"; [ -x "$p" ] && echo "$m $p"
done
exit 0
