"""Every checker accepts every type a right answer may come in, and still rejects mistakes.

A number may be a Python int or float, a NumPy scalar, a 0-d (or one-element) NumPy array
or a 0-d torch tensor; a pair or a shape may be a tuple, a list, a 1-D array or a tensor;
arrays may be float64 or float32 (checked with float32's tolerances), NumPy or torch. The
broad tests wrap each reference answer of the checker test modules (their ``CASES``) so
that it returns those types; the regression tests below pin the false rejections and the
misleading verdicts that a review of several hundred student-style answers found.
"""

from __future__ import annotations

import numbers

import numpy as np
import pytest
import test_check
import test_check_architectures
import test_check_backprop
import test_check_beyond
import test_check_efficient
import test_check_matrix
import test_check_normalization
import test_check_padding
import test_check_pooling
import test_check_receptive
import test_check_stacking
import test_check_visualize
import torch
from checker_contract import PASSES, Together, arguments, name, references
from torch import nn

from helpers import check
from helpers.check.arrays import compare
from helpers.check.core import Mismatch

pytestmark = pytest.mark.usefixtures("one_torch_thread")

MODULES = [
    test_check,
    test_check_stacking,
    test_check_padding,
    test_check_receptive,
    test_check_pooling,
    test_check_normalization,
    test_check_backprop,
    test_check_matrix,
    test_check_architectures,
    test_check_efficient,
    test_check_visualize,
    test_check_beyond,
]
CASES = {checker: cases for module in MODULES for checker, cases in module.CASES.items()}


# ------------------------------------------------------------------ result conversions


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.generic))


def _convert(value, leaf):
    """``value`` with ``leaf`` applied to every leaf, through tuples, lists and dicts."""
    if isinstance(value, dict):
        return {key: _convert(item, leaf) for key, item in value.items()}
    if isinstance(value, (tuple, list)) and not isinstance(value, torch.Size):
        converted = [_convert(item, leaf) for item in value]
        return leaf(type(value)(converted)) if converted is not None else value
    return leaf(value)


def numpy_scalars(value):
    if isinstance(value, int) and _is_number(value):
        return np.int64(value)
    if _is_number(value):
        return np.float64(value)
    return value


def tensor_scalars(value):
    return torch.tensor(value) if _is_number(value) else value


def zero_d_arrays(value):
    return np.array(value) if _is_number(value) else value


def _numbers_only(value) -> bool:
    return isinstance(value, (tuple, list)) and len(value) > 0 and all(map(_is_number, value))


def sequences_as_arrays(value):
    """A pair or a shape (a tuple or list of plain numbers) as a 1-D NumPy array."""
    return np.array(value) if _numbers_only(value) else value


def sequences_as_tensors(value):
    return torch.tensor(value) if _numbers_only(value) else value


def float32(value):
    if isinstance(value, np.ndarray) and value.dtype == np.float64:
        return value.astype(np.float32)
    if isinstance(value, torch.Tensor) and value.dtype == torch.float64:
        return value.float()
    if isinstance(value, (float, np.float64)) and not isinstance(value, bool):
        return np.float32(value)
    return value


def tensors(value):
    if isinstance(value, np.ndarray) and np.issubdtype(value.dtype, np.number):
        return torch.from_numpy(np.ascontiguousarray(value))
    return value


CONVERSIONS = {
    "NumPy scalars": numpy_scalars,
    "0-d tensors": tensor_scalars,
    "0-d arrays": zero_d_arrays,
    "pairs and shapes as arrays": sequences_as_arrays,
    "pairs and shapes as tensors": sequences_as_tensors,
    "float32": float32,
    "tensors": tensors,
}


def returning(answer, leaf):
    """``answer`` with its result converted by ``leaf``; classes and modules are kept."""
    if isinstance(answer, type) or not callable(answer):
        return answer

    def converted(*args):
        return _convert(answer(*args), leaf)

    return converted


