// KoalaPic.Build against sharp on the same job, and KoalaPic's cost in no-op rebuilds. Run through bench/run.sh.
// Every timing is repeated (--reps) and reported as min / median / max; nothing here asserts a time.
//
//   (a) KoalaPic: a real project (PackageReference to the freshly packed KoalaPic.Build, isolated NuGet folder) with
//       KoalaImage items over the corpus, built from cold (its obj/…/koalapic folder and cache deleted), minus a
//       no-op build of an identical project with KoalaPicEnabled=false: KoalaPic's own time.
//   (b) sharp on the same files and settings; ratio = sharp time / KoalaPic time (> 1 means KoalaPic is faster).
//   (c) the same for avif, effort and chroma matched.
//   (d) no-op rebuild of 1,000 small unchanged images vs the same project without KoalaImage items: at least 5 pairs,
//       interleaved (without, with), and the time of KoalaPic's own targets and tasks in one more no-op build
//       (MSBuild's PerformanceSummary), which the load of the machine disturbs far less.
//   (e) peak RSS of the converting build and of sharp (GNU time's %M, and node's own maxRSS).
//   (f) nupkg size and the first restore of a consumer project (empty NuGet folder) with and without the package.
//   (g) one visual Quality: the corpus built once at the default Quality to jpg, webp and avif; per format the median
//       bytes and the median SSIMULACRA distance from the resized source (bench/quality-calibration's score mode), over
//       all files, the opaque ones (what JPEG can represent) and the photos, and how many files are smaller than their jpg.
//   (h) the remote cache (KoalaPicRemoteCache) on a local nginx (WebDAV PUT): a fresh clone with an empty local cache
//       converting 200 AVIF outputs and pushing them (cold), then a second fresh clone, empty local cache, warm remote.
//   (i) encoder effort (only with --only effort: tens of minutes): bench/effort, per AVIF and WebP effort, the bytes at
//       SmartQuality's medium SSIMULACRA distance and the CPU time per encode, relative to the default effort, at
//       widths 960 and 1920 (--efforts avif=0-6,webp=0-6 limits the efforts; the slowest AVIF efforts take minutes
//       per encode on a loaded machine).
//   (j) the engine alone, in one process (bench/decode-once), each printing its own table: decodeonce (one decode per
//       source against one per output, on JPEG, PNG and TIFF sources, CPU time user+sys and wall), encodecost (each
//       format's encoder CPU time per pixel relative to JPEG: FormatDescriptor.EncodeCost), sharequality (outputs
//       from shared decodes against those made alone: mean SSIMULACRA distance per format and width, identical
//       bytes), tail (one AVIF encode
//       with 1 libvips thread and with one per core), batch (a whole ImageBatch with the outputs of each file sharing
//       one decode, against each output's source a copy of its own: CPU, wall, peak RSS). Not in the default set;
//       select them with --only.
//   (k) responsive: 12 corpus images at widths 480/960/1920 as avif, webp and jpg, KoalaPic (cold build − the same
//       project without KoalaImage items) against eleventy-img 7 (the whole node process), interleaved; the same files
//       on both sides, bytes and SSIMULACRA distance per format (bench/quality-calibration's compare mode),
//       KoalaPic's Quality per format chosen so its distance is no worse. --only responsive-split: where KoalaPic's
//       time goes on that job (one cold build per format, and MSBuild's PerformanceSummary of a cold build).
import { spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, homedir, loadavg } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';

const benchDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(benchDir, '..');
const args = parseArgs(process.argv.slice(2));
const reps = Number(args.reps ?? 3);
const work = resolve(args.work ?? join(process.env.TMPDIR ?? '/tmp', 'koalapic-bench'));
const corpus = resolve(args.corpus ?? join(repoRoot, '..', 'shared', 'corpus', 'fixtures'));
const noopCount = Number(args.images ?? 1000);
const only = new Set((args.only ?? 'webp,avif,noop,restore,quality,remote,responsive').split(','));
const remoteCount = Number(args['remote-images'] ?? 200);
const [remoteWidth, remoteHeight] = (args['remote-size'] ?? '640x480').split('x');
const version = /<KoalaPicVersion[^>]*>([^<]+)<\/KoalaPicVersion>/.exec(readFileSync(join(repoRoot, 'Version.props'), 'utf8'))[1];
const gnuTime = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
const feed = join(work, 'feed');
const packages = join(work, 'nuget-packages');
const env = {
  ...process.env,
  NUGET_PACKAGES: packages,
  DOTNET_CLI_TELEMETRY_OPTOUT: '1',
  DOTNET_NOLOGO: '1',
  DOTNET_CLI_USE_MSBUILD_SERVER: '0',
  MSBUILDDISABLENODEREUSE: '1',
};

// Real photos and graphics, as sharp's own tests use them. Left out: the two deliberately broken files, and
// animations (KoalaPic keeps every frame of an animated webp where sharp without { animated: true } takes one).
const skipped = new Set(['corrupt-header.jpg', 'truncated.jpg', 'animated-loop-3.webp']);
const images = readdirSync(corpus).filter((f) => /\.(jpe?g|png|webp)$/i.test(f) && !skipped.has(f)).sort();
const rows = [];
const notes = [];
const tables = [];
const engineRows = ['decodeonce', 'sharequality', 'encodecost', 'tail', 'batch'];


