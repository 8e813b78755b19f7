// The responsive job with eleventy-img (@11ty/eleventy-img, on sharp) the way its users write it: one Image() call per
// source, all awaited together, widths 480/960/1920, formats avif, webp and jpeg; everything else at eleventy-img's
// defaults (its queue's concurrency, no upscaling), and a jpeg of a transparent source flattened onto white. Output names are
// stem-<width>w.<ext>, the width that was written, so bench/quality-calibration's compare mode can pair them with
// KoalaPic's. Prints one JSON line: time inside this process (after the imports), bytes, files, versions.
//   node eleventy-convert.mjs <file-list> <out-dir>
import { existsSync, readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { performance } from 'node:perf_hooks';
import Image from '@11ty/eleventy-img';
import sharp from 'sharp';

const [listFile, outDir] = process.argv.slice(2);
const files = readFileSync(listFile, 'utf8').split('\n').filter(Boolean);
const extension = { jpeg: 'jpg' };

const start = performance.now();
const results = await Promise.all(files.map((file) => Image(file, {
  widths: [480, 960, 1920],
  formats: ['avif', 'webp', 'jpeg'],
  outputDir: outDir,
  // sharp's avif default chroma is 4:4:4; KoalaPic's (libvips heifsave's auto) is 4:2:0 below quality 90: match it.
  sharpAvifOptions: { quality: 50, effort: 4, chromaSubsampling: '4:2:0' },
  sharpWebpOptions: { quality: 80 },
  sharpJpegOptions: { quality: 80 },
  // JPEG has no alpha: sharp drops it (transparent areas come out black) and eleventy-img still writes a jpeg for a
  // transparent source when no png/gif/svg is asked; its documented transform hook flattens onto white, as KoalaPic
  // does by default (Background="white"). A no-op on opaque sources.
  transform: (pipeline, { format }) => {
    if (format === 'jpeg') {
      pipeline.flatten({ background: '#ffffff' });
    }
  },
  filenameFormat: (id, src, width, format) => `${basename(src, extname(src))}-${width}w.${extension[format] ?? format}`,
})));
const ms = performance.now() - start;
const written = results.flatMap((byFormat) => Object.values(byFormat).flat());
console.log(JSON.stringify({
  ms,
  files: written.length,
  bytes: written.reduce((sum, stat) => sum + stat.size, 0),
  eleventyImg: JSON.parse(readFileSync(new URL('node_modules/@11ty/eleventy-img/package.json', import.meta.url), 'utf8')).version,
  // eleventy-img resolves its own sharp: the one in bench/node_modules unless npm nested another version under it.
  nestedSharp: existsSync(new URL('node_modules/@11ty/eleventy-img/node_modules/sharp', import.meta.url)),
  sharp: sharp.versions.sharp,
  vips: sharp.versions.vips,
  concurrency: Image.concurrency,
  maxRssKiB: process.resourceUsage().maxRSS,
}));
