"""`shiprail registry|keys|publish|verify`: the local registry, signing keys, signed pushes.

``publish`` pushes a scanned image by digest to the local registry (or ``--registry HOST``:
ECR, ACR), signs it with a key (or keyless, in GitHub Actions) and attaches its provenance,
SBOM and scan result; ``verify`` runs the checks the release engine runs before a deploy.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shiprail import output
from shiprail.cli._app import JsonOption, app, report

if TYPE_CHECKING:
    from shiprail.image.publish import Published
    from shiprail.image.registry import LocalRegistry, RegistryStatus
    from shiprail.image.verify import Verification

registry_app = typer.Typer(help="A local OCI registry on 127.0.0.1 (TLS, htpasswd auth).")
keys_app = typer.Typer(help="The cosign key pair images are signed with.")
app.add_typer(registry_app, name="registry")
app.add_typer(keys_app, name="keys")

PasswordFileOption = Annotated[
    Path | None,
    typer.Option(
        envvar="SHIPRAIL_COSIGN_PASSWORD_FILE",
        help="File whose first line is the key's passphrase (else SHIPRAIL_COSIGN_PASSWORD).",
    ),
]


def _registry() -> LocalRegistry:
    from shiprail.deploy.settings import state_dir
    from shiprail.image.registry import LocalRegistry

    return LocalRegistry(state_dir())


def _keys_dir() -> Path:
    from shiprail.deploy.settings import state_dir

    return state_dir() / "keys"


def _show_registry(status: RegistryStatus, as_json: bool) -> None:
    if as_json:
        output.emit_json(dataclasses.asdict(status))
        return
    state = f"running on https://{status.host} (pid {status.pid})" if status.running else "stopped"
    output.say(f"registry {state}; storage {status.storage}; CA {status.ca_file}")
    if status.docker_trust:
        output.say(status.docker_trust)


@registry_app.command("up")
def registry_up(
    port: Annotated[
        int | None,
        typer.Option(envvar="SHIPRAIL_REGISTRY_PORT", help="Port on 127.0.0.1 (default: free)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Start the local registry (or show the running one)."""
    status = report(lambda: _registry().up(port))
    _show_registry(status, as_json)
    if not as_json:
        output.emit(str(status.host))


@registry_app.command("down")
def registry_down(
    purge: Annotated[bool, typer.Option(help="Also delete the stored images.")] = False,
) -> None:
    """Stop the local registry (its storage is kept unless --purge)."""
    stopped = report(lambda: _registry().down(purge=purge))
    output.say("registry stopped" if stopped else "registry was not running")


@registry_app.command("status")
def registry_status(as_json: JsonOption = False) -> None:
    """Whether the local registry runs, where, and what it trusts."""
    _show_registry(report(lambda: _registry().status()), as_json)


@keys_app.command("generate")
def keys_generate(
    directory: Annotated[
        Path | None,
        typer.Option("--dir", envvar="SHIPRAIL_KEYS_DIR", help="Default: <state>/keys."),
    ] = None,
    password_file: PasswordFileOption = None,
    force: Annotated[bool, typer.Option(help="Replace an existing pair.")] = False,
) -> None:
    """Make a cosign key pair; the private key is encrypted with the passphrase."""
    from shiprail.image import cosign, keys

    pair = report(
        lambda: keys.generate(
            directory or _keys_dir(), cosign.passphrase(password_file), force=force
        )
    )
    output.say(f"private key {pair.private_key} (encrypted; keep it secret)")
    output.emit(str(pair.public_key))


