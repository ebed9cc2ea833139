"""What the statements promise, and which criterion of which check kind keeps each promise.

Each task's `statement.md` ends with "## How it is graded": bullets that tell a student what the grader
verifies. Every clause of those bullets must be a promise some check of that task keeps. `PROMISES` lists, per
check kind, the clauses its criteria verify, as regular expressions, each tagged with the name in that kind's
module (`KIND_MODULES`) of the function, criterion or constant that verifies it (`verified_by`), and limited
by `requires` to the checks whose parameters (or task) make the criterion run at all: the interpolation
endpoints only with `endpoints`, the labels of a train step only for a conditional task, and so on.

How a bullet is read (`graded_bullets`, `clauses`): the bold heading is dropped; the rest is cut into clauses at
"; ", ": " and sentence ends, and each clause into parts at ", ", all at top level (outside parentheses,
brackets, backticks and `$…$` math). A clause is covered when its parts, in order, can be grouped into runs of
neighbouring parts (joined again by ", ") that each match one promise in full, a leading "and" or "or" aside,
so a promise may span a list whose items are separated by commas. `uncovered` names what no promise covers.

A promise's pattern may say `{dataset}` (the task's data set as a student reads it, "Fashion-MNIST") and
`{size}` (its image size); patterns match without regard to case, on text whose whitespace is collapsed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

# The module whose source holds what each kind's promises name; the others are grader/checks/<kind>.py.
KIND_MODULES = {"manual": "grader/grade.py"}
DATASET_NAMES = {"mnist": "MNIST", "fashion-mnist": "Fashion-MNIST"}


def module_path(kind: str) -> str:
    return KIND_MODULES.get(kind, f"grader/checks/{kind}.py")


# ---- requirements: when a check's criterion runs at all --------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """A clause (or run of clause parts) offered to one check: its parameters, its task (task.toml as a dict)
    and the text the promise's pattern matched."""

    params: Mapping[str, Any]
    task: Mapping[str, Any]
    text: str


Requirement = Callable[[Claim], bool]


def every(*requirements: Requirement) -> Requirement:
    return lambda claim: all(requirement(claim) for requirement in requirements)


def has(param: str) -> Requirement:
    """The check sets `param` to something true (a flag, a list, a value)."""
    return lambda claim: bool(claim.params.get(param))


def equals(param: str, value: Any) -> Requirement:
    return lambda claim: claim.params.get(param) == value


def lists(param: str, *values: str) -> Requirement:
    """The check's `param` (a list, or a name) includes every one of `values`."""
    return lambda claim: set(values) <= set(_names(claim.params.get(param)))


def layer(network: str, module: str) -> Requirement:
    """interface's `layers`: `network` must contain `module`."""
    return lambda claim: module in (claim.params.get("layers") or {}).get(network, [])


def quality(figure: str) -> Requirement:
    """The task's brief training scores `figure` (its `[quality]` names it)."""
    return lambda claim: figure in (claim.task.get("quality") or {})


def conditional(claim: Claim) -> bool:
    return bool(claim.task.get("conditional"))


def step_kwarg(name: str) -> Requirement:
    """The task's train_step is called with `name` (its `[training] step_kwargs`)."""
    return lambda claim: name in (_training(claim).get("step_kwargs") or {})


def task_has(kind: str, requirement: Requirement | None = None) -> Requirement:
    """Some check of the task is of `kind` (and meets `requirement`, judged with that check's parameters)."""

    def holds(claim: Claim) -> bool:
        return any(
            check.get("kind") == kind
            and (requirement is None or requirement(Claim(check.get("params") or {}, claim.task, claim.text)))
            for check in claim.task.get("checks", [])
        )

    return holds


def tracing(claim: Claim) -> bool:
    """A train_step check that traces train_step (not the one that judges clip_weights)."""
    return claim.params.get("function") is None


