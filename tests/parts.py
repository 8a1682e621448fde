"""What a test does when a real part it needs is missing (a module of its own: several
directories hold a conftest.py, and which one `import conftest` finds depends on the order
pytest collected them in)."""

from __future__ import annotations

import os

import pytest


def missing_part(what: str, how: str) -> None:
    """Stop a test that needs a real part (a server, a browser) this machine does not have.

    Under CI (`CI` set) that fails the run: a real part that silently skipped would let CI pass
    without testing it. On a user's machine the test skips and says how to get the part.
    """
    message = f"{what} is not available: {how}"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
