"""The conversation store on Redis: append-only, with secrets removed before anything is stored (PII-1).

Rasa's own Redis tracker store reads, re-parses, merges and rewrites the whole conversation on
every save, so a turn costs more the longer the conversation is. Here each conversation is a
Redis list of JSON events: a save appends only the events the tracker gained since it was
loaded (checked atomically against the list's version, so a concurrent writer is merged, never
overwritten), and a load reads only the current session (its first index and the version are
kept beside the list). A process keeps the session trackers it loaded recently and reuses one
while the list's version is unchanged, so Rasa's per-turn work on it (see ``rasa_speedups``)
carries over between turns. Conversations written by Rasa's store (one JSON document) are still
read, and moved to the list on their next save.

Bot messages can carry a single-use link token (the password and 2FA pages); the customer
receives the message as sent, but the stored conversation keeps the link without its token.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from dataclasses import dataclass
from itertools import islice
from typing import Any, Iterable, Optional, Text

import redis
from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import SerializedTrackerAsText, TrackerStore
from rasa.shared.core.constants import ACTION_SESSION_START_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker

from recoverydesk.adapters import keys
from recoverydesk.domain.redaction import redact_text
from recoverydesk.settings import RedisLocation

log = logging.getLogger("recoverydesk.tracker_store")

DEFAULT_KEY_PREFIX = keys.TRACKER_PREFIX
DEFAULT_MAX_EVENTS = 10_000  # per conversation; older events are dropped (a bounded history)
DEFAULT_CACHE_SIZE = 256  # recently loaded conversations this process keeps (the ones being talked in)
_SAVED = "_recoverydesk_saved"  # on a tracker: (the list's version, how many of its events are stored)

# Appends events if the list's version (events ever appended) is still the one the writer saw
# (-1: no check), keeps the index of the current session's first event (ARGV[3]: its offset among
# the new events, or -1), trims the oldest events beyond the bound, renews the expiry, and drops
# the key Rasa's own store used. Returns the new version, or -1 when the list moved on meanwhile.
_APPEND = """
local version = tonumber(redis.call('HGET', KEYS[2], 'version') or '0')
local expected = tonumber(ARGV[1])
if expected >= 0 and version ~= expected then return -1 end
local added = #ARGV - 4
local before = redis.call('LLEN', KEYS[1])
for i = 5, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
local length = before + added
version = version + added
redis.call('HSET', KEYS[2], 'version', version)
local session = tonumber(ARGV[3])
if session >= 0 then redis.call('HSET', KEYS[2], 'first', before + session) end
local bound = tonumber(ARGV[4])
if bound > 0 and length > bound then
  local drop = length - bound
  redis.call('LTRIM', KEYS[1], drop, -1)
  local first = tonumber(redis.call('HGET', KEYS[2], 'first') or '0') - drop
  if first < 0 then first = 0 end
  redis.call('HSET', KEYS[2], 'first', first)
