"""The conversation the agent tests play, and its two tools.

One weather question answered in three model calls, as a reasoning model behind Atoma
would: look the weather up, convert the temperature, answer; each step thinks first.
Every framework's agent gets the same two tools and the same script, so a failure points
at the adapter, not at a different conversation.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from tests.support.scripted_server import ScriptedToolCall, Turn

MODEL = "gpt-oss-120b"
QUESTION = "What is the weather in Paris, in Fahrenheit?"
ANSWER = "It is sunny and 69.8 °F in Paris."
WEATHER = "sunny, 21 °C"

THINK_LOOKUP = "The user wants the weather in Paris. I look it up first."
THINK_CONVERT = "It is 21 °C. The user wants Fahrenheit, so I convert it."
THINK_ANSWER = "21 °C is 69.8 °F. I can answer now."

LOOKUP = ScriptedToolCall("call_weather_1", "get_weather", {"city": "Paris"})
CONVERT = ScriptedToolCall("call_convert_2", "to_fahrenheit", {"celsius": 21})

# Three model calls: two tool steps, then the answer.
WEATHER_LOOP: Sequence[Turn] = (
    Turn(reasoning=THINK_LOOKUP, tool_calls=(LOOKUP,)),
    Turn(reasoning=THINK_CONVERT, tool_calls=(CONVERT,)),
    Turn(reasoning=THINK_ANSWER, content=ANSWER),
)


def get_weather(city: str) -> str:
    """The current weather in a city."""
    assert city == "Paris"
    return WEATHER


def to_fahrenheit(celsius: float) -> float:
    """A temperature in degrees Celsius, in degrees Fahrenheit."""
    return round(celsius * 9 / 5 + 32, 1)


TOOLS: Sequence[Callable[..., Any]] = (get_weather, to_fahrenheit)
