"""Pictures of a run: Perfetto trace-event JSON, Mermaid sequence diagrams, the terminal timeline.

The Mermaid check runs Mermaid's own parser (``mermaid.parse`` under node)
when ``MERMAID_NODE_DIR`` names a directory where ``npm install mermaid`` (or
``@mermaid-js/mermaid-cli``) was run; otherwise a syntax test of the subset
of the sequence-diagram grammar the exporter writes stands in for it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess

import pytest

from tockshell.debugger import export
from tockshell.lang.errors import TshError

IPC_SCENARIO = "spawn svc app=echo_service\nspawn cli app=echo_client\nrun for 30ms"
MIXED = ("config fault_policy = restart\nspawn a app=hello\nspawn b app=blink period=2\n"
         "spawn c app=crash_dummy after=4\nspawn m\nm: subscribe button 0 @pressed\nm: command button 1 0\n"
         "press button 0\nrun for 10ms\nm: yield\nm: command console 1 0 0")

# ------------------------------------------------------------------ trace-event format
_PHASES = {"X", "B", "E", "i", "I", "M", "s", "t", "f", "C"}


def check_trace_events(doc: dict) -> None:
    """The required fields of Chrome's trace-event format (the JSON Object Format)."""
    assert isinstance(doc, dict) and isinstance(doc["traceEvents"], list)
    flows: dict[int, list[str]] = {}
    for e in doc["traceEvents"]:
        assert isinstance(e.get("name"), str) and e["name"], e
        assert e.get("ph") in _PHASES, e
        assert isinstance(e.get("pid"), int) and isinstance(e.get("tid"), int), e
        assert isinstance(e.get("ts"), (int, float)) and e["ts"] >= 0, e
        if e["ph"] == "X":
            assert isinstance(e.get("dur"), (int, float)) and e["dur"] >= 0, e
        if e["ph"] == "M":
            assert e["name"] in ("process_name", "thread_name", "process_sort_index", "thread_sort_index"), e
            assert isinstance(e.get("args"), dict), e
        if e["ph"] in ("i", "I"):
            assert e.get("s", "t") in ("g", "p", "t"), e
        if e["ph"] in ("s", "t", "f"):
            assert "id" in e and isinstance(e.get("cat"), str), e
            flows.setdefault(e["id"], []).append(e["ph"])
            if e["ph"] == "f":
                assert e.get("bp") in (None, "e"), e
        if "args" in e:
            assert isinstance(e["args"], dict)
    for fid, phases in flows.items():
        assert phases.count("s") == 1 and phases.count("f") == 1, (fid, phases)


def test_perfetto_is_valid_trace_event_json(sh, tmp_path):
    sh(MIXED)
    path = tmp_path / "run.json"
    out = sh(f'export perfetto "{path}"')
    assert "ui.perfetto.dev" in out
    doc = json.loads(path.read_text())
    check_trace_events(doc)
    names = {e["args"]["name"] for e in doc["traceEvents"] if e["name"] == "process_name"}
    assert {"a", "b", "c", "m"} <= names
    cats = {e.get("cat") for e in doc["traceEvents"]}
    assert {"syscall", "upcall", "hardware", "lifecycle"} <= cats


def test_perfetto_one_track_per_process_and_syscall_slices(sh):
    sh(MIXED)
    doc = export.perfetto(sh.session)
    tracks = {e["args"]["name"]: e["pid"] for e in doc["traceEvents"] if e["name"] == "process_name"}
    slices = [e for e in doc["traceEvents"] if e.get("cat") == "syscall"]
    assert sum(1 for e in slices if e["pid"] == tracks["m"]) == 4 + 3  # crt0's three memops, four by hand
    cmd = next(e for e in slices if e["pid"] == tracks["b"] and e["name"].startswith("command led"))
    assert cmd["args"]["result"] == "Success" and cmd["args"]["trace"].startswith("[")
    assert cmd["dur"] > 0


def test_perfetto_flows_from_a_send_to_its_read(sh):
    sh(IPC_SCENARIO)
    doc = export.perfetto(sh.session)
    check_trace_events(doc)
    tracks = {e["args"]["name"]: e["pid"] for e in doc["traceEvents"] if e["name"] == "process_name"}
    starts = {e["id"]: e for e in doc["traceEvents"] if e["ph"] == "s"}
    ends = {e["id"]: e for e in doc["traceEvents"] if e["ph"] == "f"}
    pairs = {(starts[i]["pid"], ends[i]["pid"]) for i in starts}
    assert (tracks["cli"], tracks["svc"]) in pairs  # the client's send reaches the service's handler
    assert (tracks["svc"], tracks["cli"]) in pairs  # and the echo comes back
    assert all(starts[i]["ts"] <= ends[i]["ts"] for i in starts)


def test_perfetto_of_an_empty_board(sh):
    doc = export.perfetto(sh.session)
    check_trace_events(doc)


