"""OpenAI's Responses API served by guard's chat pipeline: requests bridged in, Responses and events out."""

from guard.responses_api.output import VERDICT_EVENT
from guard.responses_api.turn import Turn, open_turn, respond, response_id, stream_events

__all__ = ["VERDICT_EVENT", "Turn", "open_turn", "respond", "response_id", "stream_events"]
