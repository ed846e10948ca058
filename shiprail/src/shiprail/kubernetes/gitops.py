"""The promotion contract of the Argo CD ApplicationSet: dev follows ``main``, stage a
``release/*`` branch and prod a ``v*`` tag. Git revisions cannot be wildcards in Argo CD, so
promotion is a reviewed change of an element's ``revision``; this check keeps every such
change inside the contract."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from shiprail.kubernetes.manifests import Manifest

#: environment -> the revisions it may deploy from
PROMOTION = {"dev": "main", "stage": "release/*", "prod": "v*"}


@dataclass(frozen=True)
class PromotionProblem:
    manifest: Manifest
    message: str


def _list_elements(generators: list[Any]) -> Iterator[dict[str, Any]]:
    for generator in generators or []:
        if not isinstance(generator, dict):
            continue
        for element in (generator.get("list") or {}).get("elements") or []:
            if isinstance(element, dict):
                yield element
        for nested in ("matrix", "merge"):
            if nested in generator:
                yield from _list_elements(generator[nested].get("generators") or [])


def check_promotion(manifests: list[Manifest]) -> list[PromotionProblem]:
    problems = []
    for manifest in manifests:
        if manifest.kind != "ApplicationSet":
            continue
        seen = set()
        for element in _list_elements(manifest.obj.get("spec", {}).get("generators") or []):
            env, revision = element.get("env"), str(element.get("revision", ""))
            if env not in PROMOTION:
                continue
            seen.add(env)
            pattern = PROMOTION[env]
            if not fnmatch.fnmatchcase(revision, pattern) or revision.endswith("*"):
                problems.append(
                    PromotionProblem(
                        manifest,
                        f"{env} deploys revision {revision!r}; it must be {pattern} "
                        "(a concrete branch or tag)",
                    )
                )
            if env == "prod" and element.get("autoSync") is not False:
                problems.append(
                    PromotionProblem(manifest, "prod must sync manually (autoSync: false)")
                )
            if env == "dev" and element.get("autoSync") is not True:
                problems.append(
                    PromotionProblem(manifest, "dev must sync automatically (autoSync: true)")
                )
        for env in sorted(set(PROMOTION) - seen):
            problems.append(PromotionProblem(manifest, f"no element deploys the {env} environment"))
    return problems
