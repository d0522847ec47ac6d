//! The demo's children's ADHD service (issue 15 item 9): in two trusts of the region (R9A,
//! whose demo clinician is `clinician.r9a`, and the next trust by code), children take the
//! attention test, some of them twice (off and then on medication), from simulated sessions.
//!
//! Each session is simulated from a seed and written exactly as the browser's test would have
//! written it, through the same store calls as `/test` (`store::cpt`: `issue_cpt_code`,
//! `start_cpt_attempt`, `record_cpt_practice`, `save_cpt_test`): the schedule `cpt` makes from
//! the attempt's seed, the raw log (`cpt::RawLog`, the JSON the page posts), the practice
//! attempts, the timing check's figures (the JSON `web::pages::test::Timing` reads) and, where
//! the family agreed to the camera, the head track (`cpt::HeadTrack`); the score stored is
//! `cpt::score` of that log, as the server's. So the clinician's pages show real reports.
//!
//! The simulated child: a latent attention level `a` (standard normal; higher is less
//! attentive), an impulsivity level `i` and an activity level `m`. Per target: an omission with
//! probability `logistic(-3.2 + 0.9 a + 0.25 q)` (q: the quarter, 0 to 3, for fatigue), else a
//! press after a log-normal reaction time with median `430 + 45 a` ms and log-SD
//! `0.22 + 0.05 max(a, 0)`, with a lapse (RT doubled) with probability `0.03 + 0.03 max(a,0)`;
//! per non-target a commission with probability `logistic(-2.6 + 0.9 i)` after about 330 ms;
//! per trial an anticipatory press (50 to 140 ms) with probability `0.004 + 0.01 max(i, 0)`.
//! On medication `a`, `i` and `m` fall by 0.9. The head moves as a damped random walk whose
//! step size grows with `m`, sampled at 30 a second, with the face lost now and then.
//! Pure but for `plant`, which writes: no clock, no randomness but the seeded SplitMix.

use crate::LoadError;
use crate::rng::SplitMix;
use cpt::{HeadSample, HeadTrack, KeyPress, Onset, RawLog, ScoringOptions, TaskVersion};
use serde_json::{Value, json};
use store::Store;
use store::cpt::{NewCode, NewTest};

/// The demo's seed for the ADHD sessions.
pub const SEED: u64 = 20_261_015;
/// The trust whose clinician the demo signs in (`clinician.r9a`).
pub const FIRST_TRUST: &str = "R9A";
/// Children per trust.
pub const CHILDREN: usize = 6;
/// The demo region's last day, 2026-10-31, at noon UTC: sessions fall in the 180 days before.
const END_UNIX: i64 = 1_793_448_000;
const FRAME_MS: f64 = 1000.0 / 60.0;
const TRACK_HZ: f64 = 30.0;

/// One simulated child.
#[derive(Clone, Debug, PartialEq)]
pub struct Child {
    pub patient_ref: String,
    pub age: u8,
    pub sex: &'static str,
    pub ethnic_group: &'static str,
    pub attention: f64,
    pub impulsivity: f64,
    pub activity: f64,
    /// Agreed to the camera.
    pub camera: bool,
    /// Tested again on medication.
    pub repeat: bool,
}

/// One simulated session: what the page would have posted.
#[derive(Clone, Debug, PartialEq)]
pub struct Session {
    pub practice: RawLog,
    pub log: RawLog,
    pub frame_intervals: Vec<f64>,
    pub head_track: Option<HeadTrack>,
}

