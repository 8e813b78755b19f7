// Expected values for tests/KoalaPic.Build.Engine.Tests/ThumbHashReferenceTests.cs, made by the reference
// implementation (npm package thumbhash, pinned in package.json). Reads the RGBA files the test exports (the exact
// pixels the engine feeds its encoder, named <case>.<width>x<height>.rgba) and prints JSON: per case the input's
// SHA-256, the hash (base64) and the reference decoder's RGBA (base64). See README.md.
import { readdirSync, readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { rgbaToThumbHash, thumbHashToRGBA } from 'thumbhash'

const folder = process.argv[2]
if (!folder) {
  console.error('usage: node reference.mjs <folder of .rgba files exported by ThumbHashReferenceTests>')
  process.exit(2)
}

const version = JSON.parse(readFileSync(new URL('./node_modules/thumbhash/package.json', import.meta.url))).version
const cases = []
for (const file of readdirSync(folder).filter(f => f.endsWith('.rgba')).sort()) {
  const match = /^(.+)\.(\d+)x(\d+)\.rgba$/.exec(file)
  if (!match) throw new Error(`unexpected file name ${file}`)
  const [, name, w, h] = match
  const rgba = readFileSync(join(folder, file))
  if (rgba.length !== w * h * 4) throw new Error(`${file}: ${rgba.length} bytes, expected ${w * h * 4}`)
  const hash = rgbaToThumbHash(+w, +h, rgba)
  const decoded = thumbHashToRGBA(hash)
  cases.push({
    name,
    width: +w,
    height: +h,
    rgba_sha256: createHash('sha256').update(rgba).digest('hex'),
    hash: Buffer.from(hash).toString('base64'),
    decoded_width: decoded.w,
    decoded_height: decoded.h,
    decoded_rgba: Buffer.from(decoded.rgba).toString('base64'),
  })
}

console.log(JSON.stringify({ generator: `thumbhash ${version} (npm), bench/thumbhash/reference.mjs`, cases }, null, 2))
