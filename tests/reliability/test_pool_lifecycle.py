"""No "Unclosed client session", "Unclosed connector" or ResourceWarning, wherever a pool ends.

An aiohttp session left open when its event loop ends warns, and its sockets warn after it.
Users rarely close what they did not open themselves: the adapters' per-loop clients are
never closed, a script makes a client at the top and forgets it, a program drives its own
loop and exits without closing it. Each case runs in a fresh interpreter with ``-W error``
(a ResourceWarning in a finalizer is then printed as an error), against the fault server,
on the async transport of the test; stderr must stay empty and every request must have
been answered.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.support.fault_server import FaultServer, completion_reply, completion_stream

from ._runs import PARAMS

HEADER = f"""
import asyncio, gc, sys
from atoma_integrations import _transport
_transport.DEFAULT_ASYNC_TRANSPORT = sys.argv[2]
URL = sys.argv[1]
PARAMS = {PARAMS!r}
"""

# Each case: its code, and the answers the server gives, in order ("r": a whole completion,
# "s": a stream).
SCRIPTS: dict[str, tuple[str, str]] = {
    "adapters across asyncio.run calls": (
        """
from atoma_integrations.langchain import AtomaLLM
from atoma_integrations.llama_index import Atoma
lc = AtomaLLM(model="fault-model", base_url=URL, max_tokens=8)
li = Atoma(model="fault-model", base_url=URL, max_tokens=8, context_window=64)
async def main():
    await lc.ainvoke("hi")
    await li.acomplete("hi")
    async for _ in lc.astream("hi"):
        pass
for _ in range(3):
    asyncio.run(main())  # a new loop, a new per-loop client each time, never closed
""",
        "rrsrrsrrs",
    ),
    "a client never closed, in asyncio.run": (
        """
from atoma_integrations import AsyncAtomaClient
async def main():
    client = AsyncAtomaClient(base_url=URL)
    await client.completions.create(**PARAMS)
    async with client.completions.create_stream(**PARAMS) as stream:
        async for _ in stream:
            pass
    return client
kept = asyncio.run(main())  # still referenced at exit
""",
        "rs",
    ),
    "a client dropped while its loop runs": (
        """
from atoma_integrations import AsyncAtomaClient
async def main():
    client = AsyncAtomaClient(base_url=URL)
    await client.completions.create(**PARAMS)
    del client
    gc.collect()
    await asyncio.sleep(0.1)  # the loop closes the dropped pool
asyncio.run(main())
""",
        "r",
    ),
    "a loop never closed, until interpreter exit": (
        """
import atexit
from atoma_integrations import AsyncAtomaClient
loop = asyncio.new_event_loop()
atexit.register(loop.close)  # closed at exit, never shut down (as a notebook kernel's)
client = AsyncAtomaClient(base_url=URL)
loop.run_until_complete(client.completions.create(**PARAMS))
# No aclose(), no shutdown_asyncgens(): the program just ends.
""",
        "r",
    ),
    "the shared clients closed through the registry, in and out of a loop": (
        """
from atoma_integrations import _registry
from atoma_integrations.langchain import AtomaLLM
from atoma_integrations.llama_index import Atoma
lc = AtomaLLM(model="fault-model", base_url=URL, max_tokens=8)
li = Atoma(model="fault-model", base_url=URL, max_tokens=8, context_window=64)
async def main():
    await li.acomplete("hi")
    await _registry.aclose_all()  # inside the loop: its clients too
    await lc.ainvoke("hi")  # a new shared client, on the same loop
loop = asyncio.new_event_loop()
loop.run_until_complete(main())  # a loop left open, not running
li.complete("hi")
_registry.close_all()  # closes the sync client, and the async one on the idle loop
loop.close()
""",
        "rrr",
    ),
    "a stream dropped unread, then asyncio.run ends": (
        """
from atoma_integrations import AsyncAtomaClient
async def main():
    async with AsyncAtomaClient(base_url=URL) as client:
        stream = await client.completions.create_stream(**PARAMS)
        await stream.__anext__()
        del stream
asyncio.run(main())
""",
        "s",
    ),
}


@pytest.mark.parametrize("case", list(SCRIPTS))
def test_no_unclosed_warning_in_a_fresh_interpreter(
    fault_server: FaultServer, async_transport: str, case: str
) -> None:
    if async_transport == "httpx" and case == "a client dropped while its loop runs":
        pytest.skip("an unclosed httpx pool collected as garbage is httpx's to close")
    code, answers = SCRIPTS[case]
    fault_server.enqueue(
        *(completion_reply("hi") if a == "r" else completion_stream(["a", "b"]) for a in answers)
    )
    completed = subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            "-c",
            HEADER + code,
            fault_server.url,
            async_transport,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stderr == ""
    assert len(fault_server.requests) == len(answers)
