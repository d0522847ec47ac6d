//! Loading a generated region: each file is written into a folder (so that it can be read and
//! uploaded again by hand) and imported through `ingest::import`, the path every upload takes,
//! and recorded in the audit log as any other import is; then a Datix-style export of one
//! trust's last month is written beside them, with the saved mapping that reads it.

use crate::{DemoFiles, datix};
use ingest::Phase;
use ingest::formats::Kind;
use ingest::pseudonym::Pseudonymiser;
use std::path::{Path, PathBuf};
use store::{Store, StoreError, UploadSummary};

/// The trust whose last month is exported Datix-style.
pub const DATIX_TRUST: &str = "R9A";

/// What went wrong while loading. A generated file that does not import is a bug in the
/// generator; its errors are listed (`FILE:LINE:COLUMN: reason`).
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Ingest(#[from] ingest::IngestError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Datix(#[from] datix::ExportError),
    #[error("the generated demo file {name} did not import; this is a bug")]
    NotImported { name: String, errors: Vec<String> },
    #[error("{0}")]
    Kind(String),
}

/// Progress of a load, for the caller to show.
pub enum Step<'a> {
    /// A file's import is checking or writing (`done` of `total`, see `ingest::Phase`).
    Progress(Phase, u64, u64),
    /// A file was imported.
    Imported {
        name: &'a str,
        summary: &'a UploadSummary,
    },
}

/// What was loaded.
pub struct Loaded {
    /// The Datix-style export written, and the name of the mapping saved for it.
    pub datix_export: Option<(PathBuf, &'static str)>,
    /// The quality improvement projects planted (`qi_projects`), by id.
    pub qi_projects: Vec<i64>,
}

/// Write every file of `demo` into `folder` and import it, in order, as user "demo".
pub async fn load(
    store: &Store,
    keys: &mut Pseudonymiser,
    demo: &DemoFiles,
    folder: &Path,
    on_step: &mut (dyn FnMut(Step<'_>) + Send),
) -> Result<Loaded, LoadError> {
    let write = |path: &Path, content: &str| {
        std::fs::write(path, content).map_err(|source| LoadError::Write {
            path: path.to_path_buf(),
            source,
        })
    };
    std::fs::create_dir_all(folder).map_err(|source| LoadError::Write {
        path: folder.to_path_buf(),
        source,
    })?;
    for (kind, name, content) in demo
        .files
        .iter()
        .chain(&demo.programme.files)
        .chain(&demo.network)
    {
        let path = folder.join(name);
        write(&path, content)?;
        let kind = Kind::parse(kind).map_err(LoadError::Kind)?;
        let file_name = path.display().to_string();
        let req = ingest::Request {
            kind,
            file_name: &file_name,
            bytes: content.as_bytes(),
            mapping: None,
            uploaded_by: "demo",
            only_trust: None,
            dry_run: false,
        };
        let report = ingest::import(store, keys, &req, &mut |p, d, t| {
            on_step(Step::Progress(p, d, t))
        })
        .await?;
        if !report.ok() {
            return Err(LoadError::NotImported {
                name: name.to_string(),
                errors: report.error_lines(),
            });
        }
        let s = report.summary.unwrap_or_default();
        // Recorded as any other import is (`mhsip import`, the uploads page).
        store
            .audit(
                "demo",
                "upload",
                &format!("{} {name}", kind.as_str()),
                Some(&format!(
                    "upload {}: {} rows, {} new, {} updated",
                    s.upload_id, s.rows, s.inserted, s.updated
                )),
            )
            .await?;
        on_step(Step::Imported { name, summary: &s });
    }
    let mut loaded = Loaded {
        datix_export: None,
        qi_projects: Vec::new(),
    };
    if let Some((_, _, content)) = demo
        .files
        .iter()
        .find(|(k, _, _)| *k == "restrictive_interventions")
    {
        let path = folder.join(format!("datix-export-{DATIX_TRUST}.csv"));
        write(&path, &datix::export(content, DATIX_TRUST)?)?;
        store
            .save_mapping(
                datix::MAPPING_NAME,
                "restrictive_interventions",
                &datix::mapping_json(),
            )
            .await?;
        loaded.datix_export = Some((path, datix::MAPPING_NAME));
    }
    // The teams' quality improvement projects, recorded after the data they chart.
    loaded.qi_projects = crate::qi_projects::plant(store).await?;
    // R9B's FREED triage clinic, noted on the trust's 2-week assessment chart as a team would
    // (the service's own charts carry the trust's notes), when the demo holds FREED data.
    if demo.trusts >= 2
        && demo
            .programme
            .files
            .iter()
            .any(|(k, _, _)| *k == "freed_referrals")
        && store
            .annotations("R9B", Some("freed_assessment_2w"))
            .await?
            .is_empty()
    {
        store
            .add_annotation(
                "R9B",
                Some("freed_assessment_2w"),
                crate::freed::TRIAGE_CLINIC_START,
                "FREED triage clinic starts: assessments booked at the engagement call",
                false,
                "demo",
            )
            .await?;
    }
    // The acute trust's round-the-clock liaison psychiatry team, noted on its emergency
    // department's self-harm chart as the trust would (issue 12).
    if !demo.network.is_empty()
        && store
            .annotations(
                crate::qi_projects::network::ACUTE_TRUST,
                Some("acute_self_harm_ed"),
            )
            .await?
            .is_empty()
    {
        store
            .add_annotation(
                crate::qi_projects::network::ACUTE_TRUST,
                Some("acute_self_harm_ed"),
                crate::qi_projects::network::LIAISON_START,
                "Liaison psychiatry in the emergency department around the clock",
                false,
                "demo",
            )
            .await?;
    }
    crate::adhd::plant(store, folder).await?;
    let incidents = demo
        .files
        .iter()
        .find(|(k, _, _)| *k == "incidents")
        .map(|(_, _, c)| c.as_str());
    crate::ligature::plant(store, keys, folder, incidents).await?;
    Ok(loaded)
}
