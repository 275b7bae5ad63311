"""The course's rule for bad input, as one assertion the test modules share.

A function of ``helpers`` given bad input raises a ``ValueError`` or ``TypeError`` whose
message starts with the function's name and says what is wrong with which argument.
Every bad-input test checks it here, in one of two forms::

    assert_named_error(fit, TypeError, ["model"], model="lenet")   # a call
    with raises_named(ValueError, "LeNet5", "x must have shape"):   # a block
        LeNet5()(torch.zeros(2, 1, 32, 32))

The words are plain text (not regular expressions): what the message must say.
"""

from __future__ import annotations

from contextlib import contextmanager

import pytest


@contextmanager
def raises_named(error, name: str, *words: str):
    """The block raises ``error`` (a type or a tuple of types), ``"<name>: ..."``, with ``words``.

    Yields pytest's ``ExceptionInfo``, for further checks after the block.
    """
    with pytest.raises(error) as info:
        yield info
    message = str(info.value)
    assert message.startswith(f"{name}: "), message
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"


def assert_named_error(fn, error: type[Exception], words, *args, **kwargs) -> str:
    """``fn(*args, **kwargs)`` raises ``error``, named ``"<fn.__name__>: ..."``, with ``words``.

    Returns the message, for further checks.
    """
    with raises_named(error, fn.__name__, *words) as info:
        fn(*args, **kwargs)
    return str(info.value)
