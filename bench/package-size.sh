#!/usr/bin/env bash
# What KoalaPic.Build costs a user before any image is converted: the nupkg's size, its size unpacked in the NuGet
# folder, and a first restore (time, bytes downloaded, bytes unpacked) of a fresh console project with the package,
# against the same project without it. Each restore starts from an empty NuGet folder and an empty HTTP cache, with
# a local folder feed holding the package and nuget.org for everything else (the natives restore downloads).
#   bash bench/package-size.sh                # this tree
#   bash bench/package-size.sh --base main    # and a git ref packed the same way, for before/after
#   bash bench/package-size.sh --reps 5 --work /tmp/kp-size
# Needs the .NET SDK and network access to nuget.org. Prints a Markdown table.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
base="" reps=3 work="${TMPDIR:-/tmp}/koalapic-package-size"
while [ $# -gt 0 ]; do
  case "$1" in
    --base) base="$2"; shift 2 ;;
    --reps) reps="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    *) echo "usage: bash bench/package-size.sh [--base REF] [--reps N] [--work DIR]" >&2; exit 2 ;;
  esac
done
rm -rf "$work" && mkdir -p "$work"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

# pack SOURCE_DIR FEED: the package as users get it (Release), into FEED.
pack() {
  dotnet restore "$1/KoalaPic.Build.sln" -v q >&2
  dotnet pack "$1/src/KoalaPic.Build.Tasks" -c Release --no-restore -o "$2" -v q >&2
}

# restore_once FEED WITH(0|1) DIR [build]: a first restore (or, with "build", a first build that converts one image)
# of a new console project; prints "seconds downloaded unpacked".
restore_once() {
  local feed="$1" with="$2" dir="$3" verb="${4:-restore}"
  rm -rf "$dir" && mkdir -p "$dir/app"
  cat > "$dir/app/app.csproj" <<EOF
<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework></PropertyGroup>
  <ItemGroup Condition="'$with' == '1'">
    <PackageReference Include="KoalaPic.Build" Version="*-*" PrivateAssets="all" />
    <KoalaImage Include="photo.png" Format="webp" Condition="'$verb' == 'build'" />
  </ItemGroup>
</Project>
EOF
  echo 'System.Console.WriteLine("hi");' > "$dir/app/Program.cs"
  cp "$repo/testassets/Demo/img/16-bit-grey-alpha.png" "$dir/app/photo.png"
  cat > "$dir/app/nuget.config" <<EOF
<configuration>
  <packageSources>
    <clear />
    <add key="local" value="$feed" />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
  </packageSources>
</configuration>
EOF
  local start end
  start=$(date +%s.%N)
  NUGET_PACKAGES="$dir/packages" NUGET_HTTP_CACHE_PATH="$dir/http-cache" dotnet "$verb" "$dir/app" -v q -nodeReuse:false >&2
  end=$(date +%s.%N)
  local downloaded unpacked
  downloaded=$( (find "$dir/packages" -name '*.nupkg' -printf '%s\n' 2>/dev/null; echo 0) | awk '{s+=$1} END {print s}')
  unpacked=$( (du -sb "$dir/packages" 2>/dev/null || echo 0) | awk '{print $1}')
  echo "$(echo "$end - $start" | bc) $downloaded $unpacked"
}

# measure LABEL FEED: median restore time and sizes over $reps runs.
measure() {
  local label="$1" feed="$2" with="$3" verb="${4:-restore}" times=() line downloaded=0 unpacked=0
  for i in $(seq "$reps"); do
    line=$(restore_once "$feed" "$with" "$work/r-$label" "$verb")
    times+=("$(echo "$line" | cut -d' ' -f1)")
    downloaded=$(echo "$line" | cut -d' ' -f2)
    unpacked=$(echo "$line" | cut -d' ' -f3)
  done
  local median
  median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {printf "%.2f", a[int((NR+1)/2)]}')
  printf '%s %s %s\n' "$median" "$downloaded" "$unpacked"
}

mb() { awk -v b="$1" 'BEGIN {printf "%.1f MB", b/1000000}'; }
nupkg_row() {
  local label="$1" feed="$2" pkg
  pkg=$(ls "$feed"/KoalaPic.Build.*.nupkg)
  local packed unzipped
  packed=$(stat -c %s "$pkg")
  unzipped=$(unzip -l "$pkg" | tail -1 | awk '{print $1}')
  echo "| $label | $(mb "$packed") | $(mb "$unzipped") |"
}

mkdir -p "$work/feed-this"
pack "$repo" "$work/feed-this"
if [ -n "$base" ]; then
  mkdir -p "$work/src-base" "$work/feed-base"
  git -C "$repo" archive "$base" | tar -x -C "$work/src-base"
  pack "$work/src-base" "$work/feed-base"
fi

echo "| package | nupkg | unpacked |"
echo "|---|---:|---:|"
[ -n "$base" ] && nupkg_row "KoalaPic.Build ($base)" "$work/feed-base"
nupkg_row "KoalaPic.Build (this tree)" "$work/feed-this"
echo
echo "First restore of a new net10.0 console project, empty NuGet folder and HTTP cache, median of $reps ($(dotnet --version), $(uname -m)):"
echo
echo "| project | restore | downloaded | in the NuGet folder |"
echo "|---|---:|---:|---:|"
read -r t d u < <(measure without "$work/feed-this" 0)
echo "| without KoalaPic.Build | $t s | $(mb "$d") | $(mb "$u") |"
if [ -n "$base" ]; then
  read -r t d u < <(measure base "$work/feed-base" 1)
  echo "| with KoalaPic.Build ($base) | $t s | $(mb "$d") | $(mb "$u") |"
fi
read -r t d u < <(measure this "$work/feed-this" 1)
echo "| with KoalaPic.Build (this tree) | $t s | $(mb "$d") | $(mb "$u") |"
echo
echo "This tree's package has no natives: the first build that converts downloads libvips for the build machine."
echo "First build (restore included) of the same projects, the one with the package converting one PNG to WebP:"
echo
echo "| project | first build | downloaded | in the NuGet folder |"
echo "|---|---:|---:|---:|"
read -r t d u < <(measure without-build "$work/feed-this" 0 build)
echo "| without KoalaPic.Build | $t s | $(mb "$d") | $(mb "$u") |"
read -r t d u < <(measure this-build "$work/feed-this" 1 build)
echo "| with KoalaPic.Build (this tree), one image | $t s | $(mb "$d") | $(mb "$u") |"
