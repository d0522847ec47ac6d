// On-device head tracking for the attention test (issue 15 item 3; docs/cpt.md "Activity
// measured on the device"). With the family's consent, the webcam's frames go to a face
// detector that runs in this page (@vladmandic/face-api's tiny face detector, its weights as
// the npm package ships them, on TensorFlow.js's WebAssembly backend, all served from
// /assets: nothing is fetched from anywhere else). For each frame only four numbers are kept:
// the time (performance.now(), the clock of the test's log), the face's centre x and y (a
// fraction of the frame's width and height) and its width (a fraction of the frame's width).
// No frame is drawn, copied, stored or sent: the video element is never on screen, and the
// track is all that leaves this script.
import * as faceapi from '/assets/face-api/face-api.esm.js';

const ASSETS = '/assets/face-api';
// The detector's input (pixels a side): 160 finds a face filling a fifth of a 320-wide frame
// and takes about 10 ms a frame on an ordinary laptop's CPU.
const INPUT_SIZE = 160;
const MIN_SCORE = 0.4;

const round = (v, places) => {
  const k = 10 ** places;
  return Math.round(v * k) / k;
};

let ready = null;
function loadModel() {
  if (!ready) {
    ready = (async () => {
      faceapi.tf.setWasmPaths(`${ASSETS}/wasm/`);
      if (!(await faceapi.tf.setBackend('wasm'))) throw new Error('the WebAssembly back end did not start');
      await faceapi.tf.ready();
      await faceapi.nets.tinyFaceDetector.loadFromUri(`${ASSETS}/model`);
    })();
  }
  return ready;
}

// Starts the camera and the tracking loop. Resolves with a tracker, or rejects with an Error
// whose message a family can read (no camera, permission refused, the detector failed).
export async function startTracker() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new Error('this browser cannot use a camera');
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({
      audio: false,
      video: { width: { ideal: 320 }, height: { ideal: 240 }, frameRate: { ideal: 30, min: 25 } },
    });
  } catch (e) {
    throw new Error(e && e.name === 'NotAllowedError'
      ? 'the camera was not allowed'
      : 'no camera could be started');
  }
  const stop = () => stream.getTracks().forEach((t) => t.stop());
  try {
    await loadModel();
  } catch (e) {
    stop();
    throw new Error(`the face detector could not start (${e && e.message ? e.message : e})`);
  }
  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.setAttribute('aria-hidden', 'true');
  // Off screen: the child never sees the picture, and nothing paints it.
  video.style.cssText = 'position:fixed;left:-10000px;top:0;width:320px;height:240px;';
  document.body.appendChild(video);
  video.srcObject = stream;
  await video.play();
  const options = new faceapi.TinyFaceDetectorOptions({ inputSize: INPUT_SIZE, scoreThreshold: MIN_SCORE });
  const samples = [];
  const frames = []; // the time of every frame the detector ran on
  const detectMs = [];
  let running = true;
  let busy = false;
  let skipped = 0;

  async function onFrame(now, meta) {
    if (!running) return;
    if (busy) {
      skipped += 1;
    } else {
      busy = true;
      const t = meta && Number.isFinite(meta.captureTime) && Math.abs(meta.captureTime - now) < 1000
        ? meta.captureTime : now;
      const w = video.videoWidth;
      const h = video.videoHeight;
      const a = performance.now();
      try {
        const d = await faceapi.detectSingleFace(video, options);
        frames.push(t);
        detectMs.push(performance.now() - a);
        if (d && w > 0 && h > 0) {
          const b = d.box;
          samples.push({
            t_ms: round(t, 1),
            x: round((b.x + b.width / 2) / w, 4),
            y: round((b.y + b.height / 2) / h, 4),
            size: round(b.width / w, 4),
          });
        }
      } catch {
        // One frame the detector could not read: a gap in the track, as when the face is lost.
      }
      busy = false;
    }
    schedule();
  }
  function schedule() {
    if (!running) return;
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(onFrame);
    else setTimeout(() => onFrame(performance.now(), null), 1000 / 30);
  }
  schedule();

  return {
    // The head track from `fromMs` on (the shape crates/cpt's HeadTrack reads), and how the
    // tracking went over that time.
    take(fromMs) {
      const w = video.videoWidth || 4;
      const h = video.videoHeight || 3;
      const own = frames.filter((t) => t >= fromMs);
      const median = (v) => {
        if (!v.length) return null;
        const s = [...v].sort((x, y) => x - y);
        return s[s.length >> 1];
      };
      return {
        head_track: { frame_aspect: round(h / w, 4), samples: samples.filter((s) => s.t_ms >= fromMs) },
        camera: {
          status: 'used',
          frames_processed: own.length,
          frames_skipped: skipped,
          detect_ms_median: median(detectMs) === null ? null : round(median(detectMs), 1),
          width: w,
          height: h,
        },
      };
    },
    stop() {
      running = false;
      stop();
      video.srcObject = null;
      video.remove();
    },
  };
}
