"""The promises, per check kind: the clauses of the statements each kind's criteria verify, each with what
verifies it in that kind's module (`module_path`) and the requirement under which it runs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grader.authoring.promises.requirements import (
    ATTACK_SOURCES,
    Claim,
    Requirement,
    asks_labels_of_each_class,
    batches_of_different_sizes,
    checkpoint_named,
    conditional,
    d_updates,
    digits_for_mnist,
    equals,
    every,
    formulas_checked,
    generate_named,
    gradients_compared,
    has,
    interface_functions,
    layer,
    losses_on_domain,
    names_called,
    optimizer,
    plays,
    quality,
    scorer_named,
    sources_named,
    task_has,
    two_image_sizes,
)

ROOT = Path(__file__).resolve().parents[3]
# The module whose source holds what each kind's promises name; the others are grader/checks/<kind>.py, or the
# modules of the package grader/checks/<kind>/.
KIND_MODULES = {"manual": "grader/grade.py"}
DATASET_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}


def module_path(kind: str) -> str:
    """The kind's module, or the folder of its package when the kind is split by idea (grader/checks/interface/)."""
    if kind in KIND_MODULES:
        return KIND_MODULES[kind]
    package = f"grader/checks/{kind}"
    return package if (ROOT / package).is_dir() else f"{package}.py"


def module_files(kind: str) -> list[str]:
    """The files whose source holds what the kind's promises name: its module, or every module of its package."""
    path = module_path(kind)
    if (ROOT / path).is_dir():
        return sorted(str(file.relative_to(ROOT)) for file in (ROOT / path).glob("*.py"))
    return [path] if (ROOT / path).is_file() else []


@dataclass(frozen=True)
class Promise:
    """A clause of the statements that a check of `kind` verifies with `verified_by` (names in the kind's module:
    functions, nested criteria, constants; or a short piece of its source, such as a figure's key)."""

    kind: str
    pattern: str
    verified_by: str | tuple[str, ...]
    requires: Requirement | None = None

    @property
    def names(self) -> tuple[str, ...]:
        return (self.verified_by,) if isinstance(self.verified_by, str) else self.verified_by

    def regex(self, task: Mapping[str, Any]) -> re.Pattern[str]:
        dataset = str(task.get("dataset", ""))
        pattern = self.pattern.replace("{dataset}", re.escape(DATASET_NAMES.get(dataset, dataset)))
        return re.compile(pattern.replace("{size}", str(task.get("image_size", ""))), re.IGNORECASE)

    def keeps(self, text: str, check: Mapping[str, Any], task: Mapping[str, Any]) -> bool:
        """The check (a `[[checks]]` entry of `task`) keeps this promise for `text`."""
        if check.get("kind") != self.kind or not self.regex(task).fullmatch(text):
            return False
        return self.requires is None or self.requires(Claim(check.get("params") or {}, task, text))


# Pieces several patterns share.
SUBJECT = r"(?:the networks|both networks|G|D|`\w+`)"
SUBJECTS = rf"{SUBJECT}(?:(?:, | and ){SUBJECT})*"
ATTRIBUTE = r"(?:shapes|dtypes|types|ranges)"
ATTRIBUTES = rf"{ATTRIBUTE}(?:(?:, | and ){ATTRIBUTE})*"
RETURNS = rf"return the documented {ATTRIBUTES}"
RUNS = r"the grader runs your own `train_step` for the fixed number of steps under \*The training stage\* below"
SCORES = r"scores (?:samples of each class|the samples) with a frozen {dataset} classifier"
SOURCE = "(?:" + "|".join(ATTACK_SOURCES) + ")"

