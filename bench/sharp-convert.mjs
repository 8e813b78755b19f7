// Converts a list of files with sharp the way its users write it: every file through Promise.all, rotate() to
// apply EXIF orientation, resize without enlargement, then the encoder. Prints one JSON line with the time spent
// inside this process (after sharp is loaded), the total output bytes and this process's peak RSS.
//   node sharp-convert.mjs <file-list> <webp|avif> <quality> <width> <out-dir>
import { readFileSync, mkdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';

const [listFile, format, quality, width, outDir] = process.argv.slice(2);
const files = readFileSync(listFile, 'utf8').split('\n').filter(Boolean);
mkdirSync(outDir, { recursive: true });

function encoder(pipeline) {
  const q = Number(quality);
  if (format === 'webp') {
    return pipeline.webp({ quality: q }); // effort 4 is sharp's and libvips' default
  }
  // sharp's avif defaults are effort 4 and chromaSubsampling '4:4:4'; KoalaPic uses libvips heifsave's
  // defaults (effort 4, subsample_mode auto = 4:2:0 below quality 90). Match them explicitly.
  return pipeline.avif({ quality: q, effort: 4, chromaSubsampling: '4:2:0' });
}

const cpuStart = process.cpuUsage();
const start = performance.now();
const infos = await Promise.all(files.map((file) =>
  encoder(sharp(file).rotate().resize({ width: Number(width), withoutEnlargement: true }))
    .toFile(join(outDir, basename(file).replace(/\.[^.]+$/, '') + '.' + format))));
const ms = performance.now() - start;
const cpu = process.cpuUsage(cpuStart);
const cpuMs = (cpu.user + cpu.system) / 1000;
const bytes = infos.reduce((sum, info) => sum + info.size, 0);
console.log(JSON.stringify({ ms, cpuMs, bytes, files: files.length, maxRssKiB: process.resourceUsage().maxRSS, concurrency: sharp.concurrency(), vips: sharp.versions.vips, sharp: sharp.versions.sharp }));
