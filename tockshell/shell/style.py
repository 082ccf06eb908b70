"""Colours of the REPL: the tsh highlighting and the UI (prompt, toolbar, menu).

Highlighting uses standard Pygments token types (the lexer emits Keyword,
Name.Function, Number, String, Name.Constant, Comment...), so any Pygments
style can colour it: ``TOCKSHELL_STYLE=monokai`` picks one by name. The
default uses the terminal's own 16 ANSI colours, which read well on light
and dark backgrounds alike. ``NO_COLOR`` (https://no-color.org) turns colour
off, as prompt_toolkit does for its output.
"""

from __future__ import annotations

import os
from typing import Mapping

from prompt_toolkit.styles import Style, merge_styles

__all__ = ["UI_STYLE", "TSH_TOKEN_STYLE", "make_style"]

#: The UI parts, by prompt_toolkit class name.
UI_STYLE = {
    "prompt": "",
    "prompt.time": "ansicyan",
    "prompt.ev": "ansicyan",
    "continuation": "ansibrightblack",
    "bottom-toolbar": "noreverse bg:ansibrightblack fg:ansiwhite",
    "bottom-toolbar.key": "bold",
    "bottom-toolbar.value": "bold",
    "bottom-toolbar.running": "fg:ansigreen bold",
    "bottom-toolbar.faulted": "fg:ansired bold",
    "bottom-toolbar.panic": "bg:ansired fg:ansiwhite bold",
    "bottom-toolbar.sep": "fg:ansigray",
    "auto-suggestion": "fg:ansibrightblack",
    "completion-menu": "bg:ansibrightblack fg:ansiwhite",
    "completion-menu.completion.current": "reverse",
    "completion-menu.meta.completion": "bg:ansibrightblack fg:ansiwhite",
    "completion-menu.meta.completion.current": "reverse",
    "matching-bracket.cursor": "bold",
    "matching-bracket.other": "bold underline",
}

#: tsh highlighting on the terminal's ANSI colours, by Pygments token.
TSH_TOKEN_STYLE = {
    "pygments.keyword": "ansiblue bold",
    "pygments.name.function": "ansimagenta",
    "pygments.name.builtin": "ansicyan",
    "pygments.name.constant": "ansired",
    "pygments.name.label": "ansiyellow",
    "pygments.name.variable": "ansigreen",
    "pygments.name.tag": "ansicyan bold",
    "pygments.number": "ansiyellow",
    "pygments.literal.number": "ansiyellow",
    "pygments.string": "ansigreen",
    "pygments.literal.string": "ansigreen",
    "pygments.comment": "ansibrightblack italic",
    "pygments.operator": "",
    "pygments.punctuation": "",
    "pygments.error": "ansired underline",
}


def make_style(env: Mapping[str, str] | None = None) -> Style:
    """The REPL style: UI classes over the tsh highlighting.

    ``TOCKSHELL_STYLE`` names a Pygments style to use for highlighting
    instead of the ANSI default; an unknown name falls back to the default.
    """
    env = os.environ if env is None else env
    token_style = Style.from_dict(TSH_TOKEN_STYLE)
    name = env.get("TOCKSHELL_STYLE")
    if name:
        try:
            from pygments.styles import get_style_by_name
            from pygments.util import ClassNotFound
            from prompt_toolkit.styles.pygments import style_from_pygments_cls

            token_style = style_from_pygments_cls(get_style_by_name(name))
        except (ImportError, ClassNotFound):
            pass
    return merge_styles([token_style, Style.from_dict(UI_STYLE)])
