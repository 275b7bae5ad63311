"""helpers.data: the files in data/ are intact and balanced, load offline, and fail clearly."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys

import numpy as np
import pytest

from helpers import data
from helpers.data import DataFileError

SPLITS = {  # file -> (loader, classes, train per class, test per class)
    "mnist_small.npz": (data.load_mnist, data.MNIST_CLASSES, 1000, 200),
    "fashion_mnist_small.npz": (data.load_fashion_mnist, data.FASHION_MNIST_CLASSES, 500, 100),
}
IMAGES = {
    "astronaut": (512, 512),
    "camera": (512, 512),
    "chelsea": (300, 451),
    "coffee": (400, 600),
}
FIX = "or regenerate it with `python scripts/make_datasets.py`"


@pytest.fixture
def data_copy(tmp_path, monkeypatch):
    """A private copy of data/, selected with CNN_COURSE_DATA."""
    copy = tmp_path / "data"
    shutil.copytree(data.DATA_DIR, copy)
    monkeypatch.setenv("CNN_COURSE_DATA", str(copy))
    return copy


def _bump_mtime(path):
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


# --- the datasets ------------------------------------------------------------------------


@pytest.mark.parametrize("filename", sorted(SPLITS))
def test_npz_keys_shapes_dtypes(filename):
    _, classes, n_train, n_test = SPLITS[filename]
    with np.load(data.DATA_DIR / filename, allow_pickle=False) as archive:
        assert sorted(archive.files) == ["x_test", "x_train", "y_test", "y_train"]
        n = {"train": n_train * len(classes), "test": n_test * len(classes)}
        for split in ("train", "test"):
            x, y = archive[f"x_{split}"], archive[f"y_{split}"]
            assert x.shape == (n[split], 28, 28) and x.dtype == np.uint8
            assert y.shape == (n[split],) and y.dtype == np.uint8


@pytest.mark.parametrize("filename", sorted(SPLITS))
def test_loader_shapes_balance_and_range(filename):
    loader, classes, n_train, n_test = SPLITS[filename]
    assert len(classes) == 10
    x_train, y_train, x_test, y_test = loader()
    for x, y, per_class in ((x_train, y_train, n_train), (x_test, y_test, n_test)):
        assert x.dtype == np.uint8 and x.shape == (10 * per_class, 28, 28)
        assert y.dtype == np.int64 and y.shape == (10 * per_class,)
        assert np.bincount(y, minlength=10).tolist() == [per_class] * 10
        assert x.min() == 0 and x.max() == 255
        assert (x.reshape(len(x), -1).max(axis=1) > 0).all()  # no blank image
        assert (np.diff(y) != 0).mean() > 0.8  # shuffled, not sorted by class


@pytest.mark.parametrize("filename", sorted(SPLITS))
def test_as_float(filename):
    loader = SPLITS[filename][0]
    as_uint8 = loader()
    as_float = loader(as_float=True)
    for a, b in zip(as_uint8, as_float, strict=True):
        assert b.shape == a.shape
    for a, b in ((as_uint8[0], as_float[0]), (as_uint8[2], as_float[2])):
        assert b.dtype == np.float32 and b.min() == 0.0 and b.max() == 1.0
        np.testing.assert_allclose(b, a / 255.0, rtol=0, atol=1e-7)
    np.testing.assert_array_equal(as_float[1], as_uint8[1])


@pytest.mark.parametrize("filename", sorted(SPLITS))
def test_train_and_test_are_disjoint(filename):
    x_train, _, x_test, _ = SPLITS[filename][0]()
    train = {image.tobytes() for image in x_train}
    test = [image.tobytes() for image in x_test]
    assert len(train) == len(x_train) and len(set(test)) == len(test)  # no duplicates
    assert not any(image in train for image in test)


def test_each_load_returns_new_arrays():
    x_train = data.load_mnist()[0]
    x_train[:] = 0
    assert data.load_mnist()[0].max() == 255


def test_as_tensor_dataset():
    import torch

    x_train, y_train, _, _ = data.load_fashion_mnist()
    dataset = data.as_tensor_dataset(x_train, y_train)
    assert isinstance(dataset, torch.utils.data.TensorDataset)
    images, labels = dataset.tensors
    assert images.shape == (5000, 1, 28, 28) and images.dtype == torch.float32
    assert labels.shape == (5000,) and labels.dtype == torch.int64
    assert images.min().item() == 0.0 and images.max().item() == 1.0
    np.testing.assert_allclose(images[7, 0].numpy(), x_train[7] / 255.0, atol=1e-7)
    assert labels[7].item() == y_train[7]
    # float input in (N, C, H, W) is kept as it is
    x = np.linspace(0, 1, 2 * 3 * 4 * 5).reshape(2, 3, 4, 5)
    images, labels = data.as_tensor_dataset(x, [0, 1]).tensors
    assert images.shape == (2, 3, 4, 5) and images.dtype == torch.float32
    np.testing.assert_allclose(images.numpy(), x, atol=1e-7)


# --- photographs -------------------------------------------------------------------------


def test_list_images():
    assert data.list_images() == tuple(sorted(IMAGES))


@pytest.mark.parametrize("name", sorted(IMAGES))
def test_load_image(name):
    height, width = IMAGES[name]
    colour = data.load_image(name)
    grey = data.load_image(name, grey=True)
    assert colour.shape == (height, width, 3) and colour.dtype == np.float32
    assert grey.shape == (height, width) and grey.dtype == np.float32
    for image in (colour, grey):
        assert 0.0 <= image.min() and image.max() <= 1.0 and image.std() > 0.05
    luma = colour @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    np.testing.assert_allclose(grey, np.clip(luma, 0, 1), atol=1e-6)
    small = data.load_image(name, size=32)
    assert small.shape == (32, 32, 3) and small.dtype == np.float32
    assert 0.0 <= small.min() and small.max() <= 1.0
    assert data.load_image(name, grey=True, size=(20, 30)).shape == (20, 30)
    assert data.load_image(name, size=[24, 16]).shape == (24, 16, 3)


def test_camera_is_grey():
    colour = data.load_image("camera")
    np.testing.assert_array_equal(colour[..., 0], colour[..., 2])
    np.testing.assert_array_equal(colour[..., 1], data.load_image("camera", grey=True))


def test_resize_is_deterministic():
    a = data.load_image("chelsea", size=(64, 96))
    b = data.load_image("chelsea", size=(64, 96))
    np.testing.assert_array_equal(a, b)
    # downsampling keeps the mean brightness
    assert abs(a.mean() - data.load_image("chelsea").mean()) < 0.01


def test_unknown_image_name():
    with pytest.raises(ValueError, match=r"^load_image: unknown image 'cat'.*astronaut, camera"):
        data.load_image("cat")


# --- offline -----------------------------------------------------------------------------


def test_everything_loads_with_the_network_blocked(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("helpers.data tried to use the network")

    monkeypatch.setattr(socket, "socket", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    data._verified.clear()  # really re-read and re-hash every file
    data._manifests.clear()
    for loader, _, _, _ in SPLITS.values():
        loader()
        x_train, y_train, _, _ = loader(as_float=True)
    data.as_tensor_dataset(x_train, y_train)
    for name in data.list_images():
        data.load_image(name, grey=True, size=16)
    assert data.verify_data(verbose=False)


def test_import_is_cheap():
    code = (
        "import sys, helpers.data; "
        "print(sorted(m for m in ('torch', 'PIL', 'matplotlib') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


# --- MANIFEST.json and verify_data -------------------------------------------------------


def test_manifest_covers_every_data_file():
    manifest = json.loads((data.DATA_DIR / "MANIFEST.json").read_text(encoding="utf-8"))
    on_disk = {
        path.relative_to(data.DATA_DIR).as_posix()
        for path in data.DATA_DIR.rglob("*")
        if path.is_file()
    } - {"README.md", "LICENSES.md", "MANIFEST.json"}
    assert set(manifest["files"]) == on_disk
    assert {"mnist_small.npz", "fashion_mnist_small.npz"} <= on_disk
    for entry in manifest["files"].values():
        assert set(entry) == {"bytes", "sha256"} and len(entry["sha256"]) == 64
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    assert (data.DATA_DIR / "MANIFEST.json").read_text(encoding="utf-8") == text
    total = sum(entry["bytes"] for entry in manifest["files"].values())
    assert total < 8_000_000  # the repository stays small


def test_verify_data_on_the_real_data(capsys):
    assert data.verify_data() is True
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        "ok       fashion_mnist_small.npz (2.6 MB)",
        "ok       images/astronaut.png (792 kB)",
        "ok       images/camera.png (140 kB)",
        "ok       images/chelsea.png (241 kB)",
        "ok       images/coffee.png (467 kB)",
        "ok       mnist_small.npz (2.0 MB)",
        "ok       weights/lenet5_mnist.pt (250 kB)",
        "ok       weights/smallcnn_fashion.pt (119 kB)",
    ]
    assert data.verify_data(verbose=False) is True
    assert capsys.readouterr().out == ""


def test_verify_data_on_a_damaged_copy(data_copy, capsys):
    path = data_copy / "mnist_small.npz"
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF  # same size, one byte changed
    path.write_bytes(bytes(raw))
    (data_copy / "images" / "coffee.png").unlink()
    assert data.verify_data() is False
    lines = capsys.readouterr().out.splitlines()
    assert "CORRUPT  mnist_small.npz (2.0 MB)" in lines
    assert "MISSING  images/coffee.png (467 kB)" in lines
    assert "ok       fashion_mnist_small.npz (2.6 MB)" in lines
    assert str(data_copy) not in "\n".join(lines)  # no absolute paths


def test_verify_data_without_manifest(data_copy, capsys):
    (data_copy / "MANIFEST.json").unlink()
    assert data.verify_data() is False
    assert capsys.readouterr().out == "MISSING  MANIFEST.json\n"


# --- missing and corrupt files -----------------------------------------------------------


def test_data_dir_and_override(data_copy, monkeypatch):
    assert data.data_dir() == data_copy.resolve()
    monkeypatch.delenv("CNN_COURSE_DATA")
    assert data.data_dir() == data.DATA_DIR
    assert data.DATA_DIR.name == "data" and (data.DATA_DIR / "MANIFEST.json").is_file()


@pytest.mark.parametrize(
    "filename, load",
    [
        ("mnist_small.npz", data.load_mnist),
        ("fashion_mnist_small.npz", data.load_fashion_mnist),
        ("images/chelsea.png", lambda: data.load_image("chelsea")),
    ],
)
def test_missing_file(data_copy, filename, load):
    (data_copy / filename).unlink()
    with pytest.raises(DataFileError) as info:
        load()
    message = str(info.value)
    assert isinstance(info.value, OSError)
    assert f"data/{filename}" in message and "is missing" in message
    assert f"restore it with `git checkout -- data/{filename}` {FIX}" in message


@pytest.mark.parametrize(
    "filename, load",
    [
        ("mnist_small.npz", lambda: data.load_mnist(as_float=True)),
        ("fashion_mnist_small.npz", data.load_fashion_mnist),
        ("images/camera.png", lambda: data.load_image("camera", grey=True)),
    ],
)
@pytest.mark.parametrize("damage", ["flip_byte", "truncate"])
def test_corrupt_file(data_copy, filename, load, damage):
    load()  # loads fine (and is cached) before the damage
    path = data_copy / filename
    raw = bytearray(path.read_bytes())
    if damage == "flip_byte":
        raw[-100] ^= 0x01
    else:
        raw = raw[: len(raw) // 2]
    path.write_bytes(bytes(raw))
    _bump_mtime(path)
    with pytest.raises(DataFileError) as info:
        load()
    message = str(info.value)
    assert f"data/{filename}" in message and "is corrupt" in message
    assert f"restore it with `git checkout -- data/{filename}` {FIX}" in message


def test_corrupt_file_is_caught_with_unchanged_mtime(data_copy):
    """The cache is keyed by size and mtime: a same-size edit restoring the mtime is the
    one case it cannot see, so verify_data() always re-hashes."""
    data.load_mnist()
    path = data_copy / "mnist_small.npz"
    stat = path.stat()
    raw = bytearray(path.read_bytes())
    raw[1000] ^= 0x01
    path.write_bytes(bytes(raw))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert data.verify_data(verbose=False) is False


def test_missing_manifest(data_copy):
    (data_copy / "MANIFEST.json").unlink()
    with pytest.raises(DataFileError, match=r"data/MANIFEST\.json.* is missing"):
        data.load_mnist()
    with pytest.raises(DataFileError, match=r"data/MANIFEST\.json"):
        data.list_images()


def test_unreadable_manifest(data_copy):
    (data_copy / "MANIFEST.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(DataFileError, match=r"data/MANIFEST\.json.* is unreadable"):
        data.load_fashion_mnist()


# --- bad arguments -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        (lambda: data.load_mnist(1), TypeError, r"^load_mnist: as_float must be True or False"),
        (
            lambda: data.load_fashion_mnist(as_float="yes"),
            TypeError,
            r"^load_fashion_mnist: as_float must be",
        ),
        (lambda: data.load_image(3), TypeError, r"^load_image: name must be a str"),
        (lambda: data.load_image("camera", grey=None), TypeError, r"^load_image: grey must be"),
        (lambda: data.load_image("camera", size=-2), ValueError, r"^load_image: size must be"),
        (lambda: data.load_image("camera", size=0), ValueError, r"^load_image: size must be"),
        (lambda: data.load_image("camera", size=(4, 0)), ValueError, r"^load_image: .*size"),
        (lambda: data.load_image("camera", size=(1, 2, 3)), ValueError, r"^load_image: size"),
        (lambda: data.load_image("camera", size=2.5), TypeError, r"^load_image: size"),
        (lambda: data.verify_data(verbose="no"), TypeError, r"^verify_data: verbose must be"),
        (
            lambda: data.as_tensor_dataset(np.zeros((3, 28, 28)), [0, 1]),
            ValueError,
            r"^as_tensor_dataset: y must have one label per image",
        ),
        (
            lambda: data.as_tensor_dataset(np.zeros((3, 28)), [0, 1, 2]),
            ValueError,
            r"^as_tensor_dataset: x must have shape",
        ),
        (
            lambda: data.as_tensor_dataset(np.zeros((2, 4, 4)), [0.5, 1.0]),
            TypeError,
            r"^as_tensor_dataset: y must be a 1-D array of integer labels",
        ),
        (
            lambda: data.as_tensor_dataset(np.full((2, 4, 4), 300), [0, 1]),
            ValueError,
            r"^as_tensor_dataset: integer pixels of x must lie in 0\.\.255",
        ),
    ],
)
def test_bad_arguments(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


# --- trained weights (data/weights/) -----------------------------------------------------

WEIGHTS_FIX = "or regenerate it with `python scripts/make_weights.py lenet5_mnist`"
LENET_KEYS = [
    f"{part}.{layer}.{kind}"
    for part, layers in (("features", ("c1", "c3")), ("classifier", ("c5", "f6", "output")))
    for layer in layers
    for kind in ("weight", "bias")
]


def _readme_weights_row(name: str) -> list[str]:
    """The cells of the row of ``weights/<name>.pt`` in data/README.md's weights table."""
    text = (data.DATA_DIR / "README.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith(f"| `weights/{name}.pt` |")]
    assert len(rows) == 1, rows
    return [cell.strip() for cell in rows[0].strip("|").split("|")]


def _lenet_test_accuracy(state) -> float:
    import torch

    from helpers.models.trained import lenet5_mnist
    from helpers.train import evaluate

    model = lenet5_mnist()
    model.load_state_dict(state)  # strict: exactly the parameters of LeNet5("relu", "max")
    _, _, x_test, y_test = data.load_mnist()
    return evaluate(model, data.as_tensor_dataset(x_test, y_test), device=torch.device("cpu"))[1]


def test_list_weights():
    assert data.list_weights() == ("lenet5_mnist", "smallcnn_fashion")


def test_load_weights_is_a_lenet_state_dict():
    import torch

    state = data.load_weights("lenet5_mnist")
    assert sorted(state) == sorted(LENET_KEYS)
    assert all(v.dtype == torch.float32 and v.device.type == "cpu" for v in state.values())
    assert state["features.c1.weight"].shape == (6, 1, 5, 5)
    assert sum(v.numel() for v in state.values()) == 61_706
    assert all(bool(torch.isfinite(v).all()) for v in state.values())


def test_shipped_weights_reach_the_stated_accuracy():
    from helpers.models.trained import RECIPES

    accuracy = _lenet_test_accuracy(data.load_weights("lenet5_mnist"))
    assert accuracy >= RECIPES["lenet5_mnist"].min_test_acc
    assert _readme_weights_row("lenet5_mnist")[2] == f"{accuracy:.4f}"  # the README's column


def test_trained_model():
    from helpers.models import LeNet5
    from helpers.models.trained import trained_model

    model = trained_model("lenet5_mnist")
    assert isinstance(model, LeNet5) and not model.training
    for key, value in data.load_weights("lenet5_mnist").items():
        assert bool((model.state_dict()[key] == value).all())
    with pytest.raises(ValueError, match=r"^trained_model: unknown network 'vgg'"):
        trained_model("vgg")


@pytest.mark.parametrize("name", ["lenet5_mnist", "smallcnn_fashion"])
def test_readme_and_manifest_agree_on_the_weights(name):
    manifest = json.loads((data.DATA_DIR / "MANIFEST.json").read_text(encoding="utf-8"))
    entry = manifest["files"][f"weights/{name}.pt"]
    row = _readme_weights_row(name)
    assert row[3] == f"{entry['bytes']:,}" and row[4] == f"`{entry['sha256']}`"
    assert entry["bytes"] < 400_000  # a few hundred kB at most


def test_smallcnn_fashion_weights():
    """The network of notebook 12: SmallCNN, pretrained on the full Fashion-MNIST."""
    import torch

    from helpers.models.small import SmallCNN
    from helpers.models.trained import RECIPES, trained_model
    from helpers.train import evaluate

    state = data.load_weights("smallcnn_fashion")
    assert sorted(state) == sorted(SmallCNN().state_dict())
    assert all(v.dtype == torch.float32 for v in state.values())
    assert sum(v.numel() for v in state.values()) == 29_066
    model = trained_model("smallcnn_fashion")
    assert isinstance(model, SmallCNN) and not model.training
    # the course's 1 000 Fashion-MNIST test images (all from the official test set)
    _, _, x_test, y_test = data.load_fashion_mnist()
    accuracy = evaluate(model, data.as_tensor_dataset(x_test, y_test), device="cpu")[1]
    assert accuracy >= RECIPES["smallcnn_fashion"].min_test_acc


def test_smallcnn_fashion_readme_accuracy_on_the_full_test_set():
    """data/README.md's accuracy is measured on the 10 000 official test images (the Debian
    package dataset-fashion-mnist; skipped where it is not installed)."""
    from helpers.models.trained import RECIPES, trained_model
    from helpers.train import evaluate

    try:
        x_test, y_test = RECIPES["smallcnn_fashion"].test_set()
    except FileNotFoundError:
        pytest.skip("the Debian package dataset-fashion-mnist is not installed")
    assert x_test.shape == (10_000, 28, 28)
    model = trained_model("smallcnn_fashion")
    accuracy = evaluate(model, data.as_tensor_dataset(x_test, y_test), device="cpu")[1]
    assert _readme_weights_row("smallcnn_fashion")[2] == f"{accuracy:.4f}"


def test_load_weights_uses_weights_only(monkeypatch):
    import torch

    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    data.load_weights("lenet5_mnist")
    assert calls and all(kwargs.get("weights_only") is True for kwargs in calls)


def test_missing_weights(data_copy):
    (data_copy / "weights" / "lenet5_mnist.pt").unlink()
    with pytest.raises(DataFileError) as info:
        data.load_weights("lenet5_mnist")
    message = str(info.value)
    assert message.startswith("load_weights: data/weights/lenet5_mnist.pt")
    assert "is missing" in message
    assert (
        f"restore it with `git checkout -- data/weights/lenet5_mnist.pt` {WEIGHTS_FIX}" in message
    )


@pytest.mark.parametrize("damage", ["flip_byte", "truncate"])
def test_corrupt_weights(data_copy, damage):
    data.load_weights("lenet5_mnist")  # loads fine (and is cached) before the damage
    path = data_copy / "weights" / "lenet5_mnist.pt"
    raw = bytearray(path.read_bytes())
    if damage == "flip_byte":
        raw[len(raw) // 2] ^= 0x01  # inside a weight: torch.load alone would not notice
    else:
        raw = raw[: len(raw) // 2]
    path.write_bytes(bytes(raw))
    _bump_mtime(path)
    with pytest.raises(DataFileError) as info:
        data.load_weights("lenet5_mnist")
    message = str(info.value)
    assert "data/weights/lenet5_mnist.pt" in message and "is corrupt" in message
    assert WEIGHTS_FIX in message


def _replace_weights(data_copy, obj) -> None:
    """Write ``obj`` as the weights file of the copy, with a matching manifest entry."""
    import hashlib

    import torch

    path = data_copy / "weights" / "lenet5_mnist.pt"
    torch.save(obj, path)
    blob = path.read_bytes()
    manifest_path = data_copy / "MANIFEST.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["files"]["weights/lenet5_mnist.pt"] = {
        "bytes": len(blob),
        "sha256": hashlib.sha256(blob).hexdigest(),
    }
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    _bump_mtime(manifest_path)


def test_weights_that_are_not_a_state_dict(data_copy):
    _replace_weights(data_copy, [1, 2, 3])
    with pytest.raises(DataFileError, match=r"lenet5_mnist\.pt.* is not a state dict"):
        data.load_weights("lenet5_mnist")


def test_weights_with_pickled_code_are_refused(data_copy):
    _replace_weights(data_copy, {"features.c1.weight": np.zeros(3)})  # not a tensor: a pickle
    with pytest.raises(DataFileError, match=r"lenet5_mnist\.pt.* is unreadable"):
        data.load_weights("lenet5_mnist")


@pytest.mark.parametrize(
    "call, error, pattern",
    [
        (
            lambda: data.load_weights("resnet"),
            ValueError,
            r"^load_weights: unknown weights 'resnet'",
        ),
        (lambda: data.load_weights(3), TypeError, r"^load_weights: name must be a str"),
    ],
)
def test_load_weights_bad_arguments(call, error, pattern):
    with pytest.raises(error, match=pattern):
        call()


def test_make_weights_reproduces_the_shipped_weights(data_copy):
    """scripts/make_weights.py on a copy of data/: the same recipe retrains the network to the
    shipped test accuracy within 0.5 points (bit for bit on the machine that made the file),
    and updates the manifest and the README so that load_weights accepts the new file."""
    shipped = _lenet_test_accuracy(data.load_weights("lenet5_mnist"))
    env = {**os.environ, "TQDM_DISABLE": "1"}
    env.pop("CNN_COURSE_DATA", None)
    script = data.DATA_DIR.parent / "scripts" / "make_weights.py"
    result = subprocess.run(
        [sys.executable, str(script), "lenet5_mnist", "--data", str(data_copy)],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    retrained = _lenet_test_accuracy(data.load_weights("lenet5_mnist"))  # from the copy
    assert abs(retrained - shipped) <= 0.005
    text = (data_copy / "README.md").read_text(encoding="utf-8")
    assert text.count("<!-- weights:begin -->") == 1 and f"| {retrained:.4f} |" in text


def test_make_weights_keeps_the_stated_accuracy_without_the_test_set(monkeypatch):
    """Without the Debian package, the README keeps smallcnn_fashion's stated accuracy (so that
    `make_weights.py lenet5_mnist` works on any machine)."""
    import dataclasses
    import importlib.util

    from helpers.models import trained

    script = data.DATA_DIR.parent / "scripts" / "make_weights.py"
    spec = importlib.util.spec_from_file_location("_make_weights", script)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)

    def missing():
        raise FileNotFoundError("no dataset-fashion-mnist")

    recipe = dataclasses.replace(trained.RECIPES["smallcnn_fashion"], test_set=missing)
    monkeypatch.setitem(tool.RECIPES, "smallcnn_fashion", recipe)
    section = tool.weights_section(data.DATA_DIR)
    row = _readme_weights_row("smallcnn_fashion")
    assert f"| {row[2]} | {row[3]} |" in section  # the accuracy, then the bytes
