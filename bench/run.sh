#!/usr/bin/env bash
# One command: KoalaPic.Build vs sharp (and eleventy-img) on the same job, and KoalaPic's no-op rebuild cost. Needs the .NET SDK and
# Node.js; installs sharp into bench/node_modules (nothing global). GNU time (Debian: apt-get install time) adds peak RSS.
#   bash bench/run.sh                 # 3 repetitions (a few minutes on 2 cores)
#   bash bench/run.sh --reps 7        # more repetitions
#   bash bench/run.sh --only webp,noop --images 1000 --work /tmp/koalapic-bench
#   bash bench/run.sh --only quality  # bytes and perceptual distance per format at the default Quality (docs/performance.md)
#   bash bench/run.sh --only remote --reps 1 --remote-size 256x192   # the remote cache row (h): needs nginx
#   bash bench/run.sh --only effort --efforts avif=0-6,webp=0-6      # bytes and CPU per encoder effort (i): slow, no package
#   bash bench/run.sh --only decodeonce,encodecost,tail,batch --reps 5  # the engine alone (j): decode once per source, EncodeCost, AVIF threads, batch RSS
#   bash bench/run.sh --only responsive --reps 3   # row (k): the responsive job against eleventy-img 7 (installs it too)
#   bash bench/run.sh --only responsive-split      # where KoalaPic's time goes on that job: per format, MSBuild targets
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
command -v dotnet >/dev/null || { echo "bench: the .NET SDK (dotnet) is not on PATH" >&2; exit 1; }
command -v node >/dev/null || { echo "bench: Node.js (node, npm) is not on PATH" >&2; exit 1; }
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error >&2)
exec node "$here/bench.mjs" "$@"
