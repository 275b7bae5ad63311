"""Train the networks the course ships and write ``data/weights/<name>.pt`` (not run in CI).

Usage::

    python scripts/make_weights.py [NAME ...]          # train, check, write, update the lists
    python scripts/make_weights.py --check [NAME ...]  # retrain, compare with the shipped file

Each NAME is a recipe of ``helpers.models.trained.RECIPES`` (default: all of them), e.g.
``lenet5_mnist``. The script runs the recipe's training function, the same one a notebook
calls when a student sets ``RETRAIN = True``, from the recipe's fixed seed, on the CPU with one
thread. It checks the test accuracy against the recipe's minimum, saves the state dict with
``torch.save`` (float32 tensors, loaded back with ``torch.load(..., weights_only=True)``), and
records the file's size and sha256 in ``data/MANIFEST.json`` and in the weights table of
``data/README.md``.

Reproducible: the same machine writes the same bytes; another CPU may round the training's
last bits differently, so its weights differ slightly, with the same test accuracy within
0.5 points (``--check`` retrains and verifies exactly that, without writing anything).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from helpers.data import WEIGHTS_FOLDER, WEIGHTS_SUFFIX, as_tensor_dataset  # noqa: E402
from helpers.models.trained import RECIPES  # noqa: E402
from helpers.train import evaluate  # noqa: E402

TOLERANCE = 0.005  # a rerun's test accuracy lies within 0.5 points of the shipped one
BEGIN, END = "<!-- weights:begin -->", "<!-- weights:end -->"


def test_accuracy(model: torch.nn.Module, name: str) -> float:
    """Accuracy of ``model`` on the test set of recipe ``name`` (``Recipe.test_set``)."""
    x_test, y_test = RECIPES[name].test_set()
    return evaluate(model, as_tensor_dataset(x_test, y_test), device="cpu")[1]


def state_bytes(model: torch.nn.Module) -> bytes:
    """``torch.save`` of the float32 state dict, contiguous CPU tensors, in memory."""
    state = {
        k: v.detach().to("cpu", torch.float32).contiguous() for k, v in model.state_dict().items()
    }
    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def train(name: str):
    recipe = RECIPES[name]
    torch.set_num_threads(1)  # as the notebooks do: one thread, one reduction order
    model, history = recipe.train(seed=recipe.seed, progress=False)
    accuracy = test_accuracy(model, name)
    print(f"{name}: trained, test accuracy {accuracy:.4f} (per epoch: {history.test_acc})")
    if accuracy < recipe.min_test_acc:
        sys.exit(f"make_weights: {name} reached {accuracy:.4f} < {recipe.min_test_acc}")
    return model, accuracy


def update_manifest(data: Path, rel: str, blob: bytes) -> None:
    path = data / "MANIFEST.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["files"][rel] = {"bytes": len(blob), "sha256": hashlib.sha256(blob).hexdigest()}
    text = json.dumps(manifest, indent=2, sort_keys=True) + "\n"
    path.write_text(text, encoding="utf-8", newline="\n")


def _stated_accuracy(data: Path, rel: str) -> str:
    """The test accuracy that data/README.md states for ``rel`` (used where the recipe's test
    set, e.g. the Debian package of the full Fashion-MNIST, is not installed)."""
    for line in (data / "README.md").read_text(encoding="utf-8").splitlines():
        if line.startswith(f"| `{rel}` |"):
            return line.strip("|").split("|")[-3].strip()
    sys.exit(f"make_weights: no test set for {rel} here, and data/README.md states no accuracy")


def weights_section(data: Path) -> str:
    """The weights part of ``data/README.md``, from the files and the manifest."""
    files = json.loads((data / "MANIFEST.json").read_text(encoding="utf-8"))["files"]
    rows = []
    for name, recipe in sorted(RECIPES.items()):
        rel = f"{WEIGHTS_FOLDER}/{name}{WEIGHTS_SUFFIX}"
        if rel not in files:
            continue
        model = recipe.build()
        model.load_state_dict(torch.load(data / rel, map_location="cpu", weights_only=True))
        try:
            shown = f"{test_accuracy(model, name):.4f}"
        except FileNotFoundError:  # its test set is not on this machine: keep the stated one
            shown = _stated_accuracy(data, rel)
        entry = files[rel]
        rows.append(
            f"| `{rel}` | {recipe.description}; tested on {recipe.test_name} "
            f"| {shown} | {entry['bytes']:,} "
            f"| `{entry['sha256']}` |"
        )
    table = "\n".join(rows)
    return f"""{BEGIN}
