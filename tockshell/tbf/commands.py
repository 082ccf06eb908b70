"""Language plugin of the TBF loader (imported by the session when it exists).

``spawn NAME tbf=FILE`` / ``tab=FILE [arch=...]`` are handled by the
interpreter, which calls :func:`tockshell.tbf.spawn_args`; this module adds
what only the TBF loader knows about:

* ``config short_id_rule = unique | names``: how the board gives a ShortId
  to an app whose TBF has no ShortId TLV (Tock's ``Compress`` policy):
  ``unique`` leaves it LocallyUnique, ``names`` is ``AppIdAssignerNames``
  with ``crc32_posix`` of the package name, as upstream boards configure it;
* ``config credentials = none | sha256 | rsa_simulated``: the board's
  credentials checking policy (Tock's ``ProcessCheckerMachine`` with
  ``AppCheckerSha256`` or ``AppCheckerRsaSimulated``; ``none``: no checker),
  applied by every later ``spawn ... tbf=`` / ``tab=``;
* ``p.credential``: the format of the footer whose credential approved the
  process (``SHA256``...), or none.
"""

from __future__ import annotations

from ..lang.commands import ConfigValue, config_key, process_field
from ..lang.interpreter import CONFIG_VALUE_WORDS
from ..lang.values import Symbol
from . import CREDENTIAL_POLICIES, SHORT_ID_RULES


def _get_rule(s) -> str:
    return getattr(s.board, "short_id_rule", "unique")


def _set_rule(s, v: ConfigValue) -> None:
    if v.word not in SHORT_ID_RULES:
        raise ValueError(f"short_id_rule is {' or '.join(SHORT_ID_RULES)}, not {v.source}")
    s.board.short_id_rule = v.word


config_key("short_id_rule", _get_rule, _set_rule,
           "ShortId of a TBF app with no ShortId TLV: unique (LocallyUnique) | names (crc32 of the package name)")


def _get_credentials(s) -> str:
    return getattr(s.board, "credentials", "none")


def _set_credentials(s, v: ConfigValue) -> None:
    if v.word not in CREDENTIAL_POLICIES:
        raise ValueError(f"credentials is {', '.join(CREDENTIAL_POLICIES[:-1])} or {CREDENTIAL_POLICIES[-1]}, "
                         f"not {v.source}")
    s.board.credentials = v.word


# The REPL completes these words after `config KEY =` (the session asks the interpreter's table).
CONFIG_VALUE_WORDS.setdefault("credentials", CREDENTIAL_POLICIES)
CONFIG_VALUE_WORDS.setdefault("short_id_rule", SHORT_ID_RULES)

config_key("credentials", _get_credentials, _set_credentials,
           "credentials policy for TBF apps loaded from now on: none | sha256 (AppCheckerSha256) | "
           "rsa_simulated (AppCheckerRsaSimulated)")


@process_field("credential", "format of the TBF footer whose credential approved it (SHA256...), or none")
def _field_credential(s, p):
    check = getattr(getattr(p, "tbf", None), "credential_check", None)
    accepted = getattr(check, "accepted", None)
    return None if accepted is None else Symbol(accepted.name)
