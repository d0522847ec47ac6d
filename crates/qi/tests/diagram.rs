//! The driver diagram drawn: every node appears, user text is escaped, the output is
//! deterministic, and a text version holds the same content.

mod common;

use common::*;
use proptest::prelude::*;
use qi::*;

fn big() -> DriverDiagram {
    let mut d = diagram();
    d.aim =
        "Reduce restraint <by 40%> & keep \"rapid tranquillisation\" level by 31/03/2025".into();
    d.primaries.push(Primary {
        id: "p2".into(),
        text: "Meaningful activity every day, including weekends and evenings".into(),
    });
    d.secondaries.push(Secondary {
        id: "s2".into(),
        text: "Activity co-ordinator's rota covers evenings".into(),
        primaries: vec!["p2".into(), "p1".into()],
    });
    d.change_ideas.push(ChangeIdea {
        id: "c2".into(),
        text: "<script>alert('x')</script> evening groups".into(),
        secondaries: vec!["s1".into(), "s2".into()],
    });
    d.change_ideas.push(ChangeIdea {
        id: "c3".into(),
        text: "Averyveryveryveryveryverylongwordwithoutanyspacesatallinit".into(),
        secondaries: vec!["s2".into()],
    });
    d
}

fn cycles() -> Vec<Cycle> {
    let mut a = cycle("c1-1", None, None);
    let mut b = a.clone();
    b.id = "c1-2".into();
    let mut c = a.clone();
    c.id = "c2-1".into();
    c.change_idea = "c2".into();
    a.next = Some("c1-2".into());
    vec![a, b, c]
}

#[test]
fn every_node_appears_in_the_svg_and_the_text() {
    let d = big();
    let svg = driver_diagram_svg(&d, &cycles(), "ash-dd");
    let text = driver_diagram_text(&d, &cycles());
    let html = driver_diagram_html(&d, &cycles());
    for needle in [
        "Calm, predictable",
        "Meaningful activity",
        "Staff share the plan",
        "co-ordinator",
        "A safety huddle",
        "evening groups",
    ] {
        assert!(svg.contains(needle), "{needle} not in the SVG");
        assert!(text.contains(needle), "{needle} not in the text");
        assert!(html.contains(needle), "{needle} not in the HTML");
    }
    // Wrapped text: the long word is cut into lines of at most 26 characters.
    assert!(svg.contains(">Averyveryveryveryveryveryl</text>"), "{svg}");
    // Boxes: 1 aim + 2 primaries + 2 secondaries + 3 change ideas, plus the background.
    assert_eq!(svg.matches("<rect").count(), 9);
    // Lines: aim to 2 primaries, s1 (1) + s2 (2) to primaries, c1 (1) + c2 (2) + c3 (1).
    assert_eq!(svg.matches("<path").count(), 2 + 3 + 4);
    assert!(svg.contains("(2 PDSA cycles)") && svg.contains("(1 PDSA cycle)"));
    for heading in [
        "Aim",
        "Primary drivers",
        "Secondary drivers",
        "Change ideas",
    ] {
        assert!(svg.contains(&format!(">{heading}</text>")));
    }
}

#[test]
fn user_text_is_escaped() {
    let d = big();
    let svg = driver_diagram_svg(&d, &cycles(), "x\" onload=\"alert(1)");
    let html = driver_diagram_html(&d, &cycles());
    for out in [&svg, &html] {
        assert!(!out.contains("<script"), "{out}");
        assert!(out.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script"));
        assert!(out.contains("&lt;by 40%&gt; &amp; keep &quot;rapid"));
    }
    assert!(!svg.contains("onload=\""));
    assert!(svg.contains("aria-labelledby=\"x--onload--alert-1--title x--onload--alert-1--desc\""));
    assert!(svg.contains(
        "<title id=\"x--onload--alert-1--title\">Driver diagram: Reduce restraint &lt;by 40%&gt;"
    ));
    // The plain text is not HTML and is not escaped.
    let text = driver_diagram_text(&d, &cycles());
    assert!(text.starts_with("Aim: Reduce restraint <by 40%> & keep"));
}

#[test]
fn the_output_is_deterministic() {
    let d = big();
    let a = driver_diagram_svg(&d, &cycles(), "dd");
    let b = driver_diagram_svg(&d.clone(), &cycles(), "dd");
    assert_eq!(a, b);
    assert_eq!(
        driver_diagram_text(&d, &cycles()),
        driver_diagram_text(&d, &cycles())
    );
}

#[test]
fn the_text_version_nests_as_the_diagram_does() {
    let text = driver_diagram_text(&diagram(), &cycles()[..2]);
    assert_eq!(
        text,
        "Aim: Reduce restraint on Ash Ward by 40% by March 2025\n\
         - Primary driver: Calm, predictable shifts\n\
         \x20 - Secondary driver: Staff share the plan for the shift\n\
         \x20   - Change idea: A safety huddle at every handover (2 PDSA cycles)\n"
    );
    let html = driver_diagram_html(&diagram(), &[]);
    assert!(html.contains("<ul>\n<li>Primary driver: Calm, predictable shifts<ul><li>Secondary driver: Staff share the plan for the shift<ul><li>Change idea: A safety huddle at every handover</li></ul></li></ul></li>\n</ul>"), "{html}");
}

#[test]
fn an_empty_or_broken_diagram_still_draws_every_node() {
    let svg = driver_diagram_svg(&DriverDiagram::default(), &[], "");
    assert!(svg.contains("(the aim is not written yet)"));
    assert!(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    let mut d = diagram();
    d.secondaries[0].primaries = vec!["gone".into()];
    d.change_ideas[0].secondaries.clear();
    let text = driver_diagram_text(&d, &[]);
    assert!(text.contains("Not linked to a primary driver:\n- Secondary driver: Staff share"));
    assert!(text.contains("Not linked to a secondary driver:\n- Change idea: A safety huddle"));
    let svg = driver_diagram_svg(&d, &[], "dd");
    assert!(svg.contains("A safety huddle"));
}

/// Tags balance: every element opened is closed (the SVG is one document).
fn balanced(svg: &str) -> bool {
    let mut stack: Vec<String> = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find('<') {
        let Some(j) = rest[i..].find('>') else {
            return false;
        };
        let tag = &rest[i + 1..i + j];
        rest = &rest[i + j + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            if stack.pop().as_deref() != Some(name) {
                return false;
            }
        } else if !tag.ends_with('/') {
            stack.push(tag.split_whitespace().next().unwrap_or("").to_owned());
        }
    }
    stack.is_empty()
}

proptest! {
    #[test]
    fn any_text_gives_a_well_formed_svg(
        aim in ".*",
        texts in prop::collection::vec(".*", 0..6),
        id in ".*",
    ) {
        let mut d = DriverDiagram { aim, ..DriverDiagram::default() };
        for (i, t) in texts.iter().enumerate() {
            d.primaries.push(Primary { id: format!("p{i}"), text: t.clone() });
            d.secondaries.push(Secondary { id: format!("s{i}"), text: t.clone(), primaries: vec![format!("p{i}")] });
            d.change_ideas.push(ChangeIdea { id: format!("c{i}"), text: t.clone(), secondaries: vec![format!("s{i}"), "s0".into()] });
        }
        let svg = driver_diagram_svg(&d, &[], &id);
        prop_assert!(balanced(&svg), "{}", svg);
        prop_assert!(!svg.chars().any(|c| c.is_control() && c != '\n'));
        let html = driver_diagram_html(&d, &[]);
        prop_assert!(balanced(&html), "{}", html);
    }
}
