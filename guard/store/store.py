"""The one store behind records, feedback and the review queue: SQLite by default, PostgreSQL to share.

Every method is synchronous, thread-safe and commits before it returns; async
callers go through ``asyncio.to_thread``. A store that cannot be reached or
written raises ``StoreUnavailable``.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import Engine, case, delete, func, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, RowMapping
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from guard.editing import edit_distance, is_edited
from guard.errors import AlreadyDecided, ReviewNotFound, StoreUnavailable, UnknownRequest
from guard.store.engine import RECORDS, WRITE, create_store_engine, migrate
from guard.store.models import Decision, FeedbackRecord, OutboxEvent, RequestRecord, ReviewItem
from guard.store.schema import (
    calibrations,
    dead_letters,
    deliverables,
    feedback,
    feedback_events,
    outbox,
    requests,
    responses,
    review_events,
    reviews,
)

_FEEDBACK_FIELDS = ("rating", "final_text", "edit_distance", "edited", "resolved", "comment", "user")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


# Stores open one at a time in a process: two Guards first using one SQLite file from two threads would
# otherwise migrate it at once (one fails on the lock, and disposing its engine mid-DDL can crash sqlite3).
_OPENING = threading.Lock()


def open_store(url: str, *, busy_timeout_s: float = 5.0) -> "Store":
    """Open (creating and migrating to the newest schema) the store at a path or URL."""
    engine = create_store_engine(url, busy_timeout_s=busy_timeout_s)
    try:
        with _OPENING:
            migrate(engine)
    except (OperationalError, InterfaceError) as exc:
        engine.dispose()
        raise StoreUnavailable(f"cannot open the store at {engine.url.render_as_string()}: {exc.orig or exc}") from exc
    return Store(engine)


class Store:
    """Records, reviews and feedback in one database; see ``open_store``."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._writing = engine.execution_options(**WRITE)
        self._recording = engine.execution_options(**RECORDS)
        self._upsert = postgresql.insert if engine.dialect.name == "postgresql" else sqlite.insert
        self._write_requests = _requests_upsert(self._upsert)

    @contextmanager
    def _tx(self, *, write: bool = False, records: bool = False) -> Iterator[Connection]:
        engine = self._recording if records else self._writing if write else self.engine
        try:
            with engine.begin() as connection:
                yield connection
        except DBAPIError as exc:
            if not _transient(exc):
                raise  # the database refused this data (e.g. DataError, IntegrityError): trying again will not help
            where = self.engine.url.render_as_string()  # the password is masked
            raise StoreUnavailable(f"store {where} unavailable: {exc.orig or exc}") from exc

    def reading(self) -> AbstractContextManager[Connection]:
        """One read transaction, for aggregate queries written elsewhere (the health report's)."""
        return self._tx()

    def transaction(self, *, write: bool = False) -> AbstractContextManager[Connection]:
        """A transaction for core modules that keep their own tables here (experiments); raises ``StoreUnavailable``."""
        return self._tx(write=write)

    # -- requests ------------------------------------------------------------

    def write_requests(self, rows: Sequence[RequestRecord]) -> None:
        """Insert or replace records by ``request_id``, all in one transaction."""
        if not rows:
            return
        latest = {r.request_id: r for r in rows}  # one statement may not touch a row twice
        values = [{**r.model_dump(mode="json"), "created_at": r.created_at} for r in latest.values()]
        with self._tx(records=True) as conn:
            conn.execute(self._write_requests, values)

    def write_dead_letter(self, kind: str, key: str, payload: str, error: str) -> None:
        """Keep a row the database refused (``payload``: its JSON), so it can be looked at instead of lost."""
        with self._tx(write=True) as conn:
            conn.execute(insert(dead_letters).values(at=utcnow(), kind=kind, key=key, payload=payload, error=error))

    def dead_letters(self, limit: int = 100) -> list[dict[str, Any]]:
        """The newest refused rows first."""
        query = select(dead_letters).order_by(dead_letters.c.id.desc()).limit(limit)
        with self._tx() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def get_request(self, request_id: str) -> RequestRecord | None:
        with self._tx() as conn:
            row = conn.execute(select(requests).where(requests.c.request_id == request_id)).mappings().first()
        return None if row is None else RequestRecord.model_validate(dict(row))

    def requests_between(self, since: datetime, until: datetime) -> list[RequestRecord]:
        query = (select(requests).where(requests.c.created_at >= since, requests.c.created_at < until)
                 .order_by(requests.c.created_at))
        with self._tx() as conn:
            return [RequestRecord.model_validate(dict(r)) for r in conn.execute(query).mappings()]

    def spend_by_key(self, since: datetime) -> dict[str, float]:
        """Model and verification spend (USD) of each key's requests since ``since``: per-key daily limits."""
        spent = (func.coalesce(requests.c.cost_usd, 0.0) + func.coalesce(requests.c.samples_cost_usd, 0.0)
                 + requests.c.verification_cost_usd)
        query = (select(requests.c.key_name, func.sum(spent)).where(
            requests.c.key_name.is_not(None), requests.c.created_at >= since).group_by(requests.c.key_name))
        with self._tx() as conn:
            return {name: float(total or 0.0) for name, total in conn.execute(query)}

    def usage_by_key(self, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Per key name (None: no key) in the window: requests, failures, held answers, low tier, spend, confidence."""
        spent = (func.coalesce(requests.c.cost_usd, 0.0) + func.coalesce(requests.c.samples_cost_usd, 0.0)
                 + requests.c.verification_cost_usd)
        query = (select(requests.c.key_name.label("key"), func.count().label("requests"),
                        func.count(requests.c.error_class).label("failed"),
                        func.sum(case((requests.c.review_policy == "block", 1), else_=0)).label("held"),
                        func.sum(case((requests.c.tier == "low", 1), else_=0)).label("low_tier"),
                        func.sum(spent).label("cost_usd"), func.avg(requests.c.confidence).label("mean_confidence"))
                 .where(requests.c.created_at >= since, requests.c.created_at < until)
                 .group_by(requests.c.key_name).order_by(func.count().desc(), requests.c.key_name))
        with self._tx() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    # -- reviews -------------------------------------------------------------

    def submit_review(self, item: ReviewItem, *, deliverable: str | None = None) -> ReviewItem:
        """Queue a draft for a person; committed (fsync'd on SQLite) before this returns.

        ``deliverable``: a held draft as written, when ``item.draft`` is its masked copy; kept apart for its
        user until delivered (``deliverable``, ``claim_event``).
        """
        with self._tx(write=True) as conn:
            conn.execute(insert(reviews).values(**item.model_dump()))
            conn.execute(insert(review_events).values(review_id=item.id, at=item.created_at, from_status=None,
                                                      to_status=item.status))
            if deliverable is not None:
                conn.execute(insert(deliverables).values(review_id=item.id, answer=deliverable))
        return item

    def get_review(self, review_id: str) -> ReviewItem | None:
        self.expire_reviews()
        with self._tx() as conn:
            row = conn.execute(select(reviews).where(reviews.c.id == review_id)).mappings().first()
        return _review(row)

    def review_for_request(self, request_id: str) -> ReviewItem | None:
        """The newest review item of a request: how an app finds the decision on a held answer."""
        self.expire_reviews()
        query = (select(reviews).where(reviews.c.request_id == request_id)
                 .order_by(reviews.c.created_at.desc()).limit(1))
        with self._tx() as conn:
            return _review(conn.execute(query).mappings().first())

    def pending_review_for_conversation(self, conversation: str, policy: str, since: datetime) -> ReviewItem | None:
        """The newest pending item under ``policy`` filed for this conversation digest since ``since``: where a
        repeat joins (a repeat under another policy, e.g. an override, is another item)."""
        self.expire_reviews()
        query = (select(reviews).where(reviews.c.conversation == conversation, reviews.c.status == "pending",
                                       reviews.c.policy == policy, reviews.c.created_at >= since)
                 .order_by(reviews.c.created_at.desc()).limit(1))
        with self._tx() as conn:
            return _review(conn.execute(query).mappings().first())

    def list_reviews(self, *, status: str | None = "pending", tier: str | None = None, policy: str | None = None,
                     model: str | None = None, limit: int | None = 100, offset: int = 0) -> list[ReviewItem]:
        """Held (``block``) items first, since a user waits on them; then oldest first."""
        self.expire_reviews()
        query = select(reviews).order_by(case((reviews.c.policy == "block", 0), else_=1), reviews.c.created_at,
                                         reviews.c.id).offset(offset).limit(limit)
        for column, value in (("status", status), ("tier", tier), ("policy", policy), ("model", model)):
            if value is not None:
                query = query.where(reviews.c[column] == value)
        with self._tx() as conn:
            return [ReviewItem.model_validate(dict(r)) for r in conn.execute(query).mappings()]

    def review_counts(self, status: str = "pending") -> dict[str, int]:
        """Items in ``status`` by tier."""
        self.expire_reviews()
        query = select(reviews.c.tier, func.count()).where(reviews.c.status == status).group_by(reviews.c.tier)
        with self._tx() as conn:
            return {tier: n for tier, n in conn.execute(query)}

    def reviews_between(self, since: datetime, until: datetime) -> list[ReviewItem]:
        """Items created in ``[since, until)``, oldest first: labels for ``guard calibrate`` and eval export."""
        query = (select(reviews).where(reviews.c.created_at >= since, reviews.c.created_at < until)
                 .order_by(reviews.c.created_at))
        with self._tx() as conn:
            return [ReviewItem.model_validate(dict(r)) for r in conn.execute(query).mappings()]

    def review_events(self, review_id: str) -> list[dict[str, Any]]:
        """Every transition of one item, oldest first: who moved it, when, why."""
        query = select(review_events).where(review_events.c.review_id == review_id).order_by(review_events.c.id)
        with self._tx() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def decide_review(self, review_id: str, decision: Decision, *, reviewer: str, final_text: str | None = None,
                      reason: str | None = None, deliverable: str | None = None) -> ReviewItem:
        """Move a pending item to ``decision``; exactly one of several concurrent reviewers wins.

        ``edited`` takes the corrected ``final_text`` (and ``deliverable``, the edit as written when
        ``final_text`` is its masked copy); the others take none. A rejection drops the held draft as
        written. Raises ``ReviewNotFound``, or ``AlreadyDecided`` naming who won (``expired`` when time ran out).
        """
        _check_decision(decision, final_text)
        now = utcnow()
        with self._tx(write=True) as conn:
            row = conn.execute(select(reviews.c.draft).where(reviews.c.id == review_id)).first()
            if row is None:
                raise ReviewNotFound(f"no review {review_id!r}")
            distance = None if final_text is None else edit_distance(row.draft, final_text)
            open_ = (reviews.c.id == review_id) & (reviews.c.status == "pending") & (
                reviews.c.expires_at.is_(None) | (reviews.c.expires_at > now))
            won = conn.execute(update(reviews).where(open_).values(
                status=decision, final_text=final_text, reviewer=reviewer, reason=reason, decided_at=now,
                edit_distance=distance)).rowcount == 1
            if won:
                conn.execute(insert(review_events).values(review_id=review_id, at=now, from_status="pending",
                                                          to_status=decision, reviewer=reviewer, reason=reason))
                decided = _review(conn.execute(select(reviews).where(reviews.c.id == review_id)).mappings().one())
                assert decided is not None
                if decision != "approved":  # the draft as written is no longer what the user gets
                    conn.execute(delete(deliverables).where(deliverables.c.review_id == review_id))
                if decided.policy == "block":
                    if deliverable is not None and decision == "edited":
                        conn.execute(insert(deliverables).values(review_id=review_id, answer=deliverable))
                    self._enqueue(conn, [decided], now)
        if not won:
            self.expire_reviews(now)
            current = self.get_review(review_id)
            assert current is not None
            raise AlreadyDecided(review_id, current.status, current.reviewer)
        return self.get_review(review_id)  # type: ignore[return-value]

    def expire_reviews(self, now: datetime | None = None) -> int:
        """Mark pending items past ``expires_at`` as expired; returns how many moved."""
        now = now or utcnow()
        due = (reviews.c.status == "pending") & (reviews.c.expires_at <= now)
        with self._tx() as conn:  # the usual answer is "none": find out without taking the write lock
            if conn.execute(select(reviews.c.id).where(due).limit(1)).first() is None:
                return 0
        with self._tx(write=True) as conn:
            moved = conn.execute(update(reviews).where(due).values(status="expired", decided_at=now)
                                 .returning(reviews.c.id, reviews.c.policy)).all()
            if moved:
                conn.execute(delete(deliverables).where(deliverables.c.review_id.in_([i for i, _ in moved])))
                conn.execute(insert(review_events), [
                    {"review_id": i, "at": now, "from_status": "pending", "to_status": "expired",
                     "reviewer": None, "reason": "not decided in time"} for i, _ in moved])
                held = [i for i, policy in moved if policy == "block"]
                if held:  # the user waits on these: the app is told they ended without an answer
                    rows = conn.execute(select(reviews).where(reviews.c.id.in_(held))).mappings()
                    self._enqueue(conn, [ReviewItem.model_validate(dict(r)) for r in rows], now)
        return len(moved)

    def deliverable(self, review_id: str, *, take: bool = False) -> str | None:
        """A decided held answer as written, when the store keeps only its masked copy (``pii_handling: redact``).

        ``take``: this read is its delivery, so the text is deleted as it is read. None when none is kept.
        """
        row = deliverables.c.review_id == review_id
        with self._tx(write=take) as conn:
            answer = conn.execute(select(deliverables.c.answer).where(row)).scalar()
            if take and answer is not None:
                conn.execute(delete(deliverables).where(row))
        return answer

    # -- outbox: what the app is told about held answers ---------------------

    @staticmethod
    def _enqueue(conn: Connection, items: Sequence[ReviewItem], now: datetime) -> None:
        """In the transaction that ended the items: the event commits with the decision, or neither does."""
        conn.execute(insert(outbox), [
            {"delivery": uuid.uuid4().hex, "created_at": now, "type": event["type"], "review_id": item.id,
             "payload": event, "status": "pending", "attempts": 0, "next_attempt_at": now}
            for item in items for event in [item.app_event()]])

    def claim_event(self, lease_s: float, now: datetime | None = None) -> OutboxEvent | None:
        """The oldest event due for delivery, leased to this caller for ``lease_s`` (its attempt counted).

        Its ``answer`` is the one to send: the text as written where the outbox row holds a masked copy
        (the row itself is never rewritten; ``event_delivered`` then deletes the text as written).

        Several workers may drain one outbox: on PostgreSQL a row being claimed is skipped
        (``FOR UPDATE SKIP LOCKED``), on SQLite the write lock serialises claims; either way the
        lease keeps others off the event while it is being sent.
        """
        now = now or utcnow()
        due = (select(outbox).where(outbox.c.status == "pending", outbox.c.next_attempt_at <= now)
               .order_by(outbox.c.id).limit(1).with_for_update(skip_locked=True))
        with self._tx() as conn:  # usually nothing is due: find out without taking the write lock
            if conn.execute(select(outbox.c.id).where(outbox.c.status == "pending",
                                                      outbox.c.next_attempt_at <= now).limit(1)).first() is None:
                return None
        with self._tx(write=True) as conn:
            row = conn.execute(due).mappings().first()
            if row is None:
                return None
            payload = row["payload"]
            written = conn.execute(select(deliverables.c.answer)
                                   .where(deliverables.c.review_id == row["review_id"])).scalar()
            if written is not None and payload.get("answer") is not None:
                payload = {**payload, "answer": written}
            event = OutboxEvent.model_validate({**row, "payload": payload, "attempts": row["attempts"] + 1})
            conn.execute(update(outbox).where(outbox.c.id == event.id).values(
                attempts=event.attempts, next_attempt_at=now + timedelta(seconds=lease_s)))
        return event

    def event_delivered(self, event_id: int) -> None:
        """The app has the event, and so the answer as written: that is no longer kept."""
        of_event = select(outbox.c.review_id).where(outbox.c.id == event_id).scalar_subquery()
        with self._tx(write=True) as conn:
            conn.execute(update(outbox).where(outbox.c.id == event_id).values(
                status="delivered", done_at=utcnow(), last_error=None))
            conn.execute(delete(deliverables).where(deliverables.c.review_id == of_event))

    def event_failed(self, event_id: int, error: str, retry_at: datetime | None) -> None:
        """An attempt failed: tried again at ``retry_at``, or given up on (``failed``) when it is None."""
        values: dict[str, Any] = {"last_error": error}
        if retry_at is None:
            values.update(status="failed", done_at=utcnow())
        else:
            values.update(next_attempt_at=retry_at)
        with self._tx(write=True) as conn:
            conn.execute(update(outbox).where(outbox.c.id == event_id).values(**values))

    def outbox_events(self, *, status: str | None = None, review_id: str | None = None) -> list[OutboxEvent]:
        """Events oldest first: what was (or is still to be) told to the app."""
        query = select(outbox).order_by(outbox.c.id)
        for column, value in (("status", status), ("review_id", review_id)):
            if value is not None:
                query = query.where(outbox.c[column] == value)
        with self._tx() as conn:
            return [OutboxEvent.model_validate(dict(r)) for r in conn.execute(query).mappings()]

    # -- feedback ------------------------------------------------------------

    def record_feedback(self, request_id: str, *, rating: int | None = None, final_text: str | None = None,
                        comment: str | None = None, user: str | None = None,
                        resolved: bool | None = None) -> FeedbackRecord:
        """Keep what the user thought and sent; a second call updates the fields it gives, history is kept.

        With ``final_text`` the draft is compared with what was really sent. Raises
        ``UnknownRequest`` when guard never gave an answer with this id.
        """
        if rating not in (None, 1, -1):
            raise ValueError(f"rating must be +1 or -1, not {rating!r}")
        now = utcnow()
        with self._tx(write=True) as conn:
            draft = self._draft(conn, request_id)
            given: dict[str, Any] = {"rating": rating, "final_text": final_text, "resolved": resolved,
                                     "comment": comment, "user": user, "edit_distance": None, "edited": None}
            if final_text is not None and draft is not None:
                given["edit_distance"] = edit_distance(draft, final_text)
                given["edited"] = is_edited(draft, final_text)
            stmt = self._upsert(feedback).values(request_id=request_id, created_at=now, updated_at=now, **given)
            stmt = stmt.on_conflict_do_update(index_elements=[feedback.c.request_id], set_={
                "updated_at": stmt.excluded.updated_at,
                **{f: func.coalesce(stmt.excluded[f], feedback.c[f]) for f in _FEEDBACK_FIELDS}})
            conn.execute(stmt)
            conn.execute(insert(feedback_events).values(request_id=request_id, at=now, **given))
            row = conn.execute(select(feedback).where(feedback.c.request_id == request_id)).mappings().one()
        return FeedbackRecord.model_validate(dict(row))

    def feedback_between(self, since: datetime, until: datetime) -> list[FeedbackRecord]:
        """Feedback on the answers given in the window (by the request's time, or the feedback's without one)."""
        answered = func.coalesce(requests.c.created_at, feedback.c.created_at)
        joined = feedback.outerjoin(requests, requests.c.request_id == feedback.c.request_id)
        query = select(feedback).select_from(joined).where(answered >= since, answered < until).order_by(answered)
        with self._tx() as conn:
            return [FeedbackRecord.model_validate(dict(r)) for r in conn.execute(query).mappings()]

    def feedback_events(self, request_id: str) -> list[dict[str, Any]]:
        """Every feedback call on one request, oldest first."""
        query = select(feedback_events).where(feedback_events.c.request_id == request_id).order_by(feedback_events.c.id)
        with self._tx() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    @staticmethod
    def _draft(conn: Connection, request_id: str) -> str | None:
        """The answer the model gave, from its record or, with telemetry off, its review item."""
        record = conn.execute(select(requests.c.answer).where(requests.c.request_id == request_id)).first()
        if record is not None:
            return record.answer
        review = conn.execute(select(reviews.c.draft).where(reviews.c.request_id == request_id).limit(1)).first()
        if review is not None:
            return review.draft
        raise UnknownRequest(f"no answer with request id {request_id!r} was recorded")

    # -- support calibrations (guard.calibration) -----------------------------

    def save_calibration(self, body: dict[str, Any], *, activate: bool = False) -> None:
        """Keep a calibration (JSON body with ``id`` and ``verifier``); with ``activate``, it is in force from now on."""
        now = utcnow()
        with self._tx(write=True) as conn:
            stmt = self._upsert(calibrations).values(id=body["id"], created_at=now, verifier=body["verifier"],
                                                     body=body, activated_at=now if activate else None)
            conn.execute(stmt.on_conflict_do_update(index_elements=[calibrations.c.id], set_={"activated_at": now})
                         if activate else stmt.on_conflict_do_nothing(index_elements=[calibrations.c.id]))

    def active_calibration(self) -> dict[str, Any] | None:
        """The body of the calibration activated last; None when none is (or ``deactivate_calibrations`` ran)."""
        query = (select(calibrations.c.body).where(calibrations.c.activated_at.is_not(None))
                 .order_by(calibrations.c.activated_at.desc()).limit(1))
        with self._tx() as conn:
            return conn.execute(query).scalar()

    def deactivate_calibrations(self) -> int:
        """Back to the shipped (or configured) calibration; the number of calibrations that were active."""
        with self._tx(write=True) as conn:
            return conn.execute(update(calibrations).where(calibrations.c.activated_at.is_not(None))
                                .values(activated_at=None)).rowcount

    # -- housekeeping --------------------------------------------------------

    def purge_records(self, before: datetime, *, batch: int = 5000) -> int:
        """Delete request records created before ``before``, with feedback, refused rows and Responses API state as
        old; how many records.

        In batches, each its own transaction, so a large purge never holds a long lock.
        """
        old_feedback = feedback.c.created_at < before
        of_old_feedback = feedback_events.c.request_id.in_(select(feedback.c.request_id).where(old_feedback))
        self._delete(feedback_events, of_old_feedback, feedback_events.c.id, batch)
        self._delete(feedback, old_feedback, feedback.c.request_id, batch)
        self._delete(dead_letters, dead_letters.c.at < before, dead_letters.c.id, batch)
        self._delete(responses, responses.c.created_at < before, responses.c.id, batch)  # Responses API state
        return self._delete(requests, requests.c.created_at < before, requests.c.request_id, batch)

    def purge_reviews(self, before: datetime, *, batch: int = 5000) -> int:
        """Delete review items created before ``before`` that ended, with their history, sent events and the
        answers as written never delivered; how many.

        Pending items stay, however old: a held draft exists nowhere else; so do events not yet delivered.
        """
        ended = (reviews.c.created_at < before) & (reviews.c.status != "pending")
        old = select(reviews.c.id).where(ended)
        self._delete(outbox, outbox.c.review_id.in_(old) & (outbox.c.status != "pending"), outbox.c.id, batch)
        self._delete(deliverables, deliverables.c.review_id.in_(old), deliverables.c.review_id, batch)
        self._delete(review_events, review_events.c.review_id.in_(old), review_events.c.id, batch)
        return self._delete(reviews, ended, reviews.c.id, batch)

    def _delete(self, table: Any, where: Any, key: Any, batch: int) -> int:
        deleted = 0
        while True:
            chosen = select(key).where(where).limit(batch)
            with self._tx(write=True) as conn:
                n = conn.execute(delete(table).where(key.in_(chosen))).rowcount
            deleted += n
            if n < batch:
                return deleted

    def ping(self) -> None:
        """Raises ``StoreUnavailable`` when the database cannot be reached."""
        with self._tx() as conn:
            conn.execute(text("SELECT 1"))

    def close(self) -> None:
        self.engine.dispose()


def _requests_upsert(upsert: Any) -> Any:
    """INSERT ... ON CONFLICT (request_id) DO UPDATE of every other column, built once per store.

    Built per batch it cost more than the rows: each build makes a proxy column per
    ``excluded`` field and a new cache key for SQLAlchemy to compute.
    """
    stmt = upsert(requests)
    return stmt.on_conflict_do_update(
        index_elements=[requests.c.request_id],
        set_={c.name: stmt.excluded[c.name] for c in requests.c if c.name != "request_id"})


def _transient(exc: DBAPIError) -> bool:
    """A lost or refused connection, a lock, a server going down: worth trying again, unlike refused data."""
    return isinstance(exc, (OperationalError, InterfaceError)) or exc.connection_invalidated


def _check_decision(decision: str, final_text: str | None) -> None:
    if decision not in ("approved", "edited", "rejected"):
        raise ValueError(f"decision must be 'approved', 'edited' or 'rejected', not {decision!r}")
    if decision == "edited" and not final_text:
        raise ValueError("an edited decision needs the corrected final_text")
    if decision != "edited" and final_text is not None:
        raise ValueError(f"final_text goes with 'edited', not {decision!r}")


def _review(row: RowMapping | None) -> ReviewItem | None:
    return None if row is None else ReviewItem.model_validate(dict(row))