def clipping(claim: Claim) -> bool:
    """The train_step check that judges clip_weights."""
    return claim.params.get("function") == "clip_weights"


def d_updates(claim: Claim) -> int:
    """The number of D steps the train_step check asks per call (as `train_step._train_step` computes it)."""
    if "d_steps" not in _training(claim):
        return 1
    return int(claim.params.get("k", claim.params.get("n_critic", 1)))


def scorer_named(claim: Claim) -> bool:
    """A clause that says "critic" is about a task whose train_step trains a Critic, one that says "D" about a
    Discriminator."""
    critic = _training(claim).get("discriminator") == "Critic"
    if re.search(r"\bcritic\b", claim.text, re.I) and not critic:
        return False
    return not (re.search(r"\bD\b", claim.text) and critic)


def names_called(claim: Claim) -> bool:
    """Every name the clause gives in backticks is one the check calls; "G", "D", "the critic" and "the networks"
    need those networks among the check's; "one-hot" a conditional task."""
    called = {
        *_names(claim.params.get("networks")),
        *_names(claim.params.get("functions")),
        *_names(claim.params.get("function")),
        *_names(claim.params.get("network")),
    }
    networks = set(_names(claim.params.get("networks")))
    text = claim.text
    needed = set(re.findall(r"`([A-Za-z_]\w*)`", text))
    if re.search(r"\bG\b|\bthe generator\b", text):
        needed.add("Generator")
    if re.search(r"\bD\b", text):
        needed.add("Discriminator")
    if re.search(r"\bthe critic\b", text, re.I):
        needed.add("Critic")
    if re.search(r"\bnetworks\b", text, re.I) and not networks:
        return False
    if re.search(r"one-hot", text, re.I) and not conditional(claim):
        return False
    return needed <= called


def _named_by(claim: Claim, kind: str, key: str) -> set[str]:
    """The names the param `key` gives in every check of `kind` of the claim's task."""
    return {
        name
        for check in claim.task.get("checks", [])
        if check.get("kind") == kind
        for name in _names((check.get("params") or {}).get(key))
    }


def formulas_checked(claim: Claim) -> bool:
    """Every name the clause gives in backticks is checked by one of the task's loss_formula checks."""
    return set(re.findall(r"`([A-Za-z_]\w*)`", claim.text)) <= _named_by(claim, "loss_formula", "function")


def interface_functions(*functions: str) -> Requirement:
    """The task's interface checks, together, call every one of `functions`."""

    def holds(claim: Claim) -> bool:
        return set(functions) <= _named_by(claim, "interface", "functions")

    return holds


def two_image_sizes(claim: Claim) -> bool:
    return len(set(claim.params.get("image_sizes") or [])) >= 2


def losses_on_domain(claim: Claim) -> bool:
    """The clause's "logits" or "scores" is the domain of every formula of the check, "(±100)" means logits,
    and "both" means the task checks two losses on that domain."""
    from grader.formulas import FORMULAS  # imports torch: only when a loss clause is judged

    text = claim.text.lower()
    domain = "logits" if "logits" in text or "±100" in text else "scores" if "scores" in text else None
    formulas = [FORMULAS[name] for name in _names(claim.params.get("formula")) if name in FORMULAS]
    if domain is None or not formulas or any(formula.domain != domain for formula in formulas):
        return False
    if not re.match(r"both\b", text):
        return True
    in_task = {
        function
        for check in claim.task.get("checks", [])
        if check.get("kind") == "loss_formula"
        for function, formula in zip(
            _names((check.get("params") or {}).get("function")),
            _names((check.get("params") or {}).get("formula")),
            strict=False,
        )
        if formula in FORMULAS and FORMULAS[formula].domain == domain
    }
    return len(in_task) == 2


