// The attention test in the browser (issue 15; docs/cpt.md, docs/web.md "Attention tests").
// The project's own script, the one page of the site that needs JavaScript. It fetches the
// schedule that crates/cpt made for the code, checks that the device can hold its frame rate,
// runs the practice until the server (scoring with crates/cpt) says it is passed, runs the test
// and posts the raw log. It scores nothing itself. With the family's consent (the tick box), the
// camera's frames go to the face detector in this page (cpt-camera.js) and only the head track
// (time, x, y, size) is posted with the log: never an image. Without consent or a camera the
// test runs the same and the report says activity was not measured.
//
// Timing: stimulus onsets are the requestAnimationFrame time stamps of the frames they were
// drawn on; key presses are the keydown events' timeStamp; both are on the performance.now()
// clock. A stimulus is drawn on the first frame within half a frame of its planned onset and
// cleared on the first frame within half a frame of its planned offset; a trial whose time
// passed while the page could not draw (tab hidden) is not shown and not logged.

const root = document.getElementById('cpt');
const $ = (id) => document.getElementById(id);
const code = root.dataset.code;
const begin = $('cpt-begin');
const status = $('cpt-status');
const intro = $('cpt-intro');
const stage = $('cpt-stage');
const canvas = $('cpt-canvas');
const message = $('cpt-message');
const go = $('cpt-go');
const consent = $('cpt-camera');
const ctx = canvas.getContext('2d');

const COLOURS = { red: '#e8371c', blue: '#2f8fe8', green: '#1fae5b', yellow: '#ffe11a' };
const CHECK_MS = 2200;
const WARM_UP_FRAMES = 3;
const LEAD_IN_MS = 1500;

let attempt = null;
let plan = null;
let rule = null;
let intervals = [];
let frameMs = 1000 / 60;
let fullscreen = false;
let hiddenCount = 0;
let tracker = null;
let camera = { status: 'declined' };

// Starts the head tracking if the family ticked the box; the test goes on without it if the
// camera or the detector cannot start.
async function startCamera() {
  if (!consent || !consent.checked) {
    camera = { status: 'declined' };
    return;
  }
  say('Starting the camera…');
  try {
    const { startTracker } = await import('/assets/cpt-camera.js');
    tracker = await startTracker();
    camera = { status: 'used' };
  } catch (e) {
    tracker = null;
    camera = { status: 'unavailable', reason: String(e && e.message ? e.message : e).slice(0, 200) };
    say(`The camera could not be used (${camera.reason}), so the test will not measure movement. Everything else works the same.`);
    await new Promise((r) => setTimeout(r, 2500));
  }
}

function stopCamera() {
  if (tracker) {
    try { tracker.stop(); } catch { /* already stopped */ }
  }
}

function say(text) { message.textContent = text; }

async function post(url, body) {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
    credentials: 'same-origin',
  });
  let j = null;
  try { j = await r.json(); } catch { j = null; }
  if (!r.ok) {
    throw new Error((j && j.error) || `The server could not take this (${r.status}). Please try again later.`);
  }
  return j;
}

