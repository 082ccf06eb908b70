"""Processes from real Tock binaries: TBF headers read by tockloader.

Tock developers have ``.tbf`` files (one app for one architecture) and ``.tab``
bundles (a tar of TBFs plus ``metadata.toml``) from elf2tab. This module reads
them with tockloader's own classes (``tockloader.tbfh.TBFHeader``,
``tockloader.tab.TAB``), so tockshell and tockloader can never disagree about
what a header says, and turns the header into what Tock's process loader
(``ProcessBinary::create`` and ``ProcessStandard::create``) would make of it:

* :func:`load_tbf` / :func:`load_tab` give a :class:`TbfInfo` (the parsed
  facts, with tockloader's own warnings);
* :func:`check_loadable` refuses what Tock refuses (disabled app, kernel
  version, checksum, padding) with Tock's words;
* :func:`check_credentials_of` runs the board's credentials policy
  (``config credentials``) on the footers, as Tock's ``ProcessCheckerMachine``
  does (:mod:`tockshell.tbf.credentials`);
* :func:`spawn_args` gives the keyword arguments of
  ``Kernel.create_process`` and installs :class:`TbfHeaderFilterDefaultAllow`,
  the board's syscall filter driven by the Permissions TLV.

tockloader is an optional dependency (``pip install 'tockshell[tbf]'``);
without it every entry point raises :class:`TbfError` with one clear line.
Nothing here imports the language or the shell.
"""

from __future__ import annotations

__all__ = [
    "TbfError", "TbfInfo", "Permission", "PersistentAcl", "MISSING_TOCKLOADER", "load_tbf", "load_tab",
    "check_loadable", "spawn_args", "describe", "TbfHeaderFilterDefaultAllow", "install_filter",
    "short_id_for", "crc32_posix", "SHORT_ID_RULES", "DEFAULT_ARCHES", "CREDENTIAL_POLICIES", "check_credentials_of",
]

#: How a board gives a ShortId to an app whose TBF has no ShortId TLV (``board.short_id_rule``):
#: ``unique``: every app is LocallyUnique (a board with no AppID assigner);
#: ``names``: ``AppIdAssignerNames`` with Tock's ``crc32_posix`` of the package name.
SHORT_ID_RULES = ("unique", "names")

#: The board's credentials checking policy (``board.credentials``, see :mod:`tockshell.tbf.credentials`):
#: ``none``: no checker, every binary loads (a board without a ``ProcessCheckerMachine``, or with
#: ``AppCheckerNull``); ``sha256``: ``AppCheckerSha256``; ``rsa_simulated``: ``AppCheckerRsaSimulated``.
CREDENTIAL_POLICIES = ("none", "sha256", "rsa_simulated")


def _loader():
    # Not `from . import loader`: that asks this module for the attribute first, which is here.
    import importlib

    return importlib.import_module(".loader", __name__)


def __getattr__(name: str):
    # Everything else lives in .loader, imported on first use (not by the plugin at start-up).
    if name.startswith("__"):
        raise AttributeError(name)
    try:
        return getattr(_loader(), name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None


def __dir__():
    return sorted(set(globals()) | set(dir(_loader())))
