"""The tsh parser: every statement form, positions, lexical rules, errors."""

import logging
import os
import subprocess
import sys
import textwrap

import pytest

from tockshell.lang import ast as A
from tockshell.lang.errors import TshError, TshSyntaxError, did_you_mean
from tockshell.lang.parser import (
    get_parser, grammar_info, is_incomplete, parse, parse_expression, parse_statement,
)

P = A.Name("p")
CLIENT = A.Name("client")


def N(v):
    return A.Number(v)


def one(text):
    program = parse(text, "t.tsh")
    assert len(program.statements) == 1, program.statements
    return program.statements[0]


# ---------------------------------------------------------------- statements

STATEMENTS = [
    # processes and the kernel
    ("board", A.Board(None)),
    ("board cortex-m", A.Board("cortex-m")),
    ('board "nrf52840dk"', A.Board("nrf52840dk")),
    ("config fault_policy = restart", A.Config("fault_policy", A.Name("restart"))),
    ("config fault_policy = threshold(3)", A.Config("fault_policy", A.Call("threshold", (N(3),)))),
    ("config scheduler = round_robin(10ms)",
     A.Config("scheduler", A.Call("round_robin", (A.Duration(10_000_000),)))),
    ("config scheduler = cooperative", A.Config("scheduler", A.Name("cooperative"))),
    ("config ipcmgr.descriptors = fixed(8)", A.Config("ipcmgr.descriptors", A.Call("fixed", (N(8),)))),
    ("config mailbox.crash_notify = on", A.Config("mailbox.crash_notify", A.Name("on"))),
    ("policy register echo allow echo_service, 0x1234",
     A.Policy("register", "echo", (A.Name("echo_service"), N(0x1234)))),
    ("policy clients echo allow any", A.Policy("clients", "echo", (A.Name("any"),))),
    ('policy clients "echo" allow a b', A.Policy("clients", "echo", (A.Name("a"), A.Name("b")))),
    ("spawn client", A.Spawn(CLIENT, ())),
    ('spawn client ram=4k grant=2k flash=2k short_id=0x42 package="pkg" app=blink raw=true',
     A.Spawn(CLIENT, (A.KeywordArg("ram", A.Size(4096)), A.KeywordArg("grant", A.Size(2048)),
                      A.KeywordArg("flash", A.Size(2048)), A.KeywordArg("short_id", N(0x42)),
                      A.KeywordArg("package", A.String("pkg")), A.KeywordArg("app", A.Name("blink")),
                      A.KeywordArg("raw", A.Name("true"))))),
    ("spawn c app=crash_dummy after=3", A.Spawn(A.Name("c"), (
        A.KeywordArg("app", A.Name("crash_dummy")), A.KeywordArg("after", N(3))))),
    ("list", A.ListProcesses()),
    ("status", A.Status()),
    ("kernel", A.ShowKernel()),
    ("process client", A.ProcessDetail(CLIENT)),
    ("stop client", A.StopProcess(CLIENT)),
    ("start client", A.StartProcess(CLIENT)),
    ("fault client", A.FaultProcess(CLIENT)),
    ("crash client", A.FaultProcess(CLIENT)),
    ("terminate client", A.TerminateProcess(CLIENT)),
    ("boot client", A.BootProcess(CLIENT)),
    ("restart client", A.RestartProcess(CLIENT)),
    # syscalls
    ("p: command console 1 5", A.Command(P, A.Driver("console"), N(1), N(5))),
    ("p: command led 0", A.Command(P, A.Driver("led"), N(0))),
    ("p: command 0x30001 1 ($end - 16) $x",
     A.Command(P, A.Driver(number=N(0x30001)), N(1),
               A.BinaryOp("-", A.Var("end"), N(16)), A.Var("x"))),
    ("p: command $d 2 -1", A.Command(P, A.Driver(number=A.Var("d")), N(2), N(-1))),
    ("p: subscribe console 1 @on_write", A.Subscribe(P, A.Driver("console"), N(1), A.Label("on_write"))),
    ("p: subscribe alarm 0 0x40081 7", A.Subscribe(P, A.Driver("alarm"), N(0), N(0x40081), N(7))),
    ("p: subscribe alarm 0 null", A.Subscribe(P, A.Driver("alarm"), N(0), A.Null())),
    ("p: allow-rw console 1 0x20000800 64",
     A.Allow(P, "rw", A.Driver("console"), N(1), A.AddressRange(N(0x20000800), N(64)))),
    ('p: allow-ro console 1 "hello"', A.Allow(P, "ro", A.Driver("console"), N(1), A.String("hello"))),
    ('p: allow-ur console 1 x"de ad be ef"',
     A.Allow(P, "ur", A.Driver("console"), N(1), A.Bytes(b"\xde\xad\xbe\xef"))),
    ("p: allow-rw console 1 null", A.Allow(P, "rw", A.Driver("console"), N(1), A.Null())),
    ("p: allow-rw console 1 $buf 16",
     A.Allow(P, "rw", A.Driver("console"), N(1), A.AddressRange(A.Var("buf"), N(16)))),
    ("p: yield", A.Yield(P, "wait")),
    ("p: yield wait", A.Yield(P, "wait")),
    ("p: yield no-wait", A.Yield(P, "no-wait")),
    ("p: yield wait-for alarm 0", A.Yield(P, "wait-for", A.Driver("alarm"), N(0))),
    ("p: memop brk 0x20001000", A.Memop(P, "brk", N(0x20001000))),
    ("p: memop sbrk 64", A.Memop(P, "sbrk", N(64))),
    ("p: memop ram_start", A.Memop(P, "ram_start")),
    ("p: memop 7", A.Memop(P, N(7))),
    ("p: exit terminate 3", A.Exit(P, "terminate", N(3))),
    ("p: exit restart", A.Exit(P, "restart")),
    ("p: syscall 9 1 2 3 4", A.RawSyscall(P, N(9), N(1), N(2), N(3), N(4))),
    ("p: syscall command 0x1 1", A.RawSyscall(P, "command", N(1), N(1))),
    # memory and kernel state
    ("alloc p 64", A.Alloc(P, N(64))),
    ("alloc p 4k", A.Alloc(P, A.Size(4096))),
    ('write p 0x20000800 "text"', A.Write(P, N(0x20000800), A.String("text"))),
    ('write p $buf x"01 02"', A.Write(P, A.Var("buf"), A.Bytes(b"\x01\x02"))),
    ("write p $buf 1 2 3", A.Write(P, A.Var("buf"), (N(1), N(2), N(3)))),
    ("write p $buf 1,2,3", A.Write(P, A.Var("buf"), (N(1), N(2), N(3)))),
    ("mem p 0x20000800", A.ShowMemory(P, N(0x20000800))),
    ("mem p 0x20000800 16", A.ShowMemory(P, N(0x20000800), N(16))),
    ("grants p", A.ShowGrants(P)),
    ("upcalls p", A.ShowUpcalls(P)),
    ("allows p", A.ShowAllows(P)),
    ("subscriptions p", A.ShowSubscriptions(P)),
    ("descriptors p", A.ShowDescriptors(P)),
    ("services", A.ShowServices()),
    ("mailbox", A.ShowMailbox()),
    ("mailbox p", A.ShowMailbox(P)),
    ("stats", A.Stats(False)),
    ("stats reset", A.Stats(True)),
    ("trace", A.Trace()),
    ("trace on", A.Trace("on")),
    ("trace off", A.Trace("off")),
    ("trace 20", A.Trace(None, N(20))),
    # time, events, running
    ("step", A.Step()),
    ("step 5", A.Step(N(5))),
    ("run", A.Run()),
    ("run for 10ms", A.Run(A.Duration(10_000_000))),
    ("run until p.state == Yielded",
     A.Run(None, A.Comparison("==", A.Name("p.state"), A.Name("Yielded")))),
    ("run for 1s until $x > 3", A.Run(A.Duration(10**9), A.Comparison(">", A.Var("x"), N(3)))),
    ("now", A.Now()),
    ('inject radio x"41 88" lqi=200',
     A.Inject("radio", A.Bytes(b"\x41\x88"), (A.KeywordArg("lqi", N(200)),))),
    ("traffic radio rate=100 ports=1,2,4 for 1s",
     A.Traffic("radio", (A.KeywordArg("rate", N(100)),
                         A.KeywordArg("ports", A.ListValue((N(1), N(2), N(4))))), A.Duration(10**9))),
    ("press button 0", A.Press(N(0))),
    ('console input "ls\\n"', A.ConsoleInput(A.String("ls\n"))),
    ("at 5ms { press button 0 }", A.At(A.Duration(5_000_000), (A.Press(N(0)),))),
    ("at +5ms { list; status }", A.At(A.Duration(5_000_000), (A.ListProcesses(), A.Status()), True)),
    ("at 0 { }", A.At(A.Duration(0), ())),
    ("every 100ms for 1s {\n  p: command led 3 0\n}",
     A.Every(A.Duration(100_000_000), (A.Command(P, A.Driver("led"), N(3), N(0)),), A.Duration(10**9))),
    ("every 100ms\n{\n}", A.Every(A.Duration(100_000_000), ())),
    ("timeline", A.Timeline()),
    ("timeline for 10ms", A.Timeline(A.Duration(10_000_000))),
    # debugging
    ("break syscall", A.BreakSyscall()),
    ("break syscall p", A.BreakSyscall(P)),
    ("break syscall p command console if $_.r0 > 3",
     A.BreakSyscall(P, "command", A.Driver("console"),
                    A.Comparison(">", A.Var("_.r0"), N(3)))),
    ("break syscall allow-rw", A.BreakSyscall(None, "allow-rw")),
    ("break syscall 2 0x1", A.BreakSyscall(None, N(2), A.Driver(number=N(1)))),
    ("break syscall any 0x30001", A.BreakSyscall(None, None, A.Driver(number=N(0x30001)))),
    ("break syscall p console", A.BreakSyscall(P, None, A.Driver("console"))),
    ("tbreak syscall p yield", A.BreakSyscall(P, "yield", temporary=True)),
    ("break upcall", A.BreakUpcall()),
    ("break upcall p alarm 0", A.BreakUpcall(P, A.Driver("alarm"), N(0))),
    ("break upcall 0x1 1 if $x", A.BreakUpcall(None, A.Driver(number=N(1)), N(1), A.Var("x"))),
    ("tbreak upcall p", A.BreakUpcall(P, temporary=True)),
    ("ignore 1 5", A.Ignore(N(1), N(5))),
    ("condition 1 $_.r0 == 0", A.Condition(N(1), A.Comparison("==", A.Var("_.r0"), N(0)))),
    ("condition 1", A.Condition(N(1))),
    ('commands 1 {\n  echo "hit"\n  continue\n}',
     A.Commands(N(1), (A.Echo((A.String("hit"),)), A.Continue()))),
    ("commands { }", A.Commands(None, ())),
    ("catch fault", A.Catch("fault")),
    ("catch fault p", A.Catch("fault", None, P)),
    ("catch restart", A.Catch("restart")),
    ("catch error NODEVICE", A.Catch("error", "NODEVICE")),
    ("catch error 11 p", A.Catch("error", 11, P)),
    ("catch dropped", A.Catch("dropped")),
    ("catch ipc", A.Catch("ipc")),
    ("watch p.state", A.Watch(A.Name("p.state"))),
    ("display $_", A.Display(A.Var("_"))),
    ("display", A.Display()),
    ("undisplay", A.Undisplay()),
    ("undisplay 2", A.Undisplay(N(2))),
    ("info breakpoints", A.Info("breakpoints")),
    ("info display", A.Info("display")),
    ("info checkpoints", A.Info("checkpoints")),
    ("delete", A.Delete(())),
    ("delete 1", A.Delete((N(1),))),
    ("delete 1 2", A.Delete((N(1), N(2)))),
    ("disable 1", A.Disable((N(1),))),
    ("enable 1", A.Enable((N(1),))),
    ("next p", A.Next(P)),
    ("continue", A.Continue()),
    ("finish", A.Finish()),
    ("checkpoint", A.Checkpoint()),
    ("checkpoint before", A.Checkpoint("before")),
    ("restore before", A.Restore("before")),
    ("restore 2", A.Restore(2)),
    ("diff a b", A.Diff("a", "b")),
    ("rewind", A.Rewind()),
    ("rewind 3", A.Rewind(N(3))),
    ("reverse-step", A.ReverseStep()),
    ("reverse-step 2", A.ReverseStep(N(2))),
    ("reverse-continue", A.ReverseContinue()),
    ("goto 42", A.Goto(N(42))),
    ("save session.tsh", A.Save("session.tsh")),
    ('save "my session.tsh"', A.Save("my session.tsh")),
    ("record out/trace.tsh", A.Record("out/trace.tsh")),
    ("record off", A.Record(None)),
    ("export perfetto trace.json", A.Export("perfetto", "trace.json")),
    ("export mermaid seq.md", A.Export("mermaid", "seq.md")),
    # apps, radio, IPC
    ("compare", A.Compare(())),
    ("compare mechanism=mailbox clients=4",
     A.Compare((A.KeywordArg("mechanism", A.Name("mailbox")), A.KeywordArg("clients", N(4))))),
    ("help", A.Help()),
    ("help apps", A.Help("apps")),
    ("help spawn", A.Help("spawn")),
    ("help break syscall", A.Help("break syscall")),
    ("demo", A.Demo()),
    ("demo thread", A.Demo("thread")),
    # scripts
    ("let x = 3", A.Let("x", N(3))),
    ("let buf = alloc p 64", A.Let("buf", A.Alloc(P, N(64)))),
    ("let r = p: command console 0", A.Let("r", A.Command(P, A.Driver("console"), N(0)))),
    ("let x = $_.r0 + 4", A.Let("x", A.BinaryOp("+", A.Var("_.r0"), N(4)))),
    ("let m = mem p $buf 4", A.Let("m", A.ShowMemory(P, A.Var("buf"), N(4)))),
    ("let m = mem(p, $buf, 4)", A.Let("m", A.Call("mem", (P, A.Var("buf"), N(4))))),
    ("let t = now", A.Let("t", A.Name("now"))),
    ("let t = now + 1ms", A.Let("t", A.BinaryOp("+", A.Name("now"), A.Duration(1_000_000, "1ms")))),
    ("trace all 5", A.Trace("all", A.Number(5, "5"))),
    ('echo "text"', A.Echo((A.String("text"),))),
    ('echo "text" $x p.state', A.Echo((A.String("text"), A.Var("x"), A.Name("p.state")))),
    ("echo", A.Echo(())),
    ("print $_", A.Print(A.Var("_"))),
    ("expect $_ == Success", A.Expect(A.Comparison("==", A.Var("_"), A.ResultPattern("Success")))),
    ("include common.tsh", A.Include("common.tsh")),
    ("include ../lib/common.tsh", A.Include("../lib/common.tsh")),
    ("source common.tsh", A.Include("common.tsh")),
    ("param N = 3", A.Param("N", N(3))),
    ('param name = "x"', A.Param("name", A.String("x"))),
    ("pause", A.Pause()),
    ("explain", A.Explain()),
    ("quit", A.Quit()),
    ("exit", A.Quit()),
]


