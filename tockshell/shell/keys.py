"""Key bindings of the REPL, and the rule for when Enter submits.

Enter submits the buffer when it is a complete input: every ``{`` closed and
the last line not ending in ``\\`` (the language's line continuation).
Otherwise Enter opens a new line, indented to the block depth, and the shell
shows the ``... `` continuation prompt. This is the rule ptpython uses for
Python, applied to tsh: nothing to learn, and a pasted scenario with blocks
arrives as whole statements.

Other keys:

* Enter with the completion menu open closes it and then acts as Enter
  (the chosen completion is already in the text);
* Tab completes synchronously (a unique candidate is inserted, else the
  common part and a menu; Tab again moves through the menu);
* Alt-Enter (Esc Enter) always inserts a newline, to start a multi-line
  input on purpose;
* Ctrl-C clears the line, Ctrl-D on an empty line exits (prompt_toolkit's
  own behaviour: ``prompt()`` raises KeyboardInterrupt / EOFError and the
  REPL loop handles them).

:func:`input_incomplete` and :func:`block_depth` are pure functions used by
both the interactive and the piped shell.
"""

from __future__ import annotations

__all__ = ["block_depth", "input_incomplete", "make_key_bindings", "INDENT"]

INDENT = "  "


def _depth(text: str) -> int:
    """Open-brace depth at the end of ``text``, ignoring braces inside
    strings, byte strings and comments."""
    depth = 0
    in_string = False
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if in_string:
            if c == "\\" and i + 1 < n and text[i + 1] != "\n":
                i += 2
                continue
            if c == '"' or c == "\n":
                # A string cannot span lines: a newline ends a broken one.
                in_string = False
        elif c == '"':
            in_string = True
        elif c == "#":
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        i += 1
    return depth


def block_depth(text: str) -> int:
    """How many ``{`` are still open at the end of ``text`` (never below 0):
    the indentation of the next line."""
    return max(_depth(text), 0)


def input_incomplete(text: str) -> bool:
    """True when ``text`` needs more lines before it can run: an unclosed
    ``{`` or a last line ending in ``\\``. An extra ``}`` makes it complete
    (the parser will then say what is wrong).

    The parser's own rule, so the shell and the language agree on what a
    complete input is.
    """
    from ..lang.parser import is_incomplete

    return is_incomplete(text)


def make_key_bindings():
    """The REPL's key bindings (merged over prompt_toolkit's defaults)."""
    from prompt_toolkit.filters import has_focus, has_selection
    from prompt_toolkit.enums import DEFAULT_BUFFER
    from prompt_toolkit.key_binding import KeyBindings

    kb = KeyBindings()
    in_buffer = has_focus(DEFAULT_BUFFER) & ~has_selection

    @kb.add("enter", filter=in_buffer)
    def _enter(event) -> None:
        buf = event.current_buffer
        # Choosing in the menu has already put the completion in the text, so
        # Enter only closes the menu and then does what Enter does (bash-like:
        # `li` Tab Enter runs `list`).
        buf.complete_state = None
        doc = buf.document
        # A complete input runs wherever the cursor is (as in any shell after
        # editing a recalled line); Alt-Enter is there to split a line.
        if not input_incomplete(doc.text):
            buf.validate_and_handle()
            return
        depth = block_depth(doc.text_before_cursor)
        buf.insert_text("\n" + INDENT * depth)

    @kb.add("tab", filter=in_buffer)
    def _tab(event) -> None:
        # Tab completes at once, from the completer called right here: the
        # default starts an asynchronous completion, so a quick Tab Enter (or
        # a Tab while the as-you-type menu is still loading) would be lost.
        from prompt_toolkit.buffer import CompletionState
        from prompt_toolkit.completion import CompleteEvent, get_common_complete_suffix

        buf = event.current_buffer
        state = buf.complete_state
        if state is not None and state.completions:
            buf.complete_next()
            return
        if buf.completer is None:
            return
        doc = buf.document
        completions = list(buf.completer.get_completions(doc, CompleteEvent(completion_requested=True)))
        buf.complete_state = None  # drops a completion still loading
        if not completions:
            return
        if len(completions) == 1:
            buf.apply_completion(completions[0])
            return
        common = get_common_complete_suffix(doc, completions)
        if common:
            buf.insert_text(common, fire_event=False)
            completions = [c.new_completion_from_position(len(common)) for c in completions]
        buf.complete_state = CompletionState(original_document=buf.document, completions=completions)
        buf.on_completions_changed.fire()

    @kb.add("escape", "enter", filter=in_buffer)
    def _newline(event) -> None:
        event.current_buffer.insert_text("\n")

    @kb.add("}", filter=in_buffer)
    def _close_brace(event) -> None:
        # Dedent a closing brace typed on an otherwise blank line.
        buf = event.current_buffer
        line = buf.document.current_line_before_cursor
        if line and not line.strip() and buf.document.current_line_after_cursor.strip() == "":
            cut = min(len(INDENT), len(line))
            buf.delete_before_cursor(cut)
        buf.insert_text("}")

    return kb
