"""Random statement sequences never crash the interpreter: every failure is a TshError."""

from __future__ import annotations

import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tockshell.lang.errors import TshError
from tockshell.lang.session import Quit, Session

PROCS = ["a", "b", "c", "zz"]
SYSCALLS = [
    "command {drv} {n} {n}", "subscribe {drv} {n} @h", "subscribe {drv} {n} null", "subscribe {drv} {n} {addr}",
    "allow-rw {drv} {n} {addr} {n}", "allow-ro {drv} {n} \"text\"", "allow-ur {drv} {n} null", "yield",
    "yield no-wait", "yield wait-for {drv} {n}", "memop {op} {addr}", "exit terminate {n}", "exit restart {n}",
    "syscall {n} {n} {n} {addr} {n}",
]
OTHER = [
    "spawn {p}", "spawn {p} raw=true", "spawn {p} app=hello", "spawn {p} ram={n}", "list", "status", "process {p}",
    "stop {p}", "start {p}", "fault {p}", "terminate {p}", "boot {p}", "restart {p}", "alloc {p} {n}",
    "write {p} {addr} \"xy\"", "mem {p} {addr} {n}", "grants {p}", "upcalls {p}", "allows {p}",
    "subscriptions {p}", "stats", "trace {n}", "step {n}", "run for {n}us", "press button {n}",
    "console input \"q\"", "explain", "config fault_policy = {policy}", "expect {p}.queue >= 0",
    "let v = {p}.break", "echo {p}.state $_", "at +{n}us {{ press button 0 }}", "now",
]
DRIVERS = ["console", "led", "alarm", "button", "rng", "lld", "0x99", "0"]
OPS = ["brk", "sbrk", "ram_start", "grant_start", "flash_region_start", "12", "stack_top", "heap_start"]
NUMS = ["0", "1", "2", "3", "7", "9", "200", "0xffffffff"]
ADDRS = ["0", "0x20000800", "0x20001000", "0x4007d", "0x10", "0xfffffffc"]
POLICIES = ["restart", "stop", "panic", "threshold(1)"]


@st.composite
def statement(draw):
    fill = dict(p=draw(st.sampled_from(PROCS)), drv=draw(st.sampled_from(DRIVERS)), n=draw(st.sampled_from(NUMS)),
                op=draw(st.sampled_from(OPS)), addr=draw(st.sampled_from(ADDRS)),
                policy=draw(st.sampled_from(POLICIES)))
    if draw(st.booleans()):
        return f"{fill['p']}: " + draw(st.sampled_from(SYSCALLS)).format(**fill)
    return draw(st.sampled_from(OTHER)).format(**fill)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(statement(), min_size=1, max_size=15))
def test_random_statements_fail_only_with_tsh_errors(stmts):
    s = Session(out=io.StringIO(), params={})
    s.execute("config run.max_events = 2000")
    for text in stmts:
        try:
            s.execute(text, "<fuzz>")
        except (TshError, Quit):
            pass
    # The session is still usable and its views still render.
    s.execute("list\nstatus")