end
local ttl = tonumber(ARGV[2])
if ttl > 0 then
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('EXPIRE', KEYS[2], ttl)
end
redis.call('DEL', KEYS[3])
return version
"""

# {first index, version, events from first} (first: ARGV[1], or the current session's start when
# it is -1); the events are left out (nil) when the version is ARGV[2], the one the caller holds.
# Without a list: {-1, 0, the conversation as Rasa's store wrote it, if any}.
_LOAD = """
local length = redis.call('LLEN', KEYS[1])
if length == 0 then return {-1, 0, redis.call('GET', KEYS[3]) or false} end
local meta = redis.call('HMGET', KEYS[2], 'first', 'version')
local version = tonumber(meta[2] or '0')
local first = tonumber(ARGV[1])
if first < 0 then first = tonumber(meta[1] or '0') end
if first >= length then first = 0 end
if tonumber(ARGV[2]) == version then return {first, version, false} end
return {first, version, redis.call('LRANGE', KEYS[1], first, -1)}
"""


@dataclass
class _Loaded:
    """A session tracker this process loaded, reused while the list is unchanged."""

    tracker: DialogueStateTracker
    first: int
    domain: Domain

    @property
    def version(self) -> int:
        saved = getattr(self.tracker, _SAVED, None)
        # a tracker holding events it has not saved (a turn that failed) is not reused
        return saved[0] if saved is not None and saved[1] == len(self.tracker.events) else -1


def _redacted(value: Any) -> Any:
    """Every string inside, redacted: texts, parse data, and the values a response was filled with."""
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, dict):
        return {key: _redacted(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redacted(item) for item in value]
    return value


def stored_form(event: dict) -> dict:
    """What is kept of an event: messages redacted, everything else as Rasa wrote it."""
    return _redacted(event) if event.get("event") in ("user", "bot") else event


def _starts_session(event: Event) -> bool:
    return isinstance(event, ActionExecuted) and event.action_name == ACTION_SESSION_START_NAME


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else value


class RedactingRedisTrackerStore(TrackerStore, SerializedTrackerAsText):
    """Configured in endpoints as ``type: bot.rasa_plugins.tracker_store.RedactingRedisTrackerStore`` with the
    same keys as Rasa's ``redis`` tracker store, plus ``max_events``; ``url`` may also be a whole
    ``redis://`` / ``rediss://`` URL (``url: ${REDIS_URL}`` in deploy/endpoints.yml)."""

    def __init__(
        self,
        domain: Optional[Domain] = None,
        host: Text = "localhost",
        port: int = 6379,
        db: int = 0,
        username: Optional[Text] = None,
        password: Optional[Text] = None,
        event_broker: Optional[EventBroker] = None,
        record_exp: Optional[float] = None,
        key_prefix: Optional[Text] = None,
        use_ssl: bool = False,
        ssl_keyfile: Optional[Text] = None,
        ssl_certfile: Optional[Text] = None,
        ssl_ca_certs: Optional[Text] = None,
        max_events: int = DEFAULT_MAX_EVENTS,
        cache_size: int = DEFAULT_CACHE_SIZE,
        **kwargs: Any,
    ) -> None:
        if "://" in host:
            where = RedisLocation.from_url(host)
            host, port, db, username, password, use_ssl = (
                where.host,
                where.port,
                where.db,
                where.username,
                where.password,
                where.use_ssl,
            )
        self.red = redis.StrictRedis(
            host=host,
            port=port,
            db=db,
            username=username,
            password=password,
            ssl=use_ssl,
            ssl_keyfile=ssl_keyfile,
            ssl_certfile=ssl_certfile,
            ssl_ca_certs=ssl_ca_certs,
        )
        self.record_exp = int(record_exp) if record_exp else 0
        prefix = key_prefix if isinstance(key_prefix, str) and key_prefix.isalnum() else DEFAULT_KEY_PREFIX
        self.key_prefix = f"{prefix}:"
        self.max_events = int(max_events)
        self.cache_size = int(cache_size)
        self._loaded: OrderedDict[str, _Loaded] = OrderedDict()
        self._append = self.red.register_script(_APPEND)
        self._load = self.red.register_script(_LOAD)
        super().__init__(domain, event_broker, **kwargs)

    def _keys(self, sender_id: Text) -> list[str]:
        # the event list; its version and current session's first index; Rasa's own key (older data)
        p = self.key_prefix
        return [f"{p}events:{sender_id}", f"{p}meta:{sender_id}", f"{p}tracker:{sender_id}"]

    @staticmethod
    def serialise_tracker(tracker: DialogueStateTracker) -> Text:
        dialogue = tracker.as_dialogue().as_dict()
        dialogue["events"] = [stored_form(event) for event in dialogue.get("events", [])]
        return json.dumps(dialogue)

    async def save(self, tracker: DialogueStateTracker, timeout: Optional[float] = None) -> None:
        """Appends the events the tracker gained since it was loaded or last saved."""
        saved = getattr(tracker, _SAVED, None)
        new: list[Event] = []
        version = -1
        redacted = False
        if saved is not None and len(tracker.events) >= saved[1]:
            new = list(islice(tracker.events, saved[1], None))
            version, redacted = self._push(tracker.sender_id, saved[0], new, timeout) if new else (saved[0], False)
            if version < 0:
                log.info("tracker_store.concurrent_write")
        if version < 0:
            new, version, redacted = self._merge(tracker, timeout)
        setattr(tracker, _SAVED, (version, len(tracker.events)))
        loaded = self._loaded.get(tracker.sender_id)
        # Reused trackers hold exactly what Redis holds: not one with a secret in memory (the next
        # load reads the redacted events), nor one a new session began in (the next load starts there).
        if loaded is not None and (loaded.tracker is not tracker or redacted or any(_starts_session(e) for e in new)):
            del self._loaded[tracker.sender_id]
        if self.event_broker is not None and new:
            await self._stream_new_events(self.event_broker, new, tracker.sender_id)

    def _push(
        self, sender_id: Text, expected: int, events: list[Event], timeout: Optional[float] = None
    ) -> tuple[int, bool]:
        """Appends; returns the new version (-1: the list moved on) and whether anything was redacted."""
        session = -1
        lines = []
        redacted = False
        for offset, event in enumerate(events):
            if _starts_session(event):
                session = offset
            raw = event.as_dict()
            kept = stored_form(raw)
            redacted = redacted or kept != raw
            lines.append(json.dumps(kept))
        ttl = int(timeout) if timeout else self.record_exp
        version = int(self._append(keys=self._keys(sender_id), args=[expected, ttl, session, self.max_events, *lines]))
        return version, redacted

    def _merge(self, tracker: DialogueStateTracker, timeout: Optional[float]) -> tuple[list[Event], int, bool]:
        """A tracker this store did not load (or a list that moved on): like Rasa's store, adds the
        events that are not stored yet, in order."""
        keys = self._keys(tracker.sender_id)
        while True:
            first, version, stored = self._raw(keys, 0)
            known = {json.dumps(stored_form(event), sort_keys=True) for event in stored or []}
            fresh = [
                event
                for event in tracker.events
                if json.dumps(stored_form(event.as_dict()), sort_keys=True) not in known
            ]
            # Rasa's layout: the whole conversation goes to the list once, and the old key goes
            older = self._events(stored or []) if first < 0 else []
            if not older and not fresh and first >= 0:
                return [], version, False
            pushed, redacted = self._push(tracker.sender_id, version, older + fresh, timeout)
            if pushed >= 0:
                return fresh, pushed, redacted

    def _raw(self, keys: list[str], first: int, known_version: int = -1) -> tuple[int, int, Optional[list[dict]]]:
        """(first index, version, events as dicts); first is -1 for a conversation in Rasa's layout,
        events None when the version is `known_version`."""
        start, version, found = self._load(keys=keys, args=[first, known_version])
        if int(start) >= 0:
            return int(start), int(version), None if found is None else [json.loads(line) for line in found]
        if not found:
            return 0, 0, []
        return -1, 0, json.loads(_text(found)).get("events", [])

    @staticmethod
    def _events(stored: Iterable[dict]) -> list[Event]:
        return [event for event in (Event.from_parameters(item) for item in stored) if event is not None]

    async def retrieve(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """The conversation's current session."""
        return self._retrieve(sender_id, session_only=True)

    async def retrieve_full_tracker(self, sender_id: Text) -> Optional[DialogueStateTracker]:
        """Every session of the conversation."""
        return self._retrieve(sender_id, session_only=False)

    def _retrieve(self, sender_id: Text, session_only: bool) -> Optional[DialogueStateTracker]:
        loaded = self._loaded.get(sender_id) if session_only else None
        if loaded is not None and loaded.domain is not self.domain:
            loaded = None
        known = loaded.version if loaded is not None else -1
        first, version, stored = self._raw(self._keys(sender_id), -1 if session_only else 0, known)
        if stored is None and loaded is not None and first == loaded.first:
            self._loaded.move_to_end(sender_id)
            return loaded.tracker
        if not stored:
            return None
        events = self._events(stored)
        if first < 0 and session_only:  # Rasa's layout: the last session starts at the last session start
            starts = [i for i, event in enumerate(events) if _starts_session(event)]
            events = events[starts[-1] :] if starts else events
        tracker = self.init_tracker(sender_id)
        tracker.events.extend(events)
        tracker.replay_events()
        if first >= 0:
            setattr(tracker, _SAVED, (version, len(tracker.events)))
            if session_only and self.cache_size > 0:
                self._loaded[sender_id] = _Loaded(tracker, first, self.domain)
                self._loaded.move_to_end(sender_id)
                while len(self._loaded) > self.cache_size:
                    self._loaded.popitem(last=False)
        return tracker

    async def exists(self, conversation_id: Text) -> bool:
        keys = self._keys(conversation_id)
        return bool(self.red.exists(keys[0], keys[2]))

    async def keys(self) -> Iterable[Text]:
        found = set()
        for marker in ("events:", "tracker:"):
            prefix = self.key_prefix + marker
            found.update(_text(key)[len(prefix) :] for key in self.red.scan_iter(match=prefix + "*", count=500))
        return found