# ------------------------------------------------------------------ mermaid
_ARROWS = r"(->>|-->>|->|-->|-x|--x|-\)|--\))"
_LINE = [
    re.compile(r"^sequenceDiagram$"),
    re.compile(r"^    participant [A-Za-z_][A-Za-z0-9_]* as [^;#:<>{}\n]+$"),
    re.compile(r"^    [A-Za-z_][A-Za-z0-9_]*" + _ARROWS + r"[A-Za-z_][A-Za-z0-9_]*: [^;#:<>{}\n]+$"),
    re.compile(r"^    Note (over|right of|left of) [A-Za-z_][A-Za-z0-9_]*: [^;#:<>{}\n]+$"),
]


def check_mermaid_syntax(text: str) -> None:
    """Every line is one the sequence-diagram grammar accepts; participants declared before use."""
    declared: set[str] = set()
    lines = text.rstrip("\n").split("\n")
    assert lines[0] == "sequenceDiagram"
    for line in lines:
        assert any(p.match(line) for p in _LINE), line
        m = re.match(r"^    participant (\w+) as", line)
        if m:
            assert m.group(1) not in declared, line
            declared.add(m.group(1))
            continue
        m = re.match(r"^    (\w+)" + _ARROWS + r"(\w+):", line)
        if m:
            assert m.group(1) in declared and m.group(3) in declared, line
        m = re.match(r"^    Note (?:over|right of|left of) (\w+):", line)
        if m:
            assert m.group(1) in declared, line


def _mermaid_parser():
    d = os.environ.get("MERMAID_NODE_DIR")
    node = shutil.which("node")
    if not d or not node or not os.path.isdir(os.path.join(d, "node_modules", "mermaid")):
        return None
    return node, d


@pytest.mark.parametrize("script", [MIXED, IPC_SCENARIO, "spawn m"])
def test_mermaid_diagram_syntax(sh, script):
    sh(script)
    text = export.mermaid(sh.session)
    check_mermaid_syntax(text)


def test_mermaid_shows_ipc_between_processes(sh):
    sh(IPC_SCENARIO)
    text = export.mermaid(sh.session)
    assert re.search(r"P_cli-\)P_svc: IPC upcall mailbox/\d queued", text)
    assert re.search(r"P_svc-\)P_cli: IPC upcall mailbox/\d queued", text)
    assert "participant D_a0101 as mailbox" in text


def test_mermaid_is_cut_at_a_limit(sh):
    sh("spawn b app=blink period=1\nrun for 100ms")
    text = export.mermaid(sh.session, limit=20)
    check_mermaid_syntax(text)
    assert "more records not shown" in text


def test_export_mermaid_markdown_file(sh, tmp_path):
    sh(MIXED)
    path = tmp_path / "seq.md"
    sh(f'export mermaid "{path}"')
    text = path.read_text()
    assert text.startswith("# tockshell run")
    body = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    check_mermaid_syntax(body)
    raw = tmp_path / "seq.mmd"
    sh(f'export mermaid "{raw}"')
    check_mermaid_syntax(raw.read_text())


def test_mermaid_parses_with_mermaid_itself(sh, tmp_path):
    found = _mermaid_parser()
    if found is None:
        pytest.skip("set MERMAID_NODE_DIR to a directory with node_modules/mermaid to run Mermaid's parser")
    node, d = found
    sh(MIXED + "\n" + IPC_SCENARIO.replace("spawn ", "spawn x", 1).replace("cli app", "xcli app"))
    src = tmp_path / "d.mmd"
    src.write_text(export.mermaid(sh.session))
    script = tmp_path / "parse.mjs"
    script.write_text("import fs from 'fs';\nimport mermaid from 'mermaid';\n"
                      "await mermaid.parse(fs.readFileSync(process.argv[2], 'utf8'));\nconsole.log('OK');\n")
    local = os.path.join(d, "parse_tockshell.mjs")
    with open(local, "w") as f:
        f.write(script.read_text())
    try:
        r = subprocess.run([node, local, str(src)], capture_output=True, text=True, timeout=120, cwd=d)
    finally:
        os.remove(local)
    assert r.returncode == 0 and "OK" in r.stdout, r.stdout + r.stderr


# ------------------------------------------------------------------ timeline
def test_timeline_has_a_lane_per_process(sh):
    sh(MIXED)
    out = sh("timeline")
    lanes = [ln for ln in out.splitlines() if "│" in ln]
    assert [ln.split()[0] for ln in lanes] == ["hardware", "a", "b", "c", "m"]
    assert "X" in next(ln for ln in lanes if ln.split()[0] == "c")
    assert "| syscall" in out
    out = sh("timeline for 1ms")
    assert "│" in out
    with pytest.raises(TshError, match="positive duration"):
        sh("timeline for 0ms")


def test_timeline_of_nothing(sh):
    assert "nothing has happened yet" in sh("timeline")


def test_export_to_a_missing_directory_is_one_clear_message(sh):
    with pytest.raises(TshError, match="no directory"):
        sh('export perfetto "/no/such/dir/x.json"')
