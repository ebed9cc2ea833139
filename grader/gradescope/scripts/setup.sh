#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu 22.04 by default); the bundle
# is unpacked in $ROOT/source. It installs:
#   1. Python 3.11 or newer (Ubuntu 22.04's own python3 is 3.10), bubblewrap, and the worker's user
#   2. a virtual environment at $VENV, readable by every user (the worker runs its Python under its own uid),
#      with the CPU builds of torch and torchvision and the pinned requirements the bundle lists
#   3. the grader's wheel into $SOURCE/lib, with the task catalogue beside it, root-only (the worker's uid
#      must not read the grader, its hidden check parameters or its settings)
#   4. checks: the grader loads its catalogue, finds the bundled data, and picks a sandbox
# `setup.sh --dry-run` (or GAN_SETUP_DRY=1) installs nothing system-wide: it checks steps 1-2 (and says what it
# would install), then does steps 3-4, which touch only $SOURCE. ROOT comes from $AUTOGRADER_ROOT (default
# /autograder); $GAN_PYTHON names an existing interpreter to use instead of $VENV's.
set -euo pipefail
ROOT=${AUTOGRADER_ROOT:-/autograder}
SOURCE="$ROOT/source"
VENV=${GAN_VENV:-/opt/gan-grader/venv}
PYTHON=${GAN_PYTHON:-$VENV/bin/python}
WORKER_USER=gan-worker
WORKER_UID=61000  # the first of the grader's worker uids (grader/sandbox.py FIRST_WORKER_UID)
DRY=${GAN_SETUP_DRY:-0}
[ "${1:-}" = "--dry-run" ] && DRY=1
say() { printf '[setup] %s\n' "$*"; }
fail() { printf '[setup] FAILED: %s\n' "$*" >&2; exit 1; }
run() { if [ "$DRY" = 1 ]; then say "would run: $*"; else "$@"; fi; }
cd "$SOURCE"

# --- 1. system: Python 3.11+, bubblewrap, the worker's user -------------------------------------------------
base=""
for candidate in python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    base=$(command -v "$candidate"); break
  fi
done
if [ -z "$base" ] || ! command -v bwrap >/dev/null; then
  run apt-get update -qq
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3.11 python3.11-venv bubblewrap
  base=${base:-/usr/bin/python3.11}
fi
if id "$WORKER_USER" >/dev/null 2>&1; then
  say "worker user $WORKER_USER exists"
else
  run useradd --system --no-create-home --uid "$WORKER_UID" --shell /usr/sbin/nologin "$WORKER_USER"
fi

# --- 2. the virtual environment: CPU torch and torchvision, the pinned requirements --------------------------
if [ -z "${GAN_PYTHON:-}" ] && [ ! -x "$PYTHON" ]; then
  run "$base" -m venv "$VENV"
fi
torch_pins=$(grep -E '^(torch|torchvision)==' requirements.txt | tr '\n' ' ')
if [ "$DRY" = 1 ]; then
  [ -x "$PYTHON" ] || fail "no Python at $PYTHON (set GAN_PYTHON to an interpreter with the requirements)"
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || fail "$PYTHON is older than 3.11"
  "$PYTHON" - requirements.txt <<'PY' || fail "$PYTHON lacks a requirement the grader imports"
import importlib.metadata
import sys

absent = False
for line in open(sys.argv[1]):
    name, _, version = line.strip().partition("==")
    try:
        found = importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        found, absent = "nothing", True
    if found.split("+")[0] != version:
        print(f"[setup] would install {name}=={version} (this Python has {found})")
sys.exit(1 if absent else 0)
PY
  say "would install the CPU builds: $torch_pins from https://download.pytorch.org/whl/cpu"
else
  # shellcheck disable=SC2086  # the pins are separate words on purpose
  "$PYTHON" -m pip install --quiet --disable-pip-version-check --index-url https://download.pytorch.org/whl/cpu $torch_pins
  "$PYTHON" -m pip install --quiet --disable-pip-version-check -r requirements.txt
  chmod -R a+rX "$VENV"
fi

# --- 3. the grader, root-only, with its task catalogue ------------------------------------------------------
rm -rf lib
"$PYTHON" -m pip install --quiet --disable-pip-version-check --no-deps --no-index --target lib wheels/*.whl
cp -r tasks lib/tasks  # gankit finds the catalogue beside itself
chmod -R go-rwx "$SOURCE"
say "grader installed in $SOURCE/lib (root-only)"

# --- 4. checks -----------------------------------------------------------------------------------------------
export PYTHONPATH="$SOURCE/lib" GAN_DATA_DIR="$SOURCE/data" GAN_GRADER_CACHE="$SOURCE/cache" GAN_DATA_DOWNLOAD=0
"$PYTHON" - <<'PY' || fail "the grader cannot run here (see above)"
import json
from gankit.catalogue import load_catalogue
from gankit.data import DATASETS, locate
from grader.sandbox import SandboxUnavailable, bubblewrap_problem, choose_sandbox

config = json.load(open("gradescope.json"))
catalogue = load_catalogue()
for dataset in sorted({catalogue[task].dataset for task in config["tasks"]} & set(DATASETS)):
    print(f"[setup] {dataset}: {locate(dataset).description}")
try:
    print(f"[setup] sandbox: {choose_sandbox()} (bubblewrap: {bubblewrap_problem() or 'works'})")
except SandboxUnavailable as error:
    raise SystemExit(f"[setup] {error}")
print(f"[setup] ready: tasks {', '.join(config['tasks'])}; {config['plan']}")
PY
