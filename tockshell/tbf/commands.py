"""Language plugin of the TBF loader (imported by the session when it exists).

``spawn NAME tbf=FILE`` / ``tab=FILE [arch=...]`` are handled by the
interpreter, which calls :func:`tockshell.tbf.spawn_args`; this module adds
what only the TBF loader knows about:

* ``config short_id_rule = unique | names``: how the board gives a ShortId
  to an app whose TBF has no ShortId TLV (Tock's ``Compress`` policy):
  ``unique`` leaves it LocallyUnique, ``names`` is ``AppIdAssignerNames``
  with ``crc32_posix`` of the package name, as upstream boards configure it.
"""

from __future__ import annotations

from ..lang.commands import ConfigValue, config_key
from . import SHORT_ID_RULES


def _get_rule(s) -> str:
    return getattr(s.board, "short_id_rule", "unique")


def _set_rule(s, v: ConfigValue) -> None:
    if v.word not in SHORT_ID_RULES:
        raise ValueError(f"short_id_rule is {' or '.join(SHORT_ID_RULES)}, not {v.source}")
    s.board.short_id_rule = v.word


config_key("short_id_rule", _get_rule, _set_rule,
           "ShortId of a TBF app with no ShortId TLV: unique (LocallyUnique) | names (crc32 of the package name)")
