"""Grading mode: the checkers as the hidden tests of an nbgrader assignment.

A checker has two modes. In a student's notebook it prints one verdict and never raises
(:mod:`helpers.check.core`). In grading mode, which only nbgrader's hidden tests use
(``check.conv1d_naive.grade(conv1d_naive)``), three things change:

* **hidden cases**: every seed a checker draws its random data from is moved
  (:func:`seed`, :func:`rng`, :func:`generator`), and :func:`~helpers.check.core.numbered_cases`
  appends the checker's extra ``hidden=`` cases, so the answer meets data the student has
  never seen;
* **a guard**: while the student's code runs (:func:`~helpers.check.core.call` and
  :func:`~helpers.check.modules.run_module`), the library functions that would do the exercise
  for the student (the checker's ``forbid=`` list, e.g. ``torch.nn.functional.conv1d`` for
  Exercise 1.1) are replaced by stubs that raise :class:`NotAllowed`
  ("... is not allowed in this exercise"); names the student bound to them
  (``from torch.nn.functional import conv1d``) are replaced too;
* **an exception**: a wrong answer raises ``AssertionError`` whose message is the verdict,
  which nbgrader shows in the feedback (:func:`~helpers.check.core.checker` builds
  ``.grade``).

The guard catches the direct use of a forbidden function. It does not catch a student who
reaches the same operation another way (``torch.ops.aten.convolution``, SciPy, a copy of
the course's code pasted into the notebook): grading it is still the instructor's job.
"""

from __future__ import annotations

import contextlib
import contextvars
import importlib
import sys
from collections.abc import Iterable, Iterator

__all__ = [
    "COST_COUNTERS",
    "HIDDEN_SEED_SHIFT",
    "NotAllowed",
    "generator",
    "guard",
    "hidden_mode",
    "is_hidden",
    "only_case",
    "rng",
    "seed",
]

COST_COUNTERS = (
    "helpers.summary.summary",
    "torch.utils.flop_counter.FlopCounterMode",
    "helpers.costs.count_params",
    "helpers.costs.layer_macs",
    "helpers.costs.model_costs",
)
"""What counts parameters and MACs for you: forbidden where an exercise asks for the formulas."""

HIDDEN_SEED_SHIFT = 7_919
"""Added to every checker seed in grading mode: the hidden cases draw other random data."""

_HIDDEN = contextvars.ContextVar("helpers_check_hidden", default=False)
_FORBIDDEN = contextvars.ContextVar("helpers_check_forbidden", default=())
_EXERCISE = contextvars.ContextVar("helpers_check_exercise", default="")
_ONLY_CASE = contextvars.ContextVar("helpers_check_only_case", default=None)


class NotAllowed(RuntimeError):
    """A forbidden library function was called by the student's code in grading mode."""


def is_hidden() -> bool:
    """True while a checker runs in grading mode (inside :func:`hidden_mode`)."""
    return _HIDDEN.get()


def seed(number: int) -> int:
    """The seed a checker uses for ``number``: ``number`` for students, shifted when graded."""
    return number + HIDDEN_SEED_SHIFT if is_hidden() else number


def rng(number: int):
    """``np.random.default_rng(seed(number))``: a checker's NumPy random data."""
    import numpy as np

    return np.random.default_rng(seed(number))


def generator(number: int):
    """``torch.Generator().manual_seed(seed(number))``: a checker's torch random data."""
    import torch

    return torch.Generator().manual_seed(seed(number))


@contextlib.contextmanager
def hidden_mode(exercise: str = "", forbid: Iterable[str] = ()) -> Iterator[None]:
    """Run the checkers inside in grading mode, with ``forbid`` guarded (see :func:`guard`)."""
    tokens = (_HIDDEN.set(True), _FORBIDDEN.set(tuple(forbid)), _EXERCISE.set(exercise))
    try:
        yield
    finally:
        for variable, token in zip((_HIDDEN, _FORBIDDEN, _EXERCISE), tokens, strict=True):
            variable.reset(token)


class CaseCount:
    """How many cases the checker numbered (the most of its :func:`numbered_cases` loops)."""

    def __init__(self) -> None:
        self.total = 0


