// Exports: download a Blob, rasterise an SVG string to PNG through a canvas. No network: the SVG
// becomes a same-origin blob: URL.

/** Saves `blob` as `filename` (an <a download> click). */
export function downloadBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const a = Object.assign(document.createElement('a'), { href: url, download: filename });
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Width and height of an SVG string (attributes, else the viewBox). */
function svgSize(svgText) {
  const doc = new DOMParser().parseFromString(svgText, 'image/svg+xml');
  const svg = doc.documentElement;
  const vb = (svg.getAttribute('viewBox') ?? '').split(/[\s,]+/).map(Number);
  const w = Number.parseFloat(svg.getAttribute('width')) || vb[2] || 800;
  const h = Number.parseFloat(svg.getAttribute('height')) || vb[3] || 500;
  return { w, h };
}

/** PNG of an SVG string at `scale`× its size, on a white background. */
export async function svgToPngBlob(svgText, scale = 2) {
  const { w, h } = svgSize(svgText);
  let text = svgText;
  if (!/xmlns=/.test(text)) text = text.replace('<svg', '<svg xmlns="http://www.w3.org/2000/svg"');
  const url = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.decoding = 'async';
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(w * scale);
    canvas.height = Math.round(h * scale);
    const ctx = canvas.getContext('2d');
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.drawImage(img, 0, 0, canvas.width, canvas.height);
    return await new Promise((resolve, reject) =>
      canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('canvas.toBlob gave nothing'))), 'image/png'),
    );
  } finally {
    URL.revokeObjectURL(url);
  }
}

/** CSV text of `rows` (objects) with `columns` [{key, label, get?}]; RFC 4180 quoting. */
export function toCsv(rows, columns) {
  const cell = (v) => {
    if (v === null || v === undefined) return '';
    const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
    return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const head = columns.map((c) => cell(c.label ?? c.key)).join(',');
  const body = rows.map((r) => columns.map((c) => cell(c.get ? c.get(r) : r[c.key])).join(','));
  return [head, ...body].join('\r\n') + '\r\n';
}
