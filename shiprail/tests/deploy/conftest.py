from __future__ import annotations

from pathlib import Path

import pytest
from k8s_fixture import k8s_cluster  # the local cluster, for the Kubernetes target tests

from shiprail.config import ShiprailConfig
from shiprail.deploy.engine import Engine
from shiprail.deploy.ledger import Ledger
from shiprail.deploy.platform import Platform
from shiprail.deploy.settings import EnvironmentConfig, WatchConfig

from .fakes import FakeAnalysis, FakeRouter, FakeTarget, FakeTrust, smoke_transport

__all__ = ["k8s_cluster"]

IMAGES = {
    f"workorders:{name}": (f"sha256:{name:0<64}"[:71], f"sha-{name}")
    for name in ("v1", "v2", "v3", "v4", "never-ready", "smoke-fails", "errors", "interrupt")
}


class World:
    def __init__(self, tmp_path: Path, config: ShiprailConfig) -> None:
        self.target = FakeTarget(images=dict(IMAGES))
        self.router = FakeRouter()
        self.analysis = FakeAnalysis()
        self.trust = FakeTrust()
        self.ledger = Ledger(f"sqlite:///{tmp_path / 'state.db'}")
        self.ledger.migrate()
        self.file_sd = tmp_path / "targets"
        self.messages: list[str] = []
        self.now = 0.0
        self.engine = Engine(
            config,
            self.ledger,
            Platform(
                target=lambda _env, _cfg: self.target,
                router=lambda _env, _cfg, _t: self.router,
                analysis=lambda: self.analysis,
                trust=self.trust,
            ),
            file_sd_dir=self.file_sd,
            root=tmp_path,
            actor="alice",
            say=self.messages.append,
            sleep=self._sleep,
            clock=lambda: self.now,
            smoke_client=smoke_transport(),
        )

    def _sleep(self, seconds: float) -> None:
        self.now += seconds


def fast_env(**overrides: object) -> EnvironmentConfig:
    base: dict[str, object] = {
        "replicas": 2,
        "watch": WatchConfig(window_seconds=6, interval_seconds=2),
        "drain_seconds": 1,
        "keep_releases": 2,
    }
    base.update(overrides)
    return EnvironmentConfig.model_validate(base)


@pytest.fixture
def world(tmp_path: Path) -> World:
    config = ShiprailConfig(
        environments={
            "dev": fast_env(),
            "stage": fast_env(requires_approval=True),
            "prod": fast_env(requires_approval=True),
        }
    )
    return World(tmp_path, config)
