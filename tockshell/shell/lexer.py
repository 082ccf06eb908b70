"""Pygments lexer for tsh, the tockshell command language.

Used by the shell (through prompt_toolkit's ``PygmentsLexer``), by
``pygmentize -l tsh`` and by documentation tools, through the
``pygments.lexers`` entry point.

The keyword and driver lists are read from ``grammar/tsh.lark`` when this
module is imported, so the grammar stays the one source of the language.

Token types (standard ones, so any Pygments style colours them):

=====================================  =====================================
``Keyword``                            statement and syscall words
``Operator.Word``                      ``and or not``
``Name.Builtin``                       driver names
``Name.Namespace``                     the process of ``p:``
``Name.Variable``                      ``$var``, ``$_.r0``
``Name.Label``                         ``@label`` handlers
``Name.Function``                      ``mem(`` and other calls
``Name.Attribute``                     the key of ``key=value``
``Name.Builtin.Pseudo``                ``Success``/``Failure`` result words
``Name.Constant``                      error codes (``NODEVICE``) and
                                       process states (``Running``)
``Number.Hex/Bin/Integer``             numbers; ``Number`` for durations
                                       and sizes (``10ms``, ``4k``)
``String.Double``, ``String.Escape``   strings; bytes are ``String.Affix``
                                       ``x`` then ``String.Double``
``String.Other``                       a bare path (``include ../a.tsh``)
``Comment.Single``                     ``# ...``
=====================================  =====================================
"""

from __future__ import annotations

import importlib.resources
import re

from pygments.lexer import RegexLexer, bygroups, words
from pygments.token import (
    Comment, Error, Keyword, Name, Number, Operator, Punctuation, String, Text, Whitespace,
)

from tockshell.lang.ast import ERROR_CODES, PROCESS_STATES, RESULT_VARIANTS

__all__ = ["TshLexer", "GRAMMAR_KEYWORDS", "GRAMMAR_DRIVERS"]


def _grammar_words() -> tuple[list[str], list[str]]:
    """(keywords, driver names) quoted in the grammar."""
    text = (importlib.resources.files("tockshell.grammar") / "tsh.lark").read_text(encoding="utf-8")
    text = re.sub(r"//[^\n]*", "", text)
    literals = set(re.findall(r'"([A-Za-z_][A-Za-z0-9_.\-]*)"', text))
    # A rule's body runs until the next line that starts in column 0.
    body = re.search(r"^!?driver_name\s*:(.*?)(?=^\S)", text, re.M | re.S)
    drivers = set(re.findall(r'"([A-Za-z_][A-Za-z0-9_.\-]*)"', body.group(1))) if body else set()
    return sorted(literals - drivers), sorted(drivers)


GRAMMAR_KEYWORDS, GRAMMAR_DRIVERS = _grammar_words()

_NAME = r"[A-Za-z_][A-Za-z0-9_.\-]*"
_PATH = r"[A-Za-z0-9_.~+\-]*/[A-Za-z0-9_.~+\-/]*"
_BEFORE = r"(?<![A-Za-z0-9_.\-$@])"
_AFTER = r"(?![A-Za-z0-9_.\-])"
_WORD_OPS = ("and", "or", "not")


class TshLexer(RegexLexer):
    """Lexer for tsh scenario files and shell input."""

    name = "tsh"
    aliases = ["tsh", "tockshell"]
    filenames = ["*.tsh"]
    mimetypes = ["text/x-tsh"]
    url = "https://github.com/tock/tock"

    tokens = {
        "root": [
            (r"#[^\n]*", Comment.Single),
            (r"\\[ \t]*(?=\r?\n|$)", Text),
            (r"\s+", Whitespace),
            (r'(x)(")([^"\n]*)(")', bygroups(String.Affix, String.Double, Number.Hex, String.Double)),
            (r'"', String.Double, "string"),
            (r"(" + _NAME + r")([ \t]*)(:)", bygroups(Name.Namespace, Whitespace, Punctuation)),
            # A bare file path after a statement that takes a file.
            (_BEFORE + r"(include|source|save|record|export[ \t]+(?:perfetto|mermaid))([ \t]+)("
             + _PATH + ")",
             bygroups(Keyword, Whitespace, String.Other)),
            (r"\$" + _NAME, Name.Variable),
            (r"@" + _NAME, Name.Label),
            (r"[0-9][0-9_]*(?:\.[0-9]+)?(?:ns|us|ms|s|min)" + _AFTER, Number),
            (r"[0-9][0-9_]*[kKM]" + _AFTER, Number),
            (r"0[xX][0-9a-fA-F][0-9a-fA-F_]*" + _AFTER, Number.Hex),
            (r"0[bB][01][01_]*" + _AFTER, Number.Bin),
            (r"[0-9][0-9_]*" + _AFTER, Number.Integer),
            (r"(" + _NAME + r")(\()", bygroups(Name.Function, Punctuation)),
            (r"(" + _NAME + r")(=)(?!=)", bygroups(Name.Attribute, Operator)),
            (words(RESULT_VARIANTS, prefix=_BEFORE, suffix=_AFTER), Name.Builtin.Pseudo),
            (words(ERROR_CODES + PROCESS_STATES, prefix=_BEFORE, suffix=_AFTER), Name.Constant),
            (words(_WORD_OPS, prefix=_BEFORE, suffix=_AFTER), Operator.Word),
            (words(GRAMMAR_DRIVERS, prefix=_BEFORE, suffix=_AFTER), Name.Builtin),
            (words([k for k in GRAMMAR_KEYWORDS if k not in _WORD_OPS], prefix=_BEFORE, suffix=_AFTER),
             Keyword),
            (_NAME, Name),
            (r"==|!=|<=|>=|[-+*/%<>=]", Operator),
            (r"[(){}\[\],;]", Punctuation),
            (r".", Error),
        ],
        "string": [
            (r'\\(?:x[0-9a-fA-F]{2}|[nt\\"r0])', String.Escape),
            (r"\\.", Error),
            (r'"', String.Double, "#pop"),
            (r'[^"\\\n]+', String.Double),
            (r"\n", Error, "#pop"),
        ],
    }

    def analyse_text(text):
        """A .tsh file usually issues syscalls as ``p: command ...``."""
        if re.search(r"^\s*" + _NAME + r"\s*:\s*(command|subscribe|allow-r[wo]|yield|memop)\b", text, re.M):
            return 0.5
        if re.search(r"^\s*spawn\s+" + _NAME, text, re.M):
            return 0.3
        return 0.0
