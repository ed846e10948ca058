"""Where things live: the repository shiprail works on, the shiprail checkout, and the
directories ``make tools`` installs pinned tools into."""

from __future__ import annotations

from pathlib import Path

from shiprail.settings import get_settings

#: The file that marks a shiprail checkout (and names the pinned tools).
TOOLS_LOCK = "tools.lock"


def repo_root(start: Path | None = None) -> Path:
    """The nearest ancestor holding ``tools.lock`` or ``shiprail.yaml`` (else the cwd)."""
    if root := get_settings().root:
        return root.resolve()
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / TOOLS_LOCK).is_file() or (candidate / "shiprail.yaml").is_file():
            return candidate
    return here


def package_checkout() -> Path | None:
    """The shiprail checkout holding the running package (an editable install), else None.

    Found by walking up from this file to the directory holding ``tools.lock``, so the pinned
    tools and rules are found wherever shiprail is run from.
    """
    here = Path(__file__).resolve()
    return next((c for c in here.parents if (c / TOOLS_LOCK).is_file()), None)


def platform_home() -> Path:
    """The shiprail checkout (rules, advisory data, tools), wherever a command points.

    ``SHIPRAIL_HOME`` wins; else the checkout this package is installed from (editable
    installs); else the repository around the working directory.
    """
    if home := get_settings().home:
        return home.resolve()
    return package_checkout() or repo_root()


def tools_bin(root: Path | None = None) -> Path:
    """The ``.tools/bin`` of a repository (default: the current one), as ``make tools`` fills it."""
    return (root or repo_root()) / ".tools" / "bin"


def tool_dirs() -> list[Path]:
    """Where pinned tools are looked up before ``PATH``, in order: ``SHIPRAIL_TOOLS_BIN``, the
    shiprail checkout's ``.tools/bin`` (where ``tools.lock`` installs them), the current
    repository's ``.tools/bin``. A command run from any folder thus uses the pinned tools."""
    found: list[Path] = []
    explicit = get_settings().tools_bin
    for directory in (explicit, tools_bin(platform_home()), tools_bin()):
        if directory is not None and directory not in found:
            found.append(directory)
    return found