fn logistic(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

fn round(v: f64, places: i32) -> f64 {
    let k = 10f64.powi(places);
    (v * k).round() / k
}

/// The children of one trust, from the seed.
pub fn children(trust: &str, seed: u64) -> Vec<Child> {
    let mut rng = SplitMix(
        seed ^ trust
            .bytes()
            .fold(0u64, |h, b| h.wrapping_mul(131) ^ u64::from(b)),
    );
    const GROUPS: [(&str, f64); 5] = [
        ("White", 0.70),
        ("Asian", 0.12),
        ("Black", 0.07),
        ("Mixed", 0.07),
        ("Other", 0.04),
    ];
    (0..CHILDREN)
        .map(|k| {
            let u = rng.unit();
            let mut acc = 0.0;
            let group = GROUPS
                .iter()
                .find(|(_, w)| {
                    acc += w;
                    u < acc
                })
                .map_or("Other", |g| g.0);
            let age = 6 + (rng.unit() * 10.0) as u8; // 6 to 15
            // Children referred for assessment: on average more inattentive than the norm.
            let attention = 0.8 + rng.normal();
            Child {
                patient_ref: format!("{trust}-ADHD-{:03}", k + 1),
                age,
                sex: if rng.unit() < 0.7 { "male" } else { "female" },
                ethnic_group: group,
                attention,
                impulsivity: 0.5 * attention + 0.8 * rng.normal(),
                activity: 0.4 * attention + 0.9 * rng.normal(),
                camera: rng.unit() < 0.75,
                repeat: k % 3 != 2,
            }
        })
        .collect()
}

/// The task version for a child's age (go/no-go for 6 to 11, one-back for 12 and over).
pub fn task_for(age: u8) -> TaskVersion {
    if age >= 12 {
        TaskVersion::OneBack
    } else {
        TaskVersion::GoNoGo
    }
}

/// Simulates one block's responses: the log as the page makes it (onsets on 60 Hz frames).
fn block(
    trials: &[cpt::Trial],
    child: &Child,
    medicated: bool,
    t0: f64,
    rng: &mut SplitMix,
) -> RawLog {
    let shift = if medicated { 0.9 } else { 0.0 };
    let a = child.attention - shift;
    let imp = child.impulsivity - shift;
    let n = trials.len().max(1) as f64;
    let mut log = RawLog {
        planned_trials: Some(trials.len() as u32),
        ..RawLog::default()
    };
    for (k, t) in trials.iter().enumerate() {
        // The first frame within half a frame of the planned onset.
        let planned = t0 + t.onset_ms as f64;
        let onset = ((planned - FRAME_MS / 2.0) / FRAME_MS).ceil() * FRAME_MS;
        let onset = round(onset, 3);
        log.stimuli.push(Onset {
            trial: t.index,
            onset_ms: onset,
            target: t.target,
        });
        let quarter = ((k as f64) * 4.0 / n).floor();
        let key_at = |rt: f64| round(onset + rt, 3);
        if rng.unit() < 0.004 + 0.01 * imp.max(0.0) {
            log.keys.push(KeyPress {
                time_ms: key_at(50.0 + 90.0 * rng.unit()),
                repeat: false,
            });
            continue;
        }
        if t.target {
            if rng.unit() < logistic(-3.2 + 0.9 * a + 0.25 * quarter) {
                continue; // omission
            }
            let median = 430.0 + 45.0 * a;
            let mut rt = median * ((0.22 + 0.05 * a.max(0.0)) * rng.normal()).exp();
            if rng.unit() < 0.03 + 0.03 * a.max(0.0) {
                rt *= 2.0;
            }
            log.keys.push(KeyPress {
                time_ms: key_at(rt.clamp(160.0, 1900.0)),
                repeat: false,
            });
        } else if rng.unit() < logistic(-2.6 + 0.9 * imp) {
            let rt = 330.0 * (0.2 * rng.normal()).exp();
            log.keys.push(KeyPress {
                time_ms: key_at(rt.clamp(160.0, 1900.0)),
                repeat: false,
            });
        }
    }
    log.keys.sort_by(|x, y| x.time_ms.total_cmp(&y.time_ms));
    log
}

/// The head track over a block: a damped random walk at 30 samples a second.
fn track(span: (f64, f64), child: &Child, medicated: bool, rng: &mut SplitMix) -> HeadTrack {
    let m = (child.activity - if medicated { 0.9 } else { 0.0 }).clamp(-2.0, 3.0);
    let step = 0.002 * (1.0 + 0.8 * (m + 2.0));
    let (mut x, mut y) = (0.5, 0.45);
    let size = 0.22 + 0.04 * rng.unit();
    let mut samples = Vec::new();
    let mut t = span.0;
    let mut lost = 0u32;
    while t < span.1 {
        if lost > 0 {
            lost -= 1;
        } else if rng.unit() < 0.0015 {
            lost = 10 + (rng.unit() * 40.0) as u32; // the face lost for a second or so
        } else {
            x += step * rng.normal() - 0.02 * (x - 0.5);
            y += step * rng.normal() - 0.02 * (y - 0.45);
            samples.push(HeadSample {
                t_ms: round(t + 2.0 * rng.unit(), 1),
                x: round(x.clamp(0.05, 0.95), 4),
                y: round(y.clamp(0.05, 0.95), 4),
                size: round(size * (1.0 + 0.02 * rng.normal()), 4),
            });
        }
        t += 1000.0 / TRACK_HZ;
    }
    HeadTrack {
        frame_aspect: 0.75,
        samples,
    }
}

/// One session of a child on a schedule.
pub fn simulate(plan: &cpt::Schedule, child: &Child, medicated: bool, seed: u64) -> Session {
    let mut rng = SplitMix(seed);
    let frame_intervals: Vec<f64> = (0..132)
        .map(|_| round(FRAME_MS + 0.3 * rng.normal(), 3))
        .collect();
    // The practice first (passed: a referred child who follows the instruction).
    let practice_t0 = 5_000.0;
    let practice = block(&plan.practice, child, true, practice_t0, &mut rng);
    let soa = plan.params.soa_ms() as f64;
    let test_t0 = practice_t0 + plan.practice.len() as f64 * soa + 20_000.0;
    let log = block(&plan.trials, child, medicated, test_t0, &mut rng);
    let head_track = child.camera.then(|| {
        let start = log.stimuli.first().map_or(test_t0, |s| s.onset_ms) - 1_000.0;
        let end = log.stimuli.last().map_or(test_t0, |s| s.onset_ms) + 2_000.0;
        track((start, end), child, medicated, &mut rng)
    });
    Session {
        practice,
        log,
        frame_intervals,
        head_track,
    }
}

fn mean_sd(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let mean = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0).max(1.0);
    (mean, var.sqrt())
}

