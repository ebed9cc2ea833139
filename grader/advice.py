"""What to change, for the exceptions student code raises most often: the sentence a report leads with, before
the exception's own (escaped, shortened) text.

Each entry is a pattern of PyTorch's or Python's message and the advice for it; the first that matches wins.
The advice says what to do in the terms of the statements, never what the grader expected to see.
"""

from __future__ import annotations

import re

ADVICE: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), advice)
    for pattern, advice in (
        (
            r"all elements of input should be between 0 and 1",
            "D returns logits: drop the sigmoid at its end and use binary_cross_entropy_with_logits",
        ),
        (
            r"mat1 and mat2 shapes cannot be multiplied|size mismatch",
            "a layer's input size does not match what reaches it: check the Linear and Conv sizes for the "
            "documented image size",
        ),
        (
            r"shape '\[.*\]' is invalid for input of size",
            "a view or reshape does not fit the tensor: use x.flatten(1) or check the batch dimension",
        ),
        (
            r"backward through the graph a second time",
            "a graph was used after backward freed it: detach the fakes in the D update, or make the G update's "
            "fakes afresh",
        ),
        (
            r"modified by an inplace operation",
            "an optimizer step or in-place change altered values a later backward still needs: finish each "
            "backward before the step that changes those weights",
        ),
        (
            r"does not require grad and does not have a grad_fn",
            "the loss lost its autograd graph: compute it with torch operations, no .item(), numpy or no_grad",
        ),
        (
            r"expected all tensors to be on the same device",
            "create new tensors on the device of the inputs (device=x.device)",
        ),
        (
            r"unexpected keyword argument|positional arguments? but \d+ (were|was) given|missing \d+ required",
            "the function's parameters differ from the documented signature in the statement",
        ),
        (
            r"expected scalar type|found dtype",
            "a tensor has the wrong dtype: images and labels for the networks are float32 (one-hot labels too)",
        ),
    )
)


def advise(message: str) -> str:
    """The advice for an exception's message, or "" when none fits."""
    return next((advice for pattern, advice in ADVICE if pattern.search(message)), "")


def with_advice(message: str, limit: int = 300) -> str:
    """`message` shortened, led by the advice for it where there is one."""
    short = message[:limit]
    advice = advise(message)
    return f"{advice} ({short})" if advice else short