@pytest.mark.parametrize("text,expected", STATEMENTS, ids=[t for t, _ in STATEMENTS])
def test_statement(text, expected):
    assert one(text) == expected


def test_every_statement_keyword_is_covered():
    # A statement keyword added to the grammar needs a row above.
    covered = {text.split()[0] for text, _ in STATEMENTS}
    assert set(grammar_info().statement_keywords) <= covered | {"tbreak"}


def test_all_statements_in_one_file():
    text = "\n".join(t for t, _ in STATEMENTS)
    program = parse(text, "all.tsh")
    assert program.statements == tuple(e for _, e in STATEMENTS)


def test_crash_is_fault_with_alias():
    assert one("crash p").alias == "crash"
    assert one("fault p").alias is None


def test_syscall_classes_share_a_base():
    for text in ("p: yield", "p: command led 0", "p: memop brk 0", "p: exit terminate",
                 "p: subscribe alarm 0 null", "p: allow-ro console 1 null", "p: syscall 1 0"):
        s = one(text)
        assert isinstance(s, A.Syscall)
        assert s.process == P
        assert s.verb == text.split()[1]


def test_match_dispatch():
    match one("spawn p ram=4k"):
        case A.Spawn(name, options):
            assert name.name == "p"
            assert options[0].key == "ram"
        case _:
            pytest.fail("no match")
    assert one("spawn p ram=4k ram=8k").option("ram") == A.Size(8192)


