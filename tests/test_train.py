"""helpers.train: reproducible from a seed, can overfit one batch, evaluates correctly."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
import torch
import torch.nn.functional as F
from named_errors import raises_named
from torch import nn
from torch.utils.data import TensorDataset

import helpers
from helpers.models import LeNet5
from helpers.train import History, evaluate, fit

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(autouse=True)
def no_progress_bar(monkeypatch):
    monkeypatch.setenv("TQDM_DISABLE", "1")


def blobs(n: int, seed: int, size: int = 8) -> TensorDataset:
    """A learnable 3-class problem: the class sets the mean brightness of one quadrant."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 3, (n,), generator=g)
    x = 0.3 * torch.randn(n, 1, size, size, generator=g)
    half = size // 2
    for label, (r, c) in enumerate([(0, 0), (0, half), (half, 0)]):
        x[y == label, :, r : r + half, c : c + half] += 1.0
    return TensorDataset(x, y)


def small_cnn() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Dropout(0.2),
        nn.Linear(4 * 4 * 4, 3),
    )


def train_once(seed: int, optimizer: str = "adam") -> tuple[History, dict]:
    helpers.set_seed(0)
    model = small_cnn()
    history = fit(
        model,
        blobs(96, 1),
        blobs(48, 2),
        epochs=3,
        lr=0.01,
        batch_size=16,
        optimizer=optimizer,
        seed=seed,
        device="cpu",
    )
    return history, model.state_dict()


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_two_runs_with_the_same_seed_give_the_same_history(optimizer):
    first, weights1 = train_once(seed=0, optimizer=optimizer)
    second, weights2 = train_once(seed=0, optimizer=optimizer)
    assert first.train_loss == second.train_loss
    assert first.train_acc == second.train_acc
    assert first.test_loss == second.test_loss and first.test_acc == second.test_acc
    for name in weights1:
        assert torch.equal(weights1[name], weights2[name]), name
    other, _ = train_once(seed=1, optimizer=optimizer)
    assert other.train_loss != first.train_loss  # the seed drives shuffling and dropout


def test_history_has_one_entry_per_epoch_and_learns():
    history, _ = train_once(seed=0)
    assert history.epochs == 3
    for values in (history.train_loss, history.train_acc, history.test_loss, history.test_acc):
        assert len(values) == 3 and all(isinstance(v, float) for v in values)
    assert len(history.seconds) == 3
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.test_acc[-1] > 0.8  # an easy problem


def test_one_batch_overfit_drives_the_loss_to_zero():
    torch.manual_seed(0)
    x = torch.rand(16, 1, 28, 28)
    y = torch.arange(16) % 10  # random images, arbitrary labels: only memorisation works
    helpers.set_seed(0)
    model = LeNet5("relu", "max")
    history = fit(model, TensorDataset(x, y), epochs=150, lr=3e-3, batch_size=16, device="cpu")
    assert history.train_loss[0] > 2.0  # starts near log(10) = 2.30
    assert history.train_loss[-1] < 0.01
    assert history.train_acc[-1] == 1.0
    assert history.test_loss == [] and history.test_acc == []
    assert evaluate(model, TensorDataset(x, y), device="cpu")[1] == 1.0


@pytest.mark.parametrize("batch_size", [1, 7, 48, 500])
def test_evaluate_matches_a_direct_computation(batch_size):
    torch.manual_seed(3)
    data = blobs(48, 5)
    model = small_cnn()
    model.train()
    x, y = data.tensors
    with torch.no_grad():
        logits = model.eval()(x)
    model.train()
    expected_loss = F.cross_entropy(logits, y).item()
    expected_acc = (logits.argmax(1) == y).float().mean().item()
    loss, acc = evaluate(model, data, batch_size=batch_size, device="cpu")
    assert loss == pytest.approx(expected_loss, rel=1e-5)
    assert acc == pytest.approx(expected_acc)
    assert model.training  # the mode is restored
    assert isinstance(loss, float) and isinstance(acc, float)


def test_evaluate_is_deterministic_with_dropout():
    model, data = small_cnn(), blobs(32, 7)
    assert evaluate(model, data, device="cpu") == evaluate(model, data, device="cpu")


def test_fit_leaves_the_model_in_eval_mode_on_the_device():
    model = small_cnn()
    fit(model, blobs(16, 1), epochs=1, device="cpu", progress=False)
    assert not model.training
    assert all(p.device.type == "cpu" for p in model.parameters())


def test_history_plot():
    history, _ = train_once(seed=0)
    fig = history.plot(title="blobs")
    assert len(fig.axes) == 2
    assert [len(ax.lines) for ax in fig.axes] == [2, 2]
    assert fig.axes[0].get_ylabel() == "cross-entropy loss"
    plt.close(fig)
    fig = History(train_loss=[1.0, 0.5], train_acc=[0.5, 0.7]).plot()
    assert [len(ax.lines) for ax in fig.axes] == [1, 1]
    plt.close(fig)


def test_progress_bar(monkeypatch, capsys):
    monkeypatch.delenv("TQDM_DISABLE")
    fit(small_cnn(), blobs(16, 1), epochs=2, batch_size=8, device="cpu", progress=True)
    assert "epoch 2/2" in capsys.readouterr().err
    fit(small_cnn(), blobs(16, 1), epochs=1, batch_size=8, device="cpu", progress=False)
    assert capsys.readouterr().err == ""
    monkeypatch.setenv("TQDM_DISABLE", "1")
    fit(small_cnn(), blobs(16, 1), epochs=1, batch_size=8, device="cpu", progress=True)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    "kwargs, error, words",
    [
        (dict(model="lenet"), TypeError, ("fit", "model must be a torch.nn.Module")),
        (dict(train_data=(1, 2)), TypeError, ("fit", "train_data must be a torch Dataset")),
        (dict(test_data=[1]), TypeError, ("fit", "test_data")),
        (dict(epochs=0), ValueError, ("fit", "epochs must be positive")),
        (dict(lr=-0.1), ValueError, ("fit", "lr must be positive")),
        (dict(lr="0.1"), TypeError, ("fit", "lr")),
        (dict(batch_size=2.5), TypeError, ("fit", "batch_size must be an int")),
        (dict(optimizer="rmsprop"), ValueError, ("fit", "optimizer must be one of")),
        (dict(seed=None), TypeError, ("fit", "seed")),
        (dict(weight_decay=-1), ValueError, ("fit", "weight_decay")),
        (dict(train_data=TensorDataset(torch.zeros(0, 1, 8, 8))), ValueError, ("fit", "is empty")),
    ],
)
def test_fit_bad_arguments(kwargs, error, words):
    arguments = dict(model=small_cnn(), train_data=blobs(8, 0), epochs=1, device="cpu")
    arguments.update(kwargs)
    with raises_named(error, *words):
        fit(**arguments)


def test_evaluate_bad_arguments():
    with raises_named(TypeError, "evaluate", "data must be a torch Dataset"):
        evaluate(small_cnn(), torch.zeros(3, 1, 8, 8))
    with raises_named(ValueError, "evaluate", "batch_size must be positive"):
        evaluate(small_cnn(), blobs(4, 0), batch_size=0)