### `weights/` — trained networks

State dicts (float32) of networks the course trains once, so that every machine looks
inside the same network: load one with `helpers.data.load_weights(name)` (checked against
`MANIFEST.json`, then `torch.load(..., weights_only=True)`), or build the network with its
weights with `helpers.models.trained.trained_model(name)`.

| file | network, recipe and test set | test accuracy | bytes | sha256 |
|---|---|---|---|---|
{table}

Made by `scripts/make_weights.py` with the recipes of `helpers/models/trained.py` (fixed seed,
CPU, one thread): `python scripts/make_weights.py NAME` rewrites a file and updates this
table and `MANIFEST.json`. Another CPU may give weights that differ in the last bits, with the
same test accuracy within 0.5 points (`python scripts/make_weights.py --check`). Each recipe
names its test set: `smallcnn_fashion` trains and tests on the full Fashion-MNIST of the Debian
package `dataset-fashion-mnist` (see Provenance; `apt-get install dataset-fashion-mnist`).
They are the course's own work (MIT licence, like the code), trained on the datasets above.
{END}"""


def update_readme(data: Path) -> None:
    path = data / "README.md"
    text = path.read_text(encoding="utf-8")
    section = weights_section(data)
    if BEGIN in text and END in text:
        text = re.sub(
            re.escape(BEGIN) + r".*?" + re.escape(END), lambda _: section, text, flags=re.S
        )
    else:
        anchor = "## Provenance"
        if anchor not in text:
            sys.exit("make_weights: data/README.md has no '## Provenance' heading")
        text = text.replace(anchor, f"{section}\n\n{anchor}", 1)
    path.write_text(text, encoding="utf-8", newline="\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help=f"recipes (default: all): {', '.join(RECIPES)}")
    parser.add_argument(
        "--check",
        action="store_true",
        help="retrain and compare the test accuracy with the shipped weights; write nothing",
    )
    parser.add_argument("--data", type=Path, default=REPO / "data", help="the data folder")
    args = parser.parse_args(argv)
    names = args.names or sorted(RECIPES)
    unknown = [name for name in names if name not in RECIPES]
    if unknown:
        parser.error(f"unknown recipe(s) {', '.join(unknown)}; available: {', '.join(RECIPES)}")
    data = args.data.resolve()
    failures = 0
    for name in names:
        model, accuracy = train(name)
        rel = f"{WEIGHTS_FOLDER}/{name}{WEIGHTS_SUFFIX}"
        if args.check:
            shipped = RECIPES[name].build()
            shipped.load_state_dict(torch.load(data / rel, map_location="cpu", weights_only=True))
            shipped_accuracy = test_accuracy(shipped, name)
            ok = abs(accuracy - shipped_accuracy) <= TOLERANCE
            failures += not ok
            print(
                f"{name}: shipped {shipped_accuracy:.4f}, retrained {accuracy:.4f}: "
                f"{'within' if ok else 'NOT within'} {TOLERANCE * 100:.1f} points"
            )
            continue
        blob = state_bytes(model)
        (data / WEIGHTS_FOLDER).mkdir(parents=True, exist_ok=True)
        (data / rel).write_bytes(blob)
        update_manifest(data, rel, blob)
        print(
            f"  wrote data/{rel} ({len(blob):,} bytes, sha256 {hashlib.sha256(blob).hexdigest()})"
        )
    if not args.check:
        update_readme(data)
        print("  updated data/MANIFEST.json and data/README.md")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
