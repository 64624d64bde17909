// Prints the size of the entry chunk (the script index.html loads) and of its CSS, raw and gzip-compressed:
// what a browser downloads before the first page shows. Run after `npm run build`: `npm run size`.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'

const dist = new URL('../dist/', import.meta.url).pathname
const html = readFileSync(join(dist, 'index.html'), 'utf8')
const files = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.(?:js|css))"/g)].map((m) => m[1])
let total = 0
for (const file of files) {
  const bytes = readFileSync(join(dist, file))
  const gzip = gzipSync(bytes, { level: 9 }).length
  total += gzip
  console.log(`${file}\t${(bytes.length / 1024).toFixed(1)} kB\tgzip ${(gzip / 1024).toFixed(1)} kB`)
}
console.log(`entry total (gzip)\t${(total / 1024).toFixed(1)} kB`)