@app.command("publish")
def publish_command(
    image: Annotated[str, typer.Argument(help="A local image, e.g. workorders:1.0.0-<sha12>.")],
    repository: Annotated[
        str, typer.Option(envvar="SHIPRAIL_REPOSITORY", help="Repository in the registry.")
    ] = "workorders",
    registry: Annotated[
        str,
        typer.Option(
            envvar="SHIPRAIL_PUBLISH_REGISTRY",
            help="'local' (shiprail registry up) or a host such as <account>.dkr.ecr.<region>"
            ".amazonaws.com, with SHIPRAIL_REGISTRY_USERNAME / SHIPRAIL_REGISTRY_PASSWORD.",
        ),
    ] = "local",
    key: Annotated[
        Path | None, typer.Option(envvar="SHIPRAIL_KEY", help="Default: <state>/keys/cosign.key.")
    ] = None,
    password_file: PasswordFileOption = None,
    keyless: Annotated[
        bool,
        typer.Option(
            envvar="SHIPRAIL_KEYLESS",
            help="Sign without a key: a Fulcio certificate for the run's OIDC identity, "
            "recorded in Rekor (GitHub Actions with id-token: write only).",
        ),
    ] = False,
    sbom: Annotated[
        Path | None,
        typer.Option(envvar="SHIPRAIL_SBOM", help="CycloneDX JSON SBOM to attach as attestation."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Push IMAGE to a registry (default: the local one) by digest, sign it, attach
    provenance, SBOM and scan result."""
    from shiprail._docker import docker_client
    from shiprail.deploy.settings import state_dir
    from shiprail.errors import UsageError
    from shiprail.image import cosign, keys
    from shiprail.image.publish import publish
    from shiprail.image.registry import registry_access
    from shiprail.image.scan import load_context
    from shiprail.paths import repo_root

    def signer() -> cosign.Signer:
        """The key, or the keyless flow once an OIDC identity is known to exist: a mistake in
        either is reported before the Docker Engine is asked anything."""
        if not keyless:
            return keys.signing_key(
                key or _keys_dir() / keys.PRIVATE_NAME, cosign.passphrase(password_file)
            )
        if key is not None:
            raise UsageError("--keyless signs without a key", hint="drop --key / SHIPRAIL_KEY")
        cosign.KEYLESS.require_identity()
        return cosign.KEYLESS

    def body() -> Published:
        signing = signer()
        access = registry_access(registry, state_dir())
        return publish(
            docker_client(),
            image,
            access,
            signing,
            root=repo_root(),
            ctx=load_context(None),
            repository=repository,
            sbom=sbom,
            progress=output.sayer("publish"),
        )

    published = report(body)
    if as_json:
        output.emit_json(dataclasses.asdict(published))
        return
    output.say(
        f"signed and attested ({', '.join(published.signed.attestations)}); {published.signed.note}"
    )
    output.emit(published.pushed.reference)


def _show_verification(result: Verification, as_json: bool) -> None:
    if as_json:
        output.emit_json({**dataclasses.asdict(result), "passed": result.passed})
        return
    output.table(
        f"verify {result.image}",
        ["check", "result", "detail"],
        [(c.name, "pass" if c.passed else "[red]FAIL[/red]", c.detail) for c in result.checks],
    )
    if result.passed:
        output.say(f"{result.image}: {result.summary()}")
    else:
        output.say(result.note)


@app.command("verify")
def verify_command(
    image: Annotated[str, typer.Argument(help="host/repo:tag or host/repo@sha256:...")],
    key: Annotated[
        list[Path] | None,
        typer.Option(
            envvar="SHIPRAIL_KEY",
            help="Public key (repeat for several; any one). Default: signing.public_keys.",
        ),
    ] = None,
    commit: Annotated[
        str | None, typer.Option(envvar="SHIPRAIL_COMMIT", help="Expected commit (default HEAD).")
    ] = None,
    source: Annotated[
        str | None,
        typer.Option(envvar="SHIPRAIL_SOURCE", help="Expected source repository (default: this)."),
    ] = None,
    digest: Annotated[
        str | None, typer.Option(envvar="SHIPRAIL_DIGEST", help="Expected digest (sha256:...).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Check IMAGE's signature, provenance (this repository, this commit) and signed scan
    result, as the release engine does before a deploy; exit 1 if any check fails."""
    from shiprail.image import provenance
    from shiprail.image.scan import load_context
    from shiprail.image.trust import production_trust
    from shiprail.image.verify import VerificationFailed, verify
    from shiprail.paths import repo_root

    def body() -> Verification:
        root = repo_root()
        trust = production_trust()
        try:
            return verify(
                image,
                key or trust.keys,
                _registry().access(),
                repository=source or provenance.source_repository(root),
                commit=provenance.full_commit(root, commit or "HEAD"),
                scan=load_context(None),
                expected_digest=digest,
            )
        except VerificationFailed as exc:
            _show_verification(exc.verification, as_json)
            raise

    _show_verification(report(body), as_json)