INTERFACE = [
    Promise(
        "interface",
        rf"(?:{SUBJECTS} )?(?:construct(?: with the documented arguments)?(?: and {RETURNS})?"
        rf"|(?:take one-hot labels and )?{RETURNS})",
        ("construct_failure", "check_generator", "check_scorer", "check_generate", "check_interpolate"),
        names_called,
    ),
    Promise("interface", r"the names exist", "interface", lambda c: has("networks")(c) or has("functions")(c)),
    Promise("interface", r"G uses transposed convolutions", "check_layers", layer("generator", "ConvTranspose2d")),
    Promise(
        "interface", r"the generator also takes soft labels", "soft", every(conditional, plays("networks", "generator"))
    ),
    Promise(
        "interface",
        r"the critic's scores are not squashed into \$\(0, 1\)\$",
        "not_squashed",
        plays("networks", "critic"),
    ),
    Promise(
        "interface",
        r"`generate` returns float32 `\(n, {size}, {size}\)` in \$\[0, 1\]\$",
        "check_generate",
        plays("functions", "generate"),
    ),
    Promise(
        "interface",
        r"`make_optimizers` returns Adam with the stated settings over each network's parameters",
        "check_make_optimizers",
        every(plays("functions", "optimizers"), optimizer("adam")),
    ),
    Promise(
        "interface",
        r"`steps \+ 2` images whose endpoints are \$G\(z_0, y_0\)\$ and \$G\(z_1, y_1\)\$",
        ("check_interpolate", "ends"),
        every(plays("functions", "interpolate"), has("endpoints")),
    ),
    # targeted_attack
    Promise(
        "interface", r"output shape, dtype and device", "check_targeted_attack", plays("functions", "targeted_attack")
    ),
    Promise(
        "interface",
        r"the \$L_\\infty\$ bound per sample and the \$\[-1, 1\]\$ range on inputs the grader chooses",
        ("within_ball", "within_range"),
        plays("functions", "targeted_attack"),
    ),
    Promise(
        "interface",
        r"including ones that start at the edge of the range",
        "check_targeted_attack",
        plays("functions", "targeted_attack"),
    ),
    Promise("interface", r"`x` and the model left unchanged", "untouched", plays("functions", "targeted_attack")),
    Promise(
        "interface", r"both forms of `target` accepted", "check_targeted_attack", plays("functions", "targeted_attack")
    ),
    # evaluation
    Promise(
        "interface",
        r"the classifier takes both image sizes and returns logits `\(B, 10\)`",
        "check_classifier",
        every(plays("networks", "classifier"), two_image_sizes),
    ),
    Promise(
        "interface",
        r"features, embedding and accuracy have the documented shapes and types",
        ("check_extract_features", "check_tsne_embedding", "check_generated_accuracy"),
        interface_functions("extract_features", "tsne_embedding", "generated_accuracy"),
    ),
    Promise("interface", r"features come from one fixed layer", "eval_mode", plays("functions", "extract_features")),
    Promise(
        "interface",
        r"independent of the image size",
        "check_extract_features",
        every(plays("functions", "extract_features"), two_image_sizes),
    ),
    Promise(
        "interface",
        r"the embedding is reproducible for a fixed seed",
        "replayable",
        every(plays("functions", "tsne_embedding"), has("deterministic")),
    ),
    Promise(
        "interface",
        r"compared with the value computed on generators whose class behaviour the grader knows",
        "check_generated_accuracy",
        every(plays("functions", "generated_accuracy"), has("generators")),
    ),
    # optimal_d
    Promise(
        "interface",
        r"the three names exist and return the documented types and shapes \(tensors, `optimal_value` a number\)",
        ("check_optimal_discriminator", "check_gan_value", "check_optimal_value"),
        plays("functions", "optimal_discriminator", "gan_value", "optimal_value"),
    ),
    Promise(
        "interface",
        r"`optimal_value` is compared with \$-\\log 4\$",
        "check_optimal_value",
        every(plays("functions", "optimal_value"), equals("value", "-log 4")),
    ),
]

LOSS_FORMULA = [
    Promise(
        "loss_formula",
        r"(?:both|each) (?:W )?loss(?:es)? (?:(?:is|are) compared with|against) the formulas? on (?:many )?random "
        r"(?:(?:logits|scores) and on extreme ones|and extreme (?:logits|scores))(?: \(±100\))?",
        ("_score", "DOMAINS"),
        losses_on_domain,
    ),
    Promise("loss_formula", r"(?:in )?value and (?:in )?gradient", 'WEIGHTS["gradients"]', gradients_compared),
    Promise(
        "loss_formula",
        r"`\w+` and `\w+` are compared with the formulas on density values and probabilities that the grader chooses",
        "_score",
        formulas_checked,
    ),
    Promise("loss_formula", r"including inputs of different sizes", "UNEQUAL_BATCHES", batches_of_different_sizes),
]

