"""Offline datasets and images of the course: everything comes from ``data/``, no network.

::

    from helpers.data import load_mnist, load_image
    x_train, y_train, x_test, y_test = load_mnist()  # x: (N, 28, 28) uint8, y: (N,) int64
    cat = load_image("chelsea")                        # (300, 451, 3) float32 in [0, 1]
    state = load_weights("lenet5_mnist")               # a trained network's state dict

Every file is checked against ``data/MANIFEST.json`` (size and sha256) before it is read, so a
missing, truncated or modified file raises :class:`DataFileError` with the way to fix it,
instead of giving wrong numbers. The datasets are stratified subsets of MNIST (10 000 train /
2 000 test) and Fashion-MNIST (5 000 / 1 000), made by ``scripts/make_datasets.py``; see
``data/README.md`` for their provenance and ``data/LICENSES.md`` for their licences.
The trained weights in ``data/weights/`` are made by ``scripts/make_weights.py`` (a fixed
seed and the recipes of :mod:`helpers.models.trained`) and read by :func:`load_weights`.

The folder is ``data/`` next to the ``helpers`` package (:data:`DATA_DIR`); set the environment
variable ``CNN_COURSE_DATA`` to use another copy of it.
"""

from __future__ import annotations

import hashlib
import json
import os
import zipfile
from pathlib import Path

import numpy as np

from ._validate import as_tuple

__all__ = [
    "DATA_DIR",
    "FASHION_MNIST_CLASSES",
    "MNIST_CLASSES",
    "FASHION_DIR",
    "FASHION_FILES",
    "DataFileError",
    "as_tensor_dataset",
    "data_dir",
    "data_status",
    "list_images",
    "list_weights",
    "read_idx",
    "load_fashion_mnist",
    "load_full_fashion_mnist",
    "load_image",
    "load_mnist",
    "load_weights",
    "verify_data",
]

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
"""The repository's ``data/`` folder: the default of :func:`data_dir`."""

ENV_VAR = "CNN_COURSE_DATA"

MNIST_CLASSES = tuple(str(digit) for digit in range(10))
"""Class names of MNIST, indexed by label: ``"0"`` .. ``"9"``."""

FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
"""Class names of Fashion-MNIST, indexed by label."""

_MANIFEST = "MANIFEST.json"
_FIX = (
    "restore it with `git checkout -- {label}` "
    "or regenerate it with `python scripts/make_datasets.py`"
)
_SPLIT_KEYS = ("x_train", "y_train", "x_test", "y_test")
WEIGHTS_FOLDER = "weights"
"""Where the trained weights live, inside the data folder: ``data/weights/<name>.pt``."""
WEIGHTS_SUFFIX = ".pt"

# (path, mtime_ns, size, expected sha256) of files whose hash has been checked; and the parsed
# manifest per (path, mtime_ns, size). A file that changes gets a new key and is checked again.
_verified: set[tuple[str, int, int, str]] = set()
_manifests: dict[tuple[str, int, int], dict[str, dict]] = {}


class DataFileError(OSError):
    """A file of ``data/`` is missing, corrupt (its sha256 does not match) or unreadable."""


def data_dir() -> Path:
    """The data folder: ``$CNN_COURSE_DATA`` if that is set, else :data:`DATA_DIR`."""
    override = os.environ.get(ENV_VAR)
    return Path(override).expanduser().resolve() if override else DATA_DIR


# --- checking files ----------------------------------------------------------------------


def _fix(rel: str) -> str:
    """How to repair ``data/<rel>``: restore it from git, or run the script that makes it."""
    label = f"data/{rel}"
    if rel.startswith(f"{WEIGHTS_FOLDER}/") and rel.endswith(WEIGHTS_SUFFIX):
        name = rel[len(WEIGHTS_FOLDER) + 1 : -len(WEIGHTS_SUFFIX)]
        return (
            f"restore it with `git checkout -- {label}` "
            f"or regenerate it with `python scripts/make_weights.py {name}`"
        )
    return _FIX.format(label=label)


