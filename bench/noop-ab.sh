#!/usr/bin/env bash
# Interleaved A/B of the no-op row (d) between two builds of KoalaPic.Build, in CPU time (user+sys, GNU time) and wall.
# Each side is a work folder left by `bash bench/run.sh --only noop --work DIR` run on that side's checkout (its
# noop-on/noop-off projects and its own NuGet folder with that side's package). Each round builds, in this order:
# A without KoalaImage items, A with, B without, B with; it prints the pairwise overheads' min / median / max.
#   bash bench/run.sh --only noop --work /tmp/noop-a      # on the old checkout
#   bash bench/run.sh --only noop --work /tmp/noop-b      # on the new one
#   bash bench/noop-ab.sh /tmp/noop-a /tmp/noop-b 8
set -euo pipefail
a="$1"; b="$2"; rounds="${3:-8}"
[ -x /usr/bin/time ] || { echo "noop-ab: needs GNU time (/usr/bin/time)" >&2; exit 1; }
export MSBUILDDISABLENODEREUSE=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_CLI_USE_MSBUILD_SERVER=0
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
build() { # work folder, project (noop-on|noop-off): prints "wall cpu"
  (cd "$1/$2" && NUGET_PACKAGES="$1/nuget-packages" /usr/bin/time -f "%e %U %S" -o "$out/time" \
    dotnet build -c Release --no-restore -nodeReuse:false -v:q -nologo -clp:NoSummary > "$out/log" 2>&1) \
    || { tail -20 "$out/log" >&2; exit 1; }
  read -r wall user sys < "$out/time"
  echo "$wall $(echo "$user + $sys" | bc)"
}
for side in "$a" "$b"; do build "$side" noop-off > /dev/null; build "$side" noop-on > /dev/null; done # settle both
for i in $(seq 1 "$rounds"); do
  echo "round $i load $(cut -d' ' -f1 /proc/loadavg) A-off $(build "$a" noop-off) A-on $(build "$a" noop-on) B-off $(build "$b" noop-off) B-on $(build "$b" noop-on)"
done | tee "$out/rounds"
node -e '
const rows = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map((l) => l.split(" ").map(Number));
// columns: round i load L A-off wall cpu A-on wall cpu B-off wall cpu B-on wall cpu
const pick = (r, k) => ({ wall: r[k + 1], cpu: r[k + 2] });
const stats = (v) => { v = [...v].sort((x, y) => x - y); const m = v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2; return `${v[0].toFixed(2)} / ${m.toFixed(2)} / ${v[v.length - 1].toFixed(2)} s`; };
for (const [name, off, on] of [["A", 4, 7], ["B", 10, 13]]) {
  const d = rows.map((r) => ({ cpu: pick(r, on).cpu - pick(r, off).cpu, wall: pick(r, on).wall - pick(r, off).wall }));
  console.log(`${name}: KoalaPic overhead, CPU ${stats(d.map((x) => x.cpu))}, wall ${stats(d.map((x) => x.wall))} (min / median / max, ${rows.length} rounds)`);
}' "$out/rounds"
