"""Networks the course trains once and ships in ``data/weights/``, with their recipes.

A trained network's exact weights depend on the CPU that trained it (its kernels round
differently), and notebooks that look *inside* a network (notebook 10) amplify those last
bits. So the course ships the weights, and every machine starts from the same numbers::

    from helpers.models.trained import trained_model
    model = trained_model("lenet5_mnist")          # LeNet-5, weights from data/weights/

Each shipped network has a :class:`Recipe`: how to build it, and how to train it from a fixed
seed. ``scripts/make_weights.py`` runs the recipe and writes ``data/weights/<name>.pt``;
notebooks call the *same* function when a student retrains the network, so the script and
the notebook cannot drift apart. Adding a network = one function and one :data:`RECIPES` entry,
then ``python scripts/make_weights.py NAME``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from .lenet import LeNet5
from .small import SmallCNN

__all__ = [
    "RECIPES",
    "Recipe",
    "fashion_test_set",
    "full_fashion_mnist",
    "lenet5_mnist",
    "mnist_test_set",
    "smallcnn_fashion",
    "train_lenet5_mnist",
    "train_smallcnn_fashion",
    "trained_model",
]


@dataclass(frozen=True)
class Recipe:
    """How a shipped network is built and trained.

    Attributes:
        build: a function returning the untrained architecture (an ``nn.Module``).
        train: ``train(seed=..., progress=...) -> (model, history)``: builds the network from
            ``seed``, trains it and returns it in eval mode with its ``helpers.train.History``.
        seed: the seed the shipped weights were made with.
        min_test_acc: the test accuracy the shipped weights must reach (checked by the
            script and by the tests).
        description: one line for ``data/README.md``.
        test_set: ``test_set() -> (x_test, y_test)``, the images (uint8 ``(N, 28, 28)``) and
            labels the script measures the test accuracy on.
        test_name: what ``test_set`` is, for ``data/README.md`` ("2 000 MNIST test digits").
    """

    build: Callable[[], nn.Module]
    train: Callable[..., tuple[nn.Module, object]]
    seed: int
    min_test_acc: float
    description: str
    test_set: Callable[[], tuple] = None  # type: ignore[assignment]  (set in __post_init__)
    test_name: str = "the 2 000 test digits of `mnist_small.npz`"

    def __post_init__(self) -> None:
        if self.test_set is None:
            object.__setattr__(self, "test_set", mnist_test_set)


def mnist_test_set():
    """``(x_test, y_test)`` of :func:`helpers.data.load_mnist`: 2 000 digits."""
    from ..data import load_mnist

    return load_mnist()[2:]


def _fit(build, data, seed: int, progress: bool, **options):
    """``helpers.set_seed(seed)``, ``build()``, then ``helpers.train.fit`` on the CPU.

    ``data``: ``(x_train, y_train, x_test, y_test)`` (uint8 images); ``options``: the
    recipe's arguments of ``fit`` (epochs, lr, ...). Returns ``(model, history)``.
    """
    from .. import set_seed
    from ..data import as_tensor_dataset
    from ..train import fit

    x_train, y_train, x_test, y_test = data
    set_seed(seed)
    model = build()
    history = fit(
        model,
        as_tensor_dataset(x_train, y_train),
        as_tensor_dataset(x_test, y_test),
        device=torch.device("cpu"),
        seed=seed,
        progress=progress,
        **options,
    )
    return model, history


def lenet5_mnist() -> LeNet5:
    """The architecture of ``"lenet5_mnist"``: ``LeNet5(activation="relu", pooling="max")``."""
    return LeNet5(activation="relu", pooling="max")


def train_lenet5_mnist(seed: int = 0, progress: bool = False, epochs: int = 2):
    """Train ``"lenet5_mnist"`` from scratch: the recipe of the shipped weights.

    ``helpers.set_seed(seed)``, build :func:`lenet5_mnist`, then ``helpers.train.fit`` on the
    10 000 training digits of ``helpers.data.load_mnist()`` (Adam, learning rate 2e-3,
    batches of 64, ``epochs`` passes; 2 for the shipped weights), on the CPU, evaluated on the
    2 000 test digits after every epoch. About 10 s on a laptop CPU.

    Returns:
        ``(model, history)``: the trained LeNet-5 in eval mode and its ``History``
        (``history.test_acc[-1]`` is the final test accuracy, about 0.97).
    """
    from ..data import load_mnist

    return _fit(lenet5_mnist, load_mnist(), seed, progress, epochs=epochs, lr=2e-3)


def full_fashion_mnist():
    """All of Fashion-MNIST from the Debian package: :func:`helpers.data.load_full_fashion_mnist`
    (the data the ``"smallcnn_fashion"`` recipe trains and is tested on)."""
    from ..data import load_full_fashion_mnist

    return load_full_fashion_mnist()


def fashion_test_set():
    """``(x_test, y_test)``: the official 10 000 Fashion-MNIST test images (Debian package)."""
    return full_fashion_mnist()[2:]


def smallcnn_fashion() -> SmallCNN:
    """The architecture of ``"smallcnn_fashion"``: :class:`~helpers.models.small.SmallCNN`."""
    return SmallCNN()


def train_smallcnn_fashion(seed: int = 0, progress: bool = False, epochs: int = 4):
    """Train ``"smallcnn_fashion"`` from scratch: the recipe of the shipped weights.

    ``helpers.set_seed(seed)``, build :func:`smallcnn_fashion`, then ``helpers.train.fit`` on
    the **full** Fashion-MNIST training set (60 000 images, :func:`full_fashion_mnist`):
    Adam, learning rate 2e-3 with a cosine schedule, batches of 128, ``epochs`` passes (4 for
    the shipped weights), on the CPU, evaluated on the 10 000 test images after every epoch.
    About a minute on one laptop core.

    Returns:
        ``(model, history)``: the trained network in eval mode and its ``History``.
    """
    return _fit(
        smallcnn_fashion,
        full_fashion_mnist(),
        seed,
        progress,
        epochs=epochs,
        lr=2e-3,
        batch_size=128,
        schedule="cosine",
    )


RECIPES: dict[str, Recipe] = {
    "lenet5_mnist": Recipe(
        build=lenet5_mnist,
        train=train_lenet5_mnist,
        seed=0,
        min_test_acc=0.95,
        description=(
            'LeNet-5 (ReLU, max pooling; `LeNet5(activation="relu", pooling="max")`) trained '
            "on `mnist_small.npz` for 2 epochs (Adam, lr 2e-3, batch 64, seed 0): notebook 10"
        ),
    ),
    "smallcnn_fashion": Recipe(
        build=smallcnn_fashion,
        train=train_smallcnn_fashion,
        seed=0,
        min_test_acc=0.88,
        description=(
            "`SmallCNN()` (3 conv blocks of 16, 32, 64 channels, flattened to 576 features, linear "
            "head; `helpers.models.small`) trained on the full Fashion-MNIST training set "
            "(60 000 images, Debian `dataset-fashion-mnist`) for 4 epochs (Adam, lr 2e-3, "
            "cosine schedule, batch 128, seed 0): notebook 12"
        ),
        test_set=fashion_test_set,
        test_name="the 10 000 official Fashion-MNIST test images",
    ),
}
"""``{name: Recipe}`` of every network shipped in ``data/weights/<name>.pt``."""


def trained_model(name: str) -> nn.Module:
    """Build the network ``name`` and load its shipped weights; eval mode, on the CPU.

    Raises:
        ValueError: ``name`` has no recipe (see :data:`RECIPES`).
        helpers.data.DataFileError: its weights file is missing or corrupt.
    """
    from ..data import load_weights

    if name not in RECIPES:
        raise ValueError(
            f"trained_model: unknown network {name!r}; available: {', '.join(sorted(RECIPES))}"
        )
    model = RECIPES[name].build()
    model.load_state_dict(load_weights(name))
    return model.eval()