def _error(fname: str, rel: str, problem: str) -> DataFileError:
    label = f"data/{rel}"
    where = f" (in {ENV_VAR}={os.environ[ENV_VAR]})" if os.environ.get(ENV_VAR) else ""
    return DataFileError(f"{fname}: {label}{where} {problem}; {_fix(rel)}")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _manifest(fname: str) -> dict[str, dict]:
    """``{relative path: {"bytes": int, "sha256": str}}`` from ``MANIFEST.json``."""
    path = data_dir() / _MANIFEST
    try:
        stat = path.stat()
    except OSError:
        raise _error(fname, _MANIFEST, "is missing") from None
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _manifests:
        try:
            files = json.loads(path.read_text(encoding="utf-8"))["files"]
            for entry in files.values():
                if not (isinstance(entry["bytes"], int) and isinstance(entry["sha256"], str)):
                    raise ValueError("bad entry")
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            raise _error(fname, _MANIFEST, "is unreadable (not the expected JSON)") from None
        _manifests[key] = files
    return _manifests[key]


def _status(rel: str, entry: dict, use_cache: bool) -> str:
    """``"ok"``, ``"missing"`` or a description of what is wrong with ``data/<rel>``."""
    path = data_dir() / rel
    try:
        stat = path.stat()
    except OSError:
        return "missing"
    if not path.is_file():
        return "missing"
    key = (str(path), stat.st_mtime_ns, stat.st_size, entry["sha256"])
    if use_cache and key in _verified:
        return "ok"
    if stat.st_size != entry["bytes"]:
        return f"has {stat.st_size} bytes instead of {entry['bytes']}"
    try:
        actual = _sha256(path)
    except OSError as error:
        return f"cannot be read ({type(error).__name__})"
    if actual != entry["sha256"]:
        return f"has sha256 {actual[:12]}... instead of {entry['sha256'][:12]}..."
    _verified.add(key)
    return "ok"


def _checked_path(rel: str, fname: str) -> Path:
    """The path of ``data/<rel>`` after checking it against the manifest."""
    files = _manifest(fname)
    if rel not in files:
        raise _error(fname, rel, f"is not listed in data/{_MANIFEST}")
    status = _status(rel, files[rel], use_cache=True)
    if status == "missing":
        raise _error(fname, rel, "is missing")
    if status != "ok":
        raise _error(fname, rel, f"is corrupt: it {status} (see data/{_MANIFEST})")
    return data_dir() / rel


def _check_bool(value, name: str, fname: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{fname}: {name} must be True or False, got {value!r}")
    return bool(value)


# --- MNIST and Fashion-MNIST -------------------------------------------------------------


def _load_split(rel: str, as_float, fname: str):
    as_float = _check_bool(as_float, "as_float", fname)
    path = _checked_path(rel, fname)
    try:
        with np.load(path, allow_pickle=False) as archive:
            arrays = [archive[key] for key in _SPLIT_KEYS]
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise _error(fname, rel, f"is unreadable ({type(error).__name__})") from None
    for x, y in (arrays[0:2], arrays[2:4]):
        if (
            x.dtype != np.uint8
            or x.ndim != 3
            or x.shape[1:] != (28, 28)
            or y.shape != x[:, 0, 0].shape
        ):
            raise _error(fname, rel, "does not hold (N, 28, 28) uint8 images and (N,) labels")
    x_train, y_train, x_test, y_test = arrays
    if as_float:
        x_train = x_train.astype(np.float32) / np.float32(255)
        x_test = x_test.astype(np.float32) / np.float32(255)
    return x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64)


def load_mnist(as_float: bool = False):
    """A stratified subset of MNIST (handwritten digits), from ``data/mnist_small.npz``.

    Args:
        as_float: False (default) gives the pixels as uint8 in 0..255; True gives float32 in
            [0, 1] (the uint8 value divided by 255).

    Returns:
        ``(x_train, y_train, x_test, y_test)``, NumPy arrays:

        - ``x_train``: (10000, 28, 28) uint8 (or float32), 0 = black background, white ink;
        - ``y_train``: (10000,) int64 labels 0..9, 1000 per class (names: :data:`MNIST_CLASSES`);
        - ``x_test``: (2000, 28, 28); ``y_test``: (2000,), 200 per class, from the official
          test set.

        Both splits are shuffled. Each call returns new arrays.

    Raises:
        DataFileError: the file is missing or does not match ``data/MANIFEST.json``.
    """
    return _load_split("mnist_small.npz", as_float, "load_mnist")


