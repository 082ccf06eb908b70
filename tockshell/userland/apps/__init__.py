"""The built-in apps, and loading a user's own app from a Python file.

``APPS`` maps an app name to ``(factory, params)``: ``factory`` is the app's
main generator function (called as ``factory(tock, **params)``) and
``params`` maps each parameter to a :class:`Param` (default and one-line doc).
:func:`spawn_program` turns a name (or ``path.py:Name``) and the spawn's
parameters into the program the kernel runs; :func:`app_help` is the text of
``help apps``.

A user's app named as ``app=path.py:Name`` is *run*: the file is executed as
Python with the full rights of tockshell, so a scenario that names a Python
file runs that file.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import os
import sys
from typing import Any, Callable, NamedTuple

from ..runtime import AppProgram


class Param(NamedTuple):
    """One app parameter: its default (which also fixes its type), a one-line doc, allowed words.

    ``unit="ms"`` marks a time in milliseconds: a plain number is taken as ms
    and a duration (``250ms``, ``1s``, or a :class:`Duration`) is converted.
    """

    default: Any
    doc: str
    choices: tuple[str, ...] | None = None
    unit: str | None = None


class Duration(int):
    """A time in nanoseconds that came from a duration literal (so it is not taken as ms)."""

    __slots__ = ()


_UNITS_NS = {"ns": 1, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000, "min": 60_000_000_000}


def _duration_ns(text: str) -> int | None:
    t = text.strip().replace("_", "")
    for unit in sorted(_UNITS_NS, key=len, reverse=True):
        if t.endswith(unit):
            num = t[: -len(unit)]
            try:
                return int(float(num) * _UNITS_NS[unit])
            except ValueError:
                return None
    return None


#: name -> (main generator function, {param: Param}); filled by the app modules below.
APPS: dict[str, tuple[Callable, dict[str, Param]]] = {}

#: spawn options that belong to the process, not to the app (the interpreter's own keys).
PROCESS_KEYS = frozenset({"app", "ram", "grant", "flash", "short_id", "package", "raw", "tbf", "tab"})


def register(name: str, params: dict[str, Param] | None = None):
    """Decorator: add a main generator function to :data:`APPS` under ``name``."""

    def deco(fn):
        APPS[name] = (fn, dict(params or {}))
        return fn

    return deco


def _summary(fn) -> str:
    doc = inspect.getdoc(fn) or ""
    return doc.strip().splitlines()[0] if doc.strip() else ""


def _shown(value: Any) -> str:
    """A parameter value as the user wrote it (a duration in its unit, not nanoseconds)."""
    if isinstance(value, Duration):
        ns = int(value)
        for unit in ("s", "ms", "us"):
            if ns % _UNITS_NS[unit] == 0:
                return f"{ns // _UNITS_NS[unit]}{unit}"
        return f"{ns}ns"
    if isinstance(value, (bytes, bytearray)):
        return 'x"' + " ".join(f"{b:02x}" for b in value) + '"'
    if isinstance(value, (tuple, list)):
        return ", ".join(_shown(v) for v in value)
    return repr(value) if isinstance(value, str) else str(value)


def _coerce(app: str, key: str, value: Any, spec: Param) -> Any:
    default = spec.default
    where = f"app '{app}' parameter {key}"
    if spec.unit == "ms":
        if isinstance(value, Duration):
            ns = int(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            ns = int(value * 1_000_000)
        else:
            ns = _duration_ns(str(value))
            if ns is None:
                raise ValueError(f"{where} is a time (500 for 500 ms, or 250ms, 1s), not {_shown(value)}")
        if ns < 0 or (ns == 0 and spec.default):
            raise ValueError(f"{where} must be a positive time, not {_shown(value)}")
        ms = ns / 1_000_000
        return int(ms) if ms == int(ms) else ms
    if spec.choices is not None:
        word = str(value)
        if word not in spec.choices:
            raise ValueError(f"{where} is one of {', '.join(spec.choices)}, not {_shown(value)}")
        return word
    if isinstance(default, bool):
        if isinstance(value, bool):
            return value
        if value in (0, 1):
            return bool(value)
        if str(value).lower() in ("on", "true", "yes", "off", "false", "no"):
            return str(value).lower() in ("on", "true", "yes")
        raise ValueError(f"{where} is on or off, not {_shown(value)}")
    if isinstance(default, int) or (default is None and isinstance(value, int)):
        if isinstance(value, bool):
            return int(value)
        if not isinstance(value, int):
            try:
                value = int(str(value).replace("_", ""), 0)
            except ValueError:
                raise ValueError(f"{where} is a number, not {_shown(value)}") from None
        # Every built-in count, size, port, index and priority is unsigned: refuse a negative at
        # spawn rather than let the app fault on it later.
        if value < 0 and isinstance(default, int) and default >= 0:
            raise ValueError(f"{where} is 0 or more, not {value}")
        return value
    if isinstance(default, str):
        if isinstance(value, bytes):
            return value.decode("utf-8", "replace")
        return str(value)
    if isinstance(default, tuple):
        if isinstance(value, (tuple, list)):
            return tuple(value)
        return (value,)
    return value


def resolve_params(app: str, spec: dict[str, Param], given: dict[str, Any]) -> dict[str, Any]:
    """Defaults overlaid with ``given`` (coerced); ValueError naming the first unknown parameter."""
    out = {k: p.default for k, p in spec.items()}
    for key, value in given.items():
        if key in PROCESS_KEYS:
            continue
        if key not in spec:
            known = ", ".join(sorted(spec)) or "none"
            raise ValueError(f"app '{app}' has no parameter '{key}' (its parameters: {known})")
        out[key] = _coerce(app, key, value, spec[key])
    return out


# ---------------------------------------------------------------------------- user apps
def _signature_params(fn) -> tuple[dict[str, Param], bool]:
    """The keyword parameters of a user's ``main(tock, ...)`` and whether it takes ``**kwargs``."""
    sig = inspect.signature(fn)
    params: dict[str, Param] = {}
    var_kw = False
    for i, (name, prm) in enumerate(sig.parameters.items()):
        if i == 0 and prm.kind in (prm.POSITIONAL_ONLY, prm.POSITIONAL_OR_KEYWORD):
            continue  # tock
        if prm.kind is prm.VAR_KEYWORD:
            var_kw = True
        elif prm.kind in (prm.POSITIONAL_OR_KEYWORD, prm.KEYWORD_ONLY):
            default = None if prm.default is prm.empty else prm.default
            params[name] = Param(default, "")
    return params, var_kw