/// The timing check's record as `web::pages::test::Timing` holds it.
pub fn timing_json(s: &Session, plan: &cpt::Schedule) -> Value {
    let mut sorted = s.frame_intervals.clone();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0;
    let (mean, sd) = mean_sd(&s.frame_intervals);
    let long = s
        .frame_intervals
        .iter()
        .filter(|v| **v > 1.5 * median)
        .count();
    let first = s.log.stimuli.first();
    let errors: Vec<f64> = match first {
        None => Vec::new(),
        Some(f) => {
            let p0 = plan.trials[f.trial as usize].onset_ms as f64;
            s.log
                .stimuli
                .iter()
                .map(|o| {
                    (o.onset_ms - f.onset_ms) - (plan.trials[o.trial as usize].onset_ms as f64 - p0)
                })
                .collect()
        }
    };
    let (em, esd) = mean_sd(&errors);
    let emax = errors.iter().map(|e| e.abs()).fold(0.0, f64::max);
    let camera = match &s.head_track {
        None => json!({"status": "declined", "reason": null, "frames_processed": null,
            "detect_ms_median": null, "samples": 0, "rate_hz": null,
            "interval_median_ms": null, "interval_jitter_ms": null}),
        Some(t) => {
            let span_start = first.map_or(0.0, |f| f.onset_ms);
            let span_end = s.log.stimuli.last().map_or(0.0, |l| l.onset_ms) + 2000.0;
            let times: Vec<f64> = t
                .samples
                .iter()
                .map(|x| x.t_ms)
                .filter(|x| *x >= span_start && *x < span_end)
                .collect();
            let steps: Vec<f64> = times
                .windows(2)
                .map(|w| w[1] - w[0])
                .filter(|d| *d > 0.0 && *d < 500.0)
                .collect();
            let mut st = steps.clone();
            st.sort_by(f64::total_cmp);
            json!({"status": "used", "reason": null,
                "frames_processed": times.len(), "detect_ms_median": 9.5,
                "samples": times.len(),
                "rate_hz": 1000.0 * times.len() as f64 / (span_end - span_start),
                "interval_median_ms": st.get(st.len() / 2),
                "interval_jitter_ms": mean_sd(&steps).1})
        }
    };
    json!({
        "frames": n,
        "median_interval_ms": median,
        "mean_interval_ms": mean,
        "jitter_ms": sd,
        "long_frames_pct": 100.0 * long as f64 / n as f64,
        "onset_error_mean_ms": em,
        "onset_error_sd_ms": esd,
        "onset_error_max_ms": emax,
        "fullscreen": true,
        "hidden_count": 0,
        "camera": camera,
    })
}