def load_fashion_mnist(as_float: bool = False):
    """A stratified subset of Fashion-MNIST, from ``data/fashion_mnist_small.npz``.

    Like :func:`load_mnist` (the same ``as_float``, return types and errors), but smaller:
    ``x_train`` (5000, 28, 28) and ``y_train`` (5000,) with 500 per class, ``x_test``
    (1000, 28, 28) and ``y_test`` (1000,) with 100 per class from the official test set;
    class names in :data:`FASHION_MNIST_CLASSES`.
    """
    return _load_split("fashion_mnist_small.npz", as_float, "load_fashion_mnist")


# The full Fashion-MNIST, from the Debian package dataset-fashion-mnist (the course's tooling
# reads it: scripts/make_datasets.py for the subset, the pretrained network's recipe).
FASHION_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_FILES = {  # in the order (x_train, y_train, x_test, y_test), with their sha256
    "train-images-idx3-ubyte.gz": "b0564c3eedabfbf835052cff8503ea422014ce006caf5b757f851416ee8300c7",  # noqa: E501
    "train-labels-idx1-ubyte.gz": "0ae29f65d86684f32d1b9c85147786c547b9c6aebcaf235f0400a0cce308b056",  # noqa: E501
    "t10k-images-idx3-ubyte.gz": "cc1d090a38ace84dfa1aa66e3ada7c336ef481a96936906477e6dd344da56eaa",  # noqa: E501
    "t10k-labels-idx1-ubyte.gz": "8d3605d196f4be44669e46906da9733c8131fef761fdbfec72c424d5222f1a05",  # noqa: E501
}


def read_idx(path: Path, offset: int) -> np.ndarray:
    """The uint8 payload of a gzipped IDX file (header: 16 bytes for images, 8 for labels).

    Raises:
        ValueError: the file is not an IDX file of uint8 items with that header.
    """
    import gzip

    with gzip.open(path, "rb") as handle:
        raw = handle.read()
    magic, count = np.frombuffer(raw, dtype=">u4", count=2)
    expected_magic = {16: 2051, 8: 2049}[offset]  # uint8 images (3 dims) or labels (1 dim)
    data = np.frombuffer(raw, dtype=np.uint8, offset=offset)
    if magic != expected_magic or data.size % count:
        raise ValueError(f"read_idx: {Path(path).name} is not an IDX file of {count} uint8 items")
    return data


def load_full_fashion_mnist():
    """All of Fashion-MNIST, from the Debian package ``dataset-fashion-mnist`` (tooling only).

    The four files in :data:`FASHION_DIR` are checked against :data:`FASHION_FILES`' sha256.

    Returns:
        ``(x_train, y_train, x_test, y_test)``: (60000, 28, 28) and (10000, 28, 28) uint8,
        labels int64.

    Raises:
        FileNotFoundError: the package is not installed (``apt-get install
            dataset-fashion-mnist``, Debian and Ubuntu).
        ValueError: a file differs from the pinned one.
    """
    arrays = []
    for name, expected in FASHION_FILES.items():
        path = FASHION_DIR / name
        if not path.is_file():
            raise FileNotFoundError(
                f"load_full_fashion_mnist: {path} is missing; install it with "
                "`apt-get install dataset-fashion-mnist`"
            )
        actual = _sha256(path)
        if actual != expected:
            raise ValueError(f"load_full_fashion_mnist: {path} has sha256 {actual}, not {expected}")
        images = "images" in name
        data = read_idx(path, 16 if images else 8)
        arrays.append(data.reshape(-1, 28, 28) if images else data.astype(np.int64))
    x_train, y_train, x_test, y_test = arrays
    return x_train, y_train, x_test, y_test


