"""wrk, the load generator: installed when missing, driven with a Lua script per scenario.

Why wrk: it is written in C and keeps latencies in a histogram, so on a 2-core machine it
takes a sliver of a core where a Python client would take one whole (and cap the bare
reference at the client's speed, not the server's). Its Lua hooks rotate request
bodies and print the percentiles as JSON. Debian ships it (`apt-get install wrk`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .payloads import BATCH_PLACEHOLDER
from .scenarios import RequestSpec
from .stats import WRK_RESULT_MARKER, LoadResult, parse_wrk_output


class WrkMissing(RuntimeError):
    pass


def ensure_wrk(say) -> str:
    """The path of wrk, installing Debian's package first when we are root and it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    if shutil.which("apt-get") and hasattr(os, "geteuid") and os.geteuid() == 0:
        say("wrk is missing: installing Debian's package (apt-get install wrk)…")
        quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.STDOUT}
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        command = ["apt-get", "install", "-y", "-qq", "wrk"]
        if subprocess.run(command, env=env, check=False, **quiet).returncode != 0:  # noqa: S603
            subprocess.run(["apt-get", "update", "-qq"], env=env, check=False, **quiet)  # noqa: S607
            subprocess.run(command, env=env, check=False, **quiet)  # noqa: S603
        found = shutil.which("wrk")
        if found:
            return found
    raise WrkMissing(
        "The benchmark drives the server with wrk. Install it: `sudo apt-get install wrk` "
        "(Debian, Ubuntu) or `brew install wrk` (macOS)."
    )


def wrk_version(path: str) -> str:
    result = subprocess.run([path, "--version"], capture_output=True, text=True, check=False)  # noqa: S603
    first = (result.stdout or result.stderr).splitlines()
    return first[0].split(" [")[0] if first else "wrk"


def lua_string(value: str) -> str:
    """A Lua string literal (Lua 5.1 escapes: decimal \\ddd for anything unusual)."""
    out = []
    for char in value:
        code = ord(char)
        if char in '"\\' or code < 32 or code > 126:
            out.extend(f"\\{byte}" for byte in char.encode())
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


DONE_HOOK = f"""
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{WRK_RESULT_MARKER}{{"requests":%d,"duration_us":%.0f,"bytes":%.0f,'
    .. '"errors":{{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}},'
    .. '"latency_us":{{"p50":%d,"p90":%d,"p95":%d,"p99":%d,"mean":%.1f,"max":%d}}}}\\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.mean, latency.max))
end
"""

# Mirrors RequestSpec.body_for: body n mod len, batch "<tag><thread>-<n>" or "r<index>".
ROTATING_BODIES = """
local bodies = {}
local counter = 0
local threads = 0
local tag = "x"

function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
end

function init(args)
  tag = (args[1] or "x") .. (thread_number or "")
  for line in io.lines(BODIES_PATH) do
    bodies[#bodies + 1] = line
  end
end

function request()
  local index = counter % #bodies
  local batch
  if REPEAT_BODIES then
    batch = "r" .. index
  else
    batch = tag .. "-" .. counter
  end
  counter = counter + 1
  local body = string.gsub(bodies[index + 1], PLACEHOLDER, batch)
  return wrk.format(nil, nil, nil, body)
end
"""


def write_script(spec: RequestSpec, folder: Path, name: str) -> Path:
    """The Lua script (and the bodies file, one JSON body per line) for one scenario."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = ["-- Written by clienteling.bench for one scenario; safe to delete.", ""]
    lines.append(f"wrk.method = {lua_string(spec.method)}")
    for header, value in spec.headers.items():
        lines.append(f"wrk.headers[{lua_string(header)}] = {lua_string(value)}")
    if spec.bodies:
        bodies_path = folder / f"{name}.bodies"
        bodies_path.write_text("\n".join(spec.bodies) + "\n")
        lines.append(f"BODIES_PATH = {lua_string(str(bodies_path))}")
        lines.append(f"REPEAT_BODIES = {'true' if spec.repeat_bodies else 'false'}")
        lines.append(f"PLACEHOLDER = {lua_string(BATCH_PLACEHOLDER)}")
        lines.append(ROTATING_BODIES)
    elif spec.body is not None:
        lines.append(f"wrk.body = {lua_string(spec.body)}")
    lines.append(DONE_HOOK)
    script = folder / f"{name}.lua"
    script.write_text("\n".join(lines))
    return script


def run_wrk(
    wrk: str,
    *,
    url: str,
    script: Path,
    connections: int,
    seconds: float,
    tag: str,
    threads: int = 1,
) -> LoadResult:
    """One timed run; `tag` keeps the external ids of this run apart from every other's."""
    command = [
        wrk,
        f"--threads={threads}",
        f"--connections={connections}",
        f"--duration={max(round(seconds), 1)}s",
        "--timeout=60s",
        f"--script={script}",
        url,
        "--",
        tag,
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise RuntimeError(f"wrk failed ({result.returncode}): {result.stderr.strip()}")
    return LoadResult.from_wrk(parse_wrk_output(result.stdout), connections=connections)