def load_user_app(ref: str, base_dir: str | None = None) -> Callable:
    """Load ``path.py:Name`` (the path relative to ``base_dir``, or the working directory).

    Executes the file. ValueError with a clear message when the file, the
    name or its shape is wrong.
    """
    path, sep, name = ref.rpartition(":")
    if not sep or not path or not name.isidentifier():
        raise ValueError(f"a user app is named as path.py:Name (Name a Python identifier), not {ref!r}")
    full = path if os.path.isabs(path) or base_dir is None else os.path.join(base_dir, path)
    if not os.path.isfile(full):
        raise ValueError(f"app file {path!r} not found" + (f" (looked in {base_dir})" if base_dir else ""))
    modname = "tockshell_userapp_" + hashlib.sha1(os.path.abspath(full).encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(modname, full)
    if spec is None or spec.loader is None:
        raise ValueError(f"app file {path!r} is not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as e:
        raise ValueError(f"{path}:{e.lineno}: syntax error in the app file: {e.msg}") from None
    except Exception as e:  # noqa: BLE001 - any failure of the user's module is reported, not raised
        raise ValueError(f"{path}: loading the app file raised {type(e).__name__}: {e}") from None
    fn = getattr(module, name, None)
    if fn is None:
        found = [n for n, v in vars(module).items() if inspect.isgeneratorfunction(v) and not n.startswith("_")]
        hint = f" (generator functions there: {', '.join(found)})" if found else ""
        raise ValueError(f"{path} has no {name!r}{hint}")
    if not callable(fn):
        raise ValueError(f"{path}:{name} is not an app's main function (it is {type(fn).__name__})")
    return fn


# ---------------------------------------------------------------------------- spawning
def spawn_program(app: str, params: dict[str, Any] | None = None, *, ram: int | None = None,
                  base_dir: str | None = None) -> AppProgram:
    """The program for ``spawn NAME app=APP k=v ...``.

    ``app`` is a built-in name or ``path.py:Name``. ``params`` are the spawn's
    other options (process keys such as ``ram`` are skipped; ``ram`` is used
    for crt0 when the ``ram`` argument is not given). ValueError with a clear
    message for an unknown app or parameter or a bad value.
    """
    params = dict(params or {})
    if ram is None:
        ram = params.get("ram", 4096)
    if not isinstance(ram, int) or ram < 0:
        raise ValueError(f"ram must be a size in bytes, not {ram!r}")
    if app in APPS:
        main, spec = APPS[app]
        return AppProgram(main, resolve_params(app, spec, params), name=app, ram=ram)
    if ":" in app and app.rpartition(":")[0].endswith(".py"):
        main = load_user_app(app, base_dir)
        spec, var_kw = _signature_params(main)
        given = {k: v for k, v in params.items() if k not in PROCESS_KEYS}
        if var_kw:
            extra = {k: v for k, v in given.items() if k not in spec}
            resolved = resolve_params(app, spec, {k: v for k, v in given.items() if k in spec})
            resolved.update(extra)
        else:
            resolved = resolve_params(app, spec, given)
        missing = [k for k, p in spec.items() if p.default is None and k not in given]
        sig = inspect.signature(main)
        missing = [k for k in missing if sig.parameters[k].default is inspect.Parameter.empty]
        if missing:
            raise ValueError(f"app '{app}' needs parameter{'s' if len(missing) > 1 else ''} "
                             f"{', '.join(missing)} (spawn NAME app={app} {missing[0]}=...)")
        return AppProgram(main, resolved, name=app.rpartition(":")[2], ram=ram)
    if app.endswith(".py"):
        # A file with no :Name: say which function to name instead of listing the built-in apps.
        raise ValueError(f"app={app} names a file but not its main function: app={app}:Name")
    import difflib
    near = difflib.get_close_matches(app, list(APPS), n=1)
    hint = f" — did you mean '{near[0]}'?" if near else f" (built-in apps: {', '.join(sorted(APPS))})"
    raise ValueError(f"unknown app '{app}'{hint}; a file of your own is app=path.py:Name")


def _show_default(p: Param) -> str:
    d = p.default
    if d is None:
        return "auto" if p.choices else "none"
    if isinstance(d, bool):
        return "on" if d else "off"
    if isinstance(d, str) and p.choices:
        return d
    if isinstance(d, str):
        esc = d.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
        return f'"{esc}"'
    if isinstance(d, tuple):
        return ",".join(str(x) for x in d)
    return f"{d}{p.unit or ''}"


def app_help() -> str:
    """The text of ``help apps``: every built-in app, its parameters with defaults and docs."""
    lines = ["Built-in apps (spawn NAME app=APP [param=value ...]):", ""]
    # Columns as wide as the longest name or parameter, so a long one never runs into its text.
    width = max([14] + [len(n) for n in APPS]) + 2
    pwidth = max([20] + [len(k + "=" + _show_default(p)) for _, spec in APPS.values() for k, p in spec.items()]) + 2
    for name in sorted(APPS):
        main, spec = APPS[name]
        lines.append(f"  {name:<{width}}{_summary(main)}")
        for key, p in spec.items():
            lines.append(f"      {key + '=' + _show_default(p):<{pwidth}}{p.doc}"
                         + (f" ({' | '.join(p.choices)})" if p.choices else ""))
    lines += ["", 'Your own app: app="path.py:Name" runs the generator function Name(tock, ...) of',
              "that file (the file is executed: a scenario naming a Python file runs that file).",
              "See docs/apps.md."]
    return "\n".join(lines)


# Every module of this package registers its apps on import (other engineers'
# apps, such as the Thread scenario's, join the same way).
def _load_all() -> None:
    import importlib
    import pkgutil

    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            importlib.import_module(f"{__name__}.{info.name}")


_load_all()
