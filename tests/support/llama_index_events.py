"""What the LlamaIndex unit tests share: an instrumentation-event collector, a token counter."""

from __future__ import annotations

from typing import Any

from llama_index.core.callbacks import TokenCountingHandler
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from llama_index.core.instrumentation.events import BaseEvent
from pydantic import Field


class Events(BaseEventHandler):
    """Collects the instrumentation events LlamaIndex dispatches."""

    events: list[BaseEvent] = Field(default_factory=list)

    @classmethod
    def class_name(cls) -> str:
        return "Events"

    def handle(self, event: BaseEvent, **kwargs: Any) -> None:
        self.events.append(event)

    def names(self, prefix: str = "LLM") -> list[str]:
        """Event class names in order, only those starting with ``prefix`` (``LLM``,
        ``Embedding``): without the span bookkeeping of other modules."""
        return [type(e).__name__ for e in self.events if type(e).__name__.startswith(prefix)]


def counter() -> TokenCountingHandler:
    # A word tokenizer: counts that match USAGE can only have come from the server.
    return TokenCountingHandler(tokenizer=lambda text: text.split())
