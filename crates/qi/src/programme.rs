//! The programme view's history (issue 11, item 4): how many projects stood at each level of
//! the scale, month by month. A project's record holds the dates of what happened (cycles'
//! starts and ends, acts, spread), so its record at the end of a past month is read back from
//! those dates (`as_of`); the caller suggests a score from that record and from its measures'
//! charts cut at the same day, and `Levels` counts the scores and draws them.

use crate::diagram::xml_escape;
use crate::model::{Cycle, Project};
use crate::progress::{RULES, Score};
use std::fmt::Write;
use time::Date;

/// The record as it stood at the end of `day`, read from its own dates: cycles started after
/// `day` are left out, and so are cycles with no start date (when they were entered is not
/// kept; the current month's suggestion reads the record as it is); a cycle that ended after
/// `day` is still running (no end, no act); an act dated after `day` is not yet decided; a
/// `next` link to a cycle left out is cut; spread adopted after `day` is left out. The charter,
/// team, aim and family have no dates and are taken as they are now.
pub fn as_of(p: &Project, day: Date) -> Project {
    let mut out = p.clone();
    out.cycles = p
        .cycles
        .iter()
        .filter(|c| c.do_.start.is_some_and(|s| s <= day))
        .map(|c| cycle_as_of(c, day))
        .collect();
    let kept: Vec<String> = out.cycles.iter().map(|c| c.id.clone()).collect();
    for c in &mut out.cycles {
        if c.next.as_ref().is_some_and(|n| !kept.contains(n)) {
            c.next = None;
        }
    }
    out.spread.retain(|s| s.adopted <= day);
    out
}

fn cycle_as_of(c: &Cycle, day: Date) -> Cycle {
    let mut c = c.clone();
    if c.do_.end.is_some_and(|e| e > day) {
        c.do_.end = None;
        c.act = None;
    }
    if c.act.as_ref().is_some_and(|a| a.date > day) {
        c.act = None;
    }
    c
}

/// The number of projects at each level, month by month: `counts[i][h - 1]` projects had the
/// score of `h` half-points in `months[i]` (a month counts a project from the month of its
/// first dated event on).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Levels {
    pub months: Vec<Date>,
    pub counts: Vec<[usize; 10]>,
}

impl Levels {
    /// `months` (first days, ascending), each with the scores of the projects counted in it.
    pub fn count(months: &[Date], scores: &[Vec<Score>]) -> Levels {
        let counts = months
            .iter()
            .enumerate()
            .map(|(i, _)| {
                let mut c = [0usize; 10];
                for s in scores.get(i).into_iter().flatten() {
                    c[usize::from(s.halves()) - 1] += 1;
                }
                c
            })
            .collect();
        Levels {
            months: months.to_vec(),
            counts,
        }
    }

    fn most(&self) -> usize {
        self.counts
            .iter()
            .map(|c| c.iter().sum::<usize>())
            .max()
            .unwrap_or(0)
    }
}

/// One colour a level (NHS identity palette): greys before any change is tested, warm yellow
/// for changes tested without improvement, blues for improvement, greens for sustained and
/// spread results.
const SHADES: [&str; 10] = [
    "#f0f4f5", "#d8dde0", "#aeb7bd", "#768692", "#ffb81c", "#41b6e6", "#005eb8", "#003087",
    "#00a499", "#007f3b",
];

