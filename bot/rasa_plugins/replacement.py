"""One attribute of Rasa (a method, a function, a module constant) replaced by ours, and put back.

The patch modules list their replacements; ``bot.rasa_plugins.patches.install`` applies them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

_ABSENT = object()


@dataclass
class Replacement:
    owner: Any  # the class or module that holds the attribute
    name: str
    ours: Any
    _theirs: Any = field(default=_ABSENT, repr=False)

    @property
    def applied(self) -> bool:
        return vars(self.owner).get(self.name, _ABSENT) is self.ours

    def apply(self) -> None:
        if self.applied:
            return
        # vars(), not getattr: a staticmethod must be put back as the staticmethod it was
        self._theirs = vars(self.owner).get(self.name, _ABSENT)
        setattr(self.owner, self.name, self.ours)

    def undo(self) -> None:
        if not self.applied:
            return
        if self._theirs is _ABSENT:
            delattr(self.owner, self.name)
        else:
            setattr(self.owner, self.name, self._theirs)
        self._theirs = _ABSENT