function main() {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  log(`work folder ${work}; ${images.length} images from ${corpus}; ${reps} repetitions; load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  if ([...only].some((row) => row !== 'effort' && !engineRows.includes(row))) {
    pack();
  }

  for (const row of engineRows.filter((r) => only.has(r))) {
    engine(row);
  }

  if (only.has('webp')) {
    compare('webp', 80);
  }

  if (only.has('avif')) {
    compare('avif', 50);
  }

  if (only.has('noop')) {
    noop();
  }

  if (only.has('restore')) {
    restore();
  }

  if (only.has('quality')) {
    quality();
  }
  if (only.has('remote')) {
    remote();
  }

  if (only.has('effort')) {
    effort();
  }

  if (only.has('responsive')) {
    responsive();
  }

  if (only.has('responsive-split')) {
    responsiveSplit();
  }

  printTable();
}

function pack() {
  log('packing KoalaPic.Build');
  const tasks = join(repoRoot, 'src', 'KoalaPic.Build.Tasks', 'KoalaPic.Build.Tasks.csproj');
  // The pack target publishes koalapic (src/KoalaPic.Build.Cli) through an MSBuild call, which does not restore it.
  run('dotnet', ['restore', join(repoRoot, 'src', 'KoalaPic.Build.Cli', 'KoalaPic.Build.Cli.csproj'), '-nodeReuse:false', '-v:q'], repoRoot, { ...env, NUGET_PACKAGES: undefined });
  run('dotnet', ['pack', tasks, '-c', 'Release', '-o', feed, '-nodeReuse:false', '-v:q'], repoRoot, { ...env, NUGET_PACKAGES: undefined });
  seedNatives();
  const nupkg = join(feed, `KoalaPic.Build.${version}.nupkg`);
  rows.push({ group: 'f', what: 'nupkg size', value: `${mib(statSync(nupkg).size)} MiB (${basename(nupkg)})` });
  // The package carries no natives: a project's first build fetches this machine's libvips from its package sources.
  // This machine's NuGet folder, which restoring this checkout filled, serves them (a hierarchical local feed).
  const machinePackages = /global-packages: (.*)/.exec(spawnSync('dotnet', ['nuget', 'locals', 'global-packages', '-l'], { encoding: 'utf8' }).stdout)[1].trim();
  writeFileSync(join(work, 'nuget.config'), `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="koalapic-bench" value="${feed}" />
    <add key="this-machine" value="${machinePackages}" />
  </packageSources>
</configuration>
`);
}

/**
 * KoalaPic.Build carries no natives: a project's first build downloads this machine's libvips from the project's
 * package sources, and the bench projects' only source is the feed. So this machine's NetVips.Native package is put in
 * the feed, fetched (or found) in the user's NuGet folder with the package's own KoalaPic.Build.Natives.proj, as
 * tests/KoalaPic.Build.IntegrationTests/PackageFixture.cs does. Magick.NET is not needed: no bench item uses it.
 */
function seedNatives() {
  const versions = readFileSync(join(repoRoot, 'build', 'KoalaPic.Build.Versions.props'), 'utf8');
  const vips = /<_KoalaPicNetVipsNativeVersion>([^<]+)</.exec(versions)[1];
  const rid = `${{ linux: 'linux', darwin: 'osx', win32: 'win' }[process.platform]}-${process.arch}`;
  const id = `NetVips.Native.${rid}`;
  const obj = join(work, 'natives-obj') + '/';
  run('dotnet', ['restore', join(repoRoot, 'build', 'KoalaPic.Build.Natives.proj'), `-p:KoalaPicLibvipsPackage=${id}`,
    `-p:KoalaPicLibvipsVersion=${vips}`, `-p:BaseIntermediateOutputPath=${obj}`, `-p:MSBuildProjectExtensionsPath=${obj}`, '-nodeReuse:false', '-v:q'],
  repoRoot, { ...env, NUGET_PACKAGES: undefined });
  const userPackages = process.env.NUGET_PACKAGES || join(homedir(), '.nuget', 'packages');
  const name = `${id.toLowerCase()}.${vips}.nupkg`;
  cpSync(join(userPackages, id.toLowerCase(), vips, name), join(feed, name));
}

/** A console project beside the shared nuget.config; items is the KoalaImage XML (empty: none). */
function writeProject(dir, items, properties = '') {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Bench.csproj'), `<Project Sdk="Microsoft.NET.Sdk">
  <PropertyGroup>
    <OutputType>Exe</OutputType>
    <TargetFramework>net${dotnetMajor()}.0</TargetFramework>
    <ImplicitUsings>enable</ImplicitUsings>
    ${properties}
  </PropertyGroup>
  <ItemGroup>
    <PackageReference Include="KoalaPic.Build" Version="${version}" PrivateAssets="all" />
  </ItemGroup>
  <ItemGroup>
    ${items}
  </ItemGroup>
</Project>
`);
  writeFileSync(join(dir, 'Program.cs'), 'Console.WriteLine("bench");\n');
}

function build(dir, extra = []) {
  return timed('dotnet', ['build', '-c', 'Release', '--no-restore', '-nodeReuse:false', '-v:q', '-nologo', '-clp:NoSummary', ...extra], dir, env);
}

function compare(format, quality) {
  const on = join(work, `${format}-on`);
  const off = join(work, `${format}-off`);
  const items = `<KoalaImage Include="img/*" Format="${format}" Quality="${quality}" Width="1200" />`;
  for (const dir of [on, off]) {
    writeProject(dir, items, dir === off ? '<KoalaPicEnabled>false</KoalaPicEnabled>' : '');
    mkdirSync(join(dir, 'img'), { recursive: true });
    for (const image of images) {
      cpSync(join(corpus, image), join(dir, 'img', image));
    }

    run('dotnet', ['restore', '-nodeReuse:false'], dir, env);
    build(dir); // compiles the app once; every timed build below only converts (or does nothing)
  }

  const list = join(work, `${format}-files.txt`);
  writeFileSync(list, images.map((image) => join(on, 'img', image)).join('\n') + '\n');
  const koala = [];
  const koalaCpu = [];
  const sharpCpu = [];
  const koalaRss = [];
  const baseline = [];
  const sharpProcess = [];
  const sharpInside = [];
  const sharpRss = [];
  let koalaBytes = 0;
  let sharpBytes = 0;
  let sharpInfo = null;
  for (let i = 0; i < reps; i++) {
    log(`${format}: repetition ${i + 1}/${reps}`);
    const koalaDir = join(on, 'obj', 'Release', `net${dotnetMajor()}.0`, 'koalapic');
    rmSync(koalaDir, { recursive: true, force: true }); // outputs, state.json and the default cache (obj/koalapic/cache)
    rmSync(join(on, 'obj', 'koalapic'), { recursive: true, force: true });
    const off1 = build(off);
    const cold = build(on);
    baseline.push(off1.ms);
    koala.push(cold.ms - off1.ms);
    koalaCpu.push(cold.cpuMs - off1.cpuMs);
    koalaRss.push(cold.maxRssKiB);
    koalaBytes = outputBytes(join(koalaDir, 'out'));
    const outDir = join(work, `${format}-sharp-out`);
    rmSync(outDir, { recursive: true, force: true });
    const s = timed('node', [join(benchDir, 'sharp-convert.mjs'), list, format, String(quality), '1200', outDir], benchDir, process.env);
    sharpInfo = JSON.parse(s.stdout.trim().split('\n').pop());
    sharpProcess.push(s.ms);
    sharpInside.push(sharpInfo.ms);
    sharpCpu.push(s.cpuMs);
    sharpRss.push(s.maxRssKiB ?? sharpInfo.maxRssKiB);
    sharpBytes = sharpInfo.bytes;
  }

  const group = format === 'webp' ? 'a/b' : 'c';
  const settings = format === 'webp'
    ? `q${quality}, width 1200, effort 4 both`
    : `q${quality}, width 1200, AV1 effort 4, 4:2:0 both (sharp: chromaSubsampling '4:2:0' set; its default is 4:4:4)`;
  rows.push({ group, what: `${format} ${settings}: ${images.length} files` });
  rows.push({ group, what: '  KoalaPic: cold build − KoalaPicEnabled=false build', stats: koala, unit: 's' });
  rows.push({ group, what: '    (the KoalaPicEnabled=false no-op build itself)', stats: baseline, unit: 's' });
  rows.push({ group, what: '  sharp: node process, start to exit', stats: sharpProcess, unit: 's' });
  rows.push({ group, what: '  sharp: inside the script, after require', stats: sharpInside, unit: 's' });
  rows.push({ group, what: '  ratio sharp process / KoalaPic (> 1: KoalaPic faster)', stats: ratios(sharpProcess, koala), unit: 'x' });
  rows.push({ group, what: '  ratio sharp in-script / KoalaPic', stats: ratios(sharpInside, koala), unit: 'x' });
  if (gnuTime) {
    rows.push({ group, what: '  CPU time (user+sys): KoalaPic build − baseline build', stats: koalaCpu, unit: 's' });
    rows.push({ group, what: '  CPU time (user+sys): sharp node process', stats: sharpCpu, unit: 's' });
    rows.push({ group, what: '  CPU ratio sharp / KoalaPic (> 1: KoalaPic uses less)', stats: ratios(sharpCpu, koalaCpu), unit: 'x' });
  }

  rows.push({ group, what: `  output bytes: KoalaPic ${kib(koalaBytes)} KiB, sharp ${kib(sharpBytes)} KiB (KoalaPic/sharp ${(koalaBytes / sharpBytes).toFixed(3)})` });
  rows.push({ group: 'e', what: `  peak RSS, converting build (${format})`, stats: koalaRss, unit: 'MiB' });
  rows.push({ group: 'e', what: `  peak RSS, sharp (${format})`, stats: sharpRss, unit: 'MiB' });
  notes.push(`sharp ${sharpInfo.sharp} with libvips ${sharpInfo.vips}, libvips concurrency ${sharpInfo.concurrency}, UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '4 (default)'}`);
}

function noop() {
  const source = join(work, 'noop-images');
  log(`no-op: generating ${noopCount} images`);
  run('node', [join(benchDir, 'make-images.mjs'), source, String(noopCount)], benchDir, process.env);
  const on = join(work, 'noop-on');
  const off = join(work, 'noop-off');
  // What any build that ships 1,000 files to bin/ pays the SDK (its copy lists, up-to-date checks, FileWrites):
  // the floor under an image pipeline that puts its outputs there.
  const copy = join(work, 'noop-copy');
  writeProject(on, '<KoalaImage Include="img/*" Format="webp" Quality="80" Width="1200" />');
  writeProject(off, '<None Include="img/*" />');
  writeProject(copy, '<None Include="img/*" CopyToOutputDirectory="PreserveNewest" />');
  for (const dir of [on, off, copy]) {
    cpSync(source, join(dir, 'img'), { recursive: true });
    run('dotnet', ['restore', '-nodeReuse:false'], dir, env);
  }

  log('no-op: first builds');
  const first = build(on);
  build(off);
  build(copy);
  const withItems = [];
  const without = [];
  const withCpu = [];
  const withoutCpu = [];
  const copying = [];
  const copyingCpu = [];
  const loads = [];
  const pairs = Math.max(reps, 5);
  for (let i = 0; i < pairs; i++) {
    log(`no-op: repetition ${i + 1}/${pairs}`);
    loads.push(loadavg()[0]);
    const plain = build(off);
    const koala = build(on);
    const copied = build(copy);
    copying.push(copied.ms);
    copyingCpu.push(copied.cpuMs);
    without.push(plain.ms);
    withItems.push(koala.ms);
    withoutCpu.push(plain.cpuMs);
    withCpu.push(koala.cpuMs);
  }

  // Where KoalaPic's part of a no-op build goes: its targets and tasks, as MSBuild timed them.
  const summary = build(on, ['-clp:PerformanceSummary']).stdout.split('\n');
  const own = summary.map((l) => /^\s*(\d+) ms\s+(\S*KoalaPic\S*|ConvertKoalaImages|CheckKoalaPicCopies)\s+(\d+) calls/.exec(l)).filter(Boolean);
  notes.push(`no-op build, KoalaPic's targets and tasks (-clp:PerformanceSummary): ${own.map((m) => `${m[2]} ${m[1]} ms`).join(', ') || '(none found)'}`);

  rows.push({ group: 'd', what: `no-op rebuild, ${noopCount} unchanged images, ${pairs} interleaved pairs (first build converting them: ${(first.ms / 1000).toFixed(2)} s)` });
  rows.push({ group: 'd', what: '  with KoalaImage items', stats: withItems, unit: 's' });
  rows.push({ group: 'd', what: '  same project without KoalaImage items', stats: without, unit: 's' });
  rows.push({ group: 'd', what: '  KoalaPic overhead (pairwise difference)', stats: withItems.map((w, i) => w - without[i]), unit: 's' });
  rows.push({ group: 'd', what: '  same project copying its 1,000 images to bin/ (None, CopyToOutputDirectory)', stats: copying, unit: 's' });
  rows.push({ group: 'd', what: '  KoalaPic overhead over that copying project (pairwise difference)', stats: withItems.map((w, i) => w - copying[i]), unit: 's' });
  // CPU time (user + sys of dotnet build and its MSBuild node, GNU time): less disturbed by the other load than wall time.
  if (gnuTime) {
    rows.push({ group: 'd', what: '  CPU: with KoalaImage items', stats: withCpu, unit: 's' });
    rows.push({ group: 'd', what: '  CPU: same project without KoalaImage items', stats: withoutCpu, unit: 's' });
    rows.push({ group: 'd', what: '  CPU: KoalaPic overhead (pairwise difference)', stats: withCpu.map((w, i) => w - withoutCpu[i]), unit: 's' });
    rows.push({ group: 'd', what: '  CPU: KoalaPic overhead over the copying project (pairwise difference)', stats: withCpu.map((w, i) => w - copyingCpu[i]), unit: 's' });
  }

  notes.push(`no-op pairs: 1-minute load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`);
}

