#!/usr/bin/env bash
# The GPU path measured on one GPU (issue 19), every figure printed, in about 8 minutes on an H100/H200:
#   1. grade examples/perfect.zip --device cuda, training included, through bubblewrap with the NVIDIA device
#      nodes bound: its score, its isolation and the time per phase;
#   2. the reference at [budgets.cuda] over 3 seeds for cdcgan and cwgan_gp, the label-ignoring and the
#      mode-collapsed variants once each: the figures and their margins to the tasks' [quality] thresholds;
#   3. throughput: K = 1, 2, 4, 8 grades at once on the one GPU (--jobs-per-gpu K), submissions per minute;
#   4. the data path: the training loop on data resident on the GPU against a DataLoader loop, steps per second.
# --dry-run runs the same steps on the CPU with tiny budgets (CI runs it: tests/bench/test_gpu_check.py).
#   bash bench/gpu_check.sh            # on the GPU machine, after `bash setup.sh`
#   bash bench/gpu_check.sh --dry-run  # anywhere
set -euo pipefail
cd "$(dirname "$0")/.."
DRY=0
case "${1:-}" in
  --dry-run) DRY=1 ;;
  "") ;;
  *) echo "usage: bash bench/gpu_check.sh [--dry-run]" >&2; exit 2 ;;
esac
say() { printf '\n=== %s\n' "$*"; }

if [ "$DRY" = 1 ]; then
  DEVICE=cpu
  GRADE_ONE=(--no-train --tasks optimal_d)
  CALIBRATE=(--tasks cdcgan --seeds 1 --broken-seeds 1 --variants reference --steps 3 --jobs 1)
  THROUGHPUT=(--no-train --tasks optimal_d)
  KS=(2)
  DATA_PATH=(--steps 5 --batch-size 16)
else
  DEVICE=cuda
  GRADE_ONE=()
  CALIBRATE=(--tasks cdcgan,cwgan_gp --seeds 3 --broken-seeds 1 --variants "reference,labels ignored,mode collapse" --jobs 4)
  THROUGHPUT=(--tasks cdcgan)
  KS=(1 2 4 8)
  DATA_PATH=()
fi

say "the machine"
python3 -c "import torch; from gankit.device import describe_device, resolve_device; print('torch', torch.__version__, 'on', describe_device(resolve_device('$DEVICE')))"
if [ "$DRY" = 0 ]; then nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv; fi

say "1. one grade of examples/perfect.zip on $DEVICE (sandboxed)"
python3 bench/batch_speed.py examples/perfect.zip --copies 1 --no-alone "${GRADE_ONE[@]}" --grade-args "--device $DEVICE"

say "2. the reference and two broken variants at the $DEVICE budget"
python3 bench/calibrate.py --device "$DEVICE" "${CALIBRATE[@]}"

say "3. throughput: K grades at once on one device"
for k in "${KS[@]}"; do
  python3 bench/batch_speed.py examples/perfect.zip --copies "$k" --jobs "$k" --no-alone "${THROUGHPUT[@]}" --grade-args "--device $DEVICE --jobs-per-gpu $k"
done

say "4. the data path"
python3 bench/data_path.py --device "$DEVICE" "${DATA_PATH[@]}"
say "done"
