"""The local cluster fixture (``k8s_fixture``), shared with the deploy tests."""

from __future__ import annotations

from k8s_fixture import k8s_cluster

__all__ = ["k8s_cluster"]