# ------------------------------------------------------------- expressions

EXPRESSIONS = [
    ("1 + 2 * 3", A.BinaryOp("+", N(1), A.BinaryOp("*", N(2), N(3)))),
    ("(1 + 2) * 3", A.BinaryOp("*", A.BinaryOp("+", N(1), N(2)), N(3))),
    ("10 % 3 - 1", A.BinaryOp("-", A.BinaryOp("%", N(10), N(3)), N(1))),
    ("-$x", A.Negate(A.Var("x"))),
    ("-5", N(-5)),
    ("a and b or not c",
     A.BoolOp("or", A.BoolOp("and", A.Name("a"), A.Name("b")), A.Not(A.Name("c")))),
    ("not (a)", A.Not(A.Name("a"))),
    ("$_.values[1]", A.Index(A.Var("_.values"), N(1))),
    ("$stop.kind == break", A.Comparison("==", A.Var("stop.kind"), A.Name("break"))),
    ("Failure(NODEVICE)", A.ResultPattern("Failure", (A.Name("NODEVICE"),), called=True)),
    ("Success(u32=3)", A.ResultPattern("Success", (), (A.KeywordArg("u32", N(3)),), True)),
    ("Failure(INVAL, 0x20001000, 16)",
     A.ResultPattern("Failure", (A.Name("INVAL"), N(0x20001000), N(16)), called=True)),
    ("SuccessU32", A.ResultPattern("SuccessU32")),
    ("mem(p, 0x100, 4) == \"hi\"",
     A.Comparison("==", A.Call("mem", (P, N(0x100), N(4))), A.String("hi"))),
    ("p.console != x\"00\"", A.Comparison("!=", A.Name("p.console"), A.Bytes(b"\x00"))),
    ("$a <= 1.5ms", A.Comparison("<=", A.Var("a"), A.Duration(1_500_000))),
    ("p.completion == none", A.Comparison("==", A.Name("p.completion"), A.Name("none"))),
    ("f()", A.Call("f")),
]