def gradients_compared(claim: Claim) -> bool:
    """loss_formula compares gradients: `gradient` set, or by default for a loss (not an elementwise formula)."""
    from grader.formulas import FORMULAS

    formulas = [FORMULAS[name] for name in _names(claim.params.get("formula")) if name in FORMULAS]
    return bool(formulas) and all(bool(claim.params.get("gradient", not f.elementwise)) for f in formulas)


def batches_of_different_sizes(claim: Claim) -> bool:
    """loss_formula draws real and fake batches of different sizes: a two-input formula that is not elementwise,
    with `different_sizes` left at its default (true) or set."""
    from grader.formulas import FORMULAS

    formulas = [FORMULAS[name] for name in _names(claim.params.get("formula")) if name in FORMULAS]
    return (
        bool(claim.params.get("different_sizes", True))
        and bool(formulas)
        and all(len(f.inputs) == 2 and not f.elementwise for f in formulas)
    )


# How the statements name the attack's inputs → the `source` of the attack check's experiment.
ATTACK_SOURCES = {
    r"real (\d)s": r"test {0}s\b",
    r"random noise": r"uniform noise\b",
    r"the all-black image": r"all-black image\b",
    r"the all-white image": r"all-white image\b",
}


def sources_named(claim: Claim) -> bool:
    """Every input the clause names is the source of one of the attack check's experiments."""
    sources = [str(experiment.get("source", "")) for experiment in claim.params.get("experiments", [])]
    for phrase, source in ATTACK_SOURCES.items():
        for match in re.finditer(phrase, claim.text, re.I):
            wanted = source.format(*match.groups())
            if not any(re.match(wanted, found) for found in sources):
                return False
    return True


def digits_for_mnist(claim: Claim) -> bool:
    """ "digits" only where the task's data set is MNIST."""
    return "digits" not in claim.text or claim.task.get("dataset") == "mnist"


def asks_labels_of_each_class(claim: Claim) -> bool:
    """ "samples of each class" only for a conditional task (the training check asks G for each class)."""
    return "each class" not in claim.text or conditional(claim)


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [str(key) for key in value]
    if isinstance(value, Iterable):
        return [str(item) for item in value]
    return [str(value)]


def _training(claim: Claim) -> Mapping[str, Any]:
    return claim.task.get("training") or {}