GRADIENT_PENALTY = [
    Promise(
        "gradient_penalty",
        r"exact values on critics whose input gradient is known in closed form",
        ("_linear_grads", "QUADRATIC_SCALE"),
    ),
    Promise("gradient_penalty", r"one (?:\$\\varepsilon\$|ε) per sample", "_eps_problem"),
    Promise("gradient_penalty", r"the norm over all non-batch dimensions", "WRONG_AXES"),
    Promise("gradient_penalty", r"labels passed to the critic", "labels_ok"),
    Promise("gradient_penalty", r"gradients that reach the critic's parameters", "_gradient_problem"),
]

OPTIMAL_D = [
    Promise("optimal_d", r"your functions are combined on known 1-D densities", "optimal_d", has("functions")),
    Promise(
        "optimal_d",
        r"a discriminator built with `optimal_discriminator` must give a value of \$V\$ that no other "
        r"discriminator beats",
        ("_competitors", "margins_ok"),
        plays("functions", "optimal_discriminator", "gan_value"),
    ),
    Promise(
        "optimal_d",
        r"when the two densities are equal that value must be \$-\\log 4\$",
        "EQUAL_WEIGHT",
        has("functions"),
    ),
    Promise(
        "trained_optimal_d",
        r"your `discriminator_loss` may also be used to fit a small discriminator on two known 1-D densities",
        "_fit",
        plays("function", "loss"),
    ),
    Promise(
        "trained_optimal_d",
        r"which must land near \$p_\{data\} / \(p_\{data\} \+ p_g\)\$",
        "_optimum_problem",
        has("function"),
    ),
]

TRAIN_STEP = [
    Promise("train_step", r"judged by what each update does", "_rebuild"),
    Promise(
        "train_step",
        r"with the task's own losses in place of yours \(a wrong loss costs only its loss check\)",
        "_substitutes",
        every(task_has("loss_formula")),
    ),
    Promise(
        "train_step",
        r"with the task's own losses and penalty in place of yours \(a wrong loss costs only its loss check\)",
        ("_substitutes", "PENALTY"),
        every(task_has("loss_formula"), task_has("gradient_penalty")),
    ),
    Promise(
        "train_step",
        r"with the task's own losses and clipping in place of yours \(a wrong loss costs only its loss check\)",
        "_substitutes",
        every(task_has("loss_formula"), task_has("clip_weights")),
    ),
    Promise("train_step", r"one (?:D|critic) update", "counts_ok", every(scorer_named, lambda c: d_updates(c) == 1)),
    Promise("train_step", r"`k` D updates", "counts_ok", every(scorer_named, lambda c: d_updates(c) > 1)),
    Promise(
        "train_step",
        r"`len\(real_batches\)` critic updates",
        "counts_ok",
        every(scorer_named, lambda c: d_updates(c) > 1),
    ),
    Promise("train_step", r"then one G update", ("counts_ok", "in_order")),
    Promise(
        "train_step",
        r"each (?:D|critic) update descends the (?:D|critic) loss",
        "_critic_update",
        scorer_named,
    ),
    Promise(
        "train_step",
        r"each critic update descends the critic loss with the gradient penalty added",
        ("_critic_update", "_penalised"),
        every(scorer_named, task_has("gradient_penalty")),
    ),
    Promise("train_step", r"the G update applies the gradient of G's loss alone", "_generator_update"),
    Promise(
        "train_step",
        r"descending it \(detach the fakes in the (?:D|critic) update, or zero G's gradients before G's backward\)",
        "_generator_update",
        scorer_named,
    ),
    Promise("train_step", r"both networks conditioned on the labels", "_labels_problem", conditional),
    Promise(
        "train_step",
        r"(?:D|the critic) is moved only by its own loss",
        "_critic_moved_only_by_its_loss",
        scorer_named,
    ),
    Promise("train_step", r"gradients zeroed before each backward", "stale"),
    Promise("train_step", r"the returned (?:keys|dict) present(?: and finite)?", "_result_problem"),
    Promise(
        "train_step",
        r"the `generator_loss` argument is the loss G descends",
        '"generator_losses"',
        every(has("generator_losses")),
    ),
    Promise(
        "train_step",
        r"every critic parameter in \[[−-]clip, clip\] after it",
        '"d_max"',
        every(has("clip")),
    ),
    Promise(
        "train_step",
        r"a fault in what an update moves, or in which direction, costs at least half of the check",
        "primary=True",
    ),
]

