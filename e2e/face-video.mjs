// Makes the fake camera's video for the attention test's journey (attention.mjs): a drawn
// face (skin-toned oval with shading, hair, eyes, brows, nose, mouth, neck and shoulders) in
// front of a wall, moving smoothly across and up and down, as a Y4M file (4:2:0), which
// Chromium plays as its camera with --use-file-for-fake-video-capture. The face moves on a
// known path so the head track can be compared with it: centre x = 0.5 + 0.18 sin(2πt/4),
// y = 0.5 + 0.08 sin(2πt/3) (fractions of the frame), width 0.44 of the frame.
// Usage as a module: writeFaceVideo(file, { width, height, fps, seconds }).
import { openSync, writeSync, closeSync } from 'node:fs';

export const path = (t) => ({
  x: 0.5 + 0.18 * Math.sin((2 * Math.PI * t) / 4),
  y: 0.5 + 0.08 * Math.sin((2 * Math.PI * t) / 3),
});

export function writeFaceVideo(file, { width = 320, height = 240, fps = 30, seconds = 12 } = {}) {
  const fd = openSync(file, 'w');
  writeSync(fd, `YUV4MPEG2 W${width} H${height} F${fps}:1 Ip A1:1 C420jpeg\n`);
  const rgb = new Float32Array(width * height * 3);
  const clamp = (v) => Math.max(0, Math.min(255, Math.round(v)));
  for (let f = 0; f < fps * seconds; f++) {
    const p = path(f / fps);
    const cx = width * p.x;
    const cy = height * p.y;
    const fw = width * 0.22; // half the face's width
    const fh = fw * 1.3;
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        let r = 150 + 30 * (y / height);
        let g = 160 + 20 * (y / height);
        let b = 175;
        const dx = (x - cx) / fw;
        const dy = (y - cy) / fh;
        const inFace = dx * dx + dy * dy;
        if (y > cy + fh * 0.8 && Math.abs(x - cx) < fw * 0.45) { r = 200; g = 150; b = 120; }
        if (y > cy + fh * 1.3 && Math.abs(x - cx) < fw * 2.2) { r = 40; g = 70; b = 120; }
        const hx = (x - cx) / (fw * 1.12);
        const hy = (y - (cy - fh * 0.12)) / (fh * 1.05);
        if (hx * hx + hy * hy < 1 && y < cy) { r = 60; g = 40; b = 25; }
        if (inFace < 1) {
          const shade = 1 - 0.25 * inFace;
          r = 228 * shade; g = 180 * shade; b = 150 * shade;
          if (dy < -0.62 + 0.15 * dx * dx) { r = 60; g = 40; b = 25; }
          for (const ex of [-0.38, 0.38]) {
            const ux = (dx - ex) / 0.2; const uy = (dy + 0.12) / 0.09;
            if (ux * ux + uy * uy < 1) { r = 245; g = 245; b = 245; }
            const ix = (dx - ex) / 0.09; const iy = (dy + 0.12) / 0.07;
            if (ix * ix + iy * iy < 1) { r = 50; g = 35; b = 25; }
            const bx = (dx - ex) / 0.24; const by = (dy + 0.3) / 0.04;
            if (bx * bx + by * by < 1) { r = 70; g = 45; b = 30; }
          }
          if (Math.abs(dx) < 0.1 && dy > 0.05 && dy < 0.3) { r *= 0.8; g *= 0.8; b *= 0.8; }
          const mx = dx / 0.3; const my = (dy - 0.5) / 0.07;
          if (mx * mx + my * my < 1) { r = 170; g = 60; b = 60; }
        }
        const i = 3 * (y * width + x);
        rgb[i] = r; rgb[i + 1] = g; rgb[i + 2] = b;
      }
    }
    const Y = Buffer.alloc(width * height);
    const U = Buffer.alloc((width * height) / 4);
    const V = Buffer.alloc((width * height) / 4);
    for (let q = 0; q < width * height; q++) {
      Y[q] = clamp(0.299 * rgb[3 * q] + 0.587 * rgb[3 * q + 1] + 0.114 * rgb[3 * q + 2]);
    }
    for (let y = 0; y < height / 2; y++) {
      for (let x = 0; x < width / 2; x++) {
        let r = 0; let g = 0; let b = 0;
        for (const [ox, oy] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
          const q = 3 * ((2 * y + oy) * width + 2 * x + ox);
          r += rgb[q] / 4; g += rgb[q + 1] / 4; b += rgb[q + 2] / 4;
        }
        const q = y * (width / 2) + x;
        U[q] = clamp(128 - 0.168736 * r - 0.331264 * g + 0.5 * b);
        V[q] = clamp(128 + 0.5 * r - 0.418688 * g - 0.081312 * b);
      }
    }
    writeSync(fd, 'FRAME\n');
    writeSync(fd, Y); writeSync(fd, U); writeSync(fd, V);
  }
  closeSync(fd);
}