def as_tensor_dataset(x, y):
    """Wrap images and labels as a ``torch.utils.data.TensorDataset`` for training.

    Args:
        x: (N, H, W) or (N, C, H, W) images, a NumPy array (or tensor). Integer pixels
            (e.g. the uint8 of :func:`load_mnist`) must lie in 0..255 and are divided by 255;
            floating-point pixels are kept as they are (cast to float32).
        y: (N,) integer labels.

    Returns:
        A ``TensorDataset`` whose items are ``(image, label)``: images float32 (N, C, H, W)
        (a channel axis C = 1 is added to (N, H, W) input), labels int64 (N,).
    """
    import torch

    fname = "as_tensor_dataset"
    x, y = (v.detach().cpu().numpy() if isinstance(v, torch.Tensor) else v for v in (x, y))
    x, y = np.asarray(x), np.asarray(y)
    if x.ndim not in (3, 4):
        raise ValueError(
            f"{fname}: x must have shape (N, H, W) or (N, C, H, W), got shape {x.shape}"
        )
    if x.dtype == np.bool_ or not (
        np.issubdtype(x.dtype, np.integer) or np.issubdtype(x.dtype, np.floating)
    ):
        raise TypeError(f"{fname}: x must hold integer or float pixels, got dtype {x.dtype}")
    if y.ndim != 1 or y.dtype == np.bool_ or not np.issubdtype(y.dtype, np.integer):
        raise TypeError(
            f"{fname}: y must be a 1-D array of integer labels, got shape {y.shape} and "
            f"dtype {y.dtype}"
        )
    if len(y) != len(x):
        raise ValueError(f"{fname}: y must have one label per image: {len(x)}, got {len(y)}")
    if np.issubdtype(x.dtype, np.integer):
        if x.size and (x.min() < 0 or x.max() > 255):
            raise ValueError(f"{fname}: integer pixels of x must lie in 0..255")
        x = x.astype(np.float32) / np.float32(255)
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.ndim == 3:
        x = x[:, None]
    return torch.utils.data.TensorDataset(
        torch.from_numpy(x), torch.from_numpy(np.ascontiguousarray(y, dtype=np.int64))
    )


# --- photographs -------------------------------------------------------------------------


def list_images() -> tuple[str, ...]:
    """The names accepted by :func:`load_image`, sorted, e.g. ``("astronaut", "camera", ...)``."""
    files = _manifest("list_images")
    return tuple(
        sorted(
            rel[len("images/") : -len(".png")]
            for rel in files
            if rel.startswith("images/") and rel.endswith(".png")
        )
    )


def load_image(name: str, grey: bool = False, size=None) -> np.ndarray:
    """A photograph from ``data/images/`` as a float32 array in [0, 1].

    Args:
        name: one of :func:`list_images`: ``"astronaut"`` (512×512 colour), ``"camera"``
            (512×512 grey), ``"chelsea"`` (300×451 colour, a cat), ``"coffee"`` (400×600
            colour).
        grey: False gives (H, W, 3) RGB (a grey photo has its channel repeated three times);
            True gives (H, W): colour photos are converted with the ITU-R BT.601 luma
            ``0.299 R + 0.587 G + 0.114 B``.
        size: None keeps the original size; an int ``S`` resizes to (S, S) and a pair
            ``(H, W)`` to (H, W), with Lanczos resampling (Pillow), before any grey conversion.

    Returns:
        (H, W, 3) or (H, W) float32 array with values in [0, 1].
    """
    fname = "load_image"
    if not isinstance(name, str):
        raise TypeError(f"{fname}: name must be a str, got {name!r}")
    grey = _check_bool(grey, "grey", fname)
    if size is not None:
        size = as_tuple(size, "size", fname, length=2, minimum=1)
    names = list_images()
    if name not in names:
        raise ValueError(f"{fname}: unknown image {name!r}; available: {', '.join(names)}")
    rel = f"images/{name}.png"
    path = _checked_path(rel, fname)

    from PIL import Image

    try:
        with Image.open(path) as image:
            image.load()
            if image.mode not in ("L", "RGB"):
                image = image.convert("RGB")
            if size is not None:
                image = image.resize((size[1], size[0]), Image.Resampling.LANCZOS)
            pixels = np.asarray(image, dtype=np.float32) / np.float32(255)
    except OSError as error:
        raise _error(fname, rel, f"is unreadable ({type(error).__name__})") from None
    if pixels.ndim == 2:
        return pixels if grey else np.repeat(pixels[:, :, None], 3, axis=2)
    if grey:
        luma = np.array([0.299, 0.587, 0.114], dtype=np.float32)
        return np.clip(pixels @ luma, 0.0, 1.0).astype(np.float32)
    return pixels


# --- trained weights ---------------------------------------------------------------------


