"""The drop-in client's Responses API objects: the openai SDK's own, with ``guard`` added."""

from __future__ import annotations

from typing import Any, Literal

from openai.types.responses import Response, ResponseStreamEvent
from pydantic import BaseModel, TypeAdapter

from guard.metadata import GuardMetadata
from guard.responses_api.output import VERDICT_EVENT


class GuardedResponse(Response):
    guard: GuardMetadata


class GuardVerdictEvent(BaseModel):
    """The stream's last event: the verdict, as the proxy sends it after ``response.completed``."""

    type: Literal["guard.verdict"]
    sequence_number: int
    response_id: str
    guard: GuardMetadata


_EVENTS: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)


def as_event(event: dict[str, Any]) -> Any:
    """A stream event as the openai SDK's type (``guard`` stays on a finished event's response), or the verdict."""
    if event["type"] == VERDICT_EVENT:
        return GuardVerdictEvent.model_validate(event)
    return _EVENTS.validate_python(event)
