"""The course's rule for bad input, as one assertion the test modules share.

A function of ``helpers`` given bad input raises a ``ValueError`` or ``TypeError`` whose
message starts with the function's name and says what is wrong with which argument.
"""

from __future__ import annotations

import pytest


def assert_named_error(fn, error: type[Exception], words, *args, **kwargs) -> str:
    """``fn(*args, **kwargs)`` raises ``error``, named ``"<fn.__name__>: ..."``, with ``words``.

    Returns the message, for further checks.
    """
    with pytest.raises(error) as info:
        fn(*args, **kwargs)
    message = str(info.value)
    assert message.startswith(f"{fn.__name__}: "), message
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    return message
