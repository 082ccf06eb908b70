"""The Pygments lexer: registered, grammar-derived, and error-free on tsh."""

import shutil
import subprocess
import sys

import pygments.lexers
import pytest
from pygments.token import Comment, Error, Keyword, Name, Number, Operator, Punctuation, String

from test_parser import STATEMENTS
from tockshell.lang.parser import grammar_info
from tockshell.shell.lexer import GRAMMAR_DRIVERS, GRAMMAR_KEYWORDS, TshLexer

SAMPLE = """\
# a scenario
spawn client ram=4k app=blink  # booted
client: subscribe console 1 @on_write
client: allow-ro console 1 "hel\\x41lo\\n"
client: allow-ur console 1 x"de ad be ef"
expect $_ == Success(u32=3) and client.state == Running
expect $_.values[1] != Failure(NODEVICE)
run for 1.5ms until mem(client, 0x2000_0000, 4) == "abcd"
at +10ms {
  p: command led 3 0; p: yield wait-for alarm 0
}
let x = ($end - 16) * 2 % 3 / 1
p: command led \\
   3 0
"""


def tokens(text):
    return [(t, v) for t, v in TshLexer().get_tokens(text) if v.strip()]


def test_registered_with_pygments():
    assert isinstance(pygments.lexers.get_lexer_by_name("tsh"), TshLexer)
    assert isinstance(pygments.lexers.get_lexer_by_name("tockshell"), TshLexer)
    assert isinstance(pygments.lexers.get_lexer_for_filename("demo.tsh"), TshLexer)
    assert "tsh" in {lexer[0] for lexer in pygments.lexers.get_all_lexers()}


@pytest.mark.skipif(shutil.which("pygmentize") is None, reason="pygmentize not installed")
def test_pygmentize_command():
    out = subprocess.run(["pygmentize", "-l", "tsh", "-f", "raw"], input="spawn p\n",
                         capture_output=True, text=True, check=True)
    assert "Token.Keyword\t'spawn'" in out.stdout


def test_keywords_come_from_the_grammar():
    info = grammar_info()
    assert set(GRAMMAR_DRIVERS) == set(info.drivers)
    assert set(GRAMMAR_KEYWORDS) | set(GRAMMAR_DRIVERS) == set(info.keywords)


def test_sample_has_no_error_tokens_and_round_trips():
    toks = list(TshLexer().get_tokens(SAMPLE))
    assert not [v for t, v in toks if t in Error]
    assert "".join(v for _, v in toks) == SAMPLE


def test_every_statement_form_lexes_cleanly():
    text = "\n".join(t for t, _ in STATEMENTS) + "\n"
    assert not [v for t, v in TshLexer().get_tokens(text) if t in Error]


@pytest.mark.parametrize("text,expected", [
    ("spawn", Keyword), ("allow-rw", Keyword), ("reverse-step", Keyword),
    ("console", Name.Builtin), ("registry_name", Name.Builtin),
    ("# note", Comment.Single), ("$_.r0", Name.Variable), ("@on_write", Name.Label),
    ("0x1F", Number.Hex), ("42", Number.Integer), ("10ms", Number), ("4k", Number),
    ("Success", Name.Builtin.Pseudo), ("FailureU32", Name.Builtin.Pseudo),
    ("NODEVICE", Name.Constant), ("NOACK", Name.Constant), ("Running", Name.Constant),
    ("and", Operator.Word), ("==", Operator), ("blinky", Name),
])
def test_token_types(text, expected):
    assert tokens(text) == [(expected, text)]


def test_compound_tokens():
    assert tokens("client: yield") == [(Name.Namespace, "client"), (Punctuation, ":"), (Keyword, "yield")]
    assert tokens("ram=4k")[:2] == [(Name.Attribute, "ram"), (Operator, "=")]
    assert tokens("mem(p, 1, 2)")[0] == (Name.Function, "mem")
    assert tokens('x"de ad"')[0] == (String.Affix, "x")
    assert (String.Escape, "\\x41") in tokens('"\\x41"')
    assert (String.Escape, "\\n") in tokens('"a\\n"')


def test_keywords_need_word_boundaries():
    # Parts of longer names are not keywords.
    assert tokens("listing") == [(Name, "listing")]
    assert tokens("my-spawn") == [(Name, "my-spawn")]
    assert tokens("spawn.x") == [(Name, "spawn.x")]
    assert tokens("console2") == [(Name, "console2")]


def test_bad_escape_and_stray_characters_are_errors():
    assert any(t in Error for t, _ in TshLexer().get_tokens('"\\q"'))
    assert any(t in Error for t, _ in TshLexer().get_tokens("!"))


def test_analyse_text_recognises_tsh():
    assert TshLexer.analyse_text("p: command led 0\n") == 0.5
    assert TshLexer.analyse_text("print('hello')\n") == 0.0


def test_lexer_import_is_cheap():
    code = "import sys, tockshell.shell.lexer; assert 'lark' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