@pytest.mark.parametrize("text,expected", EXPRESSIONS, ids=[t for t, _ in EXPRESSIONS])
def test_expression(text, expected):
    assert one("expect " + text) == A.Expect(expected)
    assert parse_expression(text) == expected


def test_dotted_names_offer_the_split():
    v = one("expect $_.values == 0").expr.left
    assert (v.name, v.root, v.fields) == ("_.values", "_", ("values",))
    n = one("expect p.state == Running").expr.left
    assert (n.name, n.parts, n.root, n.fields) == ("p.state", ("p", "state"), "p", ("state",))


def test_echo_minus_binds_as_binary():
    assert one('echo "a" -1') == A.Echo((A.BinaryOp("-", A.String("a"), N(1)),))
    assert one('echo "a" (-1)') == A.Echo((A.String("a"), N(-1)))


def test_call_needs_no_space_before_paren():
    assert one("echo f (1)") == A.Echo((A.Name("f"), N(1)))


# ------------------------------------------------------------------ lexical

@pytest.mark.parametrize("text,value", [
    ("42", 42), ("0x1F", 31), ("0X1f", 31), ("1_000", 1000), ("0b101", 5), ("0x_ff", None),
])
def test_numbers(text, value):
    if value is None:
        with pytest.raises(TshError):
            parse("step " + text)
    else:
        assert one("step " + text).count == A.Number(value)
        assert one("step " + text).count.text == text