def _params():
    for checker, (reference, _) in CASES.items():
        answers = reference if isinstance(reference, list) else [reference]
        for kind, leaf in CONVERSIONS.items():
            yield pytest.param(checker, answers[0], leaf, id=f"{name(checker)}-{kind}")


@pytest.mark.parametrize("checker, answer, leaf", list(_params()))
def test_reference_passes_in_every_type(checker, answer, leaf):
    if isinstance(answer, Together):
        answers = [returning(a, leaf) for a in answer]
    else:
        answers = [returning(answer, leaf)]
    verdict = checker.verdict(*answers)
    assert verdict.passed, str(verdict)


def _float32_inputs(answer):
    """``answer`` computed in float32: its float64 array arguments are cast first."""

    def computed(*args):
        cast = [
            a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype == np.float64 else a
            for a in args
        ]
        return answer(*cast)

    return computed


# the checkers whose float64 array arguments an answer may cast to float32 and compute with
FLOAT32_INPUTS = [
    check.conv1d_naive,
    check.conv2d_single,
    check.conv2d_multi,
    check.conv_full,
    check.combined_kernel,
    check.max_pool2d_naive,
    check.avg_pool2d_conv,
    check.unchanged_fraction,
    check.batch_norm_train,
    check.batch_norm_step,
    check.fold_bn,
    check.group_norm_forward,
    check.ln_in_from_gn,
    check.conv3_backward,
    check.conv2d_backward_naive,
    check.max_pool2d_backward_naive,
    check.matrix_4x9,
    check.conv_matrix_naive,
    check.conv_transpose_zeros,
    check.im2col_naive,
]


@pytest.mark.parametrize("checker", FLOAT32_INPUTS, ids=name)
def test_reference_computed_in_float32_passes(checker):
    answers = [_float32_inputs(a) for a in arguments(references(CASES, checker)[0])]
    verdict = checker.verdict(*answers)
    assert verdict.passed, str(verdict)


def _mistakes():
    for checker, (_, listed) in CASES.items():
        for kind, (answer, words) in listed.items():
            if words != PASSES:
                yield pytest.param(checker, answer, id=f"{name(checker)}-{kind}")


@pytest.mark.parametrize("checker, answer", list(_mistakes()))
def test_mistakes_fail_in_float32_too(checker, answer):
    """float32's wider tolerances let no typical mistake pass, returned or computed in float32."""
    answers = arguments(answer)
    variants = [[returning(a, float32) for a in answers]]
    if checker in FLOAT32_INPUTS:
        variants.append([_float32_inputs(a) if callable(a) else a for a in answers])
    for variant in variants:
        verdict = checker.verdict(*variant)
        assert verdict.status != "passed", str(verdict)


# ------------------------------------------------- the false rejections, one test each


def _scalars(answer, kind):
    return returning(answer, {"NumPy": numpy_scalars, "torch": tensor_scalars}[kind])


@pytest.mark.parametrize("kind", ["NumPy", "torch"])
def test_conv_parameters_accepts_numpy_and_torch_integers(kind):
    # "expected a whole number, got np.int64(760)", on the course's first exercise
    answer = _scalars(test_check.CASES[check.conv_parameters][0], kind)
    assert check.conv_parameters.verdict(answer).passed


@pytest.mark.parametrize("kind", ["NumPy", "torch"])
def test_unchanged_fraction_accepts_a_numpy_or_0d_tensor_number(kind):
    reference = test_check_pooling.CASES[check.unchanged_fraction][0]
    assert check.unchanged_fraction.verdict(_scalars(reference, kind)).passed


@pytest.mark.parametrize("kind", ["NumPy", "torch"])
def test_layer_table_accepts_numpy_and_torch_counts(kind):
    reference = test_check_architectures.CASES[check.layer_table][0]
    assert check.layer_table.verdict(_scalars(reference, kind)).passed


