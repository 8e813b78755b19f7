// Writes <count> distinct images (half PNG, half JPEG; noise over a per-image colour, 96x64 unless a size is given)
// for the no-op rebuild and remote cache measurements. Generated on each run, never committed.
//   node make-images.mjs <out-dir> <count> [width height]
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';

const [outDir, countText, widthText, heightText] = process.argv.slice(2);
const count = Number(countText);
const width = Number(widthText ?? 96);
const height = Number(heightText ?? 64);
mkdirSync(outDir, { recursive: true });
sharp.concurrency(1);
const jobs = [];
for (let i = 0; i < count; i++) {
  const background = { r: (i * 37) % 256, g: (i * 91) % 256, b: (i * 13) % 256 };
  const image = sharp({ create: { width, height, channels: 3, background, noise: { type: 'gaussian', mean: 128, sigma: 20 } } });
  const name = `img${String(i).padStart(4, '0')}`;
  jobs.push(i % 2 === 0 ? image.png().toFile(join(outDir, name + '.png')) : image.jpeg({ quality: 85 }).toFile(join(outDir, name + '.jpg')));
  if (jobs.length >= 32) {
    await Promise.all(jobs.splice(0));
  }
}
await Promise.all(jobs);