@pytest.mark.parametrize("text,ns", [
    ("10us", 10_000), ("5ms", 5_000_000), ("2s", 2 * 10**9), ("7ns", 7), ("1min", 60 * 10**9),
    ("1.5ms", 1_500_000), ("1_000us", 1_000_000),
])
def test_durations(text, ns):
    d = one("run for " + text).duration
    assert d == A.Duration(ns)
    assert d.text == text
    assert d.microseconds * 1000 == ns


@pytest.mark.parametrize("text,size", [("4k", 4096), ("4K", 4096), ("1M", 1 << 20), ("2k", 2048)])
def test_sizes(text, size):
    assert one("alloc p " + text).length == A.Size(size)


def test_string_escapes():
    s = one(r'echo "a\n\t\\\"\x41\xff"').args[0]
    assert s.text == 'a\n\t\\"A\xff'
    assert s.data == b'a\n\t\\"A\xff'
    assert one('echo "héllo"').args[0].data == "héllo".encode()


def test_bytes_literal_forms():
    assert one('echo x"deadbeef"').args[0] == A.Bytes(b"\xde\xad\xbe\xef")
    assert one('echo x"de:ad_be ef"').args[0] == A.Bytes(b"\xde\xad\xbe\xef")
    assert one('echo x""').args[0] == A.Bytes(b"")