fn code_text(rng: &mut SplitMix) -> String {
    const ALPHABET: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    (0..32)
        .map(|_| ALPHABET[(rng.next_u64() % 32) as usize] as char)
        .collect()
}

fn fail(what: impl std::fmt::Display) -> LoadError {
    LoadError::Kind(format!("the demo's ADHD sessions: {what}"))
}

/// The day the demo's services introduced the objective attention test: referrals assessed
/// from then on take it, and reach a decision sooner and in fewer appointments.
pub const TEST_INTRODUCED: time::Date = time::macros::date!(2025 - 11 - 01);
/// The pathway's first referrals.
const PATHWAY_FROM: time::Date = time::macros::date!(2024 - 05 - 01);
/// The demo's last day (`generate::demo_end`).
const PATHWAY_TO: time::Date = time::macros::date!(2026 - 10 - 31);

/// The ADHD pathway's referrals of `trusts`' services as the canonical upload file
/// (`ingest::adhd`, docs/formats.md "ADHD pathway referrals"): about 22 referrals a month a
/// service from May 2024. Before the objective test was introduced a decision takes a median of
/// about 300 days and 6 to 7 appointments; referrals decided after it take the test a week or
/// few before their decision, about 180 days and 4 appointments. Children of Black ethnic
/// categories wait about a quarter longer throughout (an inequality for the views to find).
/// Referrals whose decision would fall after the last day are undecided. Pure and seeded.
pub fn pathway_file(trusts: &[String], seed: u64) -> String {
    use domain::dates::{day_number, iso};
    let mut rng = SplitMix(seed ^ 0xADD0);
    let mut out = String::from(
        "TrustCode,ServiceCode,ReferralId,ReferralDate,AgeAtReferral,Gender,EthnicCategory,IMDDecile,ObjectiveTestDate,AppointmentsToDecision,DecisionDate\n",
    );
    const ETHNIC: [(&str, f64); 12] = [
        ("A", 0.62),
        ("B", 0.02),
        ("C", 0.05),
        ("D", 0.03),
        ("F", 0.03),
        ("H", 0.05),
        ("J", 0.05),
        ("K", 0.02),
        ("M", 0.03),
        ("N", 0.05),
        ("S", 0.02),
        ("Z", 0.03),
    ];
    let (from, to) = (
        i64::from(day_number(PATHWAY_FROM)),
        i64::from(day_number(PATHWAY_TO)),
    );
    let intro = i64::from(day_number(TEST_INTRODUCED));
    let day_text = |d: i64| iso(domain::dates::date_from_day(i32::try_from(d).unwrap_or(0)));
    for trust in trusts {
        let service = format!("{trust}-ADHD");
        let mut n = 0u32;
        let mut day = from;
        while day <= to {
            // About 22 referrals a month: one every 1.4 days on average.
            day += (rng.unit() * 2.8).floor() as i64;
            if day > to {
                break;
            }
            n += 1;
            let u = rng.unit();
            let mut acc = 0.0;
            let ethnic = ETHNIC
                .iter()
                .find(|(_, w)| {
                    acc += w;
                    u < acc
                })
                .map_or("Z", |e| e.0);
            let black = matches!(ethnic, "M" | "N" | "P");
            let age = 5 + (rng.unit() * 11.0) as i64;
            let sex = if rng.unit() < 0.68 { "1" } else { "2" };
            let imd = 1 + (rng.unit() * 10.0) as i64;
            // The wait if assessed the old way, and the new way.
            let z = rng.normal();
            let slow = if black { 1.25 } else { 1.0 };
            let old_wait = (300.0 * slow * (0.3 * z).exp()).round() as i64;
            let new_wait = (180.0 * slow * (0.3 * z).exp()).round() as i64;
            let old_decision = day + old_wait;
            // A referral decided after the test came in is assessed the new way (never later
            // than it would have been).
            let (decision, tested, appts) = if old_decision < intro {
                (old_decision, None, 5 + (rng.unit() * 4.0) as i64)
            } else {
                let d = (day + new_wait)
                    .max(intro + (rng.unit() * 30.0) as i64)
                    .min(old_decision);
                let t = (d - 7 - (rng.unit() * 21.0) as i64).max(day).max(intro);
                (d.max(t), Some(t), 3 + (rng.unit() * 3.0) as i64)
            };
            let decided = decision <= to;
            out.push_str(&format!(
                "{trust},{service},ADHD-{}-{n:04},{},{age},{sex},{ethnic},{imd},{},{},{}\n",
                &day_text(day)[..4],
                day_text(day),
                match tested {
                    Some(t) if t <= to => day_text(t),
                    _ => String::new(),
                },
                if decided {
                    appts.to_string()
                } else {
                    String::new()
                },
                if decided {
                    day_text(decision)
                } else {
                    String::new()
                },
            ));
        }
    }
    out
}