function restore() {
  const consumer = join(work, 'consumer');
  const plain = join(work, 'consumer-plain');
  writeProject(consumer, '');
  writeProject(plain, '');
  writeFileSync(join(plain, 'Bench.csproj'), readFileSync(join(plain, 'Bench.csproj'), 'utf8').replace(/<PackageReference[^>]*\/>/, ''));
  const first = [];
  const firstPlain = [];
  for (let i = 0; i < reps; i++) {
    for (const [dir, into] of [[plain, firstPlain], [consumer, first]]) {
      const empty = join(work, `restore-packages-${i}-${basename(dir)}`);
      rmSync(join(dir, 'obj'), { recursive: true, force: true });
      into.push(timed('dotnet', ['restore', '-nodeReuse:false'], dir, { ...env, NUGET_PACKAGES: empty }).ms);
      rmSync(empty, { recursive: true, force: true });
    }
  }

  rows.push({ group: 'f', what: 'first restore, empty NuGet folder, consumer project with KoalaPic.Build', stats: first, unit: 's' });
  rows.push({ group: 'f', what: 'first restore, same project without the package', stats: firstPlain, unit: 's' });
}

/** (g): bytes and perceptual distance per format at the default Quality; no timing, so one build is enough. */
function quality() {
  const dir = join(work, 'quality');
  const formats = ['jpg', 'webp', 'avif'];
  writeProject(dir, `<KoalaImage Include="img/*" Format="${formats.join(';')}" Width="1200" />`);
  mkdirSync(join(dir, 'img'), { recursive: true });
  for (const image of images) {
    cpSync(join(corpus, image), join(dir, 'img', image));
  }

  log('quality: building the corpus at the default Quality as jpg, webp and avif');
  run('dotnet', ['restore', '-nodeReuse:false'], dir, env);
  build(dir);
  const calibration = join(benchDir, 'quality-calibration');
  run('dotnet', ['build', calibration, '-c', 'Release', '-nodeReuse:false', '-v:q'], repoRoot, { ...env, NUGET_PACKAGES: undefined });
  log('quality: scoring the outputs');
  const scored = timed('dotnet', [join(calibration, 'bin', 'Release', `net${dotnetMajor()}.0`, 'QualityCalibration.dll'), 'score',
    '--corpus', join(dir, 'img'), '--outputs', join(dir, 'bin', 'Release', `net${dotnetMajor()}.0`, 'img')], repoRoot, env);
  const summary = JSON.parse(scored.stdout.trim().split('\n').pop());
  const photos = summary.photos.filter((p) => images.includes(p));
  rows.push({ group: 'g', what: `**one visual Quality**: default Quality (85), width 1200, ${images.length} files to ${formats.join(', ')}; median bytes and median SSIMULACRA distance (lower = closer to the source); no times, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}` });
  // Three sets: every file; the photos; the opaque sources, the ones JPEG can represent (a transparent source's webp and
  // avif keep its alpha channel, which its jpg flattens away, so they are not the same picture).
  const sets = [['all', 'all files'], ['opaque', 'opaque files'], ['photos', 'photos']];
  const kib1 = (bytes) => (bytes / 1024).toFixed(1); // one decimal: the medians of jpg and webp can be 1 KiB apart
  for (const format of formats) {
    const against = (set) => (format === 'jpg' ? ''
      : `, each file against its jpg: median ${(100 * set.medianRatioToJpg).toFixed(0)} %, smaller than jpg in ${set.smallerThanJpg} of ${set.comparedWithJpg} files`);
    const parts = sets.map(([key, name]) => {
      const set = summary.formats[format][key];
      return `${key === 'all' ? '' : 'the '}${set.count} ${name} ${kib1(set.medianBytes)} KiB, distance ${set.medianDistance.toFixed(4)}${against(set)}`;
    });
    rows.push({ group: 'g', what: `  ${format}: ${parts.join('; ')}` });
  }

  for (const [key, name] of sets) {
    const jpg = summary.formats.jpg[key].medianBytes;
    const below = formats.filter((f) => f !== 'jpg' && summary.formats[f][key].medianBytes < jpg);
    rows.push({ group: 'g', what: `  ${name}: median bytes below jpg's (${kib1(jpg)} KiB): ${below.length ? below.join(', ') : 'none'}` });
  }

  notes.push(`(g) photos: ${photos.join(', ')}; transparent sources (left out of the opaque set): ${summary.transparent.join(', ')}; the distance compares each output, flattened onto white, with the source resized the same way`);
}

