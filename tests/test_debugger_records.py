"""The debugger's record classes: plain slotted classes that behave as the attrs classes they replaced."""

from __future__ import annotations

import importlib

import pytest

from tockshell.debugger.breakpoints import Breakpoint, Display, Held, Table
from tockshell.debugger.history import Checkpoint, Cut, Entry, HoldEntry, TableEntry
from tockshell.lang import ast
from tockshell.lang.commands import Stop

MODULES = ("tockshell.debugger.commands", "tockshell.debugger.breakpoints", "tockshell.debugger.history")


@pytest.mark.parametrize("name", MODULES)
def test_no_attrs_class_is_built_when_the_plugin_loads(name):
    # Every session imports these modules: an attrs class costs about a millisecond of start-up each.
    mod = importlib.import_module(name)
    built = [k for k, v in vars(mod).items()
             if isinstance(v, type) and v.__module__ == name and hasattr(v, "__attrs_attrs__")]
    assert built == []


def _entry(**kw):
    args = dict(node=ast.Step(), text="step", file="<stdin>", epoch=0, ev0=1, ev1=2)
    args.update(kw)
    return Entry(**args)


def test_entry_fields_defaults_and_value_equality():
    e = Entry(ast.Step(), "step", None, 0, 1, 2)
    assert (e.error, e.source) == (None, None)
    assert e == _entry(file=None) and hash(e) == hash(_entry(file=None))
    assert e != _entry(file=None, ev1=3)
    assert e != Cut(e, 0, 2) and Cut(e, 0, 2) == Cut(_entry(file=None), 0, 2)
    assert len({e, _entry(file=None)}) == 1
    assert not hasattr(e, "__dict__")


def test_with_text_is_a_copy():
    e = _entry(error="refused", source=("<stdin>", "step"))
    f = e.with_text("step 3")
    assert f.text == "step 3" and e.text == "step"
    assert (f.node, f.file, f.epoch, f.ev0, f.ev1, f.error, f.source) == \
           (e.node, e.file, e.epoch, e.ev0, e.ev1, e.error, e.source)


def test_table_entries_are_equal_only_to_themselves():
    t = Table()
    a, b = TableEntry(t), TableEntry(t, 1)
    assert a.base == 1 and a == a and a != b
    assert len({a, b}) == 2


def test_hold_entry_compares_its_stop():
    s1, s2 = Stop("break", "p", 1, "m"), Stop("break", "p", 1, "m")
    assert HoldEntry("syscall", "p", 2, 0, 5, s1) == HoldEntry("syscall", "p", 2, 0, 5, s2)
    assert HoldEntry("syscall", "p", 2, 0, 5, s1) != HoldEntry("upcall", "p", 2, 0, 5, s1)


def test_mutable_records_compare_by_fields_and_are_unhashable():
    bp = Breakpoint(1, "syscall", process="p")
    assert (bp.cls, bp.enabled, bp.ignore, bp.hits, bp.commands, bp.text) == (None, True, 0, 0, (), "")
    assert bp == Breakpoint(1, "syscall", process="p") and bp != Breakpoint(2, "syscall", process="p")
    assert bp.type_word == "breakpoint" and Breakpoint(3, "catch").type_word == "catchpoint"
    for r in (bp, Display(1, None, "x"), Table(), Held(None, "p", 1, 2, (0, 0, 0, 0), 1),
              Checkpoint(1, "a", (), 0, 0, 0, {})):
        with pytest.raises(TypeError):
            hash(r)
    assert "Breakpoint(number=1, kind='syscall', process='p'" in repr(bp)


def test_table_copy_is_deep_but_shares_ast_nodes():
    t = Table()
    expr = ast.Var("x")
    body = (ast.Step(),)
    t.breakpoints[1] = Breakpoint(1, "watch", expr=expr, condition=expr, commands=body, old=("int", "1", 1))
    t.displays[1] = Display(1, expr, "$x")
    t.next_number = 2
    c = t.copy()
    assert c == t and c is not t
    assert c.breakpoints is not t.breakpoints and c.breakpoints[1] is not t.breakpoints[1]
    assert c.breakpoints[1].expr is expr and c.breakpoints[1].commands[0] is body[0]
    assert c.displays[1].expr is expr
    c.breakpoints[1].hits = 5
    c.breakpoints[2] = Breakpoint(2, "catch", catch="fault")
    assert t.breakpoints[1].hits == 0 and 2 not in t.breakpoints
    assert Table().breakpoints is not Table().breakpoints