/// Writes the two trusts' tests through `store::cpt`, as the test page would, and uploads
/// their services' pathway referrals (`pathway_file`, written into `folder`) through
/// `ingest::adhd::import` like any upload; returns the tests' ids. The trusts are R9A and the
/// next trust by code (none if the region has no R9A).
pub async fn plant(store: &Store, folder: &std::path::Path) -> Result<Vec<i64>, LoadError> {
    let orgs = store.organisations().await?;
    let mut trusts: Vec<String> = orgs
        .iter()
        .filter(|o| o.level == "trust")
        .map(|o| o.code.clone())
        .collect();
    trusts.sort();
    let Some(first) = trusts.iter().position(|t| t == FIRST_TRUST) else {
        return Ok(Vec::new());
    };
    let chosen: Vec<String> = trusts.iter().skip(first).take(2).cloned().collect();
    let ids = plant_in(store, &chosen).await?;
    let name = "adhd-referrals.csv";
    let path = folder.join(name);
    let content = pathway_file(&chosen, SEED);
    std::fs::write(&path, &content).map_err(|source| LoadError::Write {
        path: path.clone(),
        source,
    })?;
    let file_name = path.display().to_string();
    let summary = ingest::adhd::import(
        store,
        &file_name,
        content.as_bytes(),
        None,
        "demo",
        None,
        PATHWAY_TO,
    )
    .await?
    .map_err(|problems| LoadError::NotImported {
        name: name.into(),
        errors: problems.iter().map(ToString::to_string).collect(),
    })?;
    store
        .audit(
            "demo",
            "upload",
            &format!("{} {name}", ingest::adhd::KIND),
            Some(&format!(
                "upload {}: {} rows, {} new, {} updated",
                summary.upload_id, summary.rows, summary.inserted, summary.updated
            )),
        )
        .await?;
    Ok(ids)
}