/**
 * (i) bench/effort: the engine's own encoders and SmartQuality's metric, in one process, one encode at a time. Its
 * table (medians over the images) goes under the main table; each measurement is kept in effort.jsonl in the work
 * folder, from which `EffortBench.dll --report FILE` prints the table again.
 */
function effort() {
  const project = join(benchDir, 'effort');
  run('dotnet', ['build', project, '-c', 'Release', '-nodeReuse:false', '-v:q'], repoRoot, { ...env, NUGET_PACKAGES: undefined });
  const jsonl = join(work, 'effort.jsonl');
  log('effort: every AVIF and WebP effort at one SSIMULACRA distance (slow)');
  const load = loadavg().map((l) => l.toFixed(2)).join(' ');
  const measured = timed('dotnet', [join(project, 'bin', 'Release', `net${dotnetMajor()}.0`, 'EffortBench.dll'),
    '--corpus', corpus, '--jsonl', jsonl, ...(args.efforts ? ['--efforts', args.efforts] : [])], repoRoot, env);
  rows.push({ group: 'k', what: `**encoder effort**: table below (load average ${load} at the start, ${loadavg().map((l) => l.toFixed(2)).join(' ')} at the end; CPU is the bench process's own user+sys per encode)` });
  tables.push(measured.stdout.trim());
}