PAIR_CHECKERS = [
    check.conv2d_cost,
    check.stack_vs_single,
    check.separable_cost,
    check.receptive_field_size,
    check.conv3d_cost,
]


@pytest.mark.parametrize(
    "as_pair", [sequences_as_arrays, sequences_as_tensors], ids=["array", "tensor"]
)
@pytest.mark.parametrize("checker", PAIR_CHECKERS, ids=name)
def test_a_pair_may_be_an_array_or_a_tensor(checker, as_pair):
    reference = references(CASES, checker)[0]
    assert checker.verdict(returning(reference, as_pair)).passed


def test_fold_bn_accepts_the_course_helper_on_default_float32_modules():
    from helpers.norm import fold_batch_norm

    def with_modules(w, b, gamma, beta, running_mean, running_var, eps):
        c_out, c_in, k, _ = w.shape
        conv = nn.Conv2d(c_in, c_out, k, bias=b is not None)  # float32, PyTorch's default
        bn = nn.BatchNorm2d(c_out, eps=eps)
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(w))
            if b is not None:
                conv.bias.copy_(torch.from_numpy(b))
            bn.weight.copy_(torch.from_numpy(gamma))
            bn.bias.copy_(torch.from_numpy(beta))
            bn.running_mean.copy_(torch.from_numpy(running_mean))
            bn.running_var.copy_(torch.from_numpy(running_var))
        fused = fold_batch_norm(conv, bn)
        assert fused.weight.dtype == torch.float32
        return fused.weight, fused.bias

    verdict = check.fold_bn.verdict(with_modules)
    assert verdict.passed, str(verdict)


class _ListNet(nn.Module):
    """A custom module that keeps its layers in an nn.ModuleList and one activation."""

    def __init__(self, target, channels, activation=nn.ELU):
        super().__init__()
        count = test_check_receptive.fewest_layers(target)
        self.convs = nn.ModuleList(
            nn.Conv2d(channels, channels, 3, padding=3**i, dilation=3**i, bias=False)
            for i in range(count)
        )
        self.activation = activation()

    def forward(self, x):
        for conv in self.convs:
            x = self.activation(conv(x))
        return x


class _Swish(nn.Module):
    """A student's own elementwise activation."""

    def forward(self, x):
        return x * torch.sigmoid(x)


def _chain(target, channels, activation):
    layers = []
    for conv in _ListNet(target, channels).convs:
        layers += [conv, activation()]
    return nn.Sequential(*layers)


@pytest.mark.parametrize(
    "network",
    [
        pytest.param(lambda t, c: _ListNet(t, c), id="ModuleList + ELU"),
        pytest.param(lambda t, c: _ListNet(t, c, nn.ReLU), id="ModuleList + ReLU"),
        pytest.param(lambda t, c: _chain(t, c, nn.ELU), id="Sequential + ELU"),
        pytest.param(lambda t, c: _chain(t, c, nn.Mish), id="Sequential + Mish"),
        pytest.param(lambda t, c: _chain(t, c, _Swish), id="Sequential + own activation"),
        pytest.param(lambda t, c: nn.Sequential(_ListNet(t, c, nn.Tanh)), id="nested"),
    ],
)
def test_dense_field_network_accepts_any_tree_of_convs_and_activations(network):
    verdict = check.dense_field_network.verdict(network)
    assert verdict.passed, str(verdict)
    assert "_ListNet" not in str(verdict)


class _Reused(nn.Module):
    """One 3x3 conv applied several times: more field than its weights pay for."""

    def __init__(self, target, channels):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.times = 2 * test_check_receptive.fewest_layers(target)

    def forward(self, x):
        for _ in range(self.times):
            x = torch.relu(self.conv(x))
        return x


class _HiddenPool(_ListNet):
    """A max pooling in forward, where no module shows it."""

    def forward(self, x):
        for conv in self.convs:
            x = torch.nn.functional.max_pool2d(torch.relu(conv(x)), 3, 1, 1)
        return x


