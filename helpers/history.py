"""The ImageNet challenge (ILSVRC) in numbers: the classification results of notebook 08.

Every entry is a top-5 error in percent on ILSVRC's 1000-class classification task (an image
counts as an error when none of the five guesses is the right class), with the evaluation it
comes from and its source. The headline number of each year is the challenge's own test-set
result, usually an ensemble; ``single`` adds a single model's number where the paper gives
one (on the validation set, which the papers report for single models).
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["HUMAN_TOP5", "ILSVRC_RESULTS", "IlsvrcResult", "ilsvrc_table", "plot_ilsvrc"]


class IlsvrcResult(NamedTuple):
    """One ILSVRC classification result (errors in percent)."""

    year: int
    name: str  # the network or the team
    cnn: bool  # a convolutional network?
    top5: float  # top-5 error on the test set, the challenge's metric
    evaluation: str  # what produced ``top5``: ensemble or single model, extra data
    single: tuple[float, float] | None  # (top-1, top-5) of one model on the validation set
    single_evaluation: str  # which model or evaluation gave ``single`` ("" if plain)
    source: str  # where the numbers are printed


ILSVRC_RESULTS: tuple[IlsvrcResult, ...] = (
    IlsvrcResult(
        2010,
        "NEC-UIUC",
        False,
        28.2,
        "SIFT + LBP features, linear SVMs",
        None,
        "",
        "Russakovsky et al., IJCV 2015 (results of ILSVRC 2010-2014)",
    ),
    IlsvrcResult(
        2011,
        "XRCE",
        False,
        25.8,
        "Fisher vectors, linear SVMs",
        None,
        "",
        "Russakovsky et al., IJCV 2015; ILSVRC 2011 results (0.2577)",
    ),
    IlsvrcResult(
        2012,
        "AlexNet",
        True,
        15.3,
        "ensemble of 7 CNNs, extra data",
        (40.7, 18.2),
        "",
        "Krizhevsky et al., NeurIPS 2012, abstract and Table 2",
    ),
    IlsvrcResult(
        2013,
        "ZFNet",
        True,
        14.8,
        "paper: ensemble of 6 CNNs",
        None,
        "",
        "Zeiler & Fergus, ECCV 2014, Table 2",
    ),
    IlsvrcResult(
        2014,
        "VGG",
        True,
        7.3,
        "2nd; ensemble of 7 CNNs",
        None,
        "",
        "Simonyan & Zisserman, ICLR 2015, Sec. 4.5 and Table 7",
    ),
    IlsvrcResult(
        2014,
        "GoogLeNet",
        True,
        6.67,
        "ensemble of 7 CNNs, 144 crops",
        None,
        "",
        "Szegedy et al., CVPR 2015, Table 2",
    ),
    IlsvrcResult(
        2015,
        "ResNet",
        True,
        3.57,
        "ensemble of 6 CNNs",
        (19.38, 4.49),
        "ResNet-152",
        "He et al., CVPR 2016, Tables 4 and 5",
    ),
    IlsvrcResult(
        2017,
        "SENet",
        True,
        2.251,
        "winning entry (last ILSVRC)",
        None,
        "",
        "Hu et al., CVPR 2018, abstract",
    ),
)
"""Top-5 errors (percent) of the ILSVRC classification task, 2010-2017."""

HUMAN_TOP5 = IlsvrcResult(
    2014,
    "human (annotator A1)",
    False,
    5.1,
    "1 trained annotator, 1,500 images",
    None,
    "",
    "Russakovsky et al., IJCV 2015, Sec. 6.4",
)
"""The human error that Russakovsky et al. measured: one expert annotator, top-5."""


def ilsvrc_table(results=ILSVRC_RESULTS, human=HUMAN_TOP5) -> str:
    """The results as a text table: year, entry, top-5 error (test), how, one model's errors."""
    head = f"{'year':<6}{'entry':<12}{'top-5':>6}  {'evaluation':<32}1 model: top-1 / top-5 (val)"
    lines = [head]
    for r in (*results, human):
        one = ""
        if r.single is not None:
            note = f" ({r.single_evaluation})" if r.single_evaluation else ""
            one = f"{r.single[0]:g} / {r.single[1]:g}{note}"
        name = "human" if r is human else r.name
        lines.append(f"{r.year:<6}{name:<12}{r.top5:>6g}  {r.evaluation:<32}{one}".rstrip())
    return "\n".join(lines)


def plot_ilsvrc(results=ILSVRC_RESULTS, human=HUMAN_TOP5, ax=None):
    """A bar per result (top-5 error on the test set; CNNs in blue), a diamond for one model
    where the paper gives it, the human error as a dashed line.

    Returns the figure. Labels are English only (no CJK fonts needed).
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3.8), layout="constrained")
    labels = [f"{r.year}\n{r.name}\n{r.top5:g}%" for r in results]
    colours = ["tab:blue" if r.cnn else "tab:grey" for r in results]
    ax.bar(range(len(results)), [r.top5 for r in results], color=colours)
    ax.axhline(human.top5, color="tab:red", ls="--", lw=1.5, label=f"human ({human.top5:g})")
    singles = [(i, r.single[1]) for i, r in enumerate(results) if r.single is not None]
    ax.plot(
        *zip(*singles, strict=True),
        "kD",
        ms=5,
        label="one model (validation set)",
    )
    ax.legend(loc="upper right", fontsize=11)
    ax.set_xticks(range(len(results)), labels, fontsize=11)
    ax.set_ylabel("top-5 error on the test set (%)")
    ax.set_ylim(0, max(r.top5 for r in results) * 1.15)
    ax.set_title(
        "ImageNet (ILSVRC) classification, top-5 error: grey = hand-made features, blue = CNNs"
    )
    return ax.figure