/** Row (j): bench/decode-once in one process; its markdown table is printed after the main one. */
function engine(mode) {
  const tool = join(benchDir, 'decode-once');
  run('dotnet', ['build', tool, '-c', 'Release', '-nodeReuse:false', '-v:q'], repoRoot, { ...env, NUGET_PACKAGES: undefined });
  log(`${mode}: bench/decode-once, ${reps} repetitions`);
  const dll = join(tool, 'bin', 'Release', `net${dotnetMajor()}.0`, 'DecodeOnceBench.dll');
  const command = `dotnet bench/decode-once/bin/Release/net${dotnetMajor()}.0/DecodeOnceBench.dll ${mode}`;
  if (mode === 'batch') {
    // One process per run (peak RSS only grows), the two layouts interleaved.
    const lines = [];
    for (let rep = 0; rep < reps; rep++) {
      for (const layout of rep % 2 ? ['copies', 'shared'] : ['shared', 'copies']) {
        lines.push(timed('dotnet', [dll, 'batch', '--layout', layout, '--corpus', corpus], repoRoot, env).stdout.split('\n').find((l) => l.startsWith('|')));
      }
    }

    tables.push(`(j) batch: ${command} --layout shared|copies, ${reps} pairs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}\n| layout | outputs | CPU (user+sys) | wall | peak RSS |\n|---|---|---|---|---|\n${lines.join('\n')}`);
    return;
  }

  const result = timed('dotnet', [dll, mode, '--reps', String(reps), '--corpus', corpus], repoRoot, env);
  tables.push(`(j) ${mode}: ${command} --reps ${reps}\n${result.stdout.trim()}`);
}

/** A WebDAV nginx on a free loopback port, run as the current user from a folder of its own (as the tests do). */
function startNginx(dir) {
  const nginx = ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/opt/homebrew/bin/nginx'].find((p) => existsSync(p))
    ?? spawnSync('sh', ['-c', 'command -v nginx'], { encoding: 'utf8' }).stdout.trim();
  if (!nginx) {
    throw new Error('the remote cache row needs nginx (Debian/Ubuntu: sudo apt-get install -y nginx; macOS: brew install nginx), or leave it out with --only');
  }

  mkdirSync(join(dir, 'data', 'cache'), { recursive: true });
  mkdirSync(join(dir, 'logs'), { recursive: true });
  const port = 20000 + Math.floor(Math.random() * 20000);
  const user = process.getuid?.() === 0 ? 'user root;' : '';
  writeFileSync(join(dir, 'nginx.conf'), `${user}
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  server {
    listen 127.0.0.1:${port};
    root ${dir}/data;
    client_max_body_size 64m;
    location /cache/ { dav_methods PUT; create_full_put_path on; }
  }
}
`);
  const child = spawn(nginx, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: 'ignore' });
  for (let i = 0; i < 100 && spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`], { shell: false }).status !== 0; i++) {
    spawnSync('sleep', ['0.1']);
  }

  return { child, url: (folder) => `http://127.0.0.1:${port}/cache/${folder}/` };
}

function remote() {
  const source = join(work, 'remote-images');
  log(`remote cache: generating ${remoteCount} images (${remoteWidth}x${remoteHeight})`);
  run('node', [join(benchDir, 'make-images.mjs'), source, String(remoteCount), remoteWidth, remoteHeight], benchDir, process.env);
  const server = startNginx(join(work, 'nginx'));
  const items = '<KoalaImage Include="img/*" Format="avif" Quality="50" />';
  const cold = [];
  const warm = [];
  const coldOwn = [];
  const warmOwn = [];
  let warmConverted = 0;
  try {
    for (let i = 0; i < reps; i++) {
      const url = server.url(`rep${i}`);
      for (const [name, into, own, push] of [['cold', cold, coldOwn, true], ['warm', warm, warmOwn, false]]) {
        // A fresh clone: its own folder, obj/ and local cache; the app compiled first (KoalaPicEnabled=false) so the
        // timed build is the one a CI job runs after restore, with the images to make or fetch.
        const dir = join(work, `remote-${name}-${i}`);
        writeProject(dir, items, `<KoalaPicRemoteCache>${url}</KoalaPicRemoteCache>${push ? '<KoalaPicRemoteCachePush>true</KoalaPicRemoteCachePush>' : ''}`);
        cpSync(source, join(dir, 'img'), { recursive: true });
        run('dotnet', ['restore', '-nodeReuse:false'], dir, env);
        build(dir, ['-p:KoalaPicEnabled=false']);
        log(`remote cache: repetition ${i + 1}/${reps}, ${name} build`);
        into.push(build(dir).ms);
        const report = JSON.parse(readFileSync(join(dir, 'obj', 'Release', `net${dotnetMajor()}.0`, 'koalapic', 'report.json'), 'utf8'));
        own.push(report.elapsed_ms);
        const converted = report.items.filter((item) => item.status === 'converted').length;
        const fromRemote = report.items.filter((item) => item.status === 'from_remote_cache').length;
        log(`remote cache: ${name}: ${converted} converted, ${fromRemote} from the remote cache`);
        if (name === 'warm') {
          warmConverted += converted;
          if (fromRemote !== remoteCount) {
            throw new Error(`remote cache: the warm build took ${fromRemote} of ${remoteCount} images from the remote cache`);
          }
        }
      }
    }
  } finally {
    server.child.kill();
  }

  rows.push({ group: 'h', what: `remote cache (nginx WebDAV on loopback), ${remoteCount} AVIF outputs (${remoteWidth}x${remoteHeight} noise), fresh clone, empty local cache; warm builds converted ${warmConverted} images` });
  rows.push({ group: 'h', what: '  cold: dotnet build converting and pushing', stats: cold, unit: 's' });
  rows.push({ group: 'h', what: '  warm: dotnet build with the remote cache filled', stats: warm, unit: 's' });
  rows.push({ group: 'h', what: '  ratio cold / warm, whole dotnet build', stats: ratios(cold, warm), unit: 'x' });
  rows.push({ group: 'h', what: '  cold: KoalaPic\'s own time (report.json elapsed_ms)', stats: coldOwn, unit: 's' });
  rows.push({ group: 'h', what: '  warm: KoalaPic\'s own time (report.json elapsed_ms)', stats: warmOwn, unit: 's' });
  rows.push({ group: 'h', what: '  ratio cold / warm, KoalaPic\'s own time', stats: ratios(coldOwn, warmOwn), unit: 'x' });
}

