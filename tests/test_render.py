"""Rendering helpers: pure text from model state."""

from __future__ import annotations

from tockshell.shell import render
from tockshell.lang.values import format_size, format_time


def test_hexdump_layout():
    text = render.hexdump(0x20000800, b"hello world, this is tock!")
    lines = text.splitlines()
    assert lines[0] == "0x20000800  68 65 6c 6c 6f 20 77 6f  72 6c 64 2c 20 74 68 69  |hello world, thi|"
    assert lines[1].startswith("0x20000810  73 20 69 73 20 74 6f 63  6b 21")
    assert lines[1].endswith("|s is tock!|")
    assert render.hexdump(0x10, b"") == "0x00000010  (0 bytes)"


def test_result_line_column():
    assert render.result_line("Success") == "→ Success"
    line = render.result_line("Success(0x0, 0)", "previous upcall: null")
    assert line.index("previous") == render.RESULT_COLUMN + 2


def test_times_and_sizes():
    assert format_time(0) == "0us" and format_time(11_718) == "11.718us"
    assert format_time(1_007_000) == "1.007ms" and format_time(2_500_000_000) == "2.5s"
    assert format_size(76) == "76 B" and format_size(2048) == "2 KiB" and format_size(1945) == "1.9 KiB"


def test_list_header_is_the_process_consoles(sh):
    sh("spawn client short_id=0x42")
    lines = render.process_table(sh.session).splitlines()
    assert lines[0] == " PID    ShortID    Name                Quanta  Syscalls  Restarts  Grants  State"
    row = lines[1]
    assert row.startswith(" 0      0x42       client              ")
    assert row.index("Running") > lines[0].index("State") - 2


def test_process_detail_has_the_printers_fields(sh):
    sh("spawn c\nc: command led 0")
    text = render.process_detail(sh.session, sh.kernel.process("c"))
    for needle in ("App: c   -   [Running]", "Events Queued: 0", "Syscall Count: 4", "Dropped Upcall Count: 0",
                   "Restart Count: 0", "Last Syscall: Command { driver_number: 2, subdriver_number: 0", "Completion Code: None",
                   "RAM", "app break", "protected: TBF header"):
        assert needle in text


def test_completion_code_forms(sh):
    sh("spawn c\nc: exit terminate 0xffffffff")
    assert render.completion_text(sh.kernel.process("c")) == "-1"
    sh("boot c\nterminate c")
    assert render.completion_text(sh.kernel.process("c")) == "Faulted"
    sh("spawn d")
    assert render.completion_text(sh.kernel.process("d")) == "None"


def test_failure_reasons(sh):
    sh("spawn c")
    assert "has no grant" in sh("c: subscribe led 0 @x")
    assert "upcall slot" in sh("c: subscribe console 5 @x")
    assert "is not inside c's RAM" in sh("c: allow-rw console 1 0x10 4")
    assert "read-only allow slot" in sh('c: allow-ro console 7 "x"')
