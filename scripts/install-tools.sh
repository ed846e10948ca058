#!/usr/bin/env bash
# Install the external tools pinned in tools.lock (idempotent; prints what it does).
#
#   scripts/install-tools.sh            install everything
#   scripts/install-tools.sh NAME...    install only these tools
#
# apt  packages: apt-get (needs root; skipped when already installed)
# pypi packages: one venv per tool under .tools/py/<name>, binaries linked into .tools/bin
# go   tools:    go install into .tools/bin, skipped when the pinned version's stamp exists;
#                a `#@goenv NAME VAR=VALUE...` line in tools.lock adds the build environment a
#                tool's own release build uses (e.g. GOEXPERIMENT)
# k8s  kind:     Kubernetes components (kube-apiserver, kube-controller-manager, kube-scheduler,
#                kubelet, kube-proxy) and a static pause binary, built from the Go module proxy
#                into .tools/k8s/<version>/bin; skipped when that version's binaries exist.
#                k8s.io/kubernetes cannot be `go install`ed (its go.mod replaces its staging
#                modules with local folders), so a small wrapper module under
#                .tools/k8s/<version>/src requires it and maps each staging module to its
#                published v0.X.Y release.
# system tools:  machine prerequisites installed outside this script (terraform): named,
#                not installed; `shiprail doctor` checks their version
# Downloads are cached by apt, uv (~/.cache/uv) and Go (the module cache).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
lock="$root/tools.lock"
bin="$root/.tools/bin"
pyroot="$root/.tools/py"
stamps="$root/.tools/stamps"
mkdir -p "$bin" "$pyroot" "$stamps"

say() { printf 'install-tools: %s\n' "$*" >&2; }
die() { say "error: $*"; exit 1; }

selected() {
  local name=$1; shift
  [ "${#only[@]}" -eq 0 ] && return 0
  local n
  for n in "${only[@]}"; do [ "$n" = "$name" ] && return 0; done
  return 1
}

only=("$@")
apt_missing=()
pypi=()
go=()
k8s=()
while read -r name kind version source binary need; do
  case "$name" in ''|'#'*) continue ;; esac
  selected "$name" || continue
  case "$kind" in
    apt)
      if dpkg-query -W -f='${Status}' "$source" 2>/dev/null | grep -q 'install ok installed'; then
        say "apt  $name: already installed ($(dpkg-query -W -f='${Version}' "$source"))"
      else
        apt_missing+=("$source ${need:-required}")
      fi ;;
    pypi) pypi+=("$name $version $source $binary") ;;
    go) go+=("$name $version $source $binary") ;;
    k8s) k8s+=("$name $version $source") ;;
    system)
      if command -v "$binary" >/dev/null; then
        say "system $name: found $(command -v "$binary") (a machine prerequisite; shiprail doctor checks $version)"
      else
        say "system $name $version: not installed, and not installable by this script: install it on the machine"
      fi ;;
    *) die "tools.lock: unknown kind '$kind' for $name" ;;
  esac
done < <(sed -e 's/#.*//' "$lock")

