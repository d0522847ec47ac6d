//! The demo's ligature point registers (issue 13): a few wards audited five times over two years
//! up to the region's last day, each audit written as the trust's own spreadsheet would be and
//! imported through `ingest::ligature` (checked whole against the ward's register, as any
//! upload), then a few actions. Ash Ward's register carries the cases the pages are for: points
//! replaced and removed over time, new points found at later audits, and a tier 3 point (the
//! wardrobe door hinge in bedroom 1) left open for two years with staff vigilance as its only
//! control and its capital bid overdue, which the trust lead's escalation list shows.
//!
//! Some of Ash Ward's self-harm incidents are then linked to the register's places (issue 13,
//! item 4) through the real import path: the demo's own incident rows, byte for byte, with the
//! area, the point and the method added (`place_incidents`), uploaded again as a trust corrects
//! its risk system's export (same identifiers, so the rows are updated, not added: every count
//! stays as it was). One of them is at a point the register had replaced with an anti-ligature
//! fitting, so the trust's escalation list flags it for review.
//!
//! Deterministic: every date is counted from the last day of the demo's bed days; nothing is
//! random. The safety files are not touched.

use crate::load::LoadError;
use domain::dates::{date_from_day, day_number, iso};
use std::path::Path;
use store::Store;
use store::ligature::ActionRow;
use time::{Date, Duration};

const HEADER: &str = "WardCode,AuditDate,Assessor,AreaCode,AreaName,Tier,PointRef,Finding,Location,Description,PointType,HeightBand,Likelihood,Consequence,Controls,ResidualLikelihood,ResidualConsequence,ReviewDate";

/// One change to a point at an audit (by its index, 0 to 4): its residual risk and controls, or
/// its removal.
struct Stage {
    audit: usize,
    residual: Option<(u8, u8)>,
    controls: &'static str,
}

const fn at(audit: usize, rl: u8, rc: u8, controls: &'static str) -> Stage {
    Stage {
        audit,
        residual: Some((rl, rc)),
        controls,
    }
}

const fn removed(audit: usize) -> Stage {
    Stage {
        audit,
        residual: None,
        controls: "",
    }
}

struct PointSpec {
    reference: &'static str,
    area: usize,
    location: &'static str,
    description: &'static str,
    kind: &'static str,
    height: &'static str,
    inherent: (u8, u8),
    /// The first stage is when it is found (new).
    stages: &'static [Stage],
}

