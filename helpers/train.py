"""A small, readable training loop for classifiers: :func:`fit` and :func:`evaluate`.

::

    from helpers.data import load_mnist, as_tensor_dataset
    from helpers.models import LeNet5
    from helpers.train import fit

    x_train, y_train, x_test, y_test = load_mnist()
    history = fit(LeNet5("relu", "max"), as_tensor_dataset(x_train, y_train),
                  as_tensor_dataset(x_test, y_test), epochs=5, lr=1e-3)
    history.test_acc[-1]     # accuracy on the test set after the last epoch
    history.plot()           # loss and accuracy curves (a matplotlib Figure)

Loss is cross-entropy on the model's logits; accuracy is the fraction of arg-max
predictions equal to the label. Training is deterministic given ``seed`` (on the CPU, and
on a GPU up to the non-determinism that ``torch.use_deterministic_algorithms`` allows):
the model is *not* re-initialised, so seed before building it, too
(``helpers.set_seed(0)``). A tqdm progress bar shows the epochs; it is off when
``progress=False`` or when the environment variable ``TQDM_DISABLE`` is set (the tests
and nbval set it).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

from . import set_seed
from ._validate import as_int

__all__ = ["History", "evaluate", "fit"]

_OPTIMIZERS = ("adam", "sgd")
_SCHEDULES = ("constant", "cosine")


@dataclass
class History:
    """Per-epoch metrics of :func:`fit`; entry ``i`` is measured after epoch ``i + 1``.

    Attributes:
        train_loss, train_acc: mean loss and accuracy over the epoch's mini-batches
            (measured while training, with the model in train mode).
        test_loss, test_acc: loss and accuracy on ``test_data`` after the epoch (eval
            mode); empty lists when ``fit`` had no test data.
        seconds: wall-clock time of each epoch (training and evaluation).
    """

    train_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        """Number of epochs recorded."""
        return len(self.train_loss)

    def plot(self, title: str | None = None):
        """Loss (left) and accuracy (right) against the epoch; returns the Figure."""
        import matplotlib.pyplot as plt

        epochs = range(1, self.epochs + 1)
        fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(9, 3.2), layout="constrained")
        for ax, (train, test, label) in zip(
            (ax_loss, ax_acc),
            [
                (self.train_loss, self.test_loss, "cross-entropy loss"),
                (self.train_acc, self.test_acc, "accuracy"),
            ],
            strict=True,
        ):
            ax.plot(epochs, train, "o-", color="tab:blue", label="train")
            if test:
                ax.plot(epochs, test, "s-", color="tab:orange", label="test")
            ax.set_xlabel("epoch")
            ax.set_ylabel(label)
            ax.grid(alpha=0.3)
            ax.xaxis.get_major_locator().set_params(integer=True)
            ax.legend()
        if title:
            fig.suptitle(title)
        return fig


def _check_dataset(data, name: str, fname: str) -> Dataset:
    if not isinstance(data, Dataset):
        raise TypeError(
            f"{fname}: {name} must be a torch Dataset of (image, label) pairs (e.g. from "
            f"helpers.data.as_tensor_dataset), got {type(data).__name__}"
        )
    if len(data) == 0:
        raise ValueError(f"{fname}: {name} is empty")
    return data


def _check_model(model, fname: str) -> nn.Module:
    if not isinstance(model, nn.Module):
        raise TypeError(f"{fname}: model must be a torch.nn.Module, got {type(model).__name__}")
    return model


def _check_lr(lr, fname: str) -> float:
    if isinstance(lr, bool) or not isinstance(lr, (int, float)):
        raise TypeError(f"{fname}: lr must be a positive number, got {lr!r}")
    if not lr > 0:
        raise ValueError(f"{fname}: lr must be positive, got {lr}")
    return float(lr)


def _device(device) -> torch.device:
    """``device`` as a torch.device; None means the GPU if there is one, else the CPU."""
    if device is None:
        from . import get_device

        return get_device()
    return torch.device(device)


def evaluate(model: nn.Module, data: Dataset, batch_size: int = 500, device=None):
    """Mean cross-entropy loss and accuracy of ``model`` on ``data``, in eval mode.

    Args:
        model: a classifier mapping ``x: (B, C, H, W)`` to logits ``(B, classes)``.
        data: a Dataset of ``(image, label)`` pairs (labels int64).
        batch_size: images per forward pass (only memory depends on it).
        device: where to run (default: the GPU if there is one, else the CPU); the model
            is moved there.

    Returns:
        ``(loss, accuracy)`` as Python floats. The model's train/eval mode is restored.
    """
    fname = "evaluate"
    model = _check_model(model, fname)
    data = _check_dataset(data, "data", fname)
    batch_size = as_int(batch_size, "batch_size", fname, minimum=1)
    device = _device(device)
    model.to(device)
    was_training = model.training
    model.eval()
    total_loss, correct = 0.0, 0
    try:
        with torch.no_grad():
            for x, y in DataLoader(data, batch_size=batch_size, shuffle=False):
                x, y = x.to(device), y.to(device)
                logits = model(x)
                total_loss += F.cross_entropy(logits, y, reduction="sum").item()
                correct += (logits.argmax(dim=1) == y).sum().item()
    finally:
        model.train(was_training)
    return total_loss / len(data), correct / len(data)


def fit(
    model: nn.Module,
    train_data: Dataset,
    test_data: Dataset | None = None,
    epochs: int = 5,
    lr: float = 1e-3,
    batch_size: int = 64,
    optimizer: str = "adam",
    device=None,
    seed: int = 0,
    progress: bool = True,
    weight_decay: float = 0.0,
    schedule: str = "constant",
) -> History:
    """Train ``model`` (in place) with cross-entropy and return its :class:`History`.

    Args:
        model: a classifier mapping ``x: (B, C, H, W)`` to logits ``(B, classes)``.
        train_data, test_data: Datasets of ``(image, label)`` pairs, e.g. from
            :func:`helpers.data.as_tensor_dataset`; ``test_data`` is evaluated after every
            epoch (optional).
        epochs: passes over ``train_data``.
        lr: learning rate. ``optimizer="adam"`` uses ``torch.optim.Adam``;
            ``"sgd"`` uses SGD with momentum 0.9.
        batch_size: images per step; the data are reshuffled every epoch.
        device: where to train (default: the GPU if there is one, else the CPU); the model
            is moved there and stays there.
        seed: seeds everything (:func:`helpers.set_seed`) and the shuffling, so two runs
            with the same seed and the same initial model give the same history.
        progress: show a tqdm progress bar (also off when ``TQDM_DISABLE`` is set).
        weight_decay: L2 penalty passed to the optimizer.
        schedule: ``"constant"`` keeps the learning rate at ``lr``; ``"cosine"`` lowers
            it after every step along half a cosine, from ``lr`` to 0 at the last step
            (``torch.optim.lr_scheduler.CosineAnnealingLR``), which usually gives a better
            final model for a short training run.

    Returns:
        A :class:`History` with one entry per epoch. The model is left in eval mode.
    """
    fname = "fit"
    model = _check_model(model, fname)
    train_data = _check_dataset(train_data, "train_data", fname)
    if test_data is not None:
        test_data = _check_dataset(test_data, "test_data", fname)
    epochs = as_int(epochs, "epochs", fname, minimum=1)
    lr = _check_lr(lr, fname)
    batch_size = as_int(batch_size, "batch_size", fname, minimum=1)
    if optimizer not in _OPTIMIZERS:
        raise ValueError(f"{fname}: optimizer must be one of {_OPTIMIZERS}, got {optimizer!r}")
    if schedule not in _SCHEDULES:
        raise ValueError(f"{fname}: schedule must be one of {_SCHEDULES}, got {schedule!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"{fname}: seed must be an int, got {seed!r}")
    if isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float)):
        raise TypeError(f"{fname}: weight_decay must be a number >= 0, got {weight_decay!r}")
    if weight_decay < 0:
        raise ValueError(f"{fname}: weight_decay must be >= 0, got {weight_decay}")
    device = _device(device)

    set_seed(seed)
    model.to(device)
    if optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, weight_decay=weight_decay)
    shuffle = torch.Generator().manual_seed(seed)
    loader = DataLoader(
        train_data, batch_size=batch_size, shuffle=True, generator=shuffle, num_workers=0
    )
    scheduler = None
    if schedule == "cosine":
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * len(loader))
    history = History()
    bar = _progress_bar(epochs * len(loader), progress)
    try:
        for epoch in range(1, epochs + 1):
            start = time.perf_counter()
            bar.set_description(f"epoch {epoch}/{epochs}")
            model.train()
            total_loss, correct = 0.0, 0
            for x, y in loader:
                x, y = x.to(device), y.to(device)
                logits = model(x)
                loss = F.cross_entropy(logits, y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                if scheduler is not None:
                    scheduler.step()
                total_loss += loss.item() * len(y)
                correct += (logits.argmax(dim=1) == y).sum().item()
                bar.update()
            history.train_loss.append(total_loss / len(train_data))
            history.train_acc.append(correct / len(train_data))
            metrics = {"loss": history.train_loss[-1], "acc": history.train_acc[-1]}
            if test_data is not None:
                test_loss, test_acc = evaluate(model, test_data, device=device)
                history.test_loss.append(test_loss)
                history.test_acc.append(test_acc)
                metrics["test_acc"] = test_acc
            history.seconds.append(time.perf_counter() - start)
            bar.set_postfix({k: f"{v:.4f}" for k, v in metrics.items()})
    finally:
        bar.close()
    model.eval()
    return history


def _progress_bar(total: int, progress: bool):
    """A tqdm bar: a widget in Jupyter when ipywidgets is installed, else a text bar (the
    text bar avoids tqdm.auto's "IProgress not found" warning without ipywidgets)."""
    try:
        import ipywidgets  # noqa: F401
        from tqdm.auto import tqdm
    except ImportError:
        from tqdm import tqdm

    disabled = not progress or os.environ.get("TQDM_DISABLE", "") not in ("", "0")
    return tqdm(total=total, disable=disabled, unit="batch", leave=True)
