"""Kind `classifier_training`: train a fresh student network with the student's training function in the sandbox, then
score its test accuracy here.

params: `network` (the class, built with defaults), `function` (called as `function(model, images, labels)` with
`epochs`, `rng` and its other documented optional parameters where its signature takes them), `epochs`,
`train_images` (how many training images of the task's data set), `image_size`, `threshold` (the test accuracy that
earns full marks). The worker returns only logits on test images; the accuracy is computed here. Credit: accuracy
3/4, linear from chance (1/10) to `threshold`; the model coming back as an nn.Module in eval mode 1/4.
"""

from __future__ import annotations

import numpy as np

from gankit.common import NUM_CLASSES
from gankit.data import load_dataset
from grader.checks import CheckContext, Outcome, check_kind, threshold_fraction
from grader.checks.probing import seed_for
from grader.validate import Invalid, entry, raised, returned_tensor

TEST_IMAGES = 1000  # the accuracy's standard error stays near 1 %; more would cost seconds on a CPU
ACCURACY_WEIGHT = 3.0
EVAL_MODE_WEIGHT = 1.0


@check_kind("classifier_training", trains=True)
def classifier_training(ctx: CheckContext) -> Outcome:
    params = ctx.params
    network, function, size = str(params["network"]), str(params["function"]), int(params["image_size"])
    epochs, threshold = int(params["epochs"]), float(params["threshold"])
    train_x, train_y = load_dataset(ctx.task.dataset, "train", size=size)
    test_x, test_y = load_dataset(ctx.task.dataset, "test", size=size)
    chosen = np.sort(ctx.rng.choice(len(train_x), int(params["train_images"]), replace=False))
    held_out = np.sort(ctx.rng.choice(len(test_x), min(TEST_IMAGES, len(test_x)), replace=False))
    reply = ctx.call(
        "evaluation_train_classifier",
        module=ctx.module,
        network=network,
        function=function,
        images=ctx.put_images("train_images", train_x[chosen].numpy()),
        labels=ctx.put_array("train_labels", train_y[chosen].numpy().astype(np.int64)),
        test_images=ctx.put_images("test_images", test_x[held_out].numpy()),
        epochs=epochs,
        optional=ctx.task.optional_parameters(function),
        seed=seed_for(ctx),
    )
    try:
        raised(entry(reply, "construct"), f"{network}() with default arguments")
        raised(entry(reply, "call"), f"{function}(model, images, labels, epochs={epochs}, rng=...)")
        logits = returned_tensor(entry(reply, "logits"), f"the trained {network}'s logits", (len(held_out), 10))
    except Invalid as error:
        return Outcome(0.0, str(error))
    accuracy = float((logits.argmax(axis=1) == test_y[held_out].numpy()).mean())
    chance = 1.0 / NUM_CLASSES
    earned = ACCURACY_WEIGHT * threshold_fraction(accuracy, chance, threshold)
    problems = []
    if accuracy < threshold:
        problems.append(
            f"after {epochs} epoch(s) your {network} reached {accuracy:.1%} test accuracy, below the threshold: "
            "check the cross-entropy on logits, zero_grad/backward/step on every batch and that every image is used"
        )
    if entry(reply, "returned_module") is not True:
        problems.append(f"{function} must return the trained model, not a {str(entry(reply, 'returned_type'))[:60]}")
    elif entry(reply, "eval_mode") is not True:
        problems.append(f"{function} must return the model in eval mode (model.eval())")
    else:
        earned += EVAL_MODE_WEIGHT
    if not problems:
        return Outcome(1.0, f"your {network} reached {accuracy:.1%} test accuracy after {epochs} epoch(s)")
    return Outcome(earned / (ACCURACY_WEIGHT + EVAL_MODE_WEIGHT), "; ".join(problems))