// (k) The responsive job. Twelve corpus images (their names are in docs/performance.md): photos and graphics, opaque and
// transparent, from 2725 px wide down to 246 px, chosen so that eleventy-img's rule for widths wider than the source
// (it writes the source's own width instead when the previous width is below 80 % of it) and KoalaPic's (it drops them,
// keeping the narrowest when none fits) give the same files.
const responsiveImages = [
  '2569067123_aca715a2ee_o.jpg', 'flowers.jpeg', 'sdr_cosmos12920_cicp1-13-6_yuv444_full_qp10.avif', 'alpha-layer-1-fill.png',
  '4.webp', 'gradients-rgb8.png', 'Landscape_1.jpg', 'Channel_digital_image_CMYK_color.jpg', 'concert.jpg',
  'uncompressed_tiff.tiff', 'with-alpha.png', '5_webp_a.webp',
];
const responsiveFormats = ['avif', 'webp', 'jpg'];
const responsiveWidths = '480;960;1920';

/**
 * KoalaPic's Quality per format: the lowest whose SSIMULACRA distance over the job is no worse than eleventy-img's
 * at avif q50, webp q80 and jpeg q80, on average and on at least half the files (Quality is the JPEG-look scale, Options/QualityScale.cs maps
 * it per encoder). Measured with this row (one step lower is worse for each: docs/performance.md);
 * --responsive-quality avif=N,webp=N,jpg=N tries others.
 */
function responsiveQualities() {
  const chosen = { avif: 61, webp: 84, jpg: 80 };
  for (const pair of (args['responsive-quality'] ?? '').split(',').filter(Boolean)) {
    const [format, q] = pair.split('=');
    if (!(format in chosen) || !/^\d+$/.test(q ?? '')) {
      throw new Error(`--responsive-quality wants avif=N,webp=N,jpg=N, got '${pair}'`);
    }

    chosen[format] = Number(q);
  }

  return chosen;
}

function responsiveProject(dir, formats, qualities) {
  const items = formats.map((f) => `<KoalaImage Include="img/*" Format="${f}" Quality="${qualities[f]}" Widths="${responsiveWidths}" />`).join('\n    ');
  writeProject(dir, items || '<None Include="img/*" />');
  mkdirSync(join(dir, 'img'), { recursive: true });
  for (const image of responsiveImages) {
    cpSync(join(corpus, image), join(dir, 'img', image));
  }

  run('dotnet', ['restore', '-nodeReuse:false'], dir, env);
  build(dir); // compiles the app (and converts once); the timed builds start from an empty job folder and cache
}

/** Deletes the job folder (outputs, state, report) and the default cache, so the next build converts everything. */
function coldStart(dir) {
  rmSync(join(dir, 'obj', 'Release', `net${dotnetMajor()}.0`, 'koalapic'), { recursive: true, force: true });
  rmSync(join(dir, 'obj', 'koalapic'), { recursive: true, force: true });
  rmSync(join(dir, 'bin', 'Release', `net${dotnetMajor()}.0`, 'img'), { recursive: true, force: true });
}