class _Parallel(_ListNet):
    """The convolutions side by side (summed), not one after the other."""

    def forward(self, x):
        return sum(conv(x) for conv in self.convs)


@pytest.mark.parametrize(
    "network, words",
    [
        (_Reused, ["more than", "used twice"]),
        (_HiddenPool, ["more than", "pooling"]),
        (_Parallel, ["no influence"]),
        (lambda t, c: _chain(t, c, nn.PReLU), ["outside its convolutions", "PReLU"]),
        (lambda t, c: _chain(t, c, lambda: nn.MaxPool2d(3, 1, 1)), ["MaxPool2d", "elementwise"]),
        (  # no 10**6-pixel test image: the verdict comes first
            lambda t, c: nn.Conv2d(c, c, 3, padding=10**6, dilation=10**6, bias=False),
            ["far more than the target"],
        ),
    ],
    ids=["conv reused", "pool in forward", "parallel", "PReLU", "MaxPool2d", "huge dilation"],
)
def test_dense_field_network_still_rejects_what_is_not_a_chain_of_convs(network, words):
    verdict = check.dense_field_network.verdict(network)
    assert verdict.status == "failed", str(verdict)
    for word in words:
        assert word in str(verdict), str(verdict)


# -------------------------------------------------------------- misleading verdicts


def _same_padding_marking_impossible(marker):
    def answer(k, d=1):
        total = d * (k - 1)
        return marker if total % 2 else total // 2

    return answer


@pytest.mark.parametrize("marker", [-1, float("nan"), False, np.float64("nan")])
def test_same_padding_says_impossible_cases_return_none(marker):
    text = str(check.same_padding.verdict(_same_padding_marking_impossible(marker)))
    assert "not right yet" in text
    for word in ["odd", "return None", "not a marker value"]:
        assert word in text, text
    assert "raised" not in text and "expected a whole number" not in text


def test_avg_pool2d_conv_with_padding_gets_the_padding_hint():
    def padded(x, k, s):
        c = x.shape[1]
        weight = torch.full((c, 1, k, k), 1.0 / (k * k), dtype=torch.float64)
        out = torch.nn.functional.conv2d(torch.from_numpy(x), weight, stride=s, padding=1, groups=c)
        return out.numpy()

    text = str(check.avg_pool2d_conv.verdict(padded))
    assert "padded" in text and "padding=1" in text, text
    assert "stride=stride" not in text, text


def test_gram_matrix_divided_by_chw_gets_its_own_hint():
    def normalised(features):
        c, h, w = features.shape
        flat = features.reshape(c, h * w)
        return flat @ flat.T / (c * h * w)

    text = str(check.gram_matrix.verdict(normalised))
    assert "C·H·W" in text and "M = H·W" not in text, text


def test_bottleneck_costs_counting_the_input_gets_an_activation_hint():
    reference = test_check_padding.bottleneck_costs

    def with_input(h, w, c_in, c_out, k, c_mid=None):
        costs = reference(h, w, c_in, c_out, k, c_mid)
        return {**costs, "activations": costs["activations"] + c_in * h * w}

    text = str(check.bottleneck_costs.verdict(with_input))
    assert "activations:" in text and "input" in text, text
    assert "MACs" not in text, text


@pytest.mark.parametrize(
    "checker, instance",
    [
        (check.inception_module, lambda: test_check_efficient.Inception(6, 4, 3, 5, 2, 3, 7)),
        (check.basic_block, lambda: test_check_efficient.Block(8, 8, 1)),
        (check.bottleneck_block, lambda: test_check_efficient.Block(16, 4, 1, kind="bottleneck")),
    ],
    ids=["9.1", "9.3", "9.4"],
)
def test_an_instance_instead_of_the_class_is_explained(checker, instance):
    text = str(checker.verdict(instance()))
    assert "pass the class itself" in text and "already built" in text, text
    assert "TypeError" not in text, text


