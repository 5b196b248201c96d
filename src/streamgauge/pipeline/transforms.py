"""Per-event transforms: drop, rename, set, default, redact, hash, filter, sample.

Each is a small class whose ``apply(draft)`` edits the draft in place and says
whether the event goes on (False: discarded by filter or sample). Conditions
(``when``) are tested by the pipeline before ``apply``. The SQL transform works
on whole micro-batches and lives in ``sql_step``.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import re
from typing import Any, Final

from streamgauge.pipeline.config import (
    DefaultTransform,
    DropTransform,
    FilterTransform,
    HashTransform,
    RedactTransform,
    RenameTransform,
    SampleTransform,
    SetTransform,
)
from streamgauge.pipeline.draft import Draft, FieldPath

REDACT_PATTERNS: Final[dict[str, str]] = {
    "email": r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}",
    "card": r"\b(?:\d[ \-]?){12,18}\d\b",
    "bearer": r"\b[Bb]earer\s+[A-Za-z0-9\-._~+/]+=*",
    "ip": r"\b(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)\b"
    # IPv6: eight groups, or fewer with "::" (so clock times such as 12:30:45 stay)
    r"|(?<![\w:.])(?=[0-9A-Fa-f:]*::|(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f])"
    r"(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?![\w:])",
}
"""Built-in patterns: e-mail addresses, card numbers (13-19 digits), bearer tokens, IPs."""

TEXT_COLUMNS: Final = ("user_id", "anonymous_id", "session_id", "organization_id", "error", "path")
"""The free-text columns a redact without ``fields`` scans besides properties and context."""


class Step:
    """One per-event transform."""

    kind: str = ""

    def apply(self, draft: Draft) -> bool:
        raise NotImplementedError


class Drop(Step):
    kind = "drop"

    def __init__(self, config: DropTransform) -> None:
        self.paths = [FieldPath.parse(f) for f in config.fields]

    def apply(self, draft: Draft) -> bool:
        for path in self.paths:
            draft.delete(path)
        return True


class Rename(Step):
    kind = "rename"

    def __init__(self, config: RenameTransform) -> None:
        self.pairs = [(FieldPath.parse(a), FieldPath.parse(b)) for a, b in config.fields.items()]

    def apply(self, draft: Draft) -> bool:
        for source, target in self.pairs:
            if draft.has(source):
                draft.set(target, draft.delete(source))
        return True


class Set(Step):
    kind = "set"

    def __init__(self, config: SetTransform | DefaultTransform) -> None:
        self.values = [(FieldPath.parse(k), v) for k, v in config.values.items()]
        self.only_missing = isinstance(config, DefaultTransform)
        self.kind = "default" if self.only_missing else "set"

    def apply(self, draft: Draft) -> bool:
        for path, value in self.values:
            if not (self.only_missing and draft.has(path)):
                draft.set(path, value)
        return True


class Redact(Step):
    """Masks every match of the patterns in every string of the chosen fields."""

    kind = "redact"

    def __init__(self, config: RedactTransform) -> None:
        sources = [REDACT_PATTERNS[p] for p in config.patterns] + config.custom
        self.regex = re.compile("|".join(f"(?:{s})" for s in sources))
        self.replacement = config.replacement
        self.paths = [FieldPath.parse(f) for f in config.fields]

    def scrub(self, text: str) -> str:
        return self.regex.sub(self.replacement, text)

    def apply(self, draft: Draft) -> bool:
        if self.paths:
            for path in self.paths:
                value = draft.get(path)
                if value is not None:
                    cleaned = self._clean(value)
                    if cleaned is not value:
                        draft.set(path, cleaned)
            return True
        event = draft.event
        for column in TEXT_COLUMNS:
            value = getattr(event, column)
            if value is not None and self.regex.search(value):
                setattr(event, column, self.scrub(value))
        for root in ("properties", "context"):
            text = getattr(event, root)
            # The JSON text is searched first: most events hold nothing to mask.
            if text and self.regex.search(text):
                found = draft.touch(root)
                found.update(self._clean(found))
        return True

    def _clean(self, value: Any) -> Any:
        """``value`` with matches masked; the same object when nothing matched."""
        if isinstance(value, str):
            return self.scrub(value) if self.regex.search(value) else value
        if isinstance(value, dict):
            cleaned = {k: self._clean(v) for k, v in value.items()}
            return value if all(cleaned[k] is value[k] for k in value) else cleaned
        if isinstance(value, list):
            items = [self._clean(v) for v in value]
            return value if all(a is b for a, b in zip(items, value, strict=True)) else items
        return value


class Hash(Step):
    """Replaces each field's value by its keyed HMAC-SHA256 (hex), the key from the env."""

    kind = "hash"

    def __init__(self, config: HashTransform) -> None:
        self.key = os.environ[config.key_env].encode()
        self.length = config.length
        self.paths = [FieldPath.parse(f) for f in config.fields]
        # Ids and IPs repeat across events: an HMAC costs more than a cache hit.
        self._digest = functools.lru_cache(maxsize=65_536)(self._compute)

    def _compute(self, text: str) -> str:
        return hmac.new(self.key, text.encode(), hashlib.sha256).hexdigest()[: self.length]

    def digest(self, value: Any) -> str:
        return self._digest(value if isinstance(value, str) else repr(value))

    def apply(self, draft: Draft) -> bool:
        for path in self.paths:
            value = draft.get(path)
            if value is not None:
                draft.set(path, self.digest(value))
        return True


class Filter(Step):
    kind = "filter"

    def __init__(self, config: FilterTransform) -> None:
        self.name = config.name

    def apply(self, draft: Draft) -> bool:
        return False  # the pipeline only calls it for events matching `when`


class Sample(Step):
    """Keeps ``rate`` of the events, chosen by event id so a retried event is chosen again."""

    kind = "sample"

    def __init__(self, config: SampleTransform) -> None:
        self.rate = config.rate
        self.threshold = int(config.rate * 2**64)
        self.path = FieldPath.parse(config.field)

    def apply(self, draft: Draft) -> bool:
        digest = hashlib.blake2b(draft.event.event_id.encode(), digest_size=8).digest()
        if int.from_bytes(digest, "big") >= self.threshold:
            return False
        draft.set(self.path, self.rate)
        return True


def build_step(config: object) -> Step:
    if isinstance(config, DropTransform):
        return Drop(config)
    if isinstance(config, RenameTransform):
        return Rename(config)
    if isinstance(config, SetTransform | DefaultTransform):
        return Set(config)
    if isinstance(config, RedactTransform):
        return Redact(config)
    if isinstance(config, HashTransform):
        return Hash(config)
    if isinstance(config, FilterTransform):
        return Filter(config)
    if isinstance(config, SampleTransform):
        return Sample(config)
    raise TypeError(f"not a per-event transform: {type(config).__name__}")
