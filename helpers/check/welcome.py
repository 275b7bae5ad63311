"""Checker for notebook 00 (the warm-up exercise that shows how checks work)."""

from __future__ import annotations

from .answers import whole_number
from .core import Mismatch, call, checker, numbered_cases

__all__ = ["conv_parameters"]


# The exercise is the formula: building the layer and counting its parameters is the check's
# own way (and the course's count_params), not an answer.
_LAYER = ("torch.nn.Conv2d", "helpers.costs.count_params")


@checker("0.1", "conv_parameters", forbid=_LAYER)
def conv_parameters(student_fn) -> str:
    """Check ``student_fn(c_in, c_out, k) -> int``: weights + biases of a k×k conv layer."""
    import torch.nn as nn

    cases = [(3, 10, 5), (1, 6, 5), (64, 128, 3), (256, 64, 1), (3, 96, 11)]
    hidden = [(5, 7, 2), (17, 1, 4), (1, 1, 1)]  # an even kernel, one filter, the smallest layer
    count = 0
    for heading, (c_in, c_out, k) in numbered_cases(cases, hidden=hidden):
        count += 1
        label = f"{heading} (c_in={c_in}, c_out={c_out}, k={k})"
        got = whole_number(call(student_fn, c_in, c_out, k, case=label), case=label)
        expected = sum(p.numel() for p in nn.Conv2d(c_in, c_out, k).parameters())
        if got == expected:
            continue
        hint = "each filter has c_in × k × k weights, and there are c_out filters."
        if got == expected - c_out:
            hint = "you forgot the biases: one per filter (c_out in total)."
        elif got == c_out * (k * k + 1):
            hint = "a filter spans all c_in input channels: c_in × k × k weights per filter."
        elif got == c_in * (c_out * k * k + 1) or got == c_in * c_out * k * k + c_in:
            hint = "there is one bias per *output* channel (filter), not per input channel."
        raise Mismatch(f"{label}:\ngot {got}, expected {expected}.\nHint: {hint}")
    return f"{count} layers match the parameter count of torch.nn.Conv2d."