/// The months as stacked columns, one band per level (0.5 at the bottom), with a legend; an
/// image with a title and a description. Its table is the text version (the caller prints it).
pub fn levels_svg(l: &Levels, title: &str) -> String {
    let (w, h) = (960.0_f64, 320.0_f64);
    let (left, right, top, bottom) = (44.0, 330.0, 34.0, 52.0);
    let plot_w = w - left - right;
    let plot_h = h - top - bottom;
    let most = l.most().max(1);
    let step = nice_step(most);
    let y_max = (most.div_ceil(step) * step) as f64;
    let n = l.months.len().max(1) as f64;
    let col = plot_w / n;
    let bar = (col * 0.7).max(1.0);
    let y = |v: f64| top + plot_h - v / y_max * plot_h;
    let mut s = String::new();
    let desc = match (l.months.first(), l.months.last()) {
        (Some(a), Some(b)) => format!(
            "Stacked columns, one a month from {} to {}: the number of projects at each level of the IHI scale, from 0.5 at the bottom to 5.0 at the top. The table below holds the same numbers.",
            month_label(*a),
            month_label(*b)
        ),
        _ => "No project has a dated event yet.".to_string(),
    };
    let _ = write!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {w} {h}" width="100%" role="img" aria-labelledby="qi-levels-title qi-levels-desc" class="qi-levels"><title id="qi-levels-title">{}</title><desc id="qi-levels-desc">{}</desc>"#,
        xml_escape(title),
        xml_escape(&desc)
    );
    let _ = write!(
        s,
        r##"<text x="{left}" y="20" font-family="Arial, sans-serif" font-size="14" font-weight="bold" fill="#212b32">{}</text>"##,
        xml_escape(title)
    );
    // Grid and axis.
    let mut v = 0;
    while v as f64 <= y_max {
        let yy = y(v as f64);
        let _ = write!(
            s,
            r##"<line x1="{left}" x2="{}" y1="{yy:.1}" y2="{yy:.1}" stroke="#d8dde0"/><text x="{}" y="{:.1}" font-family="Arial, sans-serif" font-size="11" text-anchor="end" fill="#4c6272">{v}</text>"##,
            left + plot_w,
            left - 6.0,
            yy + 4.0
        );
        v += step;
    }
    let label_every = (l.months.len() / 12).max(1);
    for (i, (m, c)) in l.months.iter().zip(&l.counts).enumerate() {
        let x = left + col * i as f64 + (col - bar) / 2.0;
        let mut base = 0usize;
        for (k, &count) in c.iter().enumerate() {
            if count == 0 {
                continue;
            }
            let (y1, y0) = (y((base + count) as f64), y(base as f64));
            let _ = write!(
                s,
                r##"<rect x="{x:.1}" y="{y1:.1}" width="{bar:.1}" height="{:.1}" fill="{}" stroke="#ffffff" stroke-width="0.5"><title>{}: {count} at {} {}</title></rect>"##,
                y0 - y1,
                SHADES[k],
                month_label(*m),
                RULES[k].score,
                xml_escape(RULES[k].name)
            );
            base += count;
        }
        if i % label_every == 0 {
            let _ = write!(
                s,
                r##"<text x="{:.1}" y="{:.1}" font-family="Arial, sans-serif" font-size="10" text-anchor="end" transform="rotate(-45 {:.1} {:.1})" fill="#4c6272">{}</text>"##,
                x + bar / 2.0,
                top + plot_h + 14.0,
                x + bar / 2.0,
                top + plot_h + 14.0,
                month_label(*m)
            );
        }
    }
    let _ = write!(
        s,
        r##"<line x1="{left}" x2="{}" y1="{:.1}" y2="{:.1}" stroke="#4c6272"/>"##,
        left + plot_w,
        y(0.0),
        y(0.0)
    );
    // Legend, 5.0 at the top as in the columns.
    let lx = left + plot_w + 16.0;
    for (row, k) in (0..10).rev().enumerate() {
        let ly = top + row as f64 * 22.0;
        let _ = write!(
            s,
            r##"<rect x="{lx:.1}" y="{ly:.1}" width="14" height="14" fill="{}" stroke="#768692" stroke-width="0.5"/><text x="{:.1}" y="{:.1}" font-family="Arial, sans-serif" font-size="11" fill="#212b32">{} {}</text>"##,
            SHADES[k],
            lx + 20.0,
            ly + 11.0,
            RULES[k].score,
            xml_escape(RULES[k].name)
        );
    }
    s.push_str("</svg>");
    s
}

fn nice_step(most: usize) -> usize {
    match most {
        0..=10 => 1,
        11..=20 => 2,
        21..=50 => 5,
        51..=100 => 10,
        _ => most.div_ceil(10).next_multiple_of(10),
    }
}

