"""The bundled example submissions: the reference as a perfect student, and one typical mistake."""

from __future__ import annotations

from pathlib import Path

from gankit.catalogue import load_catalogue
from grader.authoring.make_template import PROJECT_DIR, REFERENCE_DIR
from grader.authoring.pack import write_zip

EXAMPLES_DIR = PROJECT_DIR / "examples"
# The typical mistake: cdcgan's generator minimises the saturating log(1 − D(G(z))) (= −BCE against 0)
# where the non-saturating −log D(G(z)) is asked. Values look plausible; the gradient vanishes early on.
MISTAKE_FILE = "cdcgan.py"
MISTAKE = (
    "    return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))\n",
    "    return -F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits))\n",
)


def reference_submission() -> dict[str, bytes]:
    """Every task's reference file under its student file name."""
    return {task.student_file: (REFERENCE_DIR / task.student_file).read_bytes() for task in load_catalogue().values()}


def build_examples(out: Path = EXAMPLES_DIR) -> list[Path]:
    """Write perfect.zip and saturating_generator_loss.zip into `out`."""
    perfect = reference_submission()
    source = perfect[MISTAKE_FILE].decode()
    if source.count(MISTAKE[0]) != 1:
        raise ValueError(f"reference/{MISTAKE_FILE} changed: the line the mistake example edits is not there once")
    mistaken = {**perfect, MISTAKE_FILE: source.replace(MISTAKE[0], MISTAKE[1]).encode()}
    paths = [out / "perfect.zip", out / "saturating_generator_loss.zip"]
    for path, files in zip(paths, (perfect, mistaken), strict=True):
        write_zip(files, path)
    return paths