def list_weights() -> tuple[str, ...]:
    """The names accepted by :func:`load_weights`, sorted, e.g. ``("lenet5_mnist",)``."""
    files = _manifest("list_weights")
    prefix = f"{WEIGHTS_FOLDER}/"
    return tuple(
        sorted(
            rel[len(prefix) : -len(WEIGHTS_SUFFIX)]
            for rel in files
            if rel.startswith(prefix) and rel.endswith(WEIGHTS_SUFFIX)
        )
    )


def load_weights(name: str) -> dict:
    """The state dict of a network trained by the course, from ``data/weights/<name>.pt``.

    The file is checked against ``data/MANIFEST.json`` (size and sha256) first, then read
    with ``torch.load(..., weights_only=True)`` (no pickled code can run) onto the CPU.
    Which network each file belongs to, and how it was trained, is in ``data/README.md`` and
    :mod:`helpers.models.trained` (``trained_model(name)`` builds it and loads these weights).

    Args:
        name: one of :func:`list_weights`, e.g. ``"lenet5_mnist"`` (LeNet-5 with ReLU and max
            pooling, trained on :func:`load_mnist` for 2 epochs).

    Returns:
        ``{parameter name: float32 tensor}``, ready for ``model.load_state_dict``.

    Raises:
        ValueError: ``name`` is not a shipped network.
        DataFileError: the file is missing, does not match the manifest, or is not a state
            dict; the message names the file and how to restore or regenerate it.
    """
    fname = "load_weights"
    if not isinstance(name, str):
        raise TypeError(f"{fname}: name must be a str, got {name!r}")
    names = list_weights()
    if name not in names:
        raise ValueError(
            f"{fname}: unknown weights {name!r}; available: {', '.join(names) or 'none'}"
        )
    rel = f"{WEIGHTS_FOLDER}/{name}{WEIGHTS_SUFFIX}"
    path = _checked_path(rel, fname)

    import pickle

    import torch

    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError, pickle.UnpicklingError) as error:
        raise _error(fname, rel, f"is unreadable ({type(error).__name__})") from None
    if not (
        isinstance(state, dict)
        and state
        and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in state.items())
    ):
        raise _error(fname, rel, "is not a state dict (parameter name -> tensor)")
    return state


# --- checking the whole folder -----------------------------------------------------------


def _human_size(n_bytes: int) -> str:
    return f"{n_bytes / 1e6:.1f} MB" if n_bytes >= 1e6 else f"{n_bytes / 1e3:.0f} kB"


def data_status() -> dict[str, str]:
    """The state of every file listed in ``data/MANIFEST.json``, re-reading every file.

    Returns:
        ``{path relative to data/: status}``, sorted by path; the status is ``"ok"``,
        ``"missing"``, or what is wrong, e.g. ``"has 12 bytes instead of 139512"``.

    Raises:
        DataFileError: ``MANIFEST.json`` itself is missing or unreadable.
    """
    files = _manifest("data_status")
    return {rel: _status(rel, files[rel], use_cache=False) for rel in sorted(files)}


def verify_data(verbose: bool = True) -> bool:
    """Check every file listed in ``data/MANIFEST.json`` (exists, size and sha256 match).

    Always re-reads every file (about 6 MB). With ``verbose``, prints one line per file, e.g.
    ``ok       mnist_small.npz (2.0 MB)``, ``MISSING  images/camera.png (140 kB)`` or
    ``CORRUPT  ...``, in a fixed order and with sizes from the manifest, so the output is the
    same on every machine.

    Returns:
        True if every file is present and intact, else False.
    """
    verbose = _check_bool(verbose, "verbose", "verify_data")
    try:
        files = _manifest("verify_data")
    except DataFileError:
        present = (data_dir() / _MANIFEST).is_file()
        if verbose:
            print(f"{'CORRUPT' if present else 'MISSING':<8} {_MANIFEST}")
        return False
    all_ok = True
    for rel in sorted(files):
        status = _status(rel, files[rel], use_cache=False)
        label = "ok" if status == "ok" else "MISSING" if status == "missing" else "CORRUPT"
        all_ok &= status == "ok"
        if verbose:
            print(f"{label:<8} {rel} ({_human_size(files[rel]['bytes'])})")
    return all_ok
