"""The debugger: breakpoints, catchpoints, watchpoints, time travel and pictures of a run.

* :mod:`.breakpoints` -- the table (breakpoints, catchpoints, watchpoints,
  displays) and its connection to the kernel's hooks;
* :mod:`.history` -- the session's timeline, replay (goto, rewind,
  reverse-*), checkpoints, ``save`` and ``record``;
* :mod:`.dump` -- a canonical picture of the whole model and ``diff``;
* :mod:`.export` -- Perfetto trace-event JSON, Mermaid sequence diagrams and
  the terminal timeline, read from the kernel's log;
* :mod:`.commands` -- the statements, a plugin of the language.

See docs/debugger.md.
"""