function median(v) {
  const s = [...v].sort((a, b) => a - b);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

// The frame intervals over CHECK_MS of animation frames (after a few to warm up).
function measureFrames() {
  return new Promise((resolve) => {
    const out = [];
    let last = null;
    let seen = 0;
    let start = null;
    function frame(ts) {
      seen += 1;
      if (seen > WARM_UP_FRAMES) {
        if (last !== null) out.push(ts - last);
        if (start === null) start = ts;
        last = ts;
      }
      if (start !== null && ts - start >= CHECK_MS) resolve(out);
      else requestAnimationFrame(frame);
    }
    requestAnimationFrame(frame);
  });
}

// The same rule as the server's (web::pages::test::Timing::refusal).
function refusal(iv) {
  if (iv.length < rule.min_frames) return 'This computer could not show enough pictures during the check.';
  const m = median(iv);
  if (m > rule.max_median_ms) {
    return `This computer shows ${Math.round(1000 / m)} pictures a second; the test needs 30 or more.`;
  }
  const long = iv.filter((v) => v > 1.5 * m).length;
  const pct = (100 * long) / iv.length;
  if (pct > rule.max_long_frames_pct) {
    return `This computer missed ${Math.round(pct)}% of its screen updates during the check; the test needs it to keep up.`;
  }
  return null;
}

function clear() {
  ctx.clearRect(0, 0, canvas.width, canvas.height);
}

function draw(stimulus) {
  clear();
  const c = canvas.width / 2;
  const r = canvas.width * 0.32;
  ctx.fillStyle = COLOURS[stimulus.colour] || '#ffffff';
  ctx.beginPath();
  switch (stimulus.shape) {
    case 'circle':
      ctx.arc(c, c, r, 0, 2 * Math.PI);
      break;
    case 'square':
      ctx.rect(c - r * 0.85, c - r * 0.85, r * 1.7, r * 1.7);
      break;
    case 'triangle':
      ctx.moveTo(c, c - r);
      ctx.lineTo(c + r * 0.95, c + r * 0.75);
      ctx.lineTo(c - r * 0.95, c + r * 0.75);
      ctx.closePath();
      break;
    default: // star
      for (let i = 0; i < 10; i += 1) {
        const a = -Math.PI / 2 + (i * Math.PI) / 5;
        const rr = i % 2 === 0 ? r : r * 0.45;
        const x = c + rr * Math.cos(a);
        const y = c + rr * Math.sin(a);
        if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
      }
      ctx.closePath();
  }
  ctx.fill();
}

async function enterFullscreen() {
  if (document.fullscreenElement) return true;
  try {
    await stage.requestFullscreen();
    return true;
  } catch {
    return false;
  }
}

function isSpace(e) { return e.code === 'Space' || e.key === ' '; }

// Runs one block (the practice or the test) and resolves with its raw log.
function runBlock(trials, params) {
  const log = { stimuli: [], keys: [], interruptions: [], planned_trials: trials.length };
  const soa = params.stimulus_ms + params.isi_ms;
  let open = null; // an interruption in progress
  let t0 = null;
  let next = 0;
  let shownAt = null;
  const interrupt = (why) => {
    if (open === null) open = { start_ms: performance.now(), why };
  };
  const resume = () => {
    if (open !== null) {
      log.interruptions.push({ start_ms: open.start_ms, end_ms: performance.now() });
      open = null;
    }
  };
  const onKey = (e) => {
    if (!isSpace(e)) return;
    e.preventDefault();
    log.keys.push({ time_ms: e.timeStamp, repeat: e.repeat });
  };
  const onKeyUp = (e) => { if (isSpace(e)) e.preventDefault(); };
  const onVisibility = () => {
    if (document.hidden) { hiddenCount += 1; interrupt('hidden'); } else if (!(fullscreen && !document.fullscreenElement)) resume();
  };
  const onFullscreen = () => {
    if (fullscreen && !document.fullscreenElement) {
      interrupt('fullscreen');
      say('The test has paused. Press the button to go back to full screen and carry on.');
      go.textContent = 'Back to full screen';
      go.hidden = false;
      go.onclick = async () => { go.hidden = true; say(''); await enterFullscreen(); };
    } else if (document.fullscreenElement && !document.hidden) {
      resume();
    }
  };
  window.addEventListener('keydown', onKey, true);
  window.addEventListener('keyup', onKeyUp, true);
  document.addEventListener('visibilitychange', onVisibility);
  document.addEventListener('fullscreenchange', onFullscreen);
  return new Promise((resolve) => {
    const half = frameMs / 2;
    const last = trials[trials.length - 1].onset_ms + soa;
    function frame(ts) {
      if (t0 === null) t0 = ts + LEAD_IN_MS;
      const at = ts - t0;
      if (shownAt !== null && ts - shownAt >= params.stimulus_ms - half) {
        clear();
        shownAt = null;
      }
      while (next < trials.length && at >= trials[next].onset_ms - half) {
        const t = trials[next];
        next += 1;
        // Too late to show it for its whole time (the page could not draw): skipped, not logged.
        if (open === null && at < t.onset_ms + params.stimulus_ms / 2) {
          draw(t.stimulus);
          shownAt = ts;
          log.stimuli.push({ trial: t.index, onset_ms: ts, target: t.target });
          stage.dataset.trial = String(t.index);
        }
      }
      if (at >= last) {
        clear();
        resume();
        window.removeEventListener('keydown', onKey, true);
        window.removeEventListener('keyup', onKeyUp, true);
        document.removeEventListener('visibilitychange', onVisibility);
        document.removeEventListener('fullscreenchange', onFullscreen);
        delete stage.dataset.trial;
        log.keys.sort((a, b) => a.time_ms - b.time_ms);
        log.interruptions.sort((a, b) => a.start_ms - b.start_ms);
        resolve(log);
      } else {
        requestAnimationFrame(frame);
      }
    }
    requestAnimationFrame(frame);
  });
}

// Shows a message and a button on the stage; resolves when the button is pressed.
function button(label, text) {
  say(text);
  go.textContent = label;
  go.hidden = false;
  go.focus();
  return new Promise((resolve) => {
    go.onclick = () => {
      go.hidden = true;
      go.blur();
      say('');
      resolve();
    };
  });
}

function reminder() {
  return plan.params.rule.kind === 'go_no_go'
    ? 'Press the space bar as fast as you can when you see the yellow star. Do not press for any other shape.'
    : 'Press the space bar when a shape is exactly the same as the one just before it: the same shape and the same colour.';
}

async function finish(text) {
  stopCamera();
  say(text);
  stage.dataset.done = 'true';
  if (document.fullscreenElement) {
    try { await document.exitFullscreen(); } catch { /* already left */ }
  }
}

async function run() {
  begin.disabled = true;
  status.textContent = 'Getting the test ready…';
  try {
    const s = await post('/test/schedule', { code });
    plan = s.schedule;
    attempt = s.attempt;
    rule = s.timing_rule;
  } catch (e) {
    status.textContent = e.message;
    begin.disabled = false;
    return;
  }
  status.textContent = '';
  intro.hidden = true;
  stage.hidden = false;
  fullscreen = await enterFullscreen();
  // The camera first, so the timing check measures the device with the tracking running.
  await startCamera();
  say('Checking this computer. Please wait 2 seconds…');
  intervals = await measureFrames();
  const why = refusal(intervals);
  if (why) {
    await finish(`${why} Please try another computer, close other programs, or plug a laptop in, and enter your code again. Nothing has been sent.`);
    stage.dataset.refused = 'true';
    return;
  }
  frameMs = median(intervals);
  try {
    let passed = false;
    let text = `First, a practice. ${reminder()}`;
    while (!passed) {
      await button('Start the practice', text);
      const log = await runBlock(plan.practice, plan.params);
      say('Checking the practice…');
      const r = await post('/test/practice', { code, attempt, log });
      if (r.passed) {
        passed = true;
      } else if (r.attempts_left <= 0) {
        await finish('Please stop here. Ask the grown-up with you to call the clinic: they will explain the test again.');
        return;
      } else {
        text = `Let's practise once more. ${reminder()}`;
      }
    }
    const minutes = Math.round((plan.trials.length * (plan.params.stimulus_ms + plan.params.isi_ms)) / 60000);
    await button('Start the test', `Well done! Now the real test. ${reminder()} It takes about ${minutes || 1} minute${minutes === 1 ? '' : 's'}. Keep going until it says you have finished.`);
    const from = performance.now();
    const log = await runBlock(plan.trials, plan.params);
    let tracked = { head_track: null, camera };
    if (tracker) {
      tracked = tracker.take(from);
      stopCamera();
    }
    say('Sending the test to the clinic…');
    const r = await post('/test/result', {
      code,
      attempt,
      log,
      timing: { intervals_ms: intervals, fullscreen, hidden_count: hiddenCount },
      head_track: tracked.head_track,
      camera: tracked.camera,
    });
    stage.dataset.stored = 'true';
    await finish(`${r.message} You can close this page now.`);
  } catch (e) {
    await finish(e.message);
    stage.dataset.failed = 'true';
  }
}

begin.hidden = false;
begin.addEventListener('click', run);
