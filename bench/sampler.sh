#!/usr/bin/env bash
# Sampler benchmark (see bench/sampler.py). Builds Ember, installs py-spy and CPython 3.15 if
# missing (scripts/setup.sh), then prints the side-by-side figures.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
exec .tools/venv/bin/python bench/sampler.py "$@"
