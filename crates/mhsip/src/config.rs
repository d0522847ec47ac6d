//! Where the data lives: options shared by every command that opens the database, each also
//! readable from the environment.

use anyhow::{Context, Result};
use clap::Args;
use std::path::PathBuf;
use store::Store;

#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Folder for the SQLite database and the pseudonymisation key.
    #[arg(
        long = "data",
        env = "MHSIP_DATA",
        default_value = "data",
        value_name = "DIR"
    )]
    pub data_dir: PathBuf,
    /// Database URL: sqlite://PATH or postgres://USER:PASS@HOST:PORT/DB (default: SQLite in
    /// the data folder).
    #[arg(long = "database", env = "MHSIP_DATABASE_URL", value_name = "URL")]
    pub database_url: Option<String>,
}

impl DataArgs {
    pub fn url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("mhsip.db").display()))
    }

    pub async fn open(&self) -> Result<Store> {
        let url = self.url();
        Store::open(&url)
            .await
            .with_context(|| format!("cannot open the database at {}", redact(&url)))
    }
}

/// A database URL without its password, for messages.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{}:***{}", &url[..s + 3], user, &url[at..])
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_hidden() {
        assert_eq!(
            super::redact("postgres://me:secret@localhost:5432/db"),
            "postgres://me:***@localhost:5432/db"
        );
        assert_eq!(
            super::redact("sqlite://data/mhsip.db"),
            "sqlite://data/mhsip.db"
        );
    }
}
