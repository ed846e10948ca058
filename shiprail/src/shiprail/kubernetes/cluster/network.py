"""The host side of pod networking: forwarding on, the bridge let through the Docker
Engine's firewall, and every rule and link taken away again on ``down``.

The Docker Engine sets the FORWARD policy to DROP and, with ``br_netfilter``, bridged pod
traffic passes that chain too; two FORWARD rules (tagged with the comment ``shiprail-k8s``)
accept traffic from and to the pod bridge. The bridge plugin's ``ipMasq`` adds one NAT chain
per pod, tagged ``name: "shiprail"``; kube-proxy removes its own rules with ``--cleanup``.
"""

from __future__ import annotations

import contextlib
import shlex
from pathlib import Path

from shiprail import _subprocess
from shiprail.errors import ShiprailError
from shiprail.kubernetes.cluster.layout import CNI_BRIDGE, CNI_NETWORK

RULE_COMMENT = "shiprail-k8s"
IPTABLES_HINT = "apt-get install -y iptables"
_FORWARD_RULES = (("-i", CNI_BRIDGE), ("-o", CNI_BRIDGE))
_SYSCTLS = {
    "net/ipv4/ip_forward": "1",
    "net/bridge/bridge-nf-call-iptables": "1",
}


def _iptables(*args: str, ok_codes: tuple[int, ...] | None = (0,)) -> _subprocess.Completed:
    return _subprocess.run(
        ["iptables", "-w", "5", *args], timeout=30, install_hint=IPTABLES_HINT, ok_codes=ok_codes
    )


def prepare_host() -> None:
    """Forwarding and bridge netfilter on (kube-proxy's rules see bridged traffic only then);
    the FORWARD accept rules inserted once."""
    with contextlib.suppress(ShiprailError):
        _subprocess.run(["modprobe", "br_netfilter"], timeout=30, ok_codes=None)
    for key, value in _SYSCTLS.items():
        path = Path("/proc/sys") / key
        if path.exists() and path.read_text().strip() != value:
            path.write_text(value)
    for flag, bridge in _FORWARD_RULES:
        rule = ("FORWARD", flag, bridge, "-m", "comment", "--comment", RULE_COMMENT, "-j", "ACCEPT")
        if _iptables("-C", *rule, ok_codes=None).returncode != 0:
            _iptables("-I", *rule)


def clean_iptables(kube_proxy: Path | None) -> list[str]:
    """Remove kube-proxy's rules, the CNI NAT chains of this network and the FORWARD rules;
    returns what was removed, for the ``down`` report."""
    removed: list[str] = []
    if kube_proxy is not None and kube_proxy.is_file():
        with contextlib.suppress(ShiprailError):
            _subprocess.run([str(kube_proxy), "--cleanup"], timeout=60, ok_codes=None)
            removed.append("kube-proxy rules")
    removed += _delete_tagged("nat", f'name: \\"{CNI_NETWORK}\\"')
    removed += _delete_tagged("filter", RULE_COMMENT)
    return removed


def _delete_tagged(table: str, tag: str) -> list[str]:
    """Delete every rule of ``table`` whose comment holds ``tag``, then the CNI chains those
    rules jumped to (``CNI-…``)."""
    saved = _subprocess.run(
        ["iptables-save", "-t", table], timeout=30, install_hint=IPTABLES_HINT
    ).stdout
    removed, chains = [], set()
    for line in saved.splitlines():
        if not line.startswith("-A ") or tag not in line:
            continue
        args = shlex.split(line)
        if "-j" in args:
            target = args[args.index("-j") + 1]
            if target.startswith("CNI-"):
                chains.add(target)
        if args[1].startswith("CNI-"):
            continue  # the chain itself is flushed below
        _iptables("-t", table, "-D", *args[1:], ok_codes=None)
        removed.append(f"{table}: {args[1]} rule")
    for chain in sorted(chains):
        _iptables("-t", table, "-F", chain, ok_codes=None)
        _iptables("-t", table, "-X", chain, ok_codes=None)
        removed.append(f"{table}: chain {chain}")
    return removed


def delete_bridge() -> bool:
    """Remove the pod bridge (its veths go with the pods' namespaces)."""
    if not Path("/sys/class/net", CNI_BRIDGE).exists():
        return False
    _subprocess.run(["ip", "link", "delete", CNI_BRIDGE], timeout=30, ok_codes=None)
    return True
