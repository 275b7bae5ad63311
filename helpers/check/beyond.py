"""Checkers for notebook 11 (CNNs beyond images): text, spectrograms, 3-D convolution.

Shapes and costs are compared with PyTorch (``nn.Conv1d`` / ``F.conv3d`` on the ``meta``
device, which computes shapes without computing values); the spectrogram filter is applied
to spectrograms of synthesised sounds from :mod:`helpers.signals`.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..costs import model_costs
from ..signals import chirp, spectrogram
from .answers import as_items, whole_number, whole_pair, whole_shape
from .arrays import to_numpy
from .core import Mismatch, answer, call, case_count, checker, numbered_cases
from .grading import COST_COUNTERS, is_hidden, seed

__all__ = [
    "OTHER_SOUNDS",
    "OTHER_TONES",
    "RISING_TONES",
    "conv3d_cost",
    "rising_tone_filter",
    "text_cnn_shapes",
]


# 11.3 asks for the formulas: no counting an nn.Conv3d.
_COUNTERS = COST_COUNTERS


def _shape(value, label: str, what: str) -> tuple[int, ...]:
    """``value`` as a tuple of ints (a tuple, list, torch.Size, 1-D array or tensor)."""
    return whole_shape(value, case=label, name=what)


# ------------------------------------------------------------------------ 11.1

_TEXT_CASES = [
    (32, 20, 50, [(100, 3), (100, 4), (100, 5)]),  # Kim (2014), short sentences
    (1, 7, 16, [(8, 2)]),
    (4, 12, 8, [(8, 1), (6, 2), (4, 3)]),
    (16, 40, 300, [(64, 5), (32, 7)]),
    (2, 5, 10, [(3, 5)]),  # the kernel covers the whole sentence
]
_HIDDEN_TEXT = [
    (7, 11, 3, [(5, 1), (2, 11), (9, 4)]),  # 1-word and whole-sentence filters
    (1, 2, 1, [(1, 2), (4, 1)]),  # a two-word sentence, one embedding dimension
]


# 11.1 has no library shortcut: conv_output_size (which the solution uses) or a Conv1d on the
# meta device give the output lengths, and the exercise is to put them together.
@checker("11.1", "text_cnn_shapes", forbid=())
def text_cnn_shapes(student_fn) -> str:
    """Check ``student_fn(batch, seq_len, embed_dim, branches) -> (shapes, n_features)``.

    ``branches`` is a list of ``(out_channels, kernel_size)``; each branch is an
    ``nn.Conv1d(embed_dim, out_channels, kernel_size)`` (stride 1, no padding) applied to
    the embedded sentences ``(batch, embed_dim, seq_len)``; ``shapes`` lists the output
    shape of each branch, and ``n_features`` is the length of the feature vector of one
    sentence after max-pooling each branch over time and concatenating.
    """
    for heading, (batch, length, embed, branches) in numbered_cases(
        _TEXT_CASES, hidden=_HIDDEN_TEXT
    ):
        label = (
            f"{heading} (batch={batch}, seq_len={length}, embed_dim={embed}, branches={branches})"
        )
        x = torch.empty(batch, embed, length, device="meta")
        expected = [
            tuple(F.conv1d(x, torch.empty(c, embed, k, device="meta")).shape) for c, k in branches
        ]
        features = sum(c for c, _ in branches)
        got = answer(student_fn, batch, length, embed, [tuple(b) for b in branches], case=label)
        if not isinstance(got, (tuple, list)) or len(got) != 2:
            raise Mismatch(f"{label}:\nexpected a pair (shapes, n_features), got {got!r}.")
        returned, n_features = got
        shapes = as_items(returned)
        if getattr(returned, "ndim", None) == 2:  # one row per branch: an array or tensor
            shapes = list(returned)
        if shapes is None or len(shapes) != len(branches):
            raise Mismatch(
                f"{label}:\nshapes must be a list with one shape per branch "
                f"({len(branches)}), got {returned!r}."
            )
        for index, ((c, k), want, have) in enumerate(
            zip(branches, expected, shapes, strict=True), start=1
        ):
            have = _shape(have, label, f"the shape of branch {index}")
            if have == want:
                continue
            message = f"{label}:\nbranch {index} (kernel_size={k}): got {have}, expected {want}."
            if len(have) == 2:
                message += "\nHint: keep the batch axis: (N, C_out, L_out)."
            elif len(have) == 3 and have[2] == embed - k + 1 and embed != length:
                message += (
                    "\nHint: the filter slides along the embedding axis. It must slide "
                    "along time (the words); the embedding is the channel axis, which "
                    "every filter covers in full."
                )
            elif len(have) == 3 and have[2] in (length - k, length, length + k - 1):
                message += "\nHint: off by one: a kernel of size K fits at L - K + 1 positions."
            elif len(have) == 3 and have[1] == embed and embed != c:
                message += "\nHint: the output has one channel per filter: out_channels."
            elif len(have) == 3 and have[0] != batch:
                message += "\nHint: the batch size does not change in a convolution."
            raise Mismatch(message)
        n_features = whole_number(n_features, case=label, name="n_features")
        if n_features != features:
            message = f"{label}:\nn_features is {n_features}, expected {features}."
            if n_features == sum(s[1] * s[2] for s in expected):
                message += (
                    "\nHint: max-pooling over time keeps one number per filter: the sentence "
                    "length disappears."
                )
            else:
                message += "\nHint: each branch contributes one feature per filter."
            raise Mismatch(message)
    count = case_count(_TEXT_CASES, _HIDDEN_TEXT)
    return (
        f"{count} cases match nn.Conv1d; the feature vector has one entry per filter, "
        "whatever the sentence length."
    )


# ------------------------------------------------------------------------ 11.2

_SAMPLE_RATE = 8000
_MARGIN = 1.5


# The sounds the check of Exercise 11.2 plays, 0.5 s each: (name, start Hz, end Hz, harmonics).
# Notebook 11 prints them (how fast each rises), so that students know the margin they need.
RISING_TONES = (
    ("a tone rising 500 -> 2500 Hz", 500, 2500, 1),
    ("a tone rising 1000 -> 3000 Hz", 1000, 3000, 1),
    ("a voice-like tone rising 300 -> 1500 Hz (2 harmonics)", 300, 1500, 2),
    ("a fast rise 200 -> 3900 Hz", 200, 3900, 1),
    ("a slow rise 1500 -> 2800 Hz", 1500, 2800, 1),
)
OTHER_TONES = (
    ("a tone falling 2500 -> 500 Hz", 2500, 500, 1),
    ("a tone falling 3000 -> 1200 Hz", 3000, 1200, 1),
    ("a steady 1500 Hz tone", 1500, 1500, 1),
    ("a steady 400 Hz tone with 5 harmonics", 400, 400, 5),
)
OTHER_SOUNDS = ("a train of clicks (onsets)", "white noise")  # played after OTHER_TONES
# Grading mode plays three more tones (and other white noise): each is a listed tone moved to
# other frequencies, rising or falling by as many rows per frame, so that a kernel which
# separates the listed sounds responds to them alike.
_HIDDEN_RISING = (("a tone rising 700 -> 2700 Hz", 700, 2700, 1),)
_HIDDEN_OTHER = (
    ("a tone falling 2700 -> 700 Hz", 2700, 700, 1),
    ("a steady 2200 Hz tone", 2200, 2200, 1),
)


@functools.cache
def _spectrograms(
    noise_seed: int, hidden: bool
) -> tuple[list[tuple[str, np.ndarray]], list[tuple[str, np.ndarray]]]:
    """Test spectrograms: (rising tones, other sounds), each a list of (name, spec (F, T));
    ``hidden``: with the tones only grading mode plays."""
    random = np.random.default_rng(noise_seed)
    clicks = np.zeros(_SAMPLE_RATE // 2)
    clicks[::1000] = 1.0
    rising_tones = RISING_TONES + (_HIDDEN_RISING if hidden else ())
    other_tones = OTHER_TONES + (_HIDDEN_OTHER if hidden else ())
    rising = [(name, chirp(a, b, harmonics=h)) for name, a, b, h in rising_tones]
    others = [(name, chirp(a, b, harmonics=h)) for name, a, b, h in other_tones]
    noise = random.standard_normal(_SAMPLE_RATE // 2)
    others += list(zip(OTHER_SOUNDS, (clicks, noise), strict=True))
    return (
        [(name, spectrogram(sound)[0]) for name, sound in rising],
        [(name, spectrogram(sound)[0]) for name, sound in others],
    )


def _peak(spec: np.ndarray, kernel: np.ndarray) -> float:
    """Largest value of the valid cross-correlation of ``spec`` (F, T) with ``kernel``."""
    out = F.conv2d(torch.from_numpy(spec)[None, None], torch.from_numpy(kernel)[None, None])
    return float(out.max())


# 11.2 is a design exercise: no library function returns such a kernel.
@checker("11.2", "rising_tone_filter", forbid=())
def rising_tone_filter(student_fn) -> str:
    """Check ``student_fn() -> kernel (kF, kT)``: its peak response (valid cross-correlation
    with the spectrogram, frequency along axis 0 with row 0 the lowest frequency) must be
    at least 1.5 times larger for every rising tone than for any other test sound."""
    label = "Your kernel"
    kernel = to_numpy(call(student_fn, case=label), case=label, name="your kernel")
    if kernel.ndim != 2:
        raise Mismatch(
            f"{label} has shape {tuple(kernel.shape)}: expected a 2-D array (frequency, time)."
        )
    if not (2 <= kernel.shape[0] <= 15 and 2 <= kernel.shape[1] <= 15):
        raise Mismatch(
            f"{label} has shape {tuple(kernel.shape)}: use between 2 and 15 rows and columns."
        )
    kernel = kernel.astype(np.float64)
    if not np.all(np.isfinite(kernel)):
        raise Mismatch(f"{label} contains NaN or infinity.")
    rising, others = _spectrograms(seed(110), is_hidden())
    peaks_up = [(name, _peak(spec, kernel)) for name, spec in rising]
    peaks_other = [(name, _peak(spec, kernel)) for name, spec in others]
    weakest = min(peaks_up, key=lambda item: item[1])
    strongest = max(peaks_other, key=lambda item: item[1])
    if weakest[1] > 0 and weakest[1] >= _MARGIN * max(strongest[1], 0.0):
        return (
            f"weakest rising tone {weakest[1]:.2f}, strongest other sound {strongest[1]:.2f}: "
            "your filter detects rising tones."
        )
    message = (
        f"{label} responds {weakest[1]:.3g} to {weakest[0]} but {strongest[1]:.3g} to "
        f"{strongest[0]}; every rising tone should give at least {_MARGIN} times the peak "
        "of any other sound."
    )
    flipped_up = min(_peak(spec, kernel[::-1].copy()) for _, spec in rising)
    if np.allclose(kernel, kernel.mean()):
        message += "\nHint: a constant kernel only measures loudness; it sees no direction."
    elif "falling" in strongest[0] and flipped_up > 0:
        message += (
            "\nHint: your filter prefers falling tones. Row 0 of the spectrogram is the "
            "lowest frequency (plots use origin='lower'), so a rising tone moves to *higher* "
            "row indices as the column index grows: kernel[i, i], not kernel[i, K - 1 - i]."
        )
    elif abs(kernel.sum()) > 1e-6 * np.abs(kernel).sum():
        message += (
            "\nHint: make the kernel sum to zero (subtract its mean), so that a loud region "
            "with no pattern, like noise or a steady tone, gives no response."
        )
    else:
        message += (
            "\nHint: a diagonal line of positive weights (the rising line) on a zero-mean "
            "background; a longer diagonal (7 x 7) separates better than a short one."
        )
    raise Mismatch(message)


# ------------------------------------------------------------------------ 11.3

_COST_CASES = [
    ((3, 16, 112, 112), 64, 3, 1, 1),  # C3D conv1a
    ((64, 8, 56, 56), 128, 3, 1, 1),  # C3D conv2a after pooling
    ((3, 32, 224, 224), 64, (3, 7, 7), (1, 2, 2), (1, 3, 3)),  # an I3D-style stem
    ((1, 40, 64, 64), 16, (3, 3, 3), 2, 0),  # a CT volume, strided
    ((32, 8, 28, 28), 32, (1, 3, 3), 1, (0, 1, 1)),  # spatial only, as in (2+1)D
    ((16, 10, 14, 14), 8, (3, 1, 1), 1, 0),  # temporal only
]
_HIDDEN_COSTS = [
    ((2, 5, 9, 7), 3, (5, 9, 7), 1, 0),  # a kernel as large as the input: one output
    ((4, 7, 11, 13), 6, (2, 3, 4), (3, 2, 1), (1, 0, 2)),  # a different triple on every axis
    ((5, 9, 6, 6), 2, 3, (2, 3, 1), 2),
]


def _triple(value) -> tuple[int, int, int]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * 3


@checker("11.3", "conv3d_cost", forbid=_COUNTERS)
def conv3d_cost(student_fn) -> str:
    """Check ``student_fn(in_shape, out_channels, kernel_size, stride, padding) ->
    (params, macs)`` for ``nn.Conv3d`` with bias on one input ``(C, D, H, W)``."""
    count = 0
    for heading, args in numbered_cases(_COST_CASES, hidden=_HIDDEN_COSTS):
        count += 1
        shape, c_out, k, s, p = args
        label = (
            f"{heading}: in_shape={shape}, out_channels={c_out}, "
            f"kernel_size={k}, stride={s}, padding={p}"
        )
        got = call(student_fn, *args, case=label)
        kd, kh, kw = _triple(k)
        out = F.conv3d(
            torch.empty(1, *shape, device="meta"),
            torch.empty(c_out, shape[0], kd, kh, kw, device="meta"),
            stride=s,
            padding=p,
        ).shape
        outputs = c_out * out[2] * out[3] * out[4]
        weights = c_out * shape[0] * kd * kh * kw
        params, macs = model_costs(nn.Conv3d(shape[0], c_out, k, s, p, device="meta"), shape)
        got_params, got_macs = whole_pair(got, case=label, names=("params", "macs"))
        if (got_params, got_macs) == (params, macs):
            continue
        if (got_params, got_macs) == (macs, params):
            raise Mismatch(f"{label}:\nthe two numbers are swapped: return (params, macs).")
        if got_params != params:
            message = f"{label}:\nparams is {got_params:,}, expected {params:,}."
            if got_params == weights:
                message += "\nHint: add the biases, one per filter (out_channels)."
            elif got_params in (weights // kd + c_out, weights // kd):
                message += (
                    "\nHint: a 3-D filter also extends over kD frames: "
                    "C_out * C_in * kD * kH * kW weights."
                )
            raise Mismatch(message)
        message = f"{label}:\nmacs is {got_macs:,}, expected {macs:,}."
        n_in = c_out * shape[1] * shape[2] * shape[3]
        if got_macs == macs // kd:
            message += "\nHint: each output value needs C_in * kD * kH * kW multiply-adds."
        elif got_macs == n_in * shape[0] * kd * kh * kw:
            message += (
                "\nHint: that counts one output per input position; use the output size "
                "floor((n + 2p - k) / s) + 1 along D, H and W."
            )
        elif got_macs == macs + outputs:
            message += "\nHint: adding the bias is not a multiply-accumulate; leave it out."
        elif got_macs in (2 * macs, 2 * macs + outputs):
            message += (
                "\nHint: that is the FLOP count (a multiply and an add per term); MACs are "
                "half of it."
            )
        raise Mismatch(message)
    return f"{count} cases match nn.Conv3d (C3D, an I3D stem, a CT volume, (2+1)D)."