if [ "${#apt_missing[@]}" -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || die "need root to apt-get install ${apt_missing[*]%% *} (run: sudo $0)"
  if [ -z "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null | head -1)" ]; then
    apt-get update -qq
  fi
  # An optional package this system's apt sources do not carry (chromium on Ubuntu, where it
  # is a snap) is named and skipped; a required one fails the install below.
  apt_wanted=()
  for entry in "${apt_missing[@]}"; do
    read -r source need <<<"$entry"
    if [ "$need" = optional ] && ! apt-cache show "$source" >/dev/null 2>&1; then
      say "apt  $source: not in this system's apt sources (optional): skipped"
    else
      apt_wanted+=("$source")
    fi
  done
  if [ "${#apt_wanted[@]}" -gt 0 ]; then
    say "apt  installing ${apt_wanted[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${apt_wanted[@]}" >/dev/null
    say "apt  installed ${apt_wanted[*]}"
  fi
fi

if [ "${#pypi[@]}" -gt 0 ]; then
  command -v uv >/dev/null || python3 -m pip install -q uv
  for entry in "${pypi[@]}"; do
    read -r name version source binary <<<"$entry"
    venv="$pyroot/$name"
    stamp="$stamps/pypi-$name-$version"
    if [ -f "$stamp" ] && [ -x "$venv/bin/$binary" ]; then
      say "pypi $name $version: already installed"
    else
      say "pypi $name $version: installing into .tools/py/$name"
      rm -rf "$venv"
      uv venv -q --python python3 "$venv"
      uv pip install -q --python "$venv/bin/python" "$source==$version"
      touch "$stamp"
    fi
    ln -sf "$venv/bin/$binary" "$bin/$binary"
  done
fi

if [ "${#go[@]}" -gt 0 ]; then
  command -v go >/dev/null || die "go is needed to build ${go[*]%% *} (apt-get install -y golang)"
  for entry in "${go[@]}"; do
    read -r name version source binary <<<"$entry"
    stamp="$stamps/go-$name-$version"
    if [ -f "$stamp" ] && [ -x "$bin/$binary" ]; then
      say "go   $name $version: already installed"
    else
      goenv=()
      read -r -a goenv < <(awk -v n="$name" '$1 == "#@goenv" && $2 == n {$1 = $2 = ""; print}' "$lock") || true
      say "go   $name $version: building $source@$version ${goenv[*]} (a few minutes the first time)"
      env "${goenv[@]}" GOBIN="$bin" GOFLAGS=-mod=mod go install "$source@$version"
      touch "$stamp"
    fi
  done
fi
k8s_components=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy)

# The wrapper module that builds k8s.io/kubernetes@$version (see the header).
k8s_wrapper() {
  local version=$1 source=$2 src=$3 gomod staging
  mkdir -p "$src/pause"
  staging="v0.${version#v1.}"
  printf 'module shiprail.local/k8sbuild\n\ngo 1.24.0\n\nrequire %s %s\n' "$source" "$version" >"$src/go.mod"
  gomod=$(cd "$src" && go mod download -json "$source@$version" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  {
    echo "replace ("
    grep "=> ./staging" "$gomod" | awk -v v="$staging" '{print "\t"$1" => "$1" "v}'
    echo ")"
  } >>"$src/go.mod"
  {
    printf '//go:build tools\n\npackage tools\n\nimport (\n'
    for c in "${k8s_components[@]}"; do printf '\t_ "%s/cmd/%s"\n' "$source" "$c"; done
    printf ')\n'
  } >"$src/tools.go"
  # The pod sandbox process: waits for SIGINT/SIGTERM, all Kubernetes' pause image does.
  cat >"$src/pause/main.go" <<'GO'
package main

import (
	"os"
	"os/signal"
	"syscall"
)

func main() {
	signals := make(chan os.Signal, 1)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM)
	<-signals
}
GO
  (cd "$src" && go mod tidy)
}

if [ "${#k8s[@]}" -gt 0 ]; then
  command -v go >/dev/null || die "go is needed to build ${k8s[*]%% *} (apt-get install -y golang)"
  for entry in "${k8s[@]}"; do
    read -r name version source <<<"$entry"
    out="$root/.tools/k8s/$version/bin"
    src="$root/.tools/k8s/$version/src"
    missing=()
    for c in "${k8s_components[@]}" pause; do [ -x "$out/$c" ] || missing+=("$c"); done
    if [ "${#missing[@]}" -eq 0 ]; then
      say "k8s  $name $version: already built in .tools/k8s/$version/bin"
      continue
    fi
    say "k8s  $name $version: building ${missing[*]} (about 5 minutes cold, 2 cores)"
    [ -f "$src/go.mod" ] || k8s_wrapper "$version" "$source" "$src"
    minor=${version#v1.}; minor=${minor%%.*}
    ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$version"
    ldflags="$ldflags -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor"
    mkdir -p "$out"
    for c in "${missing[@]}"; do
      pkg="$source/cmd/$c"; [ "$c" = pause ] && pkg=./pause
      (cd "$src" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out/$c" "$pkg")
      say "k8s  $name $version: built $c"
    done
  done
fi

say "done; tools are in .tools/bin (shiprail doctor checks them)"