# ---- promises ----------------------------------------------------------------------------------------------------


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
    Promise("interface", r"G uses transposed convolutions", "check_layers", layer("Generator", "ConvTranspose2d")),
    Promise(
        "interface", r"the generator also takes soft labels", "soft", every(conditional, lists("networks", "Generator"))
    ),
    Promise(
        "interface",
        r"the critic's scores are not squashed into \$\(0, 1\)\$",
        "not_squashed",
        lists("networks", "Critic"),
    ),
    Promise(
        "interface",
        r"`generate` returns float32 `\(n, {size}, {size}\)` in \$\[0, 1\]\$",
        "check_generate",
        lists("functions", "generate"),
    ),
    Promise(
        "interface",
        r"`make_optimizers` returns Adam with the stated settings over each network's parameters",
        "check_make_optimizers",
        every(lists("functions", "make_optimizers"), equals("optimizer", "adam"), has("lr"), has("betas")),
    ),
    Promise(
        "interface",
        r"`steps \+ 2` images whose endpoints are \$G\(z_0, y_0\)\$ and \$G\(z_1, y_1\)\$",
        ("check_interpolate", "ends"),
        every(lists("functions", "interpolate"), has("endpoints")),
    ),
    # targeted_attack
    Promise(
        "interface", r"output shape, dtype and device", "check_targeted_attack", lists("functions", "targeted_attack")
    ),
    Promise(
        "interface",
        r"the \$L_\\infty\$ bound per sample and the \$\[-1, 1\]\$ range on inputs the grader chooses",
        ("within_ball", "within_range"),
        lists("functions", "targeted_attack"),
    ),
    Promise(
        "interface",
        r"including ones that start at the edge of the range",
        "check_targeted_attack",
        lists("functions", "targeted_attack"),
    ),
    Promise("interface", r"`x` and the model left unchanged", "untouched", lists("functions", "targeted_attack")),
    Promise(
        "interface", r"both forms of `target` accepted", "check_targeted_attack", lists("functions", "targeted_attack")
    ),
    # evaluation
    Promise(
        "interface",
        r"the classifier takes both image sizes and returns logits `\(B, 10\)`",
        "check_classifier",
        every(lists("networks", "Classifier"), two_image_sizes),
    ),
    Promise(
        "interface",
        r"features, embedding and accuracy have the documented shapes and types",
        ("check_extract_features", "check_tsne_embedding", "check_generated_accuracy"),
        interface_functions("extract_features", "tsne_embedding", "generated_accuracy"),
    ),
    Promise("interface", r"features come from one fixed layer", "eval_mode", lists("functions", "extract_features")),
    Promise(
        "interface",
        r"independent of the image size",
        "check_extract_features",
        every(lists("functions", "extract_features"), two_image_sizes),
    ),
    Promise(
        "interface",
        r"the embedding is reproducible for a fixed seed",
        "replayable",
        every(lists("functions", "tsne_embedding"), has("deterministic")),
    ),
    Promise(
        "interface",
        r"compared with the value computed on generators whose class behaviour the grader knows",
        "check_generated_accuracy",
        every(lists("functions", "generated_accuracy"), has("generators")),
    ),
    # optimal_d
    Promise(
        "interface",
        r"the three names exist and return the documented types and shapes \(tensors, `optimal_value` a number\)",
        ("check_optimal_discriminator", "check_gan_value", "check_optimal_value"),
        lists("functions", "optimal_discriminator", "gan_value", "optimal_value"),
    ),
    Promise(
        "interface",
        r"`optimal_value` is compared with \$-\\log 4\$",
        "check_optimal_value",
        every(lists("functions", "optimal_value"), equals("value", "-log 4")),
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
    Promise("optimal_d", r"your functions are combined on known 1-D densities", "_closed_form", has("functions")),
    Promise(
        "optimal_d",
        r"a discriminator built with `optimal_discriminator` must give a value of \$V\$ that no other "
        r"discriminator beats",
        ("_competitors", "margins_ok"),
        lists("functions", "optimal_discriminator", "gan_value"),
    ),
    Promise(
        "optimal_d",
        r"when the two densities are equal that value must be \$-\\log 4\$",
        "EQUAL_WEIGHT",
        has("functions"),
    ),
    Promise(
        "optimal_d",
        r"your `discriminator_loss` may also be used to fit a small discriminator on two known 1-D densities",
        "_fit",
        equals("function", "discriminator_loss"),
    ),
    Promise(
        "optimal_d",
        r"which must land near \$p_\{data\} / \(p_\{data\} \+ p_g\)\$",
        "_optimum_problem",
        has("function"),
    ),
]

