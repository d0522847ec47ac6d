//! Installs the pinned front-end packages (NHS.UK frontend, htmx, the attention test's face
//! detector) from the npm registry into the
//! build folder with `npm ci`, and generates the table of files the binary embeds. Nothing
//! third-party is committed: only frontend/package.json and its lock.

use std::path::{Path, PathBuf};
use std::process::Command;

/// (path under node_modules, path served under /assets/, content type)
const FILES: &[(&str, &str, &str)] = &[
    (
        "nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css",
        "nhsuk-frontend.min.css",
        "text/css; charset=utf-8",
    ),
    (
        "nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.js",
        "nhsuk-frontend.min.js",
        "text/javascript; charset=utf-8",
    ),
    (
        "htmx.org/dist/htmx.min.js",
        "htmx.min.js",
        "text/javascript; charset=utf-8",
    ),
    // The attention test's on-device head tracking (static/cpt-camera.js): the face detector
    // with TensorFlow.js bundled, its model weights as the package ships them, and the
    // WebAssembly binaries of TensorFlow.js's backend (the version face-api bundles).
    (
        "@vladmandic/face-api/dist/face-api.esm.js",
        "face-api/face-api.esm.js",
        "text/javascript; charset=utf-8",
    ),
    (
        "@vladmandic/face-api/model/tiny_face_detector_model-weights_manifest.json",
        "face-api/model/tiny_face_detector_model-weights_manifest.json",
        "application/json",
    ),
    (
        "@vladmandic/face-api/model/tiny_face_detector_model.bin",
        "face-api/model/tiny_face_detector_model.bin",
        "application/octet-stream",
    ),
    (
        "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm",
        "face-api/wasm/tfjs-backend-wasm-simd.wasm",
        "application/wasm",
    ),
    (
        "@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm",
        "face-api/wasm/tfjs-backend-wasm.wasm",
        "application/wasm",
    ),
];

fn main() {
    println!("cargo:rerun-if-changed=frontend/package.json");
    println!("cargo:rerun-if-changed=frontend/package-lock.json");
    println!("cargo:rerun-if-changed=build.rs");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));
    let npm_dir = out.join("frontend");
    std::fs::create_dir_all(&npm_dir).expect("create the front-end build folder");
    let lock = std::fs::read(manifest.join("frontend/package-lock.json"))
        .expect("crates/web/frontend/package-lock.json");
    let pkg = std::fs::read(manifest.join("frontend/package.json"))
        .expect("crates/web/frontend/package.json");
    let stamp = npm_dir.join(".installed-lock");
    let up_to_date = std::fs::read(&stamp).is_ok_and(|s| s == lock)
        && npm_dir.join("node_modules").join(FILES[0].0).exists();
    if !up_to_date {
        std::fs::write(npm_dir.join("package.json"), &pkg).expect("copy package.json");
        std::fs::write(npm_dir.join("package-lock.json"), &lock).expect("copy package-lock.json");
        let status = Command::new(npm())
            .args([
                "ci",
                "--ignore-scripts",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
            ])
            .current_dir(&npm_dir)
            .status();
        match status {
            Ok(s) if s.success() => {}
            Ok(s) => panic!(
                "`npm ci` for the web front end failed ({s}); Node.js and npm (with access to the npm registry) are needed to build mhsip"
            ),
            Err(e) => panic!(
                "cannot run npm ({e}); install Node.js and npm (Debian: apt-get install nodejs npm) to build mhsip"
            ),
        }
        std::fs::write(&stamp, &lock).expect("write the install stamp");
    }
    write_table(&npm_dir.join("node_modules"), &out.join("assets.rs"));
}

fn npm() -> String {
    std::env::var("NPM").unwrap_or_else(|_| "npm".into())
}

/// `ASSETS`: every embedded file with its URL name and content type.
fn write_table(modules: &Path, dest: &Path) {
    let mut entries: Vec<(PathBuf, String, &str)> = FILES
        .iter()
        .map(|(from, name, ctype)| (modules.join(from), name.to_string(), *ctype))
        .collect();
    // The icons the NHS.UK stylesheet refers to (url(/assets/images/...)), and the favicon.
    let images = modules.join("nhsuk-frontend/dist/nhsuk/assets/images");
    let mut names: Vec<_> = std::fs::read_dir(&images)
        .expect("nhsuk-frontend images")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .filter(|n| n.ends_with(".svg") || n.ends_with(".ico"))
        .collect();
    names.sort();
    for n in names {
        let ctype = if n.ends_with(".svg") {
            "image/svg+xml"
        } else {
            "image/x-icon"
        };
        entries.push((images.join(&n), format!("images/{n}"), ctype));
    }
    let mut code = String::from(
        "/// Generated by build.rs: (name under /assets/, content type, bytes).\npub static ASSETS: &[(&str, &str, &[u8])] = &[\n",
    );
    for (path, name, ctype) in entries {
        assert!(path.exists(), "{} is missing after npm ci", path.display());
        code.push_str(&format!(
            "    ({name:?}, {ctype:?}, include_bytes!({:?})),\n",
            path.display().to_string()
        ));
    }
    code.push_str("];\n");
    std::fs::write(dest, code).expect("write assets.rs");
}