def test_separators_comments_and_continuations():
    text = textwrap.dedent("""\
        # a comment
        list ; status   # trailing comment

        ;;
        p: command led \\
           3 0
        step\\
        """)
    program = parse(text)
    assert program.statements == (
        A.ListProcesses(), A.Status(), A.Command(P, A.Driver("led"), N(3), N(0)), A.Step())
    assert parse("").statements == ()
    assert parse("# only\n\n").statements == ()
    assert parse("list\r\nstatus\r\n").statements == (A.ListProcesses(), A.Status())


def test_nested_blocks():
    s = one("at 1ms { every 1ms { at 2ms { list } } }")
    assert s.body[0].body[0].body == (A.ListProcesses(),)


# -------------------------------------------------- keywords and names

@pytest.mark.parametrize("name", ["blink", "service", "list", "led", "spawn", "allow-rw", "console",
                                  "echo", "my-app.2", "p.x", "_"])
def test_keywords_are_names_where_only_a_name_can_stand(name):
    assert one(f"spawn {name}") == A.Spawn(A.Name(name))
    assert one(f"stop {name}") == A.StopProcess(A.Name(name))
    assert one(f"mem {name} 0") == A.ShowMemory(A.Name(name), N(0))
    assert one(f"{name}: command led 0") == A.Command(A.Name(name), A.Driver("led"), N(0))
    assert one(f"let r = {name}: yield") == A.Let("r", A.Yield(A.Name(name)))


def test_process_prefix_allows_space_before_colon():
    assert one("p : yield") == A.Yield(P)
    assert one("p:yield") == A.Yield(P)


def test_help_takes_keywords():
    assert one("help allow-rw") == A.Help("allow-rw")
    assert one("help list status") == A.Help("list status")


# ---------------------------------------------------------------- positions

def test_positions():
    text = "list\n  p: command console 1 $x\nat 1ms {\n  status\n}\n"
    program = parse(text, "pos.tsh")
    lst, cmd, at = program.statements
    assert lst.pos == A.Pos("pos.tsh", 1, 1, 1, 5)
    assert cmd.pos == A.Pos("pos.tsh", 2, 3, 2, 26)
    assert cmd.process.pos == A.Pos("pos.tsh", 2, 3, 2, 4)
    assert cmd.driver.pos.text(text) == "console"
    assert cmd.command_num.pos.text(text) == "1"
    assert cmd.arg0.pos == A.Pos("pos.tsh", 2, 24, 2, 26)
    assert at.pos.text(text) == "at 1ms {\n  status\n}"
    assert at.body[0].pos == A.Pos("pos.tsh", 4, 3, 4, 9)
    assert program.pos.file == "pos.tsh"


def test_expression_positions():
    text = "expect (1 + $a) * f(2) == Failure(INVAL)"
    e = one(text).expr
    assert e.pos.text(text) == "(1 + $a) * f(2) == Failure(INVAL)"
    assert e.left.pos.text(text) == "(1 + $a) * f(2)"
    assert e.left.left.pos.text(text) == "1 + $a"
    assert e.left.right.pos.text(text) == "f(2)"
    assert e.right.pos.text(text) == "Failure(INVAL)"
    assert e.right.args[0].pos.text(text) == "INVAL"


def test_every_node_has_a_position():
    text = "\n".join(t for t, _ in STATEMENTS)
    for stmt in parse(text).statements:
        for node in A.walk(stmt):
            assert node.pos is not None, (stmt, node)
            assert node.pos.line >= 1 and node.pos.column >= 1
            assert node.pos.text(text), (stmt, node)


# ------------------------------------------------------------------- errors

