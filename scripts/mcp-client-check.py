#!/usr/bin/env python3
"""Checks Harmonia's MCP server with the official Python MCP SDK (PyPI `mcp` 2.x).

Connects to http://HOST:PORT/mcp over Streamable HTTP (with a bearer token when
given), lists the tools, stores a small workflow (two `set` tasks) with
`create_workflow`, runs it with `execute_workflow` waiting for the end, reads its
definition back as the resource `harmonia://workflows/NAME`, and prints what it saw
as one JSON document on stdout. Exits 1 on the first mismatch (the reason on
stderr), 2 when it cannot connect.

    python3 -m venv target/mcp-venv && target/mcp-venv/bin/pip install 'mcp==2.3.0'
    target/mcp-venv/bin/python scripts/mcp-client-check.py --url http://127.0.0.1:8007/mcp \
        [--token hm_...] [--mode auto|legacy]

`--mode auto` (the default) lets the SDK probe `server/discover` (protocol
2026-07-28) and fall back to the `initialize` handshake; `--mode legacy` forces the
handshake. The token may also come from HARMONIA_TOKEN.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import Any

from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

EXPECTED_TOOLS = {
    "list_workflows",
    "get_workflow",
    "validate_workflow",
    "create_workflow",
    "execute_workflow",
    "list_executions",
    "get_execution",
    "cancel_execution",
    "pause_execution",
    "resume_execution",
    "retry_execution",
    "list_templates",
    "instantiate_template",
    "list_components",
}


def definition(name: str) -> str:
    return f"""name: {name}
description: Two set tasks, stored and run by scripts/mcp-client-check.py
tasks:
  first: {{type: set, with: {{greeting: hello}}}}
  second: {{type: set, needs: [first], with: {{text: '${{ $tasks.first.output.greeting + " from mcp" }}'}}}}
outputs:
  text: ${{ $tasks.second.output.text }}
"""


class Mismatch(Exception):
    """What the server answered is not what the check expects."""


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise Mismatch(what)


def structured(result: Any, tool: str) -> dict[str, Any]:
    """The structured result of a tool call that must have succeeded; its text content
    must be the same JSON."""
    texts = [c.text for c in result.content if getattr(c, "type", None) == "text"]
    expect(not result.is_error, f"{tool} failed: {texts}")
    expect(len(texts) >= 1, f"{tool}: no text content")
    parsed = json.loads(texts[0])
    value = result.structured_content
    expect(isinstance(value, dict), f"{tool}: no structured content")
    expect(parsed == value, f"{tool}: the text content is not the structured content")
    return value


async def check(url: str, token: str | None, mode: str, name: str, wait: int) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else None
    async with create_mcp_http_client(headers=headers) as http:
        transport = streamable_http_client(url, http_client=http)
        async with Client(transport, mode=mode) as client:
            report: dict[str, Any] = {"protocol_version": client.protocol_version}
            info = client.server_info
            report["server"] = {"name": info.name, "version": info.version} if info else None
            expect(info is None or info.name == "harmonia", f"server is {info}")

            tools = (await client.list_tools()).tools
            names = {t.name for t in tools}
            missing = sorted(EXPECTED_TOOLS - names)
            expect(not missing, f"tools missing: {missing}")
            report["tools"] = sorted(names)

            saved = structured(
                await client.call_tool("create_workflow", {"definition": definition(name)}),
                "create_workflow",
            )
            expect(saved.get("name") == name, f"stored {saved.get('name')}, not {name}")
            expect(
                saved.get("outcome") in ("created", "updated", "unchanged"),
                f"outcome {saved.get('outcome')}",
            )
            report["created"] = {k: saved.get(k) for k in ("name", "version", "outcome")}

            run = structured(
                await client.call_tool("execute_workflow", {"name": name, "wait_seconds": wait}),
                "execute_workflow",
            )
            expect(run.get("status") == "succeeded", f"execution ended {run.get('status')}: {run.get('error')}")
            expect(
                run.get("outputs") == {"text": "hello from mcp"},
                f"outputs {run.get('outputs')}",
            )
            tasks = run.get("tasks") or {}
            expect(
                [tasks.get(t, {}).get("status") for t in ("first", "second")] == ["succeeded", "succeeded"],
                f"tasks {tasks}",
            )
            report["execution"] = {k: run.get(k) for k in ("id", "workflow", "version", "status", "outputs")}

            denied = await client.call_tool("get_workflow", {"name": f"{name}-missing"})
            expect(denied.is_error, "reading a missing workflow did not fail")
            text = denied.content[0].text
            expect(text.startswith("not_found: "), f"error text {text!r}")

            read = await client.read_resource(f"harmonia://workflows/{name}")
            expect(read.contents and read.contents[0].text == definition(name), "resource text")
            report["resource"] = {"uri": str(read.contents[0].uri), "mime_type": read.contents[0].mime_type}
            return report


def leaves(e: BaseException) -> list[BaseException]:
    """The exceptions inside `e`, task groups' groups unwrapped."""
    if isinstance(e, BaseExceptionGroup):
        return [leaf for inner in e.exceptions for leaf in leaves(inner)]
    return [e]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8007/mcp")
    parser.add_argument("--token", default=os.environ.get("HARMONIA_TOKEN"))
    parser.add_argument("--mode", default="auto", choices=["auto", "legacy"])
    parser.add_argument("--name", default="mcp-check", help="the workflow's name")
    parser.add_argument("--wait", type=int, default=30, help="wait_seconds for the execution")
    args = parser.parse_args()
    try:
        report = asyncio.run(check(args.url, args.token, args.mode, args.name, args.wait))
    except Mismatch as e:
        print(f"mcp-client-check: mismatch: {e}", file=sys.stderr)
        return 1
    except Exception as e:  # noqa: BLE001 - any failure to talk is reported the same way
        for leaf in leaves(e):
            if isinstance(leaf, Mismatch):
                print(f"mcp-client-check: mismatch: {leaf}", file=sys.stderr)
                return 1
        reasons = "; ".join(f"{type(x).__name__}: {x}" for x in leaves(e))
        print(f"mcp-client-check: cannot check {args.url}: {reasons}", file=sys.stderr)
        return 2
    print(json.dumps(report, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
