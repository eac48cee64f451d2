#!/usr/bin/env node
// Writes web/engine/node-font.json: the horizontal metrics of crate/plot/assets/DejaVuSans.ttf
// that the native charts measure text with (plotters' ab_glyph backend: width = Σ advance +
// kerning of the legacy `kern` table, in units of ascender − descender, per pixel of font size).
// The Node charts (web/engine/node-charts.mjs) measure with this table, so that `npx spectralab
// analyze --plot` lays out text as the native CLI does, without shipping the 760 KB font.
//   node scripts/gen-font-metrics.mjs      (rerun when the font changes)
import { readFileSync, writeFileSync } from 'node:fs';

const font = readFileSync(new URL('../crate/plot/assets/DejaVuSans.ttf', import.meta.url));
const u16 = (o) => font.readUInt16BE(o);
const i16 = (o) => font.readInt16BE(o);
const tables = {};
for (let i = 0, n = u16(4); i < n; i++) {
  const rec = 12 + 16 * i;
  tables[font.toString('latin1', rec, rec + 4)] = font.readUInt32BE(rec + 8);
}
const unitsPerEm = u16(tables.head + 18);
// ttf-parser (under ab_glyph) takes OS/2's typo metrics when USE_TYPO_METRICS is set, else hhea's.
const useTypo = tables['OS/2'] !== undefined && (u16(tables['OS/2'] + 62) & (1 << 7)) !== 0;
const ascender = useTypo ? i16(tables['OS/2'] + 68) : i16(tables.hhea + 4);
const descender = useTypo ? i16(tables['OS/2'] + 70) : i16(tables.hhea + 6);
const numberOfHMetrics = u16(tables.hhea + 34);
const advanceOf = (g) => u16(tables.hmtx + 4 * Math.min(g, numberOfHMetrics - 1));

// cmap: the Windows Unicode BMP subtable (format 4).
let sub = null;
for (let i = 0, n = u16(tables.cmap + 2); i < n; i++) {
  const rec = tables.cmap + 4 + 8 * i;
  if (u16(rec) === 3 && u16(rec + 2) === 1) sub = tables.cmap + font.readUInt32BE(rec + 4);
}
if (sub === null || u16(sub) !== 4) throw new Error('no format-4 Unicode cmap');
const segX2 = u16(sub + 6);
const glyphOf = (c) => {
  const ends = sub + 14;
  for (let s = 0; s < segX2 / 2; s++) {
    const end = u16(ends + 2 * s);
    if (c > end) continue;
    const startAt = ends + segX2 + 2 + 2 * s;
    const start = u16(startAt);
    if (c < start) return 0;
    const delta = i16(startAt + segX2);
    const roAt = startAt + 2 * segX2;
    const ro = u16(roAt);
    if (ro === 0) return (c + delta) & 0xffff;
    const g = u16(roAt + ro + 2 * (c - start));
    return g === 0 ? 0 : (g + delta) & 0xffff;
  }
  return 0;
};

// Characters of chart text: ASCII, Latin-1/Extended-A, Greek, general punctuation, arrows, maths.
const ranges = [[0x20, 0x7e], [0xa0, 0x17f], [0x370, 0x3ff], [0x2000, 0x206f], [0x2190, 0x21ff], [0x2200, 0x22ff]];
const glyphs = new Map();
const advances = {};
for (const [a, b] of ranges) {
  for (let c = a; c <= b; c++) {
    const g = glyphOf(c);
    if (g === 0) continue;
    glyphs.set(g, c);
    advances[c] = advanceOf(g);
  }
}

// Legacy `kern` table, format 0 subtables (what ab_glyph's `kern` reads), pairs of covered characters.
const kern = {};
if (tables.kern !== undefined) {
  let at = tables.kern + 4;
  for (let t = 0, n = u16(tables.kern + 2); t < n; t++) {
    const length = u16(at + 2);
    const coverage = u16(at + 4);
    if (coverage >> 8 === 0 && (coverage & 1) === 1) {
      for (let p = 0, np = u16(at + 6); p < np; p++) {
        const rec = at + 14 + 6 * p;
        const [l, r, v] = [glyphs.get(u16(rec)), glyphs.get(u16(rec + 2)), i16(rec + 4)];
        if (l !== undefined && r !== undefined && l < 0x80 && r < 0x80 && v !== 0) kern[`${l},${r}`] = v;
      }
    }
    at += length;
  }
}
const out = { source: 'crate/plot/assets/DejaVuSans.ttf', unitsPerEm, height: ascender - descender, missing: advanceOf(0), advances, kern };
writeFileSync(new URL('../web/engine/node-font.json', import.meta.url), `${JSON.stringify(out)}\n`);
console.log(`node-font.json: ${Object.keys(advances).length} characters, ${Object.keys(kern).length} kerning pairs, height ${out.height}/${unitsPerEm}`);
