"""How a new release replaces the live one: one module per strategy (``blue_green``, and the
steps they share in ``common``)."""

from shiprail.deploy.strategies.blue_green import Rollout
from shiprail.deploy.strategies.common import (
    COLOURS,
    STOP_GRACE_SECONDS,
    other_colour,
    route_for,
    run_smoke,
)

__all__ = ["COLOURS", "STOP_GRACE_SECONDS", "Rollout", "other_colour", "route_for", "run_smoke"]
