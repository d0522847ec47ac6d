//! Static files: the NHS.UK frontend and htmx (installed from npm at build time, embedded), and
//! our own small stylesheet and script.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

const OWN: &[(&str, &str, &[u8])] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_bytes!("../static/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../static/app.js"),
    ),
    // The attention test (/test, the one page that needs JavaScript) and its pages' styles.
    (
        "cpt-test.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../static/cpt-test.js"),
    ),
    // Its on-device head tracking (face detection with @vladmandic/face-api, served above).
    (
        "cpt-camera.js",
        "text/javascript; charset=utf-8",
        include_bytes!("../static/cpt-camera.js"),
    ),
    (
        "cpt.css",
        "text/css; charset=utf-8",
        include_bytes!("../static/cpt.css"),
    ),
];

pub fn find(name: &str) -> Option<(&'static str, &'static [u8])> {
    OWN.iter()
        .chain(ASSETS.iter())
        .find(|(n, _, _)| *n == name)
        .map(|(_, t, b)| (*t, *b))
}

pub async fn serve(Path(path): Path<String>) -> Response {
    match find(&path) {
        Some((ctype, bytes)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(ctype)),
                // Versioned by the binary: a day is long enough and short enough.
                (
                    header::CACHE_CONTROL,
                    HeaderValue::from_static("public, max-age=86400"),
                ),
            ],
            bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

#[cfg(test)]
mod tests {
    /// Every `nhsuk-` class our templates use must exist in the stylesheet we ship, so a typo or
    /// a class renamed by a frontend upgrade is caught here rather than by a user's eye.
    #[test]
    fn template_classes_exist_in_the_nhsuk_stylesheet() {
        let css = std::str::from_utf8(super::find("nhsuk-frontend.min.css").unwrap().1).unwrap();
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        // In the NHS.UK header's reference markup (fixtures.json) but unstyled in this version.
        const FROM_FIXTURES: [&str; 2] = [
            "nhsuk-header__account-form",
            "nhsuk-header__navigation-item--current",
        ];
        let mut missing = Vec::new();
        // The templates, and those in folders (test/, clinic/).
        let mut paths = Vec::new();
        let mut dirs = vec![std::path::PathBuf::from(dir)];
        while let Some(d) = dirs.pop() {
            for entry in std::fs::read_dir(d).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else {
                    paths.push(path);
                }
            }
        }
        for path in paths {
            let text = std::fs::read_to_string(&path).unwrap();
            for class in text
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == '_'))
                .filter(|w| w.starts_with("nhsuk-") && !w.ends_with('-'))
            {
                if !css.contains(&format!(".{class}")) && !FROM_FIXTURES.contains(&class) {
                    missing.push(format!("{}: {class}", path.display()));
                }
            }
        }
        missing.sort();
        missing.dedup();
        assert!(
            missing.is_empty(),
            "classes not in nhsuk-frontend: {missing:#?}"
        );
    }
}