ERRORS = [
    ("p: comand console 0",
     "t.tsh:1:4: unknown syscall 'comand' — did you mean 'command'?\n"
     "p: comand console 0\n"
     "   ^~~~~~"),
    ("comand console 0",
     "t.tsh:1:1: unknown statement 'comand' — did you mean 'command'?\n"
     "comand console 0\n"
     "^~~~~~"),
    ("spawn",
     "t.tsh:1:6: expected a process name after 'spawn'\n"
     "spawn\n"
     "     ^"),
    ("spawn 42",
     "t.tsh:1:7: expected a process name after 'spawn', found '42'\n"
     "spawn 42\n"
     "      ^~"),
    ("p: command",
     "t.tsh:1:11: expected a driver name or number after 'command'\n"
     "p: command\n"
     "          ^"),
    ("p: command lde 0",
     "t.tsh:1:12: unknown driver 'lde' — did you mean 'led'?\n"
     "p: command lde 0\n"
     "           ^~~"),
    ("p: command led",
     "t.tsh:1:15: expected a command number after 'led'\n"
     "p: command led\n"
     "              ^"),
    ('echo "abc',
     "t.tsh:1:6: unterminated string\n"
     'echo "abc\n'
     "     ^~~~"),
    ('p: allow-ro console 1 x"de ad',
     "t.tsh:1:23: unterminated bytes literal\n"
     'p: allow-ro console 1 x"de ad\n'
     "                      ^~~~~~~"),
    ("run for 10",
     "t.tsh:1:9: a duration needs a unit: write 10us, 10ms or 10s\n"
     "run for 10\n"
     "        ^~"),
    ("list\nat 1ms {\n  list\n",
     "t.tsh:2:8: unclosed block: expected '}' to match the '{' at line 2\n"
     "at 1ms {\n"
     "       ^"),
    ("list status",
     "t.tsh:1:6: expected end of statement after 'list', found 'status'"
     " (separate statements with ';' or a new line)\n"
     "list status\n"
     "     ^~~~~~"),
    ("client command console 0",
     "t.tsh:1:1: missing ':' after the process name 'client'\n"
     "client command console 0\n"
     "^~~~~~"),
    ("command led 0",
     "t.tsh:1:1: 'command' is a syscall: name the process that issues it, as in 'p: command ...'\n"
     "command led 0\n"
     "^~~~~~~"),
    ("p: yield wiat",
     "t.tsh:1:10: unknown yield mode 'wiat' — did you mean 'wait'?\n"
     "p: yield wiat\n"
     "         ^~~~"),
    ("10xyz",
     "t.tsh:1:1: malformed number '10xyz'\n"
     "10xyz\n"
     "^~~~~"),
    ("expect 1 2",
     "t.tsh:1:10: expected an operator or end of statement after '1', found '2'\n"
     "expect 1 2\n"
     "         ^"),
    ('echo "\\q"',
     "t.tsh:1:7: unknown escape '\\q' in string (escapes: \\n \\t \\\\ \\\" \\xNN)\n"
     'echo "\\q"\n'
     "      ^~"),
    ("\tinfo breakpoint",
     "t.tsh:1:7: unknown info topic 'breakpoint' — did you mean 'breakpoints'?\n"
     "\tinfo breakpoint\n"
     "\t     ^~~~~~~~~~"),
    ("}",
     "t.tsh:1:1: unexpected '}': no block is open\n"
     "}\n"
     "^"),
    ("p: exit",
     "t.tsh:1:8: expected 'restart' or 'terminate' after 'exit'\n"
     "p: exit\n"
     "       ^"),
    ("break syscall p commnd",
     "t.tsh:1:17: unknown syscall class 'commnd' — did you mean 'command'?\n"
     "break syscall p commnd\n"
     "                ^~~~~~"),
    ("lis",
     "t.tsh:1:1: unknown statement 'lis' — did you mean 'list'?\n"
     "lis\n"
     "^~~"),
    ("spawn p ram=",
     "t.tsh:1:13: expected a value after '='\n"
     "spawn p ram=\n"
     "            ^"),
    ('echo x"zz"',
     "t.tsh:1:8: bad hex digit 'z' in bytes literal\n"
     'echo x"zz"\n'
     "       ^"),
    ("p: command led 0 \\ 1",
     "t.tsh:1:18: a '\\' continues a line only as its last character\n"
     "p: command led 0 \\ 1\n"
     "                 ^"),
]


