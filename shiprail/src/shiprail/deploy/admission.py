"""Admission: the image of every deploy, promotion and rollback is verified before anything
starts, and a refusal is recorded in the ledger like any other outcome.

A refused deploy or promotion leaves a release row in state ``refused`` (so ``history`` and
``status`` show what was tried, with which image and why) and an attempt ``refused``; a
refused rollback records the attempt on the release it would have brought back. Nothing else
changes: the live release keeps serving. A deploy with verification off (dev, explicitly)
records that too, on the release, so the ledger says which releases were never verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NoReturn

from shiprail.deploy.ledger import Ledger
from shiprail.deploy.records import Release
from shiprail.deploy.settings import EnvironmentConfig
from shiprail.deploy.states import Action, AttemptState, ReleaseState
from shiprail.deploy.trust import ImageTrust, TrustedImage
from shiprail.errors import Refused

NO_TRUST = "no image verifier is configured: nothing unverified is deployed"


@dataclass(frozen=True)
class Admission:
    """Asks the trust about an image and records refusals, for one actor."""

    ledger: Ledger
    trust: ImageTrust | None
    actor: str
    holder: str

    def _admit(
        self, environment: str, cfg: EnvironmentConfig, image: str, commit: str | None
    ) -> TrustedImage:
        if self.trust is None:
            raise Refused(NO_TRUST)
        return self.trust.admit(environment, cfg, image, commit=commit, verify=cfg.verify)

    def release(
        self,
        environment: str,
        cfg: EnvironmentConfig,
        image: str,
        *,
        commit: str | None,
        colour: str,
        live: Release | None,
        source_release: str | None,
    ) -> TrustedImage:
        """The admitted image of a new release; a refusal is recorded as a refused release."""
        try:
            return self._admit(environment, cfg, image, commit)
        except Refused as exc:
            release = self.ledger.create_release(
                environment=environment,
                image=image,
                image_digest="",
                git_sha=commit or "unknown",
                created_by=self.actor,
                colour=colour,
                source_release=source_release,
                status=ReleaseState.refused,
                verification=f"refused: {exc.message}",
            )
            action = Action.promote if source_release else Action.deploy
            self._refused(environment, release.id, action, exc, live)

    def rollback(
        self, environment: str, cfg: EnvironmentConfig, chosen: Release, live: Release | None
    ) -> TrustedImage:
        """The admitted image of the release a rollback brings back (its recorded commit)."""
        try:
            return self._admit(environment, cfg, chosen.image, chosen.git_sha)
        except Refused as exc:
            self._refused(environment, chosen.id, Action.rollback, exc, live)

    def _refused(
        self,
        environment: str,
        release_id: str,
        action: Action,
        exc: Refused,
        live: Release | None,
    ) -> NoReturn:
        attempt = self.ledger.begin_attempt(
            environment=environment,
            release_id=release_id,
            action=action,
            actor=self.actor,
            holder=self.holder,
        )
        self.ledger.finish_attempt(attempt, status=AttemptState.refused, reason=exc.message)
        kept = f"{live.id} is still serving" if live else "nothing was serving"
        raise Refused(f"{action} refused: {exc.message}; {kept}", hint=exc.hint) from None