function responsive() {
  const qualities = responsiveQualities();
  const on = join(work, 'responsive-on');
  const off = join(work, 'responsive-off');
  log('responsive: preparing the KoalaPic project and its baseline (no KoalaImage items)');
  responsiveProject(on, responsiveFormats, qualities);
  responsiveProject(off, [], qualities);
  const list = join(work, 'responsive-files.txt');
  writeFileSync(list, responsiveImages.map((image) => join(on, 'img', image)).join('\n') + '\n');
  const eleventyOut = join(work, 'responsive-eleventy-out');
  const koalaOut = join(on, 'bin', 'Release', `net${dotnetMajor()}.0`, 'img');
  const t = { koala: [], koalaCpu: [], koalaOwn: [], baseline: [], eleventy: [], eleventyCpu: [], eleventyInside: [], load: [] };
  let info = null;
  for (let i = 0; i < reps; i++) {
    const koalaPic = () => {
      log(`responsive: repetition ${i + 1}/${reps}, KoalaPic`);
      coldStart(on);
      const base = build(off);
      const cold = build(on);
      t.baseline.push(base.ms);
      t.koala.push(cold.ms - base.ms);
      t.koalaCpu.push(cold.cpuMs - base.cpuMs);
      t.koalaOwn.push(JSON.parse(readFileSync(join(on, 'obj', 'Release', `net${dotnetMajor()}.0`, 'koalapic', 'report.json'), 'utf8')).elapsed_ms);
    };
    const eleventy = () => {
      log(`responsive: repetition ${i + 1}/${reps}, eleventy-img`);
      rmSync(eleventyOut, { recursive: true, force: true });
      const e = timed('node', [join(benchDir, 'eleventy-convert.mjs'), list, eleventyOut], benchDir, process.env);
      info = JSON.parse(e.stdout.trim().split('\n').pop());
      t.eleventy.push(e.ms);
      t.eleventyCpu.push(e.cpuMs);
      t.eleventyInside.push(info.ms);
    };
    // Interleaved, and the order alternates so neither side always runs on the other's heels.
    for (const side of i % 2 === 0 ? [koalaPic, eleventy] : [eleventy, koalaPic]) {
      side();
    }

    t.load.push(loadavg()[0]);
  }

  if (info.nestedSharp || info.sharp !== '0.35.5') {
    throw new Error(`responsive: eleventy-img ran on sharp ${info.sharp}${info.nestedSharp ? ' (a copy nested under @11ty/eleventy-img)' : ''}, not bench/package.json's 0.35.5`);
  }

  log('responsive: scoring both tools\' outputs against the resized sources');
  const calibration = join(benchDir, 'quality-calibration');
  run('dotnet', ['build', calibration, '-c', 'Release', '-nodeReuse:false', '-v:q'], repoRoot, { ...env, NUGET_PACKAGES: undefined });
  const scored = timed('dotnet', [join(calibration, 'bin', 'Release', `net${dotnetMajor()}.0`, 'QualityCalibration.dll'), 'compare',
    '--corpus', join(on, 'img'), '--tool', `KoalaPic=${koalaOut}`, '--tool', `eleventy-img=${eleventyOut}`], repoRoot, env);
  const outputs = JSON.parse(scored.stdout.trim().split('\n').pop()).outputs;
  writeFileSync(join(work, 'responsive-scores.json'), JSON.stringify(outputs, null, 1));
  const files = (tool) => outputs.filter((o) => o.Tool === tool).map((o) => `${o.Stem} ${o.Format} ${o.Width}x${o.Height}`).sort();
  const [koalaFiles, eleventyFiles] = [files('KoalaPic'), files('eleventy-img')];
  const onlyOne = [...koalaFiles.filter((f) => !eleventyFiles.includes(f)).map((f) => `KoalaPic only: ${f}`),
    ...eleventyFiles.filter((f) => !koalaFiles.includes(f)).map((f) => `eleventy-img only: ${f}`)];
  const unscored = outputs.filter((o) => o.Distance == null).map((o) => `${o.Tool} ${o.Stem} ${o.Format} ${o.Width}: ${o.Problem}`);

  rows.push({ group: 'k', what: `**responsive**: ${responsiveImages.length} images × widths ${responsiveWidths.replaceAll(';', '/')} × avif, webp, jpg; files written: KoalaPic ${koalaFiles.length}, eleventy-img ${eleventyFiles.length} (${onlyOne.length === 0 ? 'the same names, formats and sizes' : 'DIFFERENT: ' + onlyOne.join('; ')})` });
  rows.push({ group: 'k', what: '  KoalaPic: cold build − build without KoalaImage items (wall)', stats: t.koala, unit: 's' });
  rows.push({ group: 'k', what: '    (the build without KoalaImage items itself, wall)', stats: t.baseline, unit: 's' });
  rows.push({ group: 'k', what: '    (KoalaPic\'s own job, report.json elapsed_ms, wall)', stats: t.koalaOwn, unit: 's' });
  rows.push({ group: 'k', what: '  eleventy-img: node process, start to exit (wall)', stats: t.eleventy, unit: 's' });
  rows.push({ group: 'k', what: '    (eleventy-img: inside the script, after the imports, wall)', stats: t.eleventyInside, unit: 's' });
  rows.push({ group: 'k', what: '  **ratio eleventy-img / KoalaPic, wall** (> 1: KoalaPic faster)', stats: ratios(t.eleventy, t.koala), unit: 'x' });
  if (gnuTime) {
    rows.push({ group: 'k', what: '  CPU (user+sys): KoalaPic build − build without items', stats: t.koalaCpu, unit: 's' });
    rows.push({ group: 'k', what: '  CPU (user+sys): eleventy-img node process', stats: t.eleventyCpu, unit: 's' });
    rows.push({ group: 'k', what: '  **ratio eleventy-img / KoalaPic, CPU**', stats: ratios(t.eleventyCpu, t.koalaCpu), unit: 'x' });
  }

  rows.push({ group: 'k', what: '  load average (1 min) after each repetition', stats: t.load, unit: '' });
  for (const format of responsiveFormats) {
    const of = (tool) => outputs.filter((o) => o.Tool === tool && o.Format === format);
    const [k, e] = [of('KoalaPic'), of('eleventy-img')];
    const sum = (list) => list.reduce((a, o) => a + o.Bytes, 0);
    const mean = (list) => list.reduce((a, o) => a + o.Distance, 0) / list.length;
    const noWorse = k.filter((o) => { const twin = e.find((x) => x.Stem === o.Stem && x.Width === o.Width); return twin && o.Distance <= twin.Distance; }).length;
    // No worse on average AND on at least half the files: the mean alone can be bought by one file where the other tool
    // goes wrong (eleventy-img converts a CMYK JPEG with a generic CMYK profile instead of its embedded one).
    const fair = mean(k) <= mean(e) && 2 * noWorse >= k.length;
    const eleventySetting = { avif: 'q50 effort 4 4:2:0', webp: 'q80', jpg: 'q80' }[format];
    rows.push({ group: 'k', what: `  ${format}: bytes KoalaPic ${kib(sum(k))} KiB (Quality ${qualities[format]}), eleventy-img ${kib(sum(e))} KiB (${eleventySetting}): KoalaPic/eleventy-img ${(sum(k) / sum(e)).toFixed(3)}; mean distance ${mean(k).toFixed(4)} vs ${mean(e).toFixed(4)}, median ${median(k.map((o) => o.Distance)).toFixed(4)} vs ${median(e.map((o) => o.Distance)).toFixed(4)}, KoalaPic no worse on ${noWorse} of ${k.length} files: ${fair ? 'KoalaPic no worse' : 'KoalaPic WORSE'}; ${k.length} / ${e.length} files` });
  }

  if (unscored.length > 0) {
    notes.push(`(k) not scored: ${unscored.join('; ')}`);
  }

  notes.push(`(k) eleventy-img ${info.eleventyImg} on sharp ${info.sharp} (libvips ${info.vips}), its queue concurrency ${info.concurrency}; KoalaPic Quality avif ${qualities.avif}, webp ${qualities.webp}, jpg ${qualities.jpg}; per-file scores in ${join(work, 'responsive-scores.json')}`);
}

