"""helpers.practice (notebook 12) and helpers.models.small, against PyTorch where it has one."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers import practice
from helpers.models.small import SmallCNN

pytestmark = pytest.mark.usefixtures("one_torch_thread")


# --------------------------------------------------------------------- initialization


@pytest.mark.parametrize(
    "shape", [(64, 16, 3, 3), (32, 1, 3, 3), (10, 128), (16, 4, 7), (8, 3, 3, 5, 5)]
)
def test_fans_match_torch(shape):
    expected = nn.init._calculate_fan_in_and_fan_out(torch.empty(shape))
    assert practice.fan_in_and_out(shape) == expected


@pytest.mark.parametrize("shape", [(128, 64, 3, 3), (256, 1, 5, 5), (1000, 300)])
def test_kaiming_normal_has_the_statistics_of_torch(shape):
    ours = practice.kaiming_normal(shape, np.random.default_rng(0))
    theirs = torch.empty(shape)
    nn.init.kaiming_normal_(theirs, nonlinearity="relu", generator=torch.Generator().manual_seed(0))
    assert ours.shape == shape
    assert abs(ours.std() / practice.kaiming_std(shape) - 1) < 0.02
    assert abs(theirs.std().item() / practice.kaiming_std(shape) - 1) < 0.02
    assert abs(ours.mean()) < 0.01 * practice.kaiming_std(shape) * 10


def test_init_std_of_the_pytorch_default_matches_nn_conv2d():
    torch.manual_seed(0)
    conv = nn.Conv2d(128, 128, 3)
    assert (
        abs(conv.weight.std().item() / practice.init_std(conv.weight.shape, "pytorch") - 1) < 0.01
    )
    assert practice.init_std((4, 4, 3, 3), "xavier") == pytest.approx(math.sqrt(2 / 72))
    assert practice.init_std((4, 4, 3, 3), "naive") == 0.01


def test_activation_stds_kaiming_keeps_the_scale_and_naive_loses_it():
    x = torch.randn(8, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    model = practice.plain_cnn(depth=10, width=16)
    kaiming = practice.activation_stds(model, x, "kaiming")
    naive = practice.activation_stds(model, x, "naive")
    assert kaiming.shape == (10,) and naive.shape == (10,)
    assert 0.1 < kaiming[-1] / kaiming[0] < 10
    assert naive[-1] < 1e-6 * naive[0]


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: practice.fan_in_and_out((3,)), ValueError, "at least 2 dimensions"),
        (lambda: practice.fan_in_and_out((3, 0, 3)), ValueError, "shape"),
        (lambda: practice.fan_in_and_out(5), TypeError, "tuple of ints"),
        (lambda: practice.init_std((3, 3), "he"), ValueError, "scheme"),
        (lambda: practice.kaiming_normal((3, 3), 0), TypeError, "Generator"),
        (lambda: practice.plain_cnn(0), ValueError, "depth"),
    ],
)
def test_bad_arguments(call, error, words):
    with pytest.raises(error, match=words):
        call()


# ---------------------------------------------------------------------- augmentation


def test_random_crop_is_a_window_of_the_padded_image_and_uniform():
    rng = np.random.default_rng(0)
    image = rng.uniform(0.1, 1, (2, 6, 7))
    padded = np.pad(image, ((0, 0), (2, 2), (2, 2)))
    seen = set()
    for _ in range(500):
        crop = practice.random_crop(image, 2, rng)
        assert crop.shape == image.shape
        hits = [
            (t, s)
            for t in range(5)
            for s in range(5)
            if np.array_equal(crop, padded[:, t : t + 6, s : s + 7])
        ]
        assert len(hits) == 1
        seen.add(hits[0])
    assert len(seen) == 25
    assert np.array_equal(practice.random_crop(image, 0, rng), image)


def test_random_crop_bad_input():
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        practice.random_crop(np.zeros((4, 4)), 1, np.random.default_rng(0))
    with pytest.raises(ValueError, match="padding"):
        practice.random_crop(np.zeros((1, 4, 4)), -1, np.random.default_rng(0))


def test_augment_batch_shifts_and_flips_like_random_crop():
    x = torch.rand(16, 1, 10, 10) + 0.1
    out = practice.augment_batch(x, torch.Generator().manual_seed(0), padding=2)
    assert out.shape == x.shape
    padded = F.pad(x, (2, 2, 2, 2))
    for i in range(16):
        windows = [padded[i, :, t : t + 10, s : s + 10] for t in range(5) for s in range(5)]
        assert any(torch.equal(out[i], w) or torch.equal(out[i], w.flip(-1)) for w in windows)


# -------------------------------------------------------------------- regularization


def test_dropout_scales_like_torch():
    x = np.random.default_rng(1).uniform(0.5, 1.5, (300, 400))
    ours = practice.dropout(x, 0.25, True, np.random.default_rng(0))
    torch.manual_seed(0)
    theirs = F.dropout(torch.from_numpy(x), 0.25, training=True).numpy()
    for y in (ours, theirs):
        kept = y != 0
        assert np.allclose(y[kept], x[kept] / 0.75)
        assert abs(np.mean(~kept) - 0.25) < 0.01
        assert abs(y.mean() / x.mean() - 1) < 0.01
    assert practice.dropout(x, 0.25, False, None) is not None
    assert np.array_equal(practice.dropout(x, 0.25, False, None), x)


@pytest.mark.parametrize("p", [1.0, -0.1, "0.5", True])
def test_dropout_bad_p(p):
    with pytest.raises(ValueError, match="p must be"):
        practice.dropout(np.ones(3), p, True, np.random.default_rng(0))


# -------------------------------------------------------------------------- training


def test_lr_multiplier_cosine_matches_torch_and_warms_up():
    steps = 40
    opt = torch.optim.SGD([nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps)
    torch_lrs = []
    for _ in range(steps):
        torch_lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    cosine = practice.lr_multiplier("cosine", steps)
    assert np.allclose([cosine(k) for k in range(steps)], torch_lrs)
    warm = practice.lr_multiplier("cosine", steps, warmup=4)
    assert [warm(k) for k in range(4)] == [0.25, 0.5, 0.75, 1.0]
    step = practice.lr_multiplier("step", 8)
    assert [step(k) for k in range(8)] == [1, 1, 1, 1, 0.1, 0.1, 0.01, 0.01]
    with pytest.raises(ValueError, match="warmup"):
        practice.lr_multiplier("cosine", 5, warmup=5)
    with pytest.raises(ValueError, match="schedule"):
        practice.lr_multiplier("linear", 5)


def tiny_data(n=64):
    generator = torch.Generator().manual_seed(0)
    return torch.rand(n, 1, 28, 28, generator=generator), torch.arange(n) % 10


def test_train_steps_is_deterministic_and_lowers_the_loss():
    x, y = tiny_data()
    runs = []
    for _ in range(2):
        torch.manual_seed(0)
        model = SmallCNN()
        runs.append(practice.train_steps(model, x, y, steps=30, lr=3e-3, batch_size=16))
    assert runs[0] == runs[1] and len(runs[0]) == 30
    steps = []
    practice.train_steps(SmallCNN(), x, y, steps=4, lr=1e-3, callback=lambda k, m: steps.append(k))
    assert steps == [0, 1, 2, 3]
    assert np.mean(runs[0][-5:]) < runs[0][0]
    assert not model.training
    with pytest.raises(ValueError, match="optimizer"):
        practice.train_steps(model, x, y, steps=1, lr=1e-3, optimizer="rmsprop")
    with pytest.raises(ValueError, match="labels"):
        practice.train_steps(model, x, y[:3], steps=1, lr=1e-3)


def test_train_steps_with_groups_updates_only_their_parameters():
    x, y = tiny_data()
    torch.manual_seed(0)
    model = SmallCNN()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    head = practice.freeze_for_probe(model)
    practice.train_steps(model, x, y, steps=3, lr=1e-2, groups=[{"params": head}])
    after = model.state_dict()
    assert torch.equal(before["block1.0.weight"], after["block1.0.weight"])
    assert not torch.equal(before["head.weight"], after["head.weight"])


def test_lr_range_test_grows_the_rate_and_leaves_the_model_alone():
    x, y = tiny_data()
    torch.manual_seed(0)
    model = SmallCNN()
    before = [p.clone() for p in model.parameters()]
    lrs, losses = practice.lr_range_test(model, x, y, lr_min=1e-3, lr_max=100.0, steps=40)
    assert len(lrs) == len(losses) <= 40
    assert np.all(np.diff(lrs) > 0) and lrs[0] == pytest.approx(1e-3)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))
    with pytest.raises(ValueError, match="lr_min"):
        practice.lr_range_test(model, x, y, lr_min=1.0, lr_max=0.1)


# -------------------------------------------------------------------- transfer learning


def test_per_class_draws_n_of_each_class():
    y = np.repeat(np.arange(10), 30)
    idx = practice.per_class(y, 7, seed=3)
    assert np.all(np.bincount(y[idx]) == 7) and len(set(idx)) == 70
    assert np.array_equal(idx, practice.per_class(y, 7, seed=3))
    with pytest.raises(ValueError, match="class"):
        practice.per_class(y, 31)


def test_freeze_and_param_groups():
    model = SmallCNN()
    head = practice.freeze_for_probe(model)
    assert [n for n, p in model.named_parameters() if p.requires_grad] == [
        "head.weight",
        "head.bias",
    ]
    assert head[0] is model.head.weight
    groups = practice.param_groups(model, 1e-3)
    assert all(p.requires_grad for p in model.parameters())
    assert groups[0]["lr"] == pytest.approx(1e-4) and groups[1]["lr"] == 1e-3
    assert len(groups[0]["params"]) == 4 and len(groups[1]["params"]) == 4
    torch.optim.Adam(groups, lr=1e-3)  # valid groups


def test_linear_probe_trains_only_a_copy_of_the_head():
    x, y = tiny_data()
    torch.manual_seed(0)
    model = SmallCNN()
    state = {k: v.clone() for k, v in model.state_dict().items()}
    head, accuracy = practice.linear_probe(model, x, y, x, y, steps=50, lr=1e-2)
    assert isinstance(head, nn.Linear) and head is not model.head
    assert 0 <= accuracy <= 1
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())


# ------------------------------------------------------------------------- SmallCNN


def test_small_cnn_shapes_and_parameters():
    model = SmallCNN()
    assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert model.features(torch.zeros(2, 1, 28, 28)).shape == (2, 576)
    assert sum(p.numel() for p in model.parameters()) == 29_066
    assert SmallCNN(5, 3)(torch.zeros(1, 3, 28, 28)).shape == (1, 5)
    assert isinstance(SmallCNN(dropout=0.5).drop, nn.Dropout)
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        model(torch.zeros(2, 1, 32, 32))
    with pytest.raises(ValueError, match="dropout"):
        SmallCNN(dropout=1.0)