struct WardSpec {
    ward: &'static str,
    assessors: [&'static str; 5],
    areas: &'static [(&'static str, &'static str, u8)],
    points: &'static [PointSpec],
}

const ASH: WardSpec = WardSpec {
    ward: "R9A-ASH",
    assessors: ["ward.ash", "ward.ash", "lead.r9a", "ward.ash", "ward.ash"],
    areas: &[
        ("BED-01", "Bedroom 1", 3),
        ("BED-02", "Bedroom 2", 3),
        ("BED-03", "Bedroom 3", 3),
        ("EN-01", "En-suite 1", 3),
        ("CORR", "Main corridor", 2),
        ("GARDEN", "Garden", 2),
        ("LOUNGE", "Lounge", 1),
    ],
    points: &[
        PointSpec {
            reference: "ASH-L001",
            area: 0,
            location: "Wardrobe door, left side",
            description: "Exposed wardrobe door hinges",
            kind: "wardrobe",
            height: "middle",
            inherent: (4, 5),
            stages: &[at(0, 3, 5, "staff_vigilance")],
        },
        PointSpec {
            reference: "ASH-L002",
            area: 3,
            location: "Over the shower",
            description: "Fixed shower curtain rail",
            kind: "rail",
            height: "high",
            inherent: (4, 5),
            stages: &[
                at(0, 3, 4, "observation;staff_vigilance"),
                at(1, 1, 4, "anti_ligature"),
                removed(3),
            ],
        },
        PointSpec {
            reference: "ASH-L003",
            area: 1,
            location: "Window, by the bed",
            description: "Window restrictor arm",
            kind: "window",
            height: "middle",
            inherent: (3, 5),
            stages: &[at(0, 2, 4, "observation"), removed(2)],
        },
        PointSpec {
            reference: "ASH-L004",
            area: 4,
            location: "Ceiling void by the fire door",
            description: "Exposed pipework behind loose boxing",
            kind: "pipe",
            height: "high",
            inherent: (3, 5),
            stages: &[at(0, 2, 4, "restricted_access")],
        },
        PointSpec {
            reference: "ASH-L005",
            area: 6,
            location: "Lounge door",
            description: "Overhead door closer",
            kind: "door",
            height: "high",
            inherent: (3, 4),
            stages: &[at(0, 2, 3, "observation")],
        },
        PointSpec {
            reference: "ASH-L006",
            area: 2,
            location: "Foot of the bed",
            description: "Bed frame with open slats",
            kind: "bed",
            height: "low",
            inherent: (3, 5),
            stages: &[
                at(2, 3, 4, "staff_vigilance"),
                at(4, 2, 4, "observation;staff_vigilance"),
            ],
        },
        PointSpec {
            reference: "ASH-L007",
            area: 3,
            location: "Basin",
            description: "Lever taps",
            kind: "sanitary",
            height: "low",
            inherent: (3, 4),
            stages: &[at(0, 2, 4, "observation"), at(1, 1, 4, "anti_ligature")],
        },
        PointSpec {
            reference: "ASH-L008",
            area: 5,
            location: "Boundary fence by the smoking shelter",
            description: "Fence rail with gaps",
            kind: "other",
            height: "middle",
            inherent: (2, 5),
            stages: &[at(3, 2, 4, "restricted_access;staff_vigilance")],
        },
    ],
};

const ELM: WardSpec = WardSpec {
    ward: "R9A-ELM",
    assessors: ["ward.elm", "ward.elm", "ward.elm", "lead.r9a", "ward.elm"],
    areas: &[
        ("BED-01", "Bedroom 1", 3),
        ("BATH", "Assisted bathroom", 3),
        ("DAY", "Day room", 1),
    ],
    points: &[
        PointSpec {
            reference: "ELM-01",
            area: 1,
            location: "Beside the bath",
            description: "Grab rail",
            kind: "rail",
            height: "middle",
            inherent: (3, 5),
            stages: &[at(0, 2, 5, "restricted_access"), removed(2)],
        },
        PointSpec {
            reference: "ELM-02",
            area: 0,
            location: "En-suite door",
            description: "Door handle",
            kind: "door",
            height: "middle",
            inherent: (3, 4),
            stages: &[at(0, 2, 4, "observation"), at(2, 1, 4, "anti_ligature")],
        },
        PointSpec {
            reference: "ELM-03",
            area: 2,
            location: "Television bracket",
            description: "Wall-mounted bracket",
            kind: "other",
            height: "high",
            inherent: (2, 4),
            stages: &[at(1, 1, 4, "observation")],
        },
    ],
};

const ROWAN: WardSpec = WardSpec {
    ward: "R9B-ROWAN",
    assessors: ["lead.r9b", "lead.r9b", "lead.r9b", "lead.r9b", "lead.r9b"],
    areas: &[("BED-04", "Bedroom 4", 3), ("QUIET", "Quiet room", 2)],
    points: &[
        PointSpec {
            reference: "ROW-1",
            area: 0,
            location: "Radiator",
            description: "Radiator pipe",
            kind: "pipe",
            height: "low",
            inherent: (3, 5),
            stages: &[at(0, 3, 4, "staff_vigilance"), at(3, 1, 4, "anti_ligature")],
        },
        PointSpec {
            reference: "ROW-2",
            area: 1,
            location: "Curtain track",
            description: "Curtain track over the window",
            kind: "rail",
            height: "high",
            inherent: (3, 5),
            stages: &[at(0, 2, 4, "observation"), removed(4)],
        },
    ],
};

/// The five audit days: two years, then 18 months, a year, six months and a week before `last`.
fn audit_days(last: Date) -> [Date; 5] {
    [730, 548, 365, 182, 7].map(|d| last - Duration::days(d))
}

/// A CSV field, quoted when it holds a comma or a quote.
fn quoted(s: &str) -> String {
    if s.contains([',', '"']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

/// Each audit of `w` as the trust's spreadsheet.
fn sheets(w: &WardSpec, last: Date) -> Vec<(Date, String)> {
    let days = audit_days(last);
    let mut out = Vec::new();
    for (i, day) in days.iter().enumerate() {
        let mut csv = format!("{HEADER}\n");
        for p in w.points {
            let first = p.stages.first().map_or(usize::MAX, |s| s.audit);
            if first > i {
                continue;
            }
            // The point's stage at this audit, and the one in force before it.
            let here = p.stages.iter().find(|s| s.audit == i);
            let before = p.stages.iter().rev().find(|s| s.audit < i);
            if before.is_some_and(|s| s.residual.is_none()) {
                continue; // removed at an earlier audit
            }
            let (finding, stage) = match (here, before) {
                (Some(s), None) => ("new", s),
                (Some(s), Some(b)) if s.residual.is_none() => ("removed", b),
                (Some(s), Some(_)) => ("changed", s),
                (None, Some(b)) => ("present", b),
                (None, None) => continue,
            };
            let set_at = if finding == "present" || finding == "removed" {
                stage.audit
            } else {
                i
            };
            let review = days[set_at] + Duration::days(182);
            let (rl, rc) = stage.residual.unwrap_or((1, 1));
            let (code, name, tier) = w.areas[p.area];
            csv.push_str(&format!(
                "{},{},{},{code},{name},{tier},{},{finding},{},{},{},{},{},{},{},{rl},{rc},{}\n",
                w.ward,
                iso(*day),
                w.assessors[i],
                p.reference,
                quoted(p.location),
                quoted(p.description),
                p.kind,
                p.height,
                p.inherent.0,
                p.inherent.1,
                stage.controls,
                iso(review),
            ));
        }
        out.push((*day, csv));
    }
    out
}

/// The places linked to Ash Ward's self-harm incidents after its second audit, in date order:
/// (point, area, method). The first is at ASH-L007 (the en-suite basin's lever taps), replaced
/// with an anti-ligature fitting at that audit, so it is flagged for review; ASH-L001 is the
/// tier 3 wardrobe hinge with staff vigilance alone.
const PLACES: [(Option<&str>, &str, &str); 5] = [
    (Some("ASH-L007"), "EN-01", "ligature_anchor"),
    (Some("ASH-L001"), "BED-01", "ligature_anchor"),
    (None, "EN-01", "ligature_no_anchor"),
    (None, "LOUNGE", "cutting"),
    (Some("ASH-L001"), "BED-01", "ligature_no_anchor"),
];

/// The file name of the upload that links incidents to places.
pub const PLACES_FILE: &str = "incidents-at-ligature-places.csv";

/// Ash Ward's self-harm incidents from the demo's incidents file (`csv`, as `generate` writes
/// it), each row exactly as it was with the register's area, point and the method added: the
/// first of them after the ward's second audit, spread over the places of `PLACES`. `None` when
/// the file holds too few.
pub fn place_incidents(csv: &str, last: Date) -> Option<String> {
    let mut lines = csv.lines();
    let header = lines.next()?;
    let cols: Vec<&str> = header.split(',').collect();
    let col = |n: &str| cols.iter().position(|c| *c == n);
    let (kind, ward, date) = (col("IncidentKind")?, col("WardCode")?, col("IncidentDate")?);
    let from = audit_days(last)[1];
    let mut rows: Vec<(Date, &str)> = lines
        .filter_map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            if f.len() != cols.len() || f[kind] != "self_harm" || f[ward] != ASH.ward {
                return None;
            }
            let d = domain::dates::parse_date(f[date].get(..10)?).ok()?;
            (d > from && d <= last).then_some((d, l))
        })
        .collect();
    rows.sort();
    if rows.len() < PLACES.len() {
        return None;
    }
    // Spread over the months after the second audit, oldest first.
    let step = rows.len() / PLACES.len();
    let mut out = format!("{header},LigaturePointRef,LigatureAreaCode,SelfHarmMethod\n");
    for (i, (point, area, method)) in PLACES.iter().enumerate() {
        let (_, l) = rows[i * step];
        out.push_str(&format!("{l},{},{area},{method}\n", point.unwrap_or("")));
    }
    Some(out)
}

/// Plant the registers of the demo wards held, writing each audit's spreadsheet into `folder`
/// and importing it; then the actions; then, when the demo's incidents file is given
/// (`incidents`), link some of Ash Ward's self-harm incidents to its places through the import
/// (with the demo's pseudonymisation `keys`). Returns the audits' ids.
pub async fn plant(
    store: &Store,
    keys: &mut ingest::pseudonym::Pseudonymiser,
    folder: &Path,
    incidents: Option<&str>,
) -> Result<Vec<i64>, LoadError> {
    let wards: Vec<String> = store.wards().await?.into_iter().map(|w| w.code).collect();
    let Some((_, last)) = store.data_range().await? else {
        return Ok(Vec::new());
    };
    let last = date_from_day(last as i32);
    let mut ids = Vec::new();
    for w in [&ASH, &ELM, &ROWAN] {
        if !wards.iter().any(|c| c == w.ward) {
            continue;
        }
        for (day, csv) in sheets(w, last) {
            let name = format!("ligature-audit-{}-{}.csv", w.ward, iso(day));
            let path = folder.join(&name);
            std::fs::write(&path, &csv).map_err(|source| LoadError::Write {
                path: path.clone(),
                source,
            })?;
            let up = ingest::ligature::AuditUpload {
                file: &name,
                bytes: csv.as_bytes(),
                mapping: &ingest::mapping::Compiled::default(),
                uploaded_by: "demo",
                only_trust: None,
                now: 0,
                dry_run: false,
            };
            let r = ingest::ligature::import_audit(store, &up)
                .await
                .map_err(|e| LoadError::NotImported {
                    name: name.clone(),
                    errors: vec![e],
                })?;
            match r {
                Ok(i) => {
                    store
                        .audit_for(
                            "demo",
                            "ligature_audit_imported",
                            w.ward,
                            Some(w.ward),
                            Some(&format!(
                                "audit {} from {name}, {} points",
                                i.audit_id, i.points
                            )),
                        )
                        .await?;
                    ids.push(i.audit_id);
                }
                Err(errors) => {
                    return Err(LoadError::NotImported {
                        name,
                        errors: errors.iter().map(|e| e.to_string()).collect(),
                    });
                }
            }
        }
    }
    let days = audit_days(last);
    let action = |ward: &str,
                  trust: &str,
                  point: &str,
                  description: &str,
                  owner: &str,
                  raised: Date,
                  due: Date,
                  status: &str,
                  closed: Option<Date>,
                  reference: &str| ActionRow {
        id: 0,
        ward_code: ward.into(),
        trust_code: trust.into(),
        point_ref: point.into(),
        description: description.into(),
        owner: owner.into(),
        raised_day: i64::from(day_number(raised)),
        due_day: i64::from(day_number(due)),
        status: status.into(),
        closed_day: closed.map(|d| i64::from(day_number(d))),
        reference: Some(reference.into()),
        updated_by: "demo".into(),
        updated_at: 0,
    };
    let mut actions = Vec::new();
    if wards.iter().any(|c| c == "R9A-ASH") {
        actions.push(action(
            "R9A-ASH",
            "R9A",
            "ASH-L001",
            "Replace the wardrobe with an anti-ligature wardrobe (sloped top, continuous hinge)",
            "Estates capital programme",
            days[0],
            days[0] + Duration::days(180),
            "open",
            None,
            "CB-2022-041 (capital projects register)",
        ));
        actions.push(action(
            "R9A-ASH",
            "R9A",
            "ASH-L002",
            "Fit a collapsible shower rail",
            "Estates (minor works)",
            days[0],
            days[0] + Duration::days(60),
            "done",
            Some(days[1]),
            "WO-118233",
        ));
        actions.push(action(
            "R9A-ASH",
            "R9A",
            "ASH-L004",
            "Re-fix the boxing over the pipework with tamper-proof screws",
            "Estates (minor works)",
            days[2],
            days[2] + Duration::days(90),
            "in_progress",
            None,
            "WO-120517",
        ));
        actions.push(action(
            "R9A-ASH",
            "R9A",
            "ASH-L006",
            "Replace the bed with an anti-ligature bed base",
            "Ward manager",
            days[2],
            last + Duration::days(30),
            "open",
            None,
            "Equipment request EQ-3312",
        ));
    }
    if wards.iter().any(|c| c == "R9B-ROWAN") {
        actions.push(action(
            "R9B-ROWAN",
            "R9B",
            "ROW-1",
            "Box in the radiator pipework",
            "Estates",
            days[0],
            days[0] + Duration::days(120),
            "done",
            Some(days[3]),
            "WO-55120",
        ));
    }
    for a in &actions {
        store.add_ligature_action(a).await?;
    }
    if wards.iter().any(|c| c == ASH.ward)
        && let Some(csv) = incidents.and_then(|c| place_incidents(c, last))
    {
        let path = folder.join(PLACES_FILE);
        std::fs::write(&path, &csv).map_err(|source| LoadError::Write {
            path: path.clone(),
            source,
        })?;
        let file_name = path.display().to_string();
        let req = ingest::Request {
            kind: ingest::formats::Kind::Incidents,
            file_name: &file_name,
            bytes: csv.as_bytes(),
            mapping: None,
            uploaded_by: "demo",
            only_trust: None,
            dry_run: false,
        };
        let report = ingest::import(store, keys, &req, &mut |_, _, _| {}).await?;
        if !report.ok() {
            return Err(LoadError::NotImported {
                name: PLACES_FILE.into(),
                errors: report.error_lines(),
            });
        }
        let s = report.summary.unwrap_or_default();
        store
            .audit(
                "demo",
                "upload",
                &format!("incidents {PLACES_FILE}"),
                Some(&format!(
                    "upload {}: {} rows, {} new, {} updated",
                    s.upload_id, s.rows, s.inserted, s.updated
                )),
            )
            .await?;
    }
    Ok(ids)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    #[test]
    fn the_sheets_walk_every_open_point_and_remove_and_add_over_time() {
        let s = sheets(&ASH, date!(2025 - 03 - 31));
        assert_eq!(s.len(), 5);
        let rows = |i: usize| {
            s[i].1
                .lines()
                .skip(1)
                .map(str::to_string)
                .collect::<Vec<_>>()
        };
        // L001 at every audit, vigilance only, never changed.
        for i in 0..5 {
            assert!(
                rows(i)
                    .iter()
                    .any(|r| r.contains("ASH-L001") && r.contains("staff_vigilance")),
                "{i}"
            );
        }
        assert!(rows(3).iter().any(|r| r.contains("ASH-L002,removed")));
        assert!(!rows(4).iter().any(|r| r.contains("ASH-L002")));
        assert!(rows(2).iter().any(|r| r.contains("ASH-L006,new")));
        assert_eq!(s[0].0, date!(2023 - 04 - 01));
    }

    /// Planted through the importer on a real store (the demo's organisations, wards and bed
    /// days, one trust's worth of years): the registers read back as designed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn planted_registers_read_back() {
        let dir = std::env::temp_dir().join(format!("mhsip-demo-lig-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let store = Store::open(&format!("sqlite://{}", dir.join("t.db").display()))
            .await
            .unwrap();
        let size = crate::generate::Size {
            trusts: 2,
            wards_per_trust: 10,
            years: 3,
        };
        let demo = crate::generate::generate_region(size, 2024).unwrap();
        let mut keys = ingest::pseudonym::Pseudonymiser::from_key([1; 32]);
        for (kind, name, content) in &demo.files {
            if !matches!(
                *kind,
                "organisations" | "wards" | "bed_days" | "patients" | "incidents"
            ) {
                continue;
            }
            let req = ingest::Request {
                kind: ingest::formats::Kind::parse(kind).unwrap(),
                file_name: name,
                bytes: content.as_bytes(),
                mapping: None,
                uploaded_by: "demo",
                only_trust: None,
                dry_run: false,
            };
            let r = ingest::import(&store, &mut keys, &req, &mut |_, _, _| {})
                .await
                .unwrap();
            assert!(r.ok(), "{name}: {:?}", r.error_lines());
        }
        let incidents = demo
            .files
            .iter()
            .find(|(k, _, _)| *k == "incidents")
            .map(|(_, _, c)| c.as_str());
        let before = store.count("incidents").await.unwrap();
        let ids = plant(&store, &mut keys, &dir, incidents).await.unwrap();
        // Incidents linked to places: updated, not added; one flagged at a controlled point.
        assert_eq!(store.count("incidents").await.unwrap(), before);
        let at = store.ligature_incidents("R9A-ASH").await.unwrap();
        assert_eq!(at.len(), PLACES.len());
        assert_eq!(at[0].ligature_point.as_deref(), Some("ASH-L007"));
        let ash_now = ingest::ligature::held(&store, "R9A-ASH")
            .await
            .unwrap()
            .register;
        let flagged: Vec<&str> = at
            .iter()
            .filter(|i| {
                i.ligature_point
                    .as_ref()
                    .and_then(|p| ash_now.points.get(p))
                    .and_then(|p| {
                        ligature::controlled_on(
                            p,
                            ligature::Banding::default(),
                            date_from_day(i.day as i32),
                        )
                    })
                    .is_some()
            })
            .map(|i| i.ligature_point.as_deref().unwrap_or(""))
            .collect();
        assert_eq!(flagged, ["ASH-L007"], "one incident at a controlled point");
        assert_eq!(ids.len(), 15, "five audits of three wards");
        let (_, last) = store.data_range().await.unwrap().unwrap();
        let last = date_from_day(last as i32);
        let ash = ingest::ligature::held(&store, "R9A-ASH")
            .await
            .unwrap()
            .register;
        assert_eq!(ash.audits.len(), 5);
        assert_eq!(ash.points.len(), 8);
        assert_eq!(ash.open_points().count(), 6);
        let l1 = &ash.points["ASH-L001"];
        assert_eq!(l1.age_days(last), 730);
        // The tier 3 point left two years with vigilance alone, walked at every audit.
        assert_eq!(l1.history().len(), 5);
        assert_eq!(l1.latest().tier.number(), 3);
        assert_eq!(l1.state().residual.score(), 15);
        assert!(l1.state().vigilance_only());
        let l6 = &ash.points["ASH-L006"];
        assert!(!l6.state().vigilance_only(), "L006 has observation now");
        assert!(!ash.points["ASH-L002"].is_open() && !ash.points["ASH-L003"].is_open());
        let actions = store.ligature_actions("R9A-ASH").await.unwrap();
        assert_eq!(actions.len(), 4);
        assert!(
            dir.join(format!(
                "ligature-audit-R9A-ASH-{}.csv",
                iso(last - Duration::days(7))
            ))
            .exists()
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
