"""Completion: the grammar says what may come next, the provider names it."""

import statistics
import subprocess
import sys
import time

import pytest

from tockshell.lang.completion import Completion, StaticNames, complete
from tockshell.lang.parser import grammar_info

NAMES = StaticNames(
    processes={"client": "Running", "blink": "Yielded", "service": "Running"},
    drivers={"console": "0x00001", "led": "0x00002"},
    variables=["buf", "r"],
    breakpoints=[1, 2],
    displays=[1],
    checkpoints=["before", "after"],
    scenarios=["thread", "echo"],
    config_keys=["fault_policy", "scheduler", "mailbox.crash_notify"],
    apps=["blink", "hello"],
    help_topics=["syscalls"],
    process_labels={"client": ["on_write", "on_read"]},
    values_by_key={"scheduler": ["cooperative", "priority"]},
)


def texts(line, names=NAMES):
    return [c.text for c in complete(line, names)]


def test_completion_is_a_plain_tuple():
    c = complete("cl", NAMES)[0]
    assert c == Completion("client: ", 0, "process", "Running")
    text, start, kind, description = c
    assert (text, start, kind, description) == ("client: ", 0, "process", "Running")


def test_statement_start_offers_statements_and_processes():
    got = texts("")
    assert "client: " in got and "spawn" in got and "list" in got and "break" in got
    assert set(grammar_info().statement_keywords) <= set(got)
    assert texts("sp") == ["spawn"]
    assert texts("se") == ["service: ", "services"]


def test_syscall_verbs_after_the_process():
    assert texts("client: ") == ["command", "subscribe", "allow-ro", "allow-rw", "allow-ur",
                                 "exit", "memop", "syscall", "yield"] or \
        set(texts("client: ")) == {"command", "subscribe", "allow-ro", "allow-rw", "allow-ur",
                                   "exit", "memop", "syscall", "yield"}
    assert texts("client: al") == ["allow-ro", "allow-rw", "allow-ur"]
    c = complete("client: al", NAMES)[0]
    assert c.start_offset == len("client: ") and c.kind == "syscall"


def test_drivers_with_descriptions():
    got = complete("client: command co", NAMES)
    assert got == [Completion("console", 16, "driver", "0x00001")]
    all_drivers = [c.text for c in complete("client: command ", NAMES) if c.kind == "driver"]
    assert set(all_drivers) == set(grammar_info().drivers)


def test_labels_of_the_issuing_process():
    assert texts("client: subscribe console 1 @") == ["@on_read", "@on_write"]
    got = texts("client: subscribe console 1 ")
    assert "@on_write" in got and "null" in got
    assert texts("blink: subscribe console 1 @") == []
    prefixed = StaticNames(process_labels={"p": ["@main"]}, variables=["$v"])
    assert texts("p: subscribe alarm 0 @", prefixed) == ["@main"]
    assert texts("expect $v", prefixed) == ["$v"]


def test_yield_modes_and_memop_ops():
    assert texts("p: yield ") == ["no-wait", "wait", "wait-for"]
    assert "brk" in texts("p: memop ") and "sbrk" in texts("p: memop s")


def test_spawn_options_and_values():
    got = texts("spawn x ")
    assert {"ram=", "grant=", "app=", "raw="} <= set(got)
    assert texts("spawn x ra") == ["ram=", "raw="]
    assert texts("spawn x app=bl") == ["blink"]
    assert texts("spawn ") == []  # a new name


def test_config_keys_and_values():
    assert texts("config s") == ["scheduler"]
    assert texts("config scheduler = c") == ["cooperative"]
    assert "on" in texts("config mailbox.crash_notify = ")


def test_expression_words_and_fields():
    got = complete("expect ", NAMES)
    kinds = {c.kind for c in got}
    assert {"process", "result", "state", "error", "variable", "function"} <= kinds
    assert texts("expect client.st") == ["client.state"]
    assert "client.restarts" in texts("expect client.")
    assert texts("expect $_.r") == ["$_.r0", "$_.r1", "$_.r2", "$_.r3"]
    assert texts("expect $stop.") == ["$stop.kind", "$stop.number", "$stop.process"]
    assert texts("expect $") == ["$_", "$buf", "$r", "$stop"]
    assert texts("expect $_ == Fa") == ["Failure", "Faulted"]
    assert texts("expect p.state == Run") == ["Running"]
    assert texts("expect $_ == fa") == ["false"]
    assert texts("expect $_ == nodev") == ["NODEVICE"]
    assert texts("expect mem(client, 0, 4) == NOD") == ["NODEVICE"]


def test_numbers_that_name_things():
    assert texts("delete ") == ["1", "2", "$_", "$buf", "$r", "$stop"]
    assert texts("undisplay ") == ["1", "$_", "$buf", "$r", "$stop"]


def test_named_things():
    assert texts("demo ") == ["echo", "thread"]
    assert texts("restore b") == ["before"]
    assert "syscalls" in texts("help ") and "apps" in texts("help ") and "spawn" in texts("help ")
    assert texts("stop cl") == ["client"]
    assert texts("break syscall cl") == ["client"]
    assert "command" in texts("break syscall client ")
    assert texts("info ") == ["breakpoints", "checkpoints", "display", "watchpoints"]
    assert texts("catch error NO") == ["NOACK", "NODEVICE", "NOMEM", "NOSUPPORT"]
    assert texts("catch ") == ["dropped", "error", "fault", "ipc", "restart"]


def test_statement_boundaries():
    assert texts("list; cl") == ["client: "]
    assert texts("at 1ms { cl") == ["client: "]
    assert texts("at 1ms {\n  client: co") == ["command"]
    assert texts("let r = client: co") == ["command"]
    assert texts("p: command led \\\n  ") == ["$_", "$buf", "$r", "$stop"]  # a number or $var


def test_no_completion_inside_strings_comments_or_after_errors():
    assert texts('echo "cl') == []
    assert texts('echo "a\\"') == []
    assert texts("list # cl") == []
    assert texts("spawn 42 ") == []
    assert texts("client: comand ") == []
    assert texts('echo "done" cl') == ["client"]


def test_providers_may_be_methods_partial_or_missing():
    class Live:
        def processes(self):
            return ["alpha", "beta"]

        def labels(self, process):
            raise RuntimeError("provider bug")

    assert texts("al", Live()) == ["alpha: ", "alloc", "allows"]
    assert texts("alpha: subscribe led 0 @", Live()) == []
    assert "spawn" in texts("", None)
    assert texts("stop ", None) == []


def test_prompt_toolkit_is_not_imported():
    code = ("import sys; from tockshell.lang.completion import complete; complete('cl');"
            "assert 'prompt_toolkit' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("line", [
    "", "pro", "proc17: ", "proc17: command con", "proc17: subscribe console 1 ",
    "expect proc1", "spawn proc300 ra", "stop proc2", "break syscall proc1 ",
    "let r = proc17: allow-rw console 1 ",
])
def test_fast_with_256_processes(line):
    names = StaticNames(processes={f"proc{i}": "Running" for i in range(256)},
                        variables=[f"v{i}" for i in range(32)])
    complete(line, names)  # warm the parser and the accepts cache
    times = []
    for _ in range(15):
        start = time.perf_counter()
        complete(line, names)
        times.append(time.perf_counter() - start)
    assert statistics.median(times) < 0.005, (line, times)