/// Writes the tests of `trusts`' ADHD services (see [`plant`]).
pub async fn plant_in(store: &Store, chosen: &[String]) -> Result<Vec<i64>, LoadError> {
    let mut rng = SplitMix(SEED);
    let mut ids = Vec::new();
    let existing: Vec<String> = store.users().await?.into_iter().map(|u| u.name).collect();
    for trust in chosen {
        let service = format!("{trust}-ADHD");
        // The simulated sessions' issuing clinician: an account that exists (codes name their
        // issuer) but is disabled, so it can never sign in.
        let issuer = format!("adhd-demo.{}", trust.to_ascii_lowercase());
        if !existing.contains(&issuer) {
            let grant = domain::access::Grant::new(
                domain::access::Role::Clinician,
                Some(trust.clone()),
                None,
            )
            .map_err(fail)?;
            let password = format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64());
            store.create_user(&issuer, &password, &grant).await?;
            store.set_user_disabled(&issuer, true).await?;
            store
                .audit(
                    "demo",
                    "create_user",
                    &issuer,
                    Some("clinician (disabled: issues the demo's simulated tests)"),
                )
                .await?;
        }
        for (k, child) in children(trust, SEED).iter().enumerate() {
            let task = task_for(child.age);
            let sessions: &[bool] = if child.repeat {
                &[false, true]
            } else {
                &[false]
            };
            let mut previous: Option<i64> = None;
            for (r, medicated) in sessions.iter().enumerate() {
                // Days before the end: the first test 40 to 170 days back, a repeat 28 later.
                let day = 40 + ((k * 23 + trust.len() * 7) % 130) as i64 - 28 * r as i64;
                let issued = END_UNIX - day * 86_400;
                let started = issued + 2 * 86_400 + 3_600 * (k as i64 % 5);
                let text = code_text(&mut rng);
                let code = NewCode {
                    trust_code: trust.clone(),
                    service: service.clone(),
                    patient_ref: child.patient_ref.clone(),
                    age_years: child.age,
                    sex: Some(child.sex.into()),
                    ethnic_group: Some(child.ethnic_group.into()),
                    task: task.id().into(),
                    duration_ms: i64::from(task.params().duration_ms),
                    issued_by: issuer.clone(),
                    issued_at: issued,
                    expires_at: issued + 28 * 86_400,
                    repeat_of: previous,
                };
                let code_id = store.issue_cpt_code(&code, &text).await?;
                let seed = rng.next_u64();
                let attempt = format!("{:016x}{:016x}", rng.next_u64(), rng.next_u64());
                if !store
                    .start_cpt_attempt(code_id, seed, &attempt, started)
                    .await?
                {
                    return Err(fail(format!("code {code_id} could not be started")));
                }
                let plan = cpt::schedule(&task.params(), seed).map_err(fail)?;
                let session = simulate(&plan, child, *medicated, rng.next_u64());
                let opts = ScoringOptions::default();
                let practice_score = cpt::score(&session.practice, &opts).map_err(fail)?;
                let passed = plan.params.practice.passed(&practice_score);
                let practice = json!([{
                    "start": 1,
                    "attempt": 1,
                    "hits": practice_score.whole.hits,
                    "commissions": practice_score.whole.commissions,
                    "passed": passed,
                    "log": session.practice,
                }]);
                store
                    .record_cpt_practice(code_id, &practice.to_string(), true)
                    .await?;
                let score = cpt::score(&session.log, &opts).map_err(fail)?;
                let test = NewTest {
                    started_at: started,
                    finished_at: started + 60 + i64::from(plan.params.duration_ms / 1000),
                    timing_json: timing_json(&session, &plan).to_string(),
                    raw_log: to_json(&session.log)?,
                    head_track: match &session.head_track {
                        Some(t) => Some(to_json(t)?),
                        None => None,
                    },
                    score_json: to_json(&score)?,
                    user_agent: "demo: a simulated session".into(),
                };
                let finished = test.finished_at;
                match store
                    .save_cpt_test(&text, &attempt, &test, finished)
                    .await?
                {
                    Ok(id) => {
                        store
                            .audit_for(
                                "demo",
                                "cpt_test_stored",
                                &format!("cpt test {id}"),
                                Some(trust),
                                Some(&format!("code {code_id} (a simulated session)")),
                            )
                            .await?;
                        ids.push(id);
                    }
                    Err(r) => return Err(fail(format!("code {code_id} refused: {r:?}"))),
                }
                previous = Some(code_id);
            }
        }
    }
    Ok(ids)
}