CLIP_WEIGHTS = [
    Promise(
        "clip_weights",
        r"after `clip_weights` and after `train_step` every critic parameter lies in \$\[-c, c\]\$",
        ("clip_weights", "out_of_range"),
        task_has("train_step", has("clip")),
    ),
    Promise("clip_weights", r"values already inside the interval are left alone", ("clip_weights", "clamp_ok")),
]

ATTACK = [
    Promise(
        "attack",
        r"the fraction of inputs that the frozen {dataset} classifier assigns to the target after your attack",
        "run_experiment",
    ),
    Promise("attack", rf"(?:for )?{SOURCE}(?: and {SOURCE})*", "SOURCES", sources_named),
    Promise("attack", r"at budgets \(`eps`, `steps`\) the grader chooses", "run_experiment", has("experiments")),
]

CLASSIFIER_TRAINING = [
    Promise(
        "classifier_training",
        r"your `\w+` trains a fresh `\w+` briefly on {dataset}",
        "classifier_training",
        names_called,
    ),
    Promise(
        "classifier_training",
        r"the result must reach a reasonable accuracy on held-out images",
        "ACCURACY_WEIGHT",
        has("threshold"),
    ),
]

TRAINING_QUALITY = [
    Promise(
        "training_quality",
        rf"{RUNS}(?: and {SCORES})?",
        ("budget", "sample_scores"),
        asks_labels_of_each_class,
    ),
    Promise("training_quality", rf"(?:then )?{SCORES}", "sample_scores", asks_labels_of_each_class),
    Promise(
        "training_quality",
        r"how often it recognises the requested class",
        '"conditional_accuracy"',
        every(conditional, quality("conditional_accuracy")),
    ),
    Promise(
        "training_quality",
        r"(?:the )?Fréchet distance to real (?:images|digits) in (?:its|the classifier's) feature space",
        '"fid_ratio"',
        every(quality("fid_ratio"), digits_for_mnist),
    ),
    Promise("training_quality", r"diversity", '"diversity"', quality("diversity")),
]

LOADS = r"the grader loads your `\w+\.pt` into your `\w+\(\)` built with its defaults"
DRAWS = r"scores (?:samples of each class|the samples) drawn through your `\w+` with a frozen {dataset} classifier"
TRAINED_MODEL = [
    Promise(
        "trained_model",
        rf"{LOADS} and {DRAWS}",
        ("trained_model", "samples", "sample_scores"),
        every(checkpoint_named, generate_named, asks_labels_of_each_class),
    ),
    Promise(
        "trained_model",
        r"against the thresholds under \*Your trained generator\* below",
        "quality_fraction",
        has("quality"),
    ),
    Promise("trained_model", r"a missing or unusable file costs this check only", "REFUSALS"),
]

MANUAL = [Promise("manual", r"graded by hand(?: with the rubric given there)?", "_manual_entry")]

PROMISES: tuple[Promise, ...] = (
    *INTERFACE,
    *LOSS_FORMULA,
    *GRADIENT_PENALTY,
    *OPTIMAL_D,
    *TRAIN_STEP,
    *CLIP_WEIGHTS,
    *ATTACK,
    *CLASSIFIER_TRAINING,
    *TRAINING_QUALITY,
    *TRAINED_MODEL,
    *MANUAL,
)