@contextlib.contextmanager
def only_case(number: int) -> Iterator[CaseCount]:
    """Run only case ``number`` of every numbered loop (partial credit, case by case)."""
    count = CaseCount()
    token = _ONLY_CASE.set((number, count))
    try:
        yield count
    finally:
        _ONLY_CASE.reset(token)


def select_cases(total: int) -> int | None:
    """For :func:`~helpers.check.core.numbered_cases`: the one case to run (None: all)."""
    selection = _ONLY_CASE.get()
    if selection is None:
        return None
    number, count = selection
    count.total = max(count.total, total)
    return number


def _resolve(dotted: str):
    """``("torch.nn.functional", "conv1d", <function>)`` for ``"torch.nn.functional.conv1d"``."""
    module_name, _, attribute = dotted.rpartition(".")
    try:
        module = importlib.import_module(module_name)
        return module, attribute, getattr(module, attribute)
    except (ImportError, AttributeError):  # an optional library that is not installed
        return None


def _stub(dotted: str, exercise: str):
    where = f"Exercise {exercise}" if exercise else "this exercise"

    def forbidden(*args, **kwargs):
        raise NotAllowed(
            f"{dotted} is not allowed in this exercise: {where} asks you to write it yourself."
        )

    forbidden.__name__ = dotted.rpartition(".")[2]
    return forbidden


_PUBLIC = ("helpers", "numpy", "torch", "torch.nn.functional")
"""Namespaces that re-export what a forbidden name may also be reached by."""


def _namespaces(answer, module) -> list[dict]:
    """Where a forbidden object is replaced: its module, the public re-exports, the answer's
    globals (a function's, or the module of a class or module instance, e.g. ``__main__``)."""
    spaces = [vars(module)]
    spaces += [vars(sys.modules[name]) for name in _PUBLIC if name in sys.modules]
    function = getattr(answer, "__func__", answer)
    if isinstance(getattr(function, "__globals__", None), dict):
        spaces.append(function.__globals__)
    home = sys.modules.get(getattr(answer, "__module__", None) or "")
    if home is not None:
        spaces.append(vars(home))
    unique = {id(space): space for space in spaces}
    return list(unique.values())


@contextlib.contextmanager
def guard(answer=None) -> Iterator[None]:
    """While the student's ``answer`` runs in grading mode, make the forbidden calls fail.

    Outside grading mode, or with nothing forbidden, this does nothing. Each forbidden
    ``module.attribute`` is replaced by a stub that raises :class:`NotAllowed`, and so is
    every other name bound to the same object in the public namespaces (``torch.conv2d`` is
    ``torch.nn.functional.conv2d``) and in the answer's own globals; all is restored on the
    way out, whatever happens. An answer that *is* a forbidden object, an instance of a
    forbidden class or a subclass of one raises :class:`NotAllowed` at once.
    """
    forbidden = _FORBIDDEN.get() if is_hidden() else ()
    if not forbidden:
        yield
        return
    exercise = _EXERCISE.get()
    where = f"Exercise {exercise}" if exercise else "it"
    # import every module first: one imported under a stub could keep the stub for good
    found = [(dotted, resolved) for dotted in forbidden if (resolved := _resolve(dotted))]
    for dotted, (_, _, original) in found:
        if _is_or_extends(answer, original):
            raise NotAllowed(
                f"your answer is (or extends) {dotted}, which is not allowed in this exercise: "
                f"{where} asks you to write it yourself."
            )
    restore: list[tuple[dict, str, object]] = []  # (namespace, name, original)
    try:
        for dotted, (module, _, original) in found:
            stub = _stub(dotted, exercise)
            for space in _namespaces(answer, module):
                for name, value in list(space.items()):
                    if value is original:
                        restore.append((space, name, original))
                        space[name] = stub
        yield
    finally:
        for space, name, original in reversed(restore):
            space[name] = original


def _is_or_extends(answer, original) -> bool:
    """True if ``answer`` is ``original``, an instance of it, or a subclass of it (a class)."""
    if answer is original or type(answer) is original:
        return True
    if isinstance(original, type):
        return isinstance(answer, original) or (
            isinstance(answer, type) and issubclass(answer, original)
        )
    return False