/// `Mar 2024`.
pub fn month_label(d: Date) -> String {
    const NAMES: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{} {}",
        NAMES[usize::from(u8::from(d.month())) - 1],
        d.year()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Act, Decision, Do, OrgLevel, Organisation, Plan, Prediction, Spread};
    use crate::{Expected, MeasureRef};
    use time::macros::date;

    fn cycle(id: &str, start: Option<Date>, end: Option<Date>, act: Option<Date>) -> Cycle {
        Cycle {
            id: id.into(),
            change_idea: "ci1".into(),
            question: "Will it work?".into(),
            prediction: Prediction {
                measure: MeasureRef::Catalogue("ri_rate".into()),
                direction: Expected::Decrease,
                text: String::new(),
            },
            plan: Plan::default(),
            do_: Do {
                start,
                end,
                notes: String::new(),
            },
            study: String::new(),
            act: act.map(|date| Act {
                decision: Decision::Adopt,
                date,
                notes: String::new(),
                rebase: false,
            }),
            next: None,
        }
    }

    fn project() -> Project {
        let mut p = Project::new(
            "Huddles",
            Organisation {
                level: OrgLevel::Ward,
                code: "ASH".into(),
            },
        );
        let mut c1 = cycle(
            "c1",
            Some(date!(2024 - 01 - 08)),
            Some(date!(2024 - 01 - 21)),
            Some(date!(2024 - 02 - 02)),
        );
        c1.next = Some("c2".into());
        p.cycles = vec![
            c1,
            cycle(
                "c2",
                Some(date!(2024 - 03 - 01)),
                Some(date!(2024 - 03 - 20)),
                None,
            ),
            cycle("c3", None, None, None),
        ];
        p.spread = vec![Spread {
            ward: "BIRCH".into(),
            change_idea: "ci1".into(),
            adopted: date!(2024 - 05 - 01),
            evidence: MeasureRef::Catalogue("ri_rate".into()),
            notes: String::new(),
        }];
        p
    }

    #[test]
    fn the_record_at_a_past_day_keeps_only_what_had_happened_by_then() {
        let p = project();
        let jan = as_of(&p, date!(2024 - 01 - 31));
        assert_eq!(jan.cycles.len(), 1, "c2 had not started; c3 has no date");
        assert_eq!(jan.cycles[0].do_.end, Some(date!(2024 - 01 - 21)));
        assert!(jan.cycles[0].act.is_none(), "adopted on 2 February");
        assert_eq!(jan.cycles[0].next, None, "its next cycle had not started");
        assert!(jan.spread.is_empty());
        let mid = as_of(&p, date!(2024 - 01 - 15));
        assert_eq!(mid.cycles[0].do_.end, None, "still running on the 15th");
        let mar = as_of(&p, date!(2024 - 03 - 31));
        assert_eq!(mar.cycles.len(), 2);
        assert_eq!(mar.cycles[0].next.as_deref(), Some("c2"));
        assert!(mar.cycles[0].act.is_some());
        assert!(as_of(&p, date!(2024 - 05 - 01)).spread.len() == 1);
        // Nothing dated: nothing of the cycles.
        assert!(as_of(&p, date!(2023 - 12 - 31)).cycles.is_empty());
    }

    #[test]
    fn levels_count_each_months_scores_and_draw_them() {
        let s = |h| Score::from_halves(h).unwrap();
        let months = [date!(2024 - 01 - 01), date!(2024 - 02 - 01)];
        let l = Levels::count(&months, &[vec![s(1), s(5)], vec![s(5), s(5), s(7)]]);
        assert_eq!(l.counts[0][0], 1);
        assert_eq!(l.counts[0][4], 1);
        assert_eq!(l.counts[1][4], 2);
        assert_eq!(l.counts[1][6], 1);
        assert_eq!(l.most(), 3);
        let svg = levels_svg(&l, "Projects at each level by month");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("Feb 2024: 2 at 2.5"), "{svg}");
        assert!(svg.contains("Jan 2024: 1 at 0.5"));
        assert_eq!(
            svg.matches("<rect").count(),
            4 + 10,
            "4 bands and 10 legend keys"
        );
        assert!(svg.contains("from Jan 2024 to Feb 2024"));
        let empty = levels_svg(&Levels::count(&[], &[]), "None");
        assert!(empty.contains("No project has a dated event yet."));
    }
}
