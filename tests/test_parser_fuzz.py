"""Whatever the input, parse() returns a Program or raises a TshError with a
usable position: never another exception."""

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from test_parser import STATEMENTS
from tockshell.lang import ast as A
from tockshell.lang.errors import TshError
from tockshell.lang.parser import get_parser, parse

# Examples for the regex terminals (hypothesis cannot generate from the
# lookarounds they use); literals come from the grammar itself.
REGEX_EXAMPLES = {
    "NAME": ["p", "client", "a.b", "x-1", "Running", "_", "x", "led", "list", "NODEVICE"],
    "PROCESS_PREFIX": ["p:", "client :", "list:"],
    "FUNC": ["mem(", "f(", "Failure(", "Success(", "threshold("],
    "PATH": ["a/b", "../x.tsh", "/"],
    "APP_REF": ["app.py:Main", "dir/my_app.py:Blink"],
    "VAR": ["$_", "$x", "$_.r0", "$stop.kind", "$a-b"],
    "LABEL": ["@l", "@on_write"],
    "NUMBER": ["0", "42", "0x1F", "1_0", "0b1"],
    "DURATION": ["10ms", "1.5s", "0ns", "1min", "3us"],
    "SIZE": ["4k", "1M", "2K"],
    "STRING": ['""', '"a\\n"', '"\\q"', '"\\x4"', '"x y"'],
    "BYTES": ['x""', 'x"de ad"', 'x"z"', 'x"abc"'],
    "_NL": ["\n", "\r\n"],
    "COMMENT": ["# c", "#"],
    "WS": [" ", "\t"],
    "CONTINUATION": ["\\\n", "\\"],
}


def _terminal_texts():
    texts = []
    for term in get_parser().terminals:
        if type(term.pattern).__name__ == "PatternStr":
            texts.append(term.pattern.value)
        else:
            assert term.name in REGEX_EXAMPLES, f"add examples for terminal {term.name}"
            texts.extend(REGEX_EXAMPLES[term.name])
    return sorted(set(texts))


TOKENS = _terminal_texts()
SEPARATORS = [" ", " ", " ", "", "\n", "; "]


def check(text):
    try:
        program = parse(text, "fuzz.tsh")
    except TshError as err:
        pos = err.pos
        assert pos is not None and pos.file == "fuzz.tsh"
        lines = text.split("\n")
        assert 1 <= pos.line <= len(lines), (pos, text)
        assert 1 <= pos.column <= len(lines[pos.line - 1]) + 1, (pos, text)
        assert (pos.end_line, pos.end_column) >= (pos.line, pos.column), (pos, text)
        assert not err.message.startswith("internal error"), err.message
        rendered = err.format(text)
        assert rendered.startswith(f"fuzz.tsh:{pos.line}:{pos.column}: ")
        return None
    assert isinstance(program, A.Program)
    for stmt in program.statements:
        for node in A.walk(stmt):
            assert node.pos is not None
    return program


# Modest by default so the suite stays fast; TSH_FUZZ_EXAMPLES=5000 for a deep run.
EXAMPLES = int(os.environ.get("TSH_FUZZ_EXAMPLES", "300"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.text(max_size=60))
def test_random_text(text):
    check(text)


TSH_CHARS = list("abcpxyz:;{}()[]$@\"\\#\n\t -+*/%=<>!,._0123456789kmsu") + ["led ", "p: ", "spawn "]


@FUZZ
@given(st.lists(st.sampled_from(TSH_CHARS), max_size=40).map("".join))
def test_random_tsh_characters(text):
    check(text)


@FUZZ
@given(st.lists(st.tuples(st.sampled_from(TOKENS), st.sampled_from(SEPARATORS)), max_size=14))
def test_random_token_sequences(pairs):
    check("".join(tok + sep for tok, sep in pairs))


VALID = [text for text, _ in STATEMENTS]


@settings(max_examples=EXAMPLES // 2, deadline=None)
@given(st.lists(st.sampled_from(VALID), min_size=1, max_size=8),
       st.sampled_from(["\n", "; ", "\n\n# note\n", " ;\n"]))
def test_valid_statements_in_any_order(texts, sep):
    program = check(sep.join(texts))
    assert program is not None
    assert len(program.statements) == len(texts)


@FUZZ
@given(st.sampled_from(VALID), st.integers(min_value=0, max_value=200),
       st.sampled_from(["", " ", "x", "\"", "{", "}", "(", "$", "@", "\\", "\n", "#", "0", ":"]))
def test_mutated_statements(text, where, insert):
    where %= len(text) + 1
    check(text[:where] + insert + text[where + 1:])
