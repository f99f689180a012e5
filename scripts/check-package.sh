#!/usr/bin/env bash
# Proves the npm package from outside the repository: packs it, installs the tarball into a scratch
# npm prefix without the network, and in a fresh git repository elsewhere runs `orch --version`,
# `orch doctor`, `orch demo` and a 2-task `orch run` with shell workers.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
log() { printf '\n==> %s\n' "$*"; }
fail() {
  echo "check-package: $*" >&2
  exit 1
}

scratch="$(mktemp -d "${TMPDIR:-/tmp}/orch-package-XXXXXX")"
case "$scratch" in "$repo"/*) fail "the scratch folder $scratch is inside the repository" ;; esac
# orch's tmux servers for this check live under their own TMUX_TMPDIR, apart from everyone else's.
export TMUX_TMPDIR="$scratch/tmux"
mkdir -p "$TMUX_TMPDIR"
cleanup() {
  local sockets="$TMUX_TMPDIR/tmux-$(id -u)"
  if [ -d "$sockets" ]; then
    for s in "$sockets"/*; do
      [ -S "$s" ] && tmux -L "$(basename "$s")" kill-server 2>/dev/null || true
    done
  fi
  rm -rf "$scratch"
}
trap cleanup EXIT

log "pack"
(cd "$repo" && pnpm pack:cli)
version="$(node -p "require('$repo/packages/orch/package.json').version")"
tarball="$repo/dist-pack/orch-$version.tgz"
[ -f "$tarball" ] || fail "pnpm pack:cli did not write $tarball"
listing="$(tar -tzf "$tarball")"
for f in package/LICENSE package/dist/bin.js package/roles/worker.md package/agents/supervisor.md package/bin/orch package/skills/orchestrate/SKILL.md \
  package/contracts-templates/typescript.ts.tmpl package/.claude-plugin/plugin.json package/.mcp.json \
  package/schemas/tasks.schema.json package/schemas/config.schema.json; do
  grep -qx "$f" <<<"$listing" || fail "$f is not in the tarball"
done
if grep -q '^package/node_modules/' <<<"$listing"; then fail "the tarball holds node_modules"; fi
# Claude Code runs the plugin's bin/orch from PATH: it must stay executable in the tarball.
tar -tvzf "$tarball" package/bin/orch | grep -q '^-rwx' || fail "bin/orch is not executable in the tarball"
# Everything is bundled: nothing to fetch at install time.
deps="$(tar -xzOf "$tarball" package/package.json | node -e 'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>{const p=JSON.parse(s);console.log(Object.keys({...p.dependencies,...p.optionalDependencies,...p.peerDependencies}).join(" "))})')"
[ -z "$deps" ] || fail "the package declares dependencies: $deps"

log "install the tarball into a scratch prefix (offline)"
prefix="$scratch/prefix"
npm install --global --prefix "$prefix" --offline --no-audit --no-fund "$tarball"
export PATH="$prefix/bin:$PATH"
[ "$(command -v orch)" = "$prefix/bin/orch" ] || fail "orch on PATH is $(command -v orch), not the installed one"
installed="$(cd "$prefix/lib/node_modules/orch" && pwd -P)"

log "a fresh repository outside this one"
work="$scratch/project"
mkdir -p "$work"
cd "$work"
git init -q -b main
git config user.name "orch package check"
git config user.email "package-check@orch.invalid"
printf '# project\n' >README.md
cat >tasks.yaml <<'EOF'
request: two files, one task each
tasks:
  - id: alpha
    description: write src/alpha.txt
    agent: shell
    files_write: [src/alpha.txt]
    verification:
      - command: test -s src/alpha.txt
        type: check
    run: |
      mkdir -p src
      echo alpha > src/alpha.txt
      git add -A && git commit -qm "alpha"
      orch task done --summary "alpha written"
  - id: beta
    description: write src/beta.txt
    agent: shell
    files_write: [src/beta.txt]
    verification:
      - command: test -s src/beta.txt
        type: check
    run: |
      mkdir -p src
      echo beta > src/beta.txt
      git add -A && git commit -qm "beta"
      orch task done --summary "beta written"
EOF
git add -A
git commit -qm "initial"

log "orch --version"
got="$(orch --version)"
[ "$got" = "$version" ] || fail "orch --version printed '$got', expected '$version'"
echo "$got"
# What every command loads before it runs: the entry and the chunks it imports statically. A heavy
# import there (all of core, the MCP SDK, ink) slows every `orch` call, `orch task done` included.
startup_kb="$(node --input-type=module -e '
  import { readFileSync, statSync } from "node:fs";
  import { dirname, join } from "node:path";
  const seen = new Set();
  const visit = (f) => {
    if (seen.has(f)) return;
    seen.add(f);
    for (const m of readFileSync(f, "utf8").matchAll(/(?:^|[;}\s])import\s*(?:[^"()]*?from\s*)?"(\.\/[^"]+)"/g))
      visit(join(dirname(f), m[1]));
  };
  visit(process.argv[1]);
  let bytes = 0;
  for (const f of seen) bytes += statSync(f).size;
  console.log(Math.round(bytes / 1024));
' "$repo/packages/orch/dist/bin.js")"
echo "the entry and its static imports: $startup_kb KiB"
[ "$startup_kb" -lt 200 ] || fail "orch loads $startup_kb KiB before any command runs (expected < 200 KiB)"

log "orch doctor"
orch doctor

log "orch demo"
(cd "$scratch" && NO_COLOR=1 orch demo --no-tui demo)

log "orch run (2 shell tasks)"
NO_COLOR=1 orch run tasks.yaml --no-tui --yes
run="$(cat .orchestrator/current)"
[ "$(cat src/alpha.txt)" = alpha ] || fail "src/alpha.txt was not promoted"
[ "$(cat src/beta.txt)" = beta ] || fail "src/beta.txt was not promoted"
[ "$(git rev-parse main)" = "$(git rev-parse "orch/$run/staging")" ] || fail "main is not the run's staging"
[ -z "$(git status --porcelain)" ] || fail "the checkout is not clean after the run: $(git status --porcelain)"
# The engine handed workers the installed package's own binary (their `orch` shim), and nothing of
# the run points into this working copy.
grep -rqF "$installed/dist/bin.js" .orchestrator || fail "no file of the run names $installed/dist/bin.js"
if grep -rlF "$repo/" .orchestrator; then fail "files of the run (above) point into $repo"; fi

log "orch dashboard --once (the bundled dashboard modules load)"
frame="$(NO_COLOR=1 orch dashboard --once)"
echo "$frame"
grep -q 'alpha' <<<"$frame" && grep -q 'beta' <<<"$frame" || fail "the dashboard frame does not list both tasks"

log "the shipped files are found in the package: contract templates, agents and skill"
stub="$(orch contracts gen Calculator add --lang ts)"
grep -q 'interface Calculator' <<<"$stub" || fail "orch contracts gen printed no interface: $stub"
orch install --scope project
[ -f .claude/agents/supervisor.md ] && [ -f .claude/skills/orchestrate/SKILL.md ] ||
  fail "orch install did not write the agents and the skill"

log "orch mcp (the bundled MCP server answers on stdio)"
reply="$(printf '%s\n' \
  '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"check","version":"1"}}}' \
  '{"jsonrpc":"2.0","method":"notifications/initialized"}' \
  '{"jsonrpc":"2.0","id":2,"method":"tools/call","params":{"name":"run_status","arguments":{}}}' |
  orch mcp)"
grep -q '"outcome":"succeeded"' <<<"$reply" || fail "orch mcp run_status did not return the finished run: $reply"

log "pnpm link:global puts the working copy's orch on PATH"
linked="$scratch/linked"
(cd "$repo" && npm_config_prefix="$linked" pnpm link:global)
[ "$(readlink -f "$linked/lib/node_modules/orch")" = "$(cd "$repo/packages/orch" && pwd -P)" ] ||
  fail "pnpm link:global did not link the working copy's package"
[ "$(PATH="$linked/bin:$PATH" orch --version)" = "$version" ] || fail "the linked orch does not run"

log "the installed package works from outside the repository"
