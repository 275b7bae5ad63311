"""Time one convolution three ways: a naive loop, helpers' im2col + one matmul, and PyTorch.

Usage (``make benchmark-conv`` runs the first)::

    python -m helpers.conv_timing            # the table, best of 5 runs (about 20 s)
    python -m helpers.conv_timing --repeat 2 # quicker, noisier

Two cases, float32, padding 1, 3×3 kernels:

* a small layer (x 2x16x32x32, w 16x16x3x3), where the naive loop runs in full;
* a VGG-like layer (x 8x64x56x56, w 64x64x3x3), where the naive loop would take many
  seconds: it is timed on one output channel of one image and scaled up (``est.``).

Targets (issue 5): ``helpers.conv.conv2d`` within 3x of ``torch.nn.functional.conv2d`` on
the VGG-like layer, and the naive loop at least 100x slower than ``helpers.conv.conv2d`` on
the small case. The exit status is 1 if a target is missed. Timings depend on the machine
and its load: run it on an otherwise idle machine. Notebook 07 calls :func:`benchmark`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from helpers.conv import conv2d

SMALL = ((2, 16, 32, 32), (16, 16, 3, 3))
VGG = ((8, 64, 56, 56), (64, 64, 3, 3))
PADDING = 1


def conv2d_loops(x: np.ndarray, w: np.ndarray, padding: int = 0) -> np.ndarray:
    """The textbook loop: one dot product per output value, ``x: (N, C, H, W)``.

    ``w: (C_out, C, kH, kW)``, stride 1. Returns ``(N, C_out, H_out, W_out)``.
    """
    n, _, h, wd = x.shape
    c_out, _, kh, kw = w.shape
    x_pad = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    out_h, out_w = h + 2 * padding - kh + 1, wd + 2 * padding - kw + 1
    out = np.zeros((n, c_out, out_h, out_w), dtype=np.result_type(x, w))
    for i in range(n):
        for o in range(c_out):
            for r in range(out_h):
                for q in range(out_w):
                    out[i, o, r, q] = np.sum(x_pad[i, :, r : r + kh, q : q + kw] * w[o])
    return out


def best_time(fn: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` runs (after one warm-up run), in seconds."""
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


@dataclass(frozen=True)
class Row:
    case: str
    method: str
    seconds: float
    estimated: bool = False


def benchmark(repeat: int = 5, seed: int = 0) -> list[Row]:
    """Time the three methods on the small and the VGG-like case; return the table rows."""
    rng = np.random.default_rng(seed)
    return [
        *_time_case("small", *SMALL, rng, repeat, naive_in_full=True),
        *_time_case("VGG-like", *VGG, rng, repeat, naive_in_full=False),
    ]


def _time_case(name, x_shape, w_shape, rng, repeat, naive_in_full) -> list[Row]:
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    x_t, w_t = torch.from_numpy(x), torch.from_numpy(w)
    if not np.allclose(
        conv2d(x, w, padding=PADDING),
        F.conv2d(x_t, w_t, padding=PADDING).numpy(),
        rtol=1e-3,
        atol=1e-3,
    ):
        raise AssertionError(f"{name}: helpers.conv.conv2d disagrees with torch")
    label = f"{name}: x {'x'.join(map(str, x_shape))}, w {'x'.join(map(str, w_shape))}"
    if naive_in_full:
        naive = Row(label, "naive loop", best_time(lambda: conv2d_loops(x, w, PADDING), 1))
    else:  # one (image, output channel) pair out of N * C_out, scaled up
        part = best_time(lambda: conv2d_loops(x[:1], w[:1], PADDING), 1)
        naive = Row(label, "naive loop", part * x_shape[0] * w_shape[0], estimated=True)
    return [
        naive,
        Row(label, "helpers im2col", best_time(lambda: conv2d(x, w, padding=PADDING), repeat)),
        Row(label, "torch", best_time(lambda: F.conv2d(x_t, w_t, padding=PADDING), repeat)),
    ]


def seconds(rows: list[Row], case: str, method: str) -> float:
    """Look up one timing: ``case`` is "small" or "VGG-like"."""
    return next(r.seconds for r in rows if r.case.startswith(case) and r.method == method)


def format_table(rows: list[Row]) -> str:
    """The timing table, with each method's time relative to torch and to helpers."""
    lines = [f"{'method':<16}{'seconds':>11}{'x torch':>10}{'x im2col':>10}"]
    for case in dict.fromkeys(r.case for r in rows):
        lines.append(case)
        torch_s = seconds(rows, case, "torch")
        im2col_s = seconds(rows, case, "helpers im2col")
        for r in (r for r in rows if r.case == case):
            time_text = f"{r.seconds:.4f}" + ("*" if r.estimated else " ")
            lines.append(
                f"  {r.method:<14}{time_text:>11}{r.seconds / torch_s:>9.1f}x"
                f"{r.seconds / im2col_s:>9.1f}x"
            )
    lines.append("* estimated from one image and one output channel")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per method (best)")
    args = parser.parse_args(argv)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, float32, padding 1")
    rows = benchmark(repeat=args.repeat)
    print(format_table(rows))
    speedup = seconds(rows, "small", "naive loop") / seconds(rows, "small", "helpers im2col")
    slowdown = seconds(rows, "VGG", "helpers im2col") / seconds(rows, "VGG", "torch")
    ok_speedup, ok_slowdown = speedup >= 100, slowdown <= 3
    verdict = {True: "met", False: "MISSED"}
    print(f"naive / im2col, small case: {speedup:.0f}x (target >= 100x: {verdict[ok_speedup]})")
    print(f"im2col / torch, VGG-like: {slowdown:.2f}x (target <= 3x: {verdict[ok_slowdown]})")
    return 0 if ok_speedup and ok_slowdown else 1


if __name__ == "__main__":
    sys.exit(main())
