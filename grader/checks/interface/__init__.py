"""Kind `interface`: the required names exist, construct, and return the documented shapes, dtypes and ranges.

Each name is judged by the contract of its role (`gankit.catalogue.Name.role`), registered with
`@contract(role)` (`criteria.CONTRACTS`) by the module of this package that verifies that idea: `networks`
(generator, discriminator and critic, classifier, and `layers`), `sampling` (generate, interpolate),
`optimizers`, `optimal_d` (optimal_discriminator, gan_value, optimal_value), `attack` (targeted_attack),
`evaluation` (extract_features, tsne_embedding, generated_accuracy) and `signatures`.

Each parameter has one meaning, and a criterion (or a few) follows from each one present, so a new task that
reuses a parameter needs no code here:
- `networks`: classes to construct with default arguments and call on grader-chosen inputs. The contract comes
  from the name's role: a generator gives (B, 1, H, W) float32 in [-1, 1] (for a conditional task it must use y
  and take soft label vectors, and two soft vectors with the same argmax must give other images); a
  discriminator or critic gives float32 scores (B,) (conditional: they depend on y) that are not squashed into
  [-1, 1] by a sigmoid or tanh, judged with its weights scaled up (the sentence asks a discriminator for logits,
  a critic for raw scores); a classifier gives logits (B, 10) and `features(x)` (B, F) for each of `image_sizes`.
- `layers`: {network: [module class names]} each network must contain (`nn.ConvTranspose2d` for DCGAN's G).
- `functions`: each name's role has a contract (generate, interpolate, optimizers, targeted_attack,
  optimal_discriminator, gan_value, optimal_value, extract_features, tsne_embedding, generated_accuracy).
- `endpoints`: interpolate's first and last images are G(z0, y0) and G(z1, y1) mapped to [0, 1].
- `value`: what optimal_value() returns ("-log 4", "log 2", a number).
- `image_sizes`: the image sizes networks and extract_features get (default: the task's).
- `sizes`, `deterministic`: tsne_embedding's point counts, and whether one seed must give one embedding.
- `generators`, `expected`: generated_accuracy's grader-made generators (`POOL_GENERATORS`); `expected` states
  what they are built to give, and the grader recomputes it with its own frozen classifier on the same images.
- `tolerance`: slack on targeted_attack's bounds.
- `signatures`: every name of the task accepts its documented optional parameters (`rng`, `lam`, `width`, …),
  by the rules the grader calls it with (`gankit.signature.fit`); a small share of the check
  (`SIGNATURE_WEIGHT`), as the other checks call a function without what it lacks (SPEC).
The optimizers' class and settings (the role `optimizers`, make_optimizers) are the task's `[training.optimizer]`.
The functions that sample a generator (generate, interpolate) use the task's name in the role `generator`.
Optional arguments are passed only where the student's function takes them; what needs one it lacks (generate's
replay without rng) is not judged. A criterion weighs 1 unless its contract's docstring says otherwise; the
primary ones (SPEC: severity; `Criteria`) are named in each docstring. Nothing the worker sends is trusted:
every value passes `grader.validate`.
"""

from __future__ import annotations

from grader.checks import CheckContext, Criteria, Outcome, check_kind

# Each module registers the contracts of its roles when imported.
from grader.checks.interface import attack, evaluation, optimal_d, optimizers, sampling  # noqa: F401
from grader.checks.interface.criteria import CONTRACTS, contract, fulfils
from grader.checks.interface.networks import check_layers
from grader.checks.interface.signatures import check_signatures

__all__ = ["CONTRACTS", "contract", "interface"]


@check_kind("interface")
def interface(ctx: CheckContext) -> Outcome:
    criteria = Criteria()
    networks = [ctx.task.named(str(name)) for name in ctx.params.get("networks", [])]
    functions = [ctx.task.named(str(name)) for name in ctx.params.get("functions", [])]
    for network in networks:
        check_layers(ctx, criteria, network.name, fulfils(ctx, criteria, network))
    for function in functions:
        fulfils(ctx, criteria, function)
    if ctx.params.get("signatures", False):
        check_signatures(ctx, criteria)
    names = [item.name for item in networks + functions]
    return criteria.outcome(f"{', '.join(names)} {'meets' if len(names) == 1 else 'meet'} the documented interface")
