# shellcheck shell=bash
# Helpers shared by the cloud scripts (scripts/login-*.sh, scripts/get-*-kubeconfig.sh).
# Sourced, never run. The sourcing script sets `usage` (its usage text) before sourcing.
#
# Exit codes, as shiprail's: 0 done, 1 a cloud call failed (not logged in, no permission,
# unknown registry or cluster), 2 wrong arguments, 3 a required tool is not installed.

# The install hint printed when a tool is missing.
cloud_install_hint() {
  case $1 in
    aws) printf '%s' "AWS CLI v2, https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html" ;;
    az) printf '%s' "Azure CLI, https://learn.microsoft.com/cli/azure/install-azure-cli" ;;
    kubelogin) printf '%s' "az aks install-cli (installs kubectl and kubelogin)" ;;
    docker) printf '%s' "scripts/install-tools.sh docker.io" ;;
    *) printf '%s' "see its documentation" ;;
  esac
}

say() { printf '%s: %s\n' "${0##*/}" "$*" >&2; }

die() {
  local code=$1
  shift
  say "error: $*"
  exit "$code"
}

# shellcheck disable=SC2154  # usage: set by the sourcing script
print_usage() { printf '%s\n' "$usage"; }

# Wrong arguments: the reason and the usage on stderr, exit 2.
usage_error() {
  say "error: $*"
  print_usage >&2
  exit 2
}

# need_tool NAME: exit 3 with an install hint unless NAME is on PATH.
need_tool() {
  command -v "$1" >/dev/null 2>&1 || die 3 "'$1' is not installed: install it ($(cloud_install_hint "$1"))"
}

# The default directory for kubeconfigs: kube/ in the state directory shiprail uses
# (SHIPRAIL_STATE_DIR, default .shiprail/ in the repository), private (0700) and ignored by git
# through a .gitignore of its own, since .shiprail/ is inside the checkout by default.
default_kube_dir() {
  local root dir
  root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  dir="${SHIPRAIL_STATE_DIR:-$root/.shiprail}/kube"
  (umask 077 && mkdir -p "$dir") || die 1 "cannot create the directory $dir"
  [ -e "$dir/.gitignore" ] || printf '*\n' >"$dir/.gitignore" || die 1 "cannot write $dir/.gitignore"
  printf '%s' "$dir"
}

# An absolute path for FILE (which may not exist yet); its directory is created, mode 0700
# when new.
kubeconfig_path() {
  local file=$1 dir
  dir=$(dirname "$file")
  (umask 077 && mkdir -p "$dir") || die 1 "cannot create the directory $dir"
  printf '%s/%s' "$(cd "$dir" && pwd)" "$(basename "$file")"
}

# hand_over_credentials USER TOKEN HOST: registry credentials for shiprail
# (SHIPRAIL_REGISTRY_USERNAME / SHIPRAIL_REGISTRY_PASSWORD, docs/settings.md), never printed
# to the terminal. They go to --env-file FILE (replaced, mode 0600), else are appended to
# $GITHUB_ENV when set; in GitHub Actions the token is masked first (::add-mask::), so the log
# never shows it; with --docker, `docker login` reads the token on stdin. (A function's
# arguments and printf, a builtin, never appear in a process list.)
hand_over_credentials() {
  local registry_user=$1 registry_token=$2 registry_host=$3
  case $registry_token in
    *$'\n'* | *$'\r'*) die 1 "the registry token spans several lines: refusing to write it as NAME=value" ;;
  esac
  local target="" mode=""
  if [ -n "$env_file" ]; then
    target=$env_file mode=replace
  elif [ -n "${GITHUB_ENV:-}" ]; then
    target=$GITHUB_ENV mode=append
  fi
  if [ "${GITHUB_ACTIONS:-}" = true ]; then
    printf '::add-mask::%s\n' "$registry_token"
  fi
  if [ -n "$target" ]; then
    write_env_lines "$target" "$mode" "$registry_user" "$registry_token"
    say "wrote SHIPRAIL_REGISTRY_USERNAME and SHIPRAIL_REGISTRY_PASSWORD for $registry_host to $target"
  fi
  if [ "$docker_login" = 1 ]; then
    printf '%s' "$registry_token" \
      | docker login --username "$registry_user" --password-stdin "$registry_host" >&2 \
      || die 1 "docker login $registry_host failed (see above)"
    say "docker is logged in to $registry_host"
  fi
}

# write_env_lines FILE replace|append USER TOKEN
write_env_lines() {
  local target=$1 mode=$2 user=$3 token=$4 dir tmp
  if [ "$mode" = append ]; then
    printf 'SHIPRAIL_REGISTRY_USERNAME=%s\nSHIPRAIL_REGISTRY_PASSWORD=%s\n' \
      "$user" "$token" >>"$target" || die 1 "cannot append to $target"
    return
  fi
  dir=$(dirname "$target")
  # A new file (mktemp: mode 0600) renamed over the old one: never a moment with the token
  # in a file others may read.
  tmp=$(mktemp "$dir/.shiprail-env.XXXXXX") || die 1 "cannot write in $dir"
  if ! printf 'SHIPRAIL_REGISTRY_USERNAME=%s\nSHIPRAIL_REGISTRY_PASSWORD=%s\n' \
    "$user" "$token" >"$tmp" || ! chmod 600 "$tmp" || ! mv -f "$tmp" "$target"; then
    rm -f "$tmp"
    die 1 "cannot write $target"
  fi
}

# Options shared by the login scripts: --env-file FILE, --docker, -h/--help. Positional
# arguments are collected into the array `args`.
parse_login_options() {
  env_file="" docker_login=0 args=()
  while [ $# -gt 0 ]; do
    case $1 in
      -h | --help) print_usage; exit 0 ;;
      --env-file)
        if [ $# -lt 2 ] || [ -z "$2" ]; then usage_error "--env-file needs a file"; fi
        env_file=$2
        shift 2 ;;
      --env-file=*)
        env_file=${1#--env-file=}
        [ -n "$env_file" ] || usage_error "--env-file needs a file"
        shift ;;
      --docker) docker_login=1; shift ;;
      --) shift; args+=("$@"); break ;;
      -*) usage_error "unknown option $1" ;;
      *) args+=("$1"); shift ;;
    esac
  done
}

# Before any cloud call: refuse a login that would put the token nowhere (it is never printed
# instead), an --env-file in a missing directory, or --docker without docker.
need_destination() {
  if [ -z "$env_file" ] && [ -z "${GITHUB_ENV:-}" ] && [ "$docker_login" != 1 ]; then
    usage_error "nowhere to put the token: give --env-file FILE or --docker (in GitHub Actions, \$GITHUB_ENV is used)"
  fi
  if [ -n "$env_file" ] && [ ! -d "$(dirname "$env_file")" ]; then
    usage_error "--env-file $env_file: the directory $(dirname "$env_file") does not exist"
  fi
  if [ "$docker_login" = 1 ]; then need_tool docker; fi
}
