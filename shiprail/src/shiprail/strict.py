"""The base of every model read from a file a person writes (``shiprail.yaml``, waivers, SLOs).

Unknown keys are errors, so a typo cannot silently switch a check off; models are frozen, so
a loaded configuration is never changed behind its reader's back. It lives apart from
``shiprail.config``, which imports every section model, so the sections can share it without
an import cycle.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """Unknown keys are errors (typos must not pass silently); instances are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)
