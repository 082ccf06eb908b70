"""The generated ``_ast_init`` module matches the node declarations in ``ast.py``."""

from pathlib import Path

import pytest

from tockshell.lang import _ast_init, ast


def test_generated_init_module_is_current():
    path = Path(ast.__file__).with_name("_ast_init.py")
    assert path.read_text() == ast.generated_init_module(), (
        "tockshell/lang/_ast_init.py is stale: run `python3 -m tockshell.lang.ast --write-init`")


def test_every_node_class_uses_the_generated_init():
    for cls in ast._NODE_CLASSES:
        assert cls.__init__.__code__ is getattr(_ast_init, cls.__name__).__code__, cls.__name__


def test_a_class_declared_after_generation_compiles_its_own_init():
    @ast._node
    class Probe(ast.Statement):
        target: ast.Name
        count: int = 3
        note: str = ast.field("", eq=False)

    try:
        a = Probe(ast.Name("x"), pos=ast.Pos("f", 1, 1, 1, 2))
        assert (a.target, a.count, a.note) == (ast.Name("x"), 3, "")
        assert a == Probe(ast.Name("x"), 3, "other")  # note and pos are not compared
        assert Probe.__match_args__ == ("target", "count", "note")
        assert repr(a) == "Probe(target=Name(name='x'), count=3, note='')"
    finally:
        ast._NODE_CLASSES.remove(Probe)


def test_nodes_are_frozen_values():
    n = ast.Number(5, "5", pos=ast.Pos("f", 1, 1, 1, 2))
    with pytest.raises(ast.FrozenNodeError):
        n.value = 6
    with pytest.raises(AttributeError):
        del n.text
    assert n == ast.Number(5) and hash(n) == hash(ast.Number(5, "0x5"))
    assert ast.String("hé").data == "hé".encode()
    assert ast.String("a", b"\xff").data == b"\xff"
    with pytest.raises(TypeError):
        ast.Number()  # a field without a default must be given
    with pytest.raises(TypeError):
        ast.Name("x", ast.Pos("f", 1, 1, 1, 2))  # pos is keyword-only


def test_nodes_survive_pickle_and_deepcopy():
    import copy
    import pickle

    from tockshell.lang.parser import parse

    prog = parse("spawn a ram=4k\na: command led 1 0\n", "t.tsh")
    for clone in (pickle.loads(pickle.dumps(prog)), copy.deepcopy(prog)):
        assert clone == prog
        assert [s.pos for s in clone.statements] == [s.pos for s in prog.statements]


def test_a_default_must_be_a_literal():
    with pytest.raises(TypeError):
        ast.field([])