/// JSON text of a value the store keeps.
fn to_json<T: serde::Serialize>(v: &T) -> Result<String, LoadError> {
    serde_json::to_string(v).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn child(attention: f64, camera: bool) -> Child {
        Child {
            patient_ref: "T-1".into(),
            age: 8,
            sex: "male",
            ethnic_group: "White",
            attention,
            impulsivity: attention,
            activity: attention,
            camera,
            repeat: true,
        }
    }

    /// The sessions written through the store read back as the test page's would: the stored
    /// score is `cpt`'s score of the stored log, the repeats name their first test's code, the
    /// head tracks are valid, and a second run adds nothing new to the accounts.
    #[tokio::test]
    async fn the_sessions_are_stored_as_the_test_page_stores_them() {
        let dir = std::env::temp_dir().join(format!("mhsip-demo-adhd-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}", dir.join("t.db").display());
        let store = Store::open(&url).await.unwrap();
        let trusts = vec!["R9A".to_string(), "R9B".to_string()];
        let ids = plant_in(&store, &trusts).await.unwrap();
        let expected: usize = trusts
            .iter()
            .map(|t| {
                children(t, SEED)
                    .iter()
                    .map(|c| if c.repeat { 2 } else { 1 })
                    .sum::<usize>()
            })
            .sum();
        assert_eq!(ids.len(), expected);
        let mut tracks = 0;
        for id in &ids {
            let t = store.cpt_test(*id).await.unwrap().unwrap();
            let log: RawLog = serde_json::from_str(&t.raw_log).unwrap();
            let score = cpt::score(&log, &ScoringOptions::default()).unwrap();
            assert_eq!(serde_json::to_string(&score).unwrap(), t.score_json);
            let timing: Value = serde_json::from_str(&t.timing_json).unwrap();
            assert_eq!(timing["frames"], 132);
            if let Some(h) = &t.head_track {
                tracks += 1;
                let track: HeadTrack = serde_json::from_str(h).unwrap();
                let span = cpt::Span::of_log(&log, &ScoringOptions::default()).unwrap();
                cpt::activity(&track, span, &Default::default()).unwrap();
                assert_eq!(timing["camera"]["status"], "used");
            } else {
                assert_eq!(timing["camera"]["status"], "declined");
            }
        }
        assert!(
            tracks > 0 && tracks < ids.len(),
            "{tracks} of {}",
            ids.len()
        );
        let r9a = store.cpt_tests("R9A", None).await.unwrap();
        let repeated = r9a
            .iter()
            .filter(|t| {
                r9a.iter()
                    .filter(|u| u.patient_ref == t.patient_ref)
                    .count()
                    == 2
            })
            .count();
        assert!(repeated >= 2, "repeat tests: {repeated}");
        let users = store.users().await.unwrap();
        assert!(users.iter().any(|u| u.name == "adhd-demo.r9a"));
        assert!(
            store
                .verify_user("adhd-demo.r9a", "anything")
                .await
                .unwrap()
                .is_none()
        );
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// The pathway file imports whole, and the decisions after the test came in are sooner
    /// and take fewer appointments (the planted improvement), with Black children waiting
    /// longer throughout (the planted inequality).
    #[test]
    fn the_pathway_file_reads_and_shows_the_planted_changes() {
        let trusts = vec!["R9A".to_string(), "R9B".to_string()];
        let text = pathway_file(&trusts, SEED);
        assert_eq!(text, pathway_file(&trusts, SEED));
        let held: std::collections::HashSet<String> = trusts.iter().cloned().collect();
        let rows = ingest::adhd::read(
            "adhd-referrals.csv",
            text.as_bytes(),
            None,
            &ingest::adhd::Trusts {
                held: &held,
                only: None,
            },
            PATHWAY_TO,
        )
        .unwrap();
        assert!(rows.len() > 1000, "{}", rows.len());
        let intro = i64::from(domain::dates::day_number(TEST_INTRODUCED));
        let med = |v: &mut Vec<f64>| {
            v.sort_by(f64::total_cmp);
            v[v.len() / 2]
        };
        let pick = |after: bool, f: &dyn Fn(&store::adhd::AdhdReferralRow) -> bool| {
            let mut days: Vec<f64> = rows
                .iter()
                .filter(|r| r.decision_day.is_some_and(|d| (d >= intro) == after) && f(r))
                .map(|r| (r.decision_day.unwrap() - r.referral_day) as f64)
                .collect();
            let mut appts: Vec<f64> = rows
                .iter()
                .filter(|r| r.decision_day.is_some_and(|d| (d >= intro) == after) && f(r))
                .map(|r| r.appointments.unwrap() as f64)
                .collect();
            (med(&mut days), med(&mut appts))
        };
        let all = |_: &store::adhd::AdhdReferralRow| true;
        let (before, after) = (pick(false, &all), pick(true, &all));
        assert!(
            before.0 > 250.0 && after.0 < 0.8 * before.0,
            "{before:?} {after:?}"
        );
        assert!(after.1 < before.1, "{before:?} {after:?}");
        let black = |r: &store::adhd::AdhdReferralRow| {
            matches!(r.ethnic_category.as_deref(), Some("M" | "N" | "P"))
        };
        let white = |r: &store::adhd::AdhdReferralRow| r.ethnic_category.as_deref() == Some("A");
        let (b, w) = (pick(true, &black).0, pick(true, &white).0);
        assert!(b > 1.1 * w, "Black {b} days, White British {w}");
        assert!(
            rows.iter()
                .filter(|r| r.test_day.is_some())
                .all(|r| r.test_day.unwrap() >= intro)
        );
        assert!(rows.iter().any(|r| r.decision_day.is_none()));
    }

    #[test]
    fn sessions_are_the_same_for_the_same_seed() {
        let plan = cpt::schedule(&TaskVersion::GoNoGo.params(), 5).unwrap();
        let a = simulate(&plan, &child(1.0, true), false, 9);
        let b = simulate(&plan, &child(1.0, true), false, 9);
        assert_eq!(a, b);
        assert_ne!(a, simulate(&plan, &child(1.0, true), false, 10));
        assert_eq!(children("R9A", SEED), children("R9A", SEED));
        assert_ne!(children("R9A", SEED), children("R9B", SEED));
    }

    #[test]
    fn the_logs_score_and_the_latent_level_shows() {
        let plan = cpt::schedule(&TaskVersion::GoNoGo.params(), 11).unwrap();
        let opts = ScoringOptions::default();
        let mut omissions = Vec::new();
        for a in [-1.0, 2.0] {
            let s = simulate(&plan, &child(a, false), false, 3);
            assert_eq!(s.log.stimuli.len(), plan.trials.len());
            assert!(s.head_track.is_none());
            let score = cpt::score(&s.log, &opts).unwrap();
            let p = cpt::score(&s.practice, &opts).unwrap();
            assert!(plan.params.practice.passed(&p), "the practice passes");
            omissions.push((score.whole.omissions, score.whole.hit_rt.mean.unwrap()));
        }
        // The less attentive child omits more and responds more slowly.
        assert!(omissions[1].0 > omissions[0].0, "{omissions:?}");
        assert!(omissions[1].1 > omissions[0].1, "{omissions:?}");
    }

    #[test]
    fn medication_improves_the_scores_and_the_track_is_valid() {
        let plan = cpt::schedule(&TaskVersion::GoNoGo.params(), 21).unwrap();
        let opts = ScoringOptions::default();
        let c = child(1.5, true);
        let off = simulate(&plan, &c, false, 4);
        let on = simulate(&plan, &c, true, 4);
        let (s_off, s_on) = (
            cpt::score(&off.log, &opts).unwrap(),
            cpt::score(&on.log, &opts).unwrap(),
        );
        assert!(s_on.whole.omissions < s_off.whole.omissions);
        let span = cpt::Span::of_log(&on.log, &opts).unwrap();
        let a_on =
            cpt::activity(on.head_track.as_ref().unwrap(), span, &Default::default()).unwrap();
        let a_off =
            cpt::activity(off.head_track.as_ref().unwrap(), span, &Default::default()).unwrap();
        assert!(a_on.whole.tracked_pct > 80.0, "{}", a_on.whole.tracked_pct);
        assert!(a_on.whole.distance < a_off.whole.distance);
        let t = timing_json(&on, &plan);
        assert_eq!(t["camera"]["status"], "used");
        assert!(t["camera"]["rate_hz"].as_f64().unwrap() > 25.0);
        assert!(t["onset_error_max_ms"].as_f64().unwrap() < FRAME_MS);
    }
}
