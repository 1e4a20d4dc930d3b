# shellcheck shell=bash
# scripts/lib/common.sh — shared helpers for scripts/run, scripts/test and CI.
# Owns: installing the Debian packages the project needs, building with CMake,
# and starting/stopping private Redis and PostgreSQL servers on loopback.
# Must never: be executed directly (it is sourced), touch a server it did not
# start, kill processes by name, listen on anything but 127.0.0.1, or leave a
# process it started running after sb_stop_started.

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  echo "common.sh is meant to be sourced, not executed" >&2
  exit 2
fi

SB_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
export SB_REPO_ROOT

# Processes started here, one "pid signal deadline_s name" entry each, stopped
# newest first by sb_stop_started; folders removed after they are stopped.
SB_STARTED=()
SB_CLEANUP_DIRS=()

sb_log() { printf '%s\n' "$*" >&2; }
sb_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Run a command as root: directly when we are root, else through sudo.
_sb_root() {
  if [[ "$(id -u)" -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else sb_die "need root or sudo to run: $*"
  fi
}

sb_install_deps() {
  _sb_install_packages build-essential cmake ninja-build ccache pkg-config \
    clang libclang-rt-14-dev libcaf-dev libboost1.81-dev libhiredis-dev \
    libpqxx-dev libspdlog-dev libssl-dev libcrypt-dev redis-server postgresql \
    postgresql-contrib curl ca-certificates nginx gettext-base docker-compose
}

# The browser the end-to-end tests drive (Debian's; never a downloaded one).
sb_install_browser() {
  _sb_install_packages chromium
}

# _sb_install_packages PKG...: installs those of the Debian packages that are
# missing (and Node.js with npm when there is no node), as root or via sudo.
_sb_install_packages() {
  local pkgs=("$@")
  command -v node >/dev/null 2>&1 || pkgs+=(nodejs npm)
  local missing=() p
  for p in "${pkgs[@]}"; do
    if [[ "$(dpkg-query -W -f='${db:Status-Abbrev}' "$p" 2>/dev/null)" != ii* ]]; then
      missing+=("$p")
    fi
  done
  if [[ ${#missing[@]} -eq 0 ]]; then
    sb_log "deps: all ${#pkgs[@]} packages present"
    return 0
  fi
  sb_log "deps: installing ${missing[*]}"
  # Packages must not start their services (nginx on port 80, a system
  # PostgreSQL): we run private ones. policy-rc.d says no, for this install.
  local policy=/usr/sbin/policy-rc.d placed=0
  if [[ ! -e $policy ]]; then
    _sb_root sh -c "printf '#!/bin/sh\nexit 101\n' >$policy && chmod +x $policy"
    placed=1
  fi
  _sb_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  _sb_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${missing[@]}" >/dev/null
  if ((placed)); then _sb_root rm -f "$policy"; fi
  sb_log "deps: installed ${missing[*]}"
}

# sb_build_web: the TypeScript client (clients/js/dist) and the demo app
# (web/dist, served by the node at /), from the npm registry's packages as
# pinned by their package-lock.json files.
sb_build_web() {
  local dir
  for dir in clients/js web; do
    (cd "$SB_REPO_ROOT/$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null &&
      npm run --silent build >/dev/null) || sb_die "building $dir failed"
  done
}

# Is something listening on 127.0.0.1:PORT (or any address on PORT)?
_sb_port_busy() {
  local port=$1
  if command -v ss >/dev/null 2>&1; then
    [[ -n "$(ss -Htan "( sport = :$port )" 2>/dev/null)" ]]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null
  fi
}

sb_free_port() {
  local port i
  for ((i = 0; i < 200; i++)); do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 20001))
    if ! _sb_port_busy "$port"; then
      printf '%s\n' "$port"
      return 0
    fi
  done
  sb_die "no free port found in 20000-40000"
}

# Alive and not a zombie waiting to be reaped.
_sb_alive() {
  local pid=$1 stat
  kill -0 "$pid" 2>/dev/null || return 1
  stat=$(cat "/proc/$pid/stat" 2>/dev/null) || return 1
  stat=${stat##*) }
  [[ "${stat:0:1}" != Z ]]
}

# sb_track_pid PID [SIGNAL] [DEADLINE_S] [NAME]: stop PID in sb_stop_started.
sb_track_pid() {
  SB_STARTED+=("$1 ${2:-TERM} ${3:-10} ${4:-process}")
}

# sb_cleanup_dir DIR: remove DIR in sb_stop_started, after the processes stop.
sb_cleanup_dir() { SB_CLEANUP_DIRS+=("$1"); }

_sb_stop_pid() {
  local pid=$1 sig=$2 deadline=$3 end
  if _sb_alive "$pid"; then
    kill "-$sig" "$pid" 2>/dev/null || true
    end=$((SECONDS + deadline))
    while _sb_alive "$pid" && ((SECONDS < end)); do sleep 0.05; done
    if _sb_alive "$pid"; then
      sb_log "warning: pid $pid ignored SIG$sig for ${deadline}s, killing it"
      kill -KILL "$pid" 2>/dev/null || true
      end=$((SECONDS + 5))
      while _sb_alive "$pid" && ((SECONDS < end)); do sleep 0.05; done
    fi
  fi
  wait "$pid" 2>/dev/null || true # reap it if it is our child
}

sb_stop_started() {
  local i pid sig deadline _name d
  trap '' INT TERM # a second Ctrl-C must not abort the cleanup
  for ((i = ${#SB_STARTED[@]} - 1; i >= 0; i--)); do
    read -r pid sig deadline _name <<<"${SB_STARTED[i]}"
    _sb_stop_pid "$pid" "$sig" "$deadline"
  done
  SB_STARTED=()
  for d in "${SB_CLEANUP_DIRS[@]}"; do
    if [[ -n "$d" && "$d" != / ]]; then rm -rf -- "$d" 2>/dev/null || true; fi
  done
  SB_CLEANUP_DIRS=()
  trap - INT TERM
  return 0
}

# EXIT stops what was started; INT/TERM exit through it with the usual codes.
sb_install_traps() {
  trap sb_stop_started EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# Without job control, background jobs share the terminal's process group and
# a Ctrl-C would reach the servers before the node has drained: give them their
# own session (prefix a background `exec` with "${SB_DETACH[@]}"). Under job
# control (an interactive shell) they already have their own process group, and
# setsid would fork, so $! would not be the server.
_sb_detach_cmd() {
  SB_DETACH=()
  [[ $- == *m* ]] || SB_DETACH=(setsid)
}

# sb_spawn SIGNAL DEADLINE_S NAME CMD...: start CMD in the background in its
# own session, have sb_stop_started stop it with SIGNAL (SIGKILL after
# DEADLINE_S), and set SB_LAST_PID.
sb_spawn() {
  local sig=$1 deadline=$2 name=$3
  shift 3
  _sb_detach_cmd
  (exec "${SB_DETACH[@]}" "$@") &
  SB_LAST_PID=$!
  sb_track_pid "$SB_LAST_PID" "$sig" "$deadline" "$name"
}

_sb_tail_log() {
  [[ -f "$1" ]] || return 0
  sb_log "---- last lines of $1 ----"
  tail -n 20 "$1" >&2 || true
}

# sb_start_redis DIR [--cache]: a private redis-server in DIR. The state one
# (sessions, history, counters, presence) exports SB_REDIS_URL and never
# evicts: at SB_REDIS_MAXMEMORY (default 1gb) its writes fail and the node
# answers 503 rather than lose anything. With --cache it is the cache's own
# (SB_REDIS_CACHE_URL): at SB_REDIS_CACHE_MAXMEMORY (default 512mb) it drops
# the least recently used keys, which the cache is built to survive, and it
# never persists. See docs/operations.md, "Redis keys and memory".
sb_start_redis() {
  local dir=${1:?sb_start_redis DIR [--cache]} role=state
  [[ "${2:-}" == --cache ]] && role=cache
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local memory=(--maxmemory "${SB_REDIS_MAXMEMORY:-1gb}" --maxmemory-policy noeviction
    --appendonly "${SB_REDIS_APPENDONLY:-no}")
  if [[ $role == cache ]]; then
    memory=(--maxmemory "${SB_REDIS_CACHE_MAXMEMORY:-512mb}" --maxmemory-policy allkeys-lru
      --appendonly no)
  fi
  local attempt port pid end log="$dir/redis.log"
  for attempt in 1 2 3; do
    port=$(sb_free_port)
    _sb_detach_cmd
    (exec "${SB_DETACH[@]}" redis-server --port "$port" --bind 127.0.0.1 --save '' \
      "${memory[@]}" --dir "$dir" --daemonize no) >"$log" 2>&1 &
    pid=$!
    sb_track_pid "$pid" TERM 10 redis
    end=$((SECONDS + 20))
    while ((SECONDS < end)) && _sb_alive "$pid"; do
      # Ours, not another server that took the port first?
      if [[ "$(redis-cli -h 127.0.0.1 -p "$port" info server 2>/dev/null |
        tr -d '\r' | sed -n 's/^process_id://p')" == "$pid" ]]; then
        if [[ $role == cache ]]; then
          export SB_REDIS_CACHE_URL="redis://127.0.0.1:$port"
        else
          export SB_REDIS_URL="redis://127.0.0.1:$port"
        fi
        return 0
      fi
      sleep 0.05
    done
    _sb_stop_pid "$pid" TERM 5
    if ! grep -qi 'address already in use' "$log" 2>/dev/null; then break; fi
    sb_log "redis: port $port taken meanwhile (attempt $attempt), retrying"
  done
  _sb_tail_log "$log"
  sb_die "redis-server did not answer PING (log: $log)"
}

# sb_start_redises DIR: the state Redis in DIR unless SB_REDIS_URL is set,
# and the cache's in DIR-cache unless SB_REDIS_CACHE_URL or SB_REDIS_URL is
# (a given SB_REDIS_URL alone: the cache shares it). Exports both URLs.
sb_start_redises() {
  local dir=${1:?sb_start_redises DIR} given=${SB_REDIS_URL:-}
  if [[ -z "$given" ]]; then
    sb_log "redis: starting $dir (state: noeviction, maxmemory ${SB_REDIS_MAXMEMORY:-1gb})"
    sb_start_redis "$dir"
  fi
  if [[ -z "${SB_REDIS_CACHE_URL:-}" && -z "$given" ]]; then
    sb_log "redis: starting $dir-cache (cache: allkeys-lru, maxmemory ${SB_REDIS_CACHE_MAXMEMORY:-512mb})"
    sb_start_redis "$dir-cache" --cache
  fi
  export SB_REDIS_URL SB_REDIS_CACHE_URL="${SB_REDIS_CACHE_URL:-}"
}

# Directory holding initdb/postgres/pg_ctl (highest installed version, 15 first).
_sb_pg_bindir() {
  if [[ -n "${SB_PG_BIN:-}" ]]; then printf '%s\n' "$SB_PG_BIN"; return; fi
  if [[ -x /usr/lib/postgresql/15/bin/postgres ]]; then
    printf '%s\n' /usr/lib/postgresql/15/bin; return
  fi
  local d
  d=$(find /usr/lib/postgresql -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
  [[ -n "$d" ]] || d=$(dirname "$(command -v postgres 2>/dev/null || echo /nonexistent/postgres)")
  [[ -x "$d/postgres" ]] || sb_die "PostgreSQL server binaries not found (set SB_PG_BIN)"
  printf '%s\n' "$d"
}

# Run a foreground command as the postgres user when we are root.
_sb_as_pg() {
  if [[ "$(id -u)" -eq 0 ]]; then (cd / && runuser -u postgres -- "$@")
  else "$@"
  fi
}

# Can the postgres user (when root) write into DIR, i.e. reach it at all?
_sb_pg_can_use() {
  local dir=$1
  [[ "$(id -u)" -ne 0 ]] && return 0
  chown postgres: "$dir" 2>/dev/null || return 1
  _sb_as_pg test -r "$dir" -a -w "$dir" -a -x "$dir"
}

# Print the postmaster's pid once the server in DATA is ready on PORT and is
# PID or PID's child (runuser fallback); fail otherwise. postmaster.pid lines:
# 1 pid, 4 port, 8 status. This tells our server from another one on PORT.
_sb_pg_ready_pid() {
  local data=$1 port=$2 pid=$3 lines=() ppid
  { mapfile -t lines <"$data/postmaster.pid"; } 2>/dev/null || return 1
  [[ ${#lines[@]} -ge 8 && "${lines[3]}" == "$port" ]] || return 1
  [[ "${lines[7]}" =~ ^[[:space:]]*ready ]] || return 1
  if [[ "${lines[0]}" != "$pid" ]]; then
    ppid=$(awk '{print $4}' "/proc/${lines[0]}/stat" 2>/dev/null) || return 1
    [[ "$ppid" == "$pid" ]] || return 1
  fi
  printf '%s\n' "${lines[0]}"
}

# sb_start_postgres DIR [--throwaway]: initdb once into DIR/data, start it.
# --throwaway turns fsync off (test servers only: a crash loses the data).
sb_start_postgres() {
  local dir=${1:?sb_start_postgres DIR [--throwaway]} throwaway=0
  [[ "${2:-}" == --throwaway ]] && throwaway=1
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if ! _sb_pg_can_use "$dir"; then
    local alt
    if ((throwaway)); then
      alt=$(mktemp -d /tmp/switchboard-pg.XXXXXX)
      sb_cleanup_dir "$alt"
    else
      alt="/tmp/switchboard-pg-$(printf '%s' "$dir" | cksum | cut -d' ' -f1)"
      mkdir -p "$alt"
    fi
    chmod 755 "$alt"
    sb_log "postgres: user 'postgres' cannot reach $dir; using $alt instead"
    dir=$alt
    _sb_pg_can_use "$dir" || sb_die "postgres: cannot use $dir either"
  fi
  local bin data="$dir/data" log="$dir/postgres.log" sock="$dir/sock"
  bin=$(_sb_pg_bindir)
  if [[ ! -f "$data/PG_VERSION" ]]; then
    rm -rf -- "$data"
    mkdir -p "$data" && chmod 700 "$data"
    [[ "$(id -u)" -eq 0 ]] && chown postgres: "$data"
    _sb_as_pg "$bin/initdb" -D "$data" -U postgres --auth=trust \
      --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1 ||
      { _sb_tail_log "$dir/initdb.log"; sb_die "initdb failed"; }
  fi
  # Unix socket paths are limited to ~107 bytes.
  if ((${#sock} > 90)); then
    sock=$(mktemp -d /tmp/sbpgsock.XXXXXX)
    sb_cleanup_dir "$sock"
  fi
  mkdir -p "$sock"
  chmod 755 "$sock"
  [[ "$(id -u)" -eq 0 ]] && chown postgres: "$sock" "$dir"

  local opts=(-c shared_preload_libraries=pg_stat_statements)
  if ((throwaway)); then
    opts+=(-c fsync=off -c synchronous_commit=off -c full_page_writes=off)
  fi
  local runas=()
  if [[ "$(id -u)" -eq 0 ]]; then
    # setpriv execs (no wrapper process), so $! is the postmaster itself.
    if command -v setpriv >/dev/null 2>&1; then
      runas=(setpriv --reuid=postgres --regid=postgres --init-groups --)
    else
      runas=(runuser -u postgres --)
    fi
  fi
  local attempt port pid end pm=""
  for attempt in 1 2 3; do
    port=$(sb_free_port)
    pm=""
    _sb_detach_cmd
    (cd / && exec "${SB_DETACH[@]}" "${runas[@]}" "$bin/postgres" -D "$data" -k "$sock" \
      -h 127.0.0.1 -p "$port" "${opts[@]}") >"$log" 2>&1 &
    pid=$!
    # SIGINT is PostgreSQL's "fast" shutdown: it does not wait for clients.
    sb_track_pid "$pid" INT 30 postgres
    end=$((SECONDS + 60))
    while ((SECONDS < end)) && _sb_alive "$pid"; do
      pm=$(_sb_pg_ready_pid "$data" "$port" "$pid") && break
      sleep 0.1
    done
    if [[ -n "$pm" ]] && "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres; then
      # With the runuser fallback $! is the wrapper: stop the postmaster itself.
      [[ "$pm" != "$pid" ]] && sb_track_pid "$pm" INT 30 postgres
      break
    fi
    _sb_stop_pid "$pid" INT 10
    if ! grep -qi 'could not bind\|address already in use' "$log"; then
      _sb_tail_log "$log"
      sb_die "postgres did not become ready (log: $log)"
    fi
    sb_log "postgres: port $port taken meanwhile (attempt $attempt), retrying"
    [[ $attempt -eq 3 ]] && sb_die "postgres: no usable port"
  done

  local psql=(env PGOPTIONS="-c client_min_messages=warning" psql -X -q -v ON_ERROR_STOP=1
    -h 127.0.0.1 -p "$port" -U postgres)
  if [[ "$("${psql[@]}" -d postgres -tAc \
    "select 1 from pg_database where datname = 'switchboard'")" != 1 ]]; then
    "${psql[@]}" -d postgres -c 'CREATE DATABASE switchboard' >/dev/null
  fi
  "${psql[@]}" -d switchboard -c 'CREATE EXTENSION IF NOT EXISTS pg_stat_statements' >/dev/null
  export SB_DATABASE_URL="postgresql://postgres@127.0.0.1:$port/switchboard"
}

# sb_build [BUILD_DIR] [extra cmake args...]: configure (Ninja, ccache) and
# build. BUILD_DIR defaults to $SB_BUILD_DIR, else build (build-asan with
# SB_SANITIZE=1, which also passes -DSB_SANITIZE=ON); SB_BUILD_TYPE
# (default Release) and SB_BUILD_JOBS (default 2) override. Exports SB_BUILD_DIR.
# SB_SKIP_BUILD=1 uses the existing tree as it is (it must hold the binary).
sb_build() {
  local dir
  if [[ $# -gt 0 && "$1" != -* ]]; then
    dir=$1
    shift
  elif [[ -n "${SB_BUILD_DIR:-}" ]]; then
    dir=$SB_BUILD_DIR
  elif [[ "${SB_SANITIZE:-0}" == 1 ]]; then
    dir=build-asan
  elif [[ "${SB_TSAN:-0}" == 1 ]]; then
    dir=build-tsan
  else
    dir=build
  fi
  if [[ "${SB_SKIP_BUILD:-0}" == 1 ]]; then
    case $dir in /*) ;; *) dir=$SB_REPO_ROOT/$dir ;; esac
    [[ -x "$dir/switchboard" ]] || sb_die "SB_SKIP_BUILD=1 but $dir/switchboard is missing"
    export SB_BUILD_DIR=$dir
    return 0
  fi
  local args=(-DCMAKE_BUILD_TYPE="${SB_BUILD_TYPE:-Release}")
  # An existing tree keeps its generator (cmake refuses to switch it).
  [[ -f "$dir/CMakeCache.txt" || -f "$SB_REPO_ROOT/$dir/CMakeCache.txt" ]] || args+=(-G Ninja)
  [[ "${SB_SANITIZE:-0}" == 1 ]] && args+=(-DSB_SANITIZE=ON)
  [[ "${SB_TSAN:-0}" == 1 ]] && args+=(-DSB_TSAN=ON)
  if command -v ccache >/dev/null 2>&1; then
    export CCACHE_DIR="${CCACHE_DIR:-$SB_REPO_ROOT/.cache/ccache}"
    mkdir -p "$CCACHE_DIR"
    args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  (
    cd "$SB_REPO_ROOT"
    cmake -S . -B "$dir" "${args[@]}" "$@" >/dev/null
    cmake --build "$dir" -j "${SB_BUILD_JOBS:-2}" \
      ${SB_BUILD_TARGET:+--target "$SB_BUILD_TARGET"}
  ) || sb_die "build failed in $dir"
  case $dir in
    /*) SB_BUILD_DIR=$dir ;;
    *) SB_BUILD_DIR=$SB_REPO_ROOT/$dir ;;
  esac
  export SB_BUILD_DIR
}

# sb_random_hex: 32 hex characters from /dev/urandom.
sb_random_hex() {
  if command -v openssl >/dev/null 2>&1; then
    openssl rand -hex 16
  else
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n'
    echo
  fi
}