@pytest.mark.parametrize("text,message", ERRORS, ids=[t for t, _ in ERRORS])
def test_error_messages(text, message):
    with pytest.raises(TshSyntaxError) as info:
        parse(text, "t.tsh")
    assert info.value.format(text) == message
    assert str(info.value) == message.splitlines()[0]


def test_error_without_source_is_one_line():
    with pytest.raises(TshError) as info:
        parse("spawn", "x.tsh")
    assert info.value.format() == "x.tsh:1:6: expected a process name after 'spawn'"
    assert TshError("plain").format("anything") == "plain"


def test_parse_statement_wants_exactly_one():
    assert parse_statement("  list  # hi\n") == A.ListProcesses()
    with pytest.raises(TshSyntaxError, match="more than one"):
        parse_statement("list; status")
    with pytest.raises(TshSyntaxError, match="no statement"):
        parse_statement("# nothing")


def test_parse_rejects_bytes_input():
    with pytest.raises(TypeError):
        parse(b"list")


@pytest.mark.parametrize("word,candidates,expected", [
    ("comand", ["commands", "command"], "command"),
    ("lde", ["lld", "led"], "led"),
    ("spwan", ["spawn", "stop"], "spawn"),
    ("LIST", ["list"], "list"),
    ("list", ["list"], None),
    ("x", ["xy"], None),
    ("zzzzz", ["list"], None),
    ("", ["list"], None),
])
def test_did_you_mean(word, candidates, expected):
    assert did_you_mean(word, candidates) == expected


# ---------------------------------------------------------------- the shell

@pytest.mark.parametrize("text,incomplete", [
    ("list", False), ("at 1ms {", True), ("at 1ms {\n list\n}", False),
    ("p: command led \\", True), ('echo "{"', False), ("list # {", False),
    ("every 1ms { at 2ms {\n}", True),
])
def test_is_incomplete(text, incomplete):
    assert is_incomplete(text) == incomplete


# ------------------------------------------------------- grammar and start-up

def test_grammar_has_only_the_known_conflict():
    import lark

    from tockshell.lang.parser import grammar_text

    records = []

    class Catch(logging.Handler):
        def emit(self, record):
            records.append(record.getMessage())

    handler = Catch()
    logger = logging.getLogger("lark")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        lark.Lark(grammar_text(), parser="lalr", lexer="contextual", debug=True,
                  start=["start", "expr"])
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    conflicts = {m.split("terminal ")[1].split(":")[0] for m in records if "conflict" in m.lower()}
    # echo's space-separated arguments: `echo "a" -1` (see docs/language-notes.md).
    assert conflicts == {"MINUS"}
    assert not any("Reduce/Reduce" in m for m in records)


def test_import_does_not_build_the_parser():
    code = ("import sys, tockshell.lang.parser as p, tockshell.lang.ast, tockshell.lang.errors;"
            "assert 'lark' not in sys.modules, 'lark imported';"
            "assert p._parser is None")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_disk_cache(tmp_path):
    code = ("from tockshell.lang.parser import parse; "
            "print(parse('list').statements[0].__class__.__name__)")
    env = dict(os.environ, TOCKSHELL_CACHE_DIR=str(tmp_path / "c"))
    for _ in range(2):
        out = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                             capture_output=True, text=True)
        assert out.stdout.strip() == "ListProcesses"
        assert out.stderr == ""
    files = list((tmp_path / "c").iterdir())
    assert len(files) == 1 and files[0].name.startswith("tsh-") and files[0].stat().st_size > 0


def test_unwritable_cache_falls_back_silently(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    code = "from tockshell.lang.parser import parse; print(len(parse('list; status').statements))"
    for cache_dir in (str(blocker / "sub"), ""):
        env = dict(os.environ, TOCKSHELL_CACHE_DIR=cache_dir)
        out = subprocess.run([sys.executable, "-c", code], env=env, check=True,
                             capture_output=True, text=True)
        assert out.stdout.strip() == "2"
        assert out.stderr == ""


def test_parser_is_built_once():
    assert get_parser() is get_parser()