/**
 * Where KoalaPic's time goes on the responsive job (--only responsive-split): the targets and tasks of one cold build
 * of the whole job, then the job one format at a time, each cold build minus the build without KoalaImage items.
 */
function responsiveSplit() {
  const qualities = responsiveQualities();
  const on = join(work, 'responsive-on');
  const off = join(work, 'responsive-off');
  if (!existsSync(join(on, 'Bench.csproj'))) {
    responsiveProject(on, responsiveFormats, qualities);
    responsiveProject(off, [], qualities);
  }

  log('responsive split: a cold build of the whole job with -clp:PerformanceSummary');
  coldStart(on);
  const summary = build(on, ['-clp:PerformanceSummary']).stdout.split('\n');
  const own = summary.map((l) => /^\s*(\d+) ms\s+(\S*KoalaPic\S*|ConvertKoalaImages|Csc|ResolvePackageAssets)\s+(\d+) calls/.exec(l)).filter(Boolean);
  notes.push(`(k) a cold build of the whole job, its targets and tasks (-clp:PerformanceSummary): ${own.map((m) => `${m[2]} ${m[1]} ms`).join(', ') || '(none found)'}`);
  for (const format of responsiveFormats) {
    const dir = join(work, `responsive-${format}`);
    log(`responsive split: ${format} alone`);
    responsiveProject(dir, [format], qualities);
    const cpu = [];
    const wall = [];
    for (let i = 0; i < Number(args['split-reps'] ?? 1); i++) { // CPU time of one build is steady enough to split by
      coldStart(dir);
      const base = build(off);
      const cold = build(dir);
      cpu.push(cold.cpuMs - base.cpuMs);
      wall.push(cold.ms - base.ms);
    }

    rows.push({ group: 'k', what: `  split: ${format} alone (Quality ${qualities[format]}), CPU (user+sys): cold build − build without items`, stats: cpu, unit: 's' });
    rows.push({ group: 'k', what: `  split: ${format} alone, wall`, stats: wall, unit: 's' });
  }
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

function outputBytes(dir) {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) {
      total += statSync(join(entry.parentPath ?? entry.path, entry.name)).size;
    }
  }

  return total;
}

function timed(command, commandArgs, cwd, environment) {
  const memFile = join(work, 'time.out');
  const [cmd, argv] = gnuTime ? [gnuTime, ['-f', '%M %U %S', '-o', memFile, command, ...commandArgs]] : [command, commandArgs];
  const start = performance.now();
  const result = spawnSync(cmd, argv, { cwd, env: environment, encoding: 'utf8', maxBuffer: 64 << 20 });
  const ms = performance.now() - start;
  if (result.status !== 0) {
    throw new Error(`${command} ${commandArgs.join(' ')} (in ${cwd}) failed with ${result.status}:\n${result.stdout}\n${result.stderr}`);
  }

  const [rss, user, system] = gnuTime ? readFileSync(memFile, 'utf8').trim().split('\n').pop().split(' ').map(Number) : [null, NaN, NaN];
  return { ms, maxRssKiB: rss, cpuMs: (user + system) * 1000, stdout: result.stdout };
}

function run(command, commandArgs, cwd, environment) {
  return timed(command, commandArgs, cwd, environment);
}

let major;
function dotnetMajor() {
  major ??= spawnSync('dotnet', ['--version'], { encoding: 'utf8' }).stdout.trim().split('.')[0];
  return major;
}

function ratios(a, b) {
  return a.map((x, i) => x / b[i]);
}

function printTable() {
  const cpu = (cpus()[0]?.model ?? '?').trim();
  const sdk = spawnSync('dotnet', ['--version'], { encoding: 'utf8' }).stdout.trim();
  console.log('');
  console.log(`KoalaPic.Build ${version} bench — ${new Date().toISOString()} — ${cpus().length} cores, ${cpu} — .NET SDK ${sdk}, node ${process.version}`);
  console.log(`repetitions: ${reps}; load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; memory by ${gnuTime ? 'GNU time %M' : 'node maxRSS (GNU time missing)'}`);
  for (const note of notes.filter((n, i) => notes.indexOf(n) === i)) {
    console.log(note);
  }

  if (rows.length > 0) {
    printRows();
  }

  for (const table of tables) {
    console.log('');
    console.log(table);
  }
}

/** The main table: one line per row, min/median/max of its repetitions. */
function printRows() {
  console.log('');
  console.log('| | measurement | min | median | max |');
  console.log('|---|---|---|---|---|');
  for (const row of rows) {
    if (row.stats) {
      const [min, med, max] = summary(row.stats.map((v) => convert(v, row.unit)));
      console.log(`| ${row.group} | ${row.what} | ${min} | ${med} | ${max} ${row.unit} |`);
    } else {
      console.log(`| ${row.group} | ${row.what}${row.value ? ': ' + row.value : ''} | | | |`);
    }
  }
}

function convert(value, unit) {
  if (unit === 's') {
    return value / 1000;
  }

  if (unit === 'MiB') {
    return value / 1024;
  }

  return value;
}

function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2;
  const digits = Math.max(...sorted.map(Math.abs)) >= 100 ? 0 : 2;
  return [sorted[0], median, sorted[sorted.length - 1]].map((v) => v.toFixed(digits));
}

function mib(bytes) {
  return (bytes / 1048576).toFixed(1);
}

function kib(bytes) {
  return (bytes / 1024).toFixed(0);
}

function log(message) {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

function parseArgs(argv) {
  const parsed = {};
  for (let i = 0; i < argv.length; i++) {
    const match = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!match) {
      throw new Error(`unknown argument ${argv[i]}; use --reps=N --only=webp,avif,noop,restore,quality,remote,effort,decodeonce,sharequality,encodecost,tail,batch,responsive,responsive-split --efforts=avif=0-6,webp=0-6 --responsive-quality=avif=N,webp=N,jpg=N --split-reps=N --images=N --remote-images=N --remote-size=WxH --work=DIR --corpus=DIR`);
    }

    parsed[match[1]] = match[2] ?? argv[++i];
  }

  return parsed;
}

main();
