"""Shared fixtures: a session with captured output, and the --regen-golden switch."""

from __future__ import annotations

import io

import pytest


def pytest_addoption(parser):
    parser.addoption("--regen-golden", action="store_true", default=False,
                     help="rewrite tests/golden/*.txt from the current output (review the diff!)")


@pytest.fixture
def regen_golden(request) -> bool:
    return request.config.getoption("--regen-golden")


class Shell:
    """A Session plus its output: ``sh("text")`` runs tsh and returns what it printed."""

    def __init__(self, **kw):
        from tockshell.lang.session import Session

        self.out = io.StringIO()
        self.session = Session(out=self.out, **kw)

    def __call__(self, text: str, file: str = "<test>") -> str:
        start = self.out.tell()
        self.session.execute(text, file)
        return self.out.getvalue()[start:]

    @property
    def kernel(self):
        return self.session.kernel


@pytest.fixture
def sh():
    """A fresh session on the default board; call it with tsh text, get the output."""
    return Shell()


@pytest.fixture
def make_shell():
    """Build a Shell with Session keyword arguments (params=..., board=...)."""
    return Shell
