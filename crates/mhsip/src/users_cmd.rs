//! `mhsip users`: create and list accounts (a role bound to an organisation), and read the audit
//! log. Passwords are read from standard input, never from the command line (which other users
//! of the machine can see).

use crate::config::DataArgs;
use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use domain::access::{Grant, Role};
use std::io::BufRead;
use std::process::ExitCode;

#[derive(Args, Debug)]
pub struct UsersArgs {
    #[command(subcommand)]
    pub action: UsersAction,
    #[command(flatten)]
    pub data: DataArgs,
}

#[derive(Subcommand, Debug)]
pub enum UsersAction {
    /// Create an account; the password is the first line of standard input (12+ characters).
    Add {
        name: String,
        /// programme_admin, programme_viewer, trust_lead, ward_user, uploader, clinician or
        /// estates (a clinician needs --trust: they see that trust's attention tests and no
        /// safety figures; estates staff need --trust: they see and update the actions of its
        /// ligature registers only).
        #[arg(long, value_parser = |s: &str| Role::parse(s))]
        role: Role,
        /// The trust of a trust lead, uploader or ward user (e.g. R9A).
        #[arg(long)]
        trust: Option<String>,
        /// The ward of a ward user (e.g. R9A-ASH).
        #[arg(long)]
        ward: Option<String>,
    },
    /// List accounts (never their passwords).
    List,
    /// The newest entries of the audit log.
    Audit {
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
}

pub async fn run(args: &UsersArgs) -> Result<ExitCode> {
    let store = args.data.open().await?;
    match &args.action {
        UsersAction::Add {
            name,
            role,
            trust,
            ward,
        } => {
            let grant =
                Grant::new(*role, trust.clone(), ward.clone()).map_err(anyhow::Error::msg)?;
            let mut password = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut password)
                .context("cannot read the password from standard input")?;
            let password = password.trim_end_matches(['\r', '\n']);
            store.create_user(name, password, &grant).await?;
            let actor = std::env::var("USER").unwrap_or_else(|_| "cli".into());
            store
                .audit(&actor, "create_user", name, Some(grant.role.as_str()))
                .await?;
            println!(
                "Created {name}: {}{}",
                grant.role.label(),
                grant
                    .ward
                    .as_ref()
                    .or(grant.trust.as_ref())
                    .map(|o| format!(" for {o}"))
                    .unwrap_or_default()
            );
        }
        UsersAction::List => {
            println!("name,role,trust,ward,created_at,disabled");
            for u in store.users().await? {
                println!(
                    "{},{},{},{},{},{}",
                    u.name,
                    u.role,
                    u.trust_code.unwrap_or_default(),
                    u.ward_code.unwrap_or_default(),
                    u.created_at,
                    u.disabled != 0
                );
            }
        }
        UsersAction::Audit { limit } => {
            println!("{}", store::accounts::AuditRow::CSV_HEADER);
            for a in store.audit_log(*limit).await? {
                println!("{}", domain::csv::record(&a.cells()));
            }
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
