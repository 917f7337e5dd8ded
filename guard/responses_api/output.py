"""A guarded chat completion, whole or streamed, as a Responses API ``Response`` and its stream events.

One builder serves both: a stream feeds it each chunk's delta and sends the
events it returns; a whole completion is fed as one delta. Either way the
output items, the final ``Response`` (with ``guard``) and its status agree.
The stream's last event, after ``response.completed``, is ``guard.verdict``.
"""

from __future__ import annotations

import time
from typing import Any

from guard.metadata import GuardMetadata
from guard.responses_api.request import ResponsesRequest

Event = dict[str, Any]
VERDICT_EVENT = "guard.verdict"
_INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}


class ResponseBuilder:
    def __init__(self, request: ResponsesRequest, response_id: str, model: str):
        self.request, self.id, self.model = request, response_id, model
        self.created_at = int(time.time())
        self.output: list[dict[str, Any]] = []
        self._message: dict[str, Any] | None = None  # the open message item
        self._calls: dict[int, dict[str, Any]] = {}  # open function_call items, by their chat tool-call index
        self._sequence = 0
        self.response: dict[str, Any] = self._response("in_progress")

    def start(self) -> list[Event]:
        return [self._event("response.created", response=self.response),
                self._event("response.in_progress", response=self.response)]

    def add(self, delta: dict[str, Any]) -> list[Event]:
        """The events one chat delta makes: text into the message item, tool-call pieces into function calls."""
        events: list[Event] = []
        text = delta.get("content")
        if text:
            if self._message is None:
                self._message = {"id": "msg_" + self._suffix(len(self.output)), "type": "message", "role": "assistant",
                                 "status": "in_progress", "content": []}
                events += self._open(self._message)
                part = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
                self._message["content"].append(part)
                events.append(self._event("response.content_part.added", item_id=self._message["id"],
                                          output_index=self._index(self._message), content_index=0,
                                          part={**part, "text": ""}))
            self._message["content"][0]["text"] += text
            events.append(self._event("response.output_text.delta", item_id=self._message["id"],
                                      output_index=self._index(self._message), content_index=0, delta=text,
                                      logprobs=[]))
        for piece in delta.get("tool_calls") or []:
            index = int(piece.get("index") or 0)
            function = piece.get("function") or {}
            call = self._calls.get(index)
            if call is None:
                call = {"id": "fc_" + self._suffix(len(self.output)), "type": "function_call", "status": "in_progress",
                        "call_id": piece.get("id") or "call_" + self._suffix(len(self.output)),
                        "name": function.get("name") or "", "arguments": ""}
                self._calls[index] = call
                events += self._open(call)
            elif function.get("name"):
                call["name"] += function["name"]
            if function.get("arguments"):
                call["arguments"] += function["arguments"]
                events.append(self._event("response.function_call_arguments.delta", item_id=call["id"],
                                          output_index=self._index(call), delta=function["arguments"]))
        return events

    def finish(self, finish_reason: str | None, meta: GuardMetadata) -> list[Event]:
        """Close the open items, then ``response.completed`` (or ``.incomplete``) and the verdict event."""
        events: list[Event] = []
        for item in list(self.output):
            if item["type"] == "message":
                part = item["content"][0]
                where = {"item_id": item["id"], "output_index": self._index(item), "content_index": 0}
                events.append(self._event("response.output_text.done", **where, text=part["text"], logprobs=[]))
                events.append(self._event("response.content_part.done", **where, part=dict(part)))
            else:
                events.append(self._event("response.function_call_arguments.done", item_id=item["id"],
                                          output_index=self._index(item), name=item["name"],
                                          arguments=item["arguments"]))
            item["status"] = "completed"
            events.append(self._event("response.output_item.done", output_index=self._index(item), item=dict(item)))
        reason = _INCOMPLETE.get(finish_reason or "")
        self.response = self._response("incomplete" if reason else "completed", reason, meta)
        kind = "response.incomplete" if reason else "response.completed"
        events.append(self._event(kind, response=self.response))
        events.append(self._event(VERDICT_EVENT, response_id=self.id, guard=meta.model_dump(mode="json")))
        return events

    def assistant_message(self) -> dict[str, Any]:
        """The output as the chat message the next turn replays."""
        text = "".join(i["content"][0]["text"] for i in self.output if i["type"] == "message")
        calls = [{"id": i["call_id"], "type": "function", "function": {"name": i["name"], "arguments": i["arguments"]}}
                 for i in self.output if i["type"] == "function_call"]
        return {"role": "assistant", "content": text or None, **({"tool_calls": calls} if calls else {})}

    # -- shapes ----------------------------------------------------------------

    def _response(self, status: str, incomplete: str | None = None,
                  meta: GuardMetadata | None = None) -> dict[str, Any]:
        r = self.request
        body: dict[str, Any] = {
            "id": self.id, "object": "response", "created_at": self.created_at, "status": status,
            "error": None, "incomplete_details": {"reason": incomplete} if incomplete else None,
            "instructions": r.instructions, "max_output_tokens": r.max_output_tokens, "model": self.model,
            "output": [dict(i) for i in self.output], "parallel_tool_calls": r.parallel_tool_calls is not False,
            "previous_response_id": r.previous_response_id,
            "temperature": 1.0 if r.temperature is None else r.temperature,
            "top_p": 1.0 if r.top_p is None else r.top_p,
            "tool_choice": "auto" if r.tool_choice is None else r.tool_choice,
            "tools": [{"strict": None, "parameters": None, **t} for t in r.tools or []],
            "text": r.text or {"format": {"type": "text"}}, "truncation": r.truncation or "disabled",
            "metadata": r.metadata or {}, "store": r.store is not False,
        }
        if r.user is not None:
            body["user"] = r.user
        if meta is not None:
            if status == "completed":
                body["completed_at"] = int(time.time())
            u = meta.usage
            body["usage"] = {"input_tokens": u.prompt_tokens,
                             "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
                             "output_tokens": u.completion_tokens, "output_tokens_details": {"reasoning_tokens": 0},
                             "total_tokens": u.prompt_tokens + u.completion_tokens}
            body["guard"] = meta.model_dump(mode="json")
        return body

    def _open(self, item: dict[str, Any]) -> list[Event]:
        self.output.append(item)
        return [self._event("response.output_item.added", output_index=self._index(item), item=_snapshot(item))]

    def _index(self, item: dict[str, Any]) -> int:
        return next(i for i, it in enumerate(self.output) if it is item)

    def _suffix(self, index: int) -> str:
        return f"{self.id.removeprefix('resp_')}{index:02d}"

    def _event(self, kind: str, **fields: Any) -> Event:
        event = {"type": kind, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        return event


def _snapshot(item: dict[str, Any]) -> dict[str, Any]:
    """An item as announced: no content or arguments yet (those follow as deltas)."""
    if item["type"] == "message":
        return {**item, "content": []}
    return {**item, "arguments": ""}