TRAIN_STEP = [
    Promise("train_step", r"judged by what each update does", "_rebuild", tracing),
    Promise(
        "train_step",
        r"with the task's own losses in place of yours \(a wrong loss costs only its loss check\)",
        "_substitutes",
        every(tracing, task_has("loss_formula")),
    ),
    Promise(
        "train_step",
        r"with the task's own losses and penalty in place of yours \(a wrong loss costs only its loss check\)",
        ("_substitutes", "PENALTY"),
        every(tracing, task_has("loss_formula"), task_has("gradient_penalty")),
    ),
    Promise(
        "train_step",
        r"with the task's own losses and clipping in place of yours \(a wrong loss costs only its loss check\)",
        "_substitutes",
        every(tracing, task_has("loss_formula"), task_has("train_step", clipping)),
    ),
    Promise(
        "train_step", r"one (?:D|critic) update", "counts_ok", every(tracing, scorer_named, lambda c: d_updates(c) == 1)
    ),
    Promise(
        "train_step", r"`k` D updates", "counts_ok", every(tracing, scorer_named, has("k"), lambda c: d_updates(c) > 1)
    ),
    Promise(
        "train_step",
        r"`len\(real_batches\)` critic updates",
        "counts_ok",
        every(tracing, scorer_named, has("n_critic"), lambda c: d_updates(c) > 1),
    ),
    Promise("train_step", r"then one G update", ("counts_ok", "in_order"), tracing),
    Promise(
        "train_step",
        r"each (?:D|critic) update descends the (?:D|critic) loss",
        "_critic_update",
        every(tracing, scorer_named),
    ),
    Promise(
        "train_step",
        r"each critic update descends the critic loss with the gradient penalty added",
        ("_critic_update", "_penalised"),
        every(tracing, scorer_named, task_has("gradient_penalty")),
    ),
    Promise("train_step", r"the G update applies the gradient of G's loss alone", "_generator_update", tracing),
    Promise(
        "train_step",
        r"descending it \(detach the fakes in the (?:D|critic) update, or zero G's gradients before G's backward\)",
        "_generator_update",
        every(tracing, scorer_named),
    ),
    Promise("train_step", r"both networks conditioned on the labels", "_labels_problem", every(tracing, conditional)),
    Promise(
        "train_step",
        r"(?:D|the critic) is moved only by its own loss",
        "_critic_moved_only_by_its_loss",
        every(tracing, scorer_named),
    ),
    Promise("train_step", r"gradients zeroed before each backward", "stale", tracing),
    Promise("train_step", r"the returned (?:keys|dict) present(?: and finite)?", "_result_problem", tracing),
    Promise(
        "train_step",
        r"the `generator_loss` argument is the loss G descends",
        '"generator_losses"',
        every(tracing, has("generator_losses")),
    ),
    Promise(
        "train_step",
        r"every critic parameter in \[[−-]clip, clip\] after it",
        '"d_max"',
        every(tracing, step_kwarg("clip")),
    ),
    Promise(
        "train_step",
        r"a fault in what an update moves, or in which direction, costs at least half of the check",
        "primary=True",
        tracing,
    ),
    # clip_weights
    Promise(
        "train_step",
        r"after `clip_weights` and after `train_step` every critic parameter lies in \$\[-c, c\]\$",
        ("_clip_weights", '"d_max"'),
        every(clipping, task_has("train_step", every(tracing, step_kwarg("clip")))),
    ),
    Promise(
        "train_step",
        r"values already inside the interval are left alone",
        ("_clip_weights", "clamp_ok"),
        clipping,
    ),
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

MANUAL = [Promise("manual", r"graded by hand(?: with the rubric given there)?", "_manual_entry")]

PROMISES: tuple[Promise, ...] = (
    *INTERFACE,
    *LOSS_FORMULA,
    *GRADIENT_PENALTY,
    *OPTIMAL_D,
    *TRAIN_STEP,
    *ATTACK,
    *CLASSIFIER_TRAINING,
    *TRAINING_QUALITY,
    *MANUAL,
)


# ---- reading the statements --------------------------------------------------------------------------------------

SECTION = re.compile(r"^## How it is graded[ \t]*$(?P<body>.*?)(?=^## |\Z)", re.MULTILINE | re.DOTALL)
BULLET = re.compile(r"\*\*(?P<heading>.+?):?\*\*(?:\s*\((?P<aside>[^)]*)\))?:?\s*(?P<body>.*)", re.DOTALL)
OPENERS, CLOSERS = "([", ")]"


@dataclass(frozen=True)
class Bullet:
    heading: str
    body: str


def graded_bullets(statement: str) -> list[Bullet]:
    """The bullets of the statement's "How it is graded" section (lines starting "- ", with their indented
    continuation lines); the paragraphs around them are not bullets."""
    found = SECTION.search(statement)
    if found is None:
        return []
    bullets: list[list[str]] = []
    current: list[str] | None = None
    for line in found.group("body").splitlines():
        if line.startswith("- "):
            current = [line[2:].strip()]
            bullets.append(current)
        elif current is not None and line.startswith(" ") and line.strip():
            current.append(line.strip())
        else:
            current = None
    result = []
    for lines in bullets:
        text = " ".join(lines)
        parsed = BULLET.fullmatch(text)
        heading, body = (parsed.group("heading"), parsed.group("body")) if parsed else ("", text)
        result.append(Bullet(heading.strip(), body.strip()))
    return result


def clauses(body: str) -> list[list[str]]:
    """The clauses of a bullet's body, each as its parts: clauses end at "; ", ": " and ". " before a capital
    letter, parts at ", "; only at top level (outside (…), […], `…` and $…$)."""
    text = " ".join(body.split()).rstrip(".")
    result: list[list[str]] = []
    parts: list[str] = []
    part: list[str] = []
    depth, code, math, i = 0, False, False, 0

    def close_part() -> None:
        piece = "".join(part).strip()
        if piece:
            parts.append(piece)
        part.clear()

    def close_clause() -> None:
        close_part()
        if parts:
            result.append(list(parts))
        parts.clear()

    while i < len(text):
        char = text[i]
        if char == "`" and not math:
            code = not code
        elif char == "$" and not code:
            math = not math
        elif not code and not math and char in OPENERS:
            depth += 1
        elif not code and not math and char in CLOSERS:
            depth = max(0, depth - 1)
        elif not code and not math and depth == 0:
            two = text[i : i + 2]
            if two in ("; ", ": ") or (two == ". " and text[i + 2 : i + 3].isupper()):
                close_clause()
                i += 2
                continue
            if two == ", ":
                close_part()
                i += 2
                continue
        part.append(char)
        i += 1
    close_clause()
    return result


@dataclass(frozen=True)
class Gap:
    """A clause of a statement's "How it is graded" bullet that no check of the task verifies in full: `rest` is
    its first run of parts (to the clause's end) that no promise covers."""

    task: str
    bullet: str
    clause: str
    rest: str

    def __str__(self) -> str:
        return (
            f"{self.task}: bullet {self.bullet!r}, clause {self.clause!r}: no check of the task promises "
            f"{self.rest!r} (grader/checks/promises.py lists what each kind verifies)"
        )


def _connective_stripped(text: str) -> str:
    return re.sub(r"^(?:and|or) ", "", text)


def keepers(text: str, task: Mapping[str, Any]) -> list[tuple[Mapping[str, Any], Promise]]:
    """The (check, promise) pairs of `task` that keep the promise made by `text`."""
    text = _connective_stripped(" ".join(text.split()))
    return [
        (check, promise) for check in task.get("checks", []) for promise in PROMISES if promise.keeps(text, check, task)
    ]


def uncovered_parts(parts: list[str], task: Mapping[str, Any]) -> str | None:
    """None when the parts can be grouped into runs that promises cover in full; else the uncovered rest, from
    the furthest part reached."""
    reached = [True] + [False] * len(parts)
    for start in range(len(parts)):
        if not reached[start]:
            continue
        for end in range(start + 1, len(parts) + 1):
            if not reached[end] and keepers(", ".join(parts[start:end]), task):
                reached[end] = True
    if reached[-1]:
        return None
    furthest = max(i for i, done in enumerate(reached) if done)
    return ", ".join(parts[furthest:])


def uncovered(task: Mapping[str, Any], statement: str) -> list[Gap]:
    """Every clause of the statement's "How it is graded" bullets that no check of `task` verifies."""
    gaps = []
    for bullet in graded_bullets(statement):
        for parts in clauses(bullet.body):
            rest = uncovered_parts(parts, task)
            if rest is not None:
                gaps.append(Gap(str(task.get("id", "?")), bullet.heading, ", ".join(parts), rest))
    return gaps