def test_conv3d_cost_in_flops_gets_the_flop_hint():
    reference = test_check_beyond.conv3d_cost

    def flops(*args):
        params, macs = reference(*args)
        return params, 2 * macs

    text = str(check.conv3d_cost.verdict(flops))
    assert "FLOP" in text and "half" in text, text


def _full_xcorr(a, s):
    kh, kw = s.shape
    return test_check.xcorr2d(np.pad(a, ((kh - 1, kh - 1), (kw - 1, kw - 1))), s)


@pytest.mark.parametrize(
    "answer, words",
    [
        (lambda a, k: _full_xcorr(a, k), ["not flipped"]),
        (lambda a, k: _full_xcorr(a, k[::-1]), ["one axis only", "k2[::-1, ::-1]"]),
        (lambda a, k: _full_xcorr(a, k[:, ::-1]), ["one axis only", "k2[::-1, ::-1]"]),
        (lambda a, k: test_check.full_conv(a, k)[::-1, ::-1], ["rotated by 180°"]),
    ],
    ids=["not flipped", "flipped upside down only", "flipped left-right only", "rotated"],
)
def test_combined_kernel_names_the_flip_mistake(answer, words):
    text = str(check.combined_kernel.verdict(answer))
    assert "Hint" in text and "values are wrong. The largest" not in text, text
    for word in words:
        assert word in text, text


def test_max_pool_backward_last_tie_gets_a_tie_hint():
    def last_tie(dout, x, kernel_size, stride):
        dx = np.zeros_like(x)
        for index in np.ndindex(dout.shape):
            n, c, i, j = index
            window = x[
                n, c, i * stride : i * stride + kernel_size, j * stride : j * stride + kernel_size
            ]
            flat = window.ravel()
            last = flat.size - 1 - int(np.argmax(flat[::-1]))
            u, v = np.unravel_index(last, window.shape)
            dx[n, c, i * stride + u, j * stride + v] += dout[index]
        return dx

    text = str(check.max_pool2d_backward_naive.verdict(last_tie))
    for word in ["tie", "*first*", "last one", ">="]:
        assert word in text, text


# ------------------------------------------------------------------- shared helpers


def test_every_checker_says_the_same_about_a_missing_return():
    for checker, (reference, listed) in CASES.items():
        if checker is check.same_padding:
            continue  # None is one of its right answers: its verdict says when None is wrong
        count = len(arguments(reference[0] if isinstance(reference, list) else reference))
        answers = [lambda *args: None] * count
        if "returns None" in listed:  # e.g. one that calls f first, as 6.4 requires
            answers = arguments(listed["returns None"][0])
        text = str(checker.verdict(*answers))
        assert "Did you forget" in text and "return" in text, text


def test_a_wrong_value_is_shown_with_enough_digits_to_see_the_difference():
    expected = np.array([-5.68137, 1.0])
    got = expected + np.array([4e-6, 0.0])
    with pytest.raises(Mismatch) as info:
        compare(got, expected, case="Case 1", atol=0, rtol=1e-7)
    text = str(info.value)
    shown = text.split("got ")[1].split(", expected ")
    assert shown[0] != shown[1].rstrip(".").split(".\n")[0], text
    listed = text.split("got:\n")[1].split("\nexpected:\n")
    assert listed[0] != listed[1], text


def test_float32_answers_get_float32_tolerances():
    expected = np.linspace(-3, 3, 12)
    rounded = expected.astype(np.float32) * np.float32(1 + 3e-7)
    compare(rounded, expected, case="Case 1", atol=1e-9, rtol=1e-7)  # passes: float32 rounding
    with pytest.raises(Mismatch):
        compare(rounded.astype(np.float64), expected, case="Case 1", atol=1e-9, rtol=1e-7)
    with pytest.raises(Mismatch):  # a real mistake is still one in float32
        compare((expected * 1.001).astype(np.float32), expected, case="Case 1")
