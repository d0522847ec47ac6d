//! Where the data lives: options shared by every command that opens the database, each also
//! readable from the environment.

use anyhow::{Context, Result, bail};
use clap::Args;
use domain::OrgLevel;
use domain::dates::{date_from_day, parse_date};
use std::path::PathBuf;
use store::Store;
use time::Date;

#[derive(Args, Debug, Clone)]
pub struct DataArgs {
    /// Folder for the SQLite database and the pseudonymisation key.
    #[arg(
        long = "data",
        env = "MHSIP_DATA",
        default_value = "data",
        value_name = "DIR",
        global = true
    )]
    pub data_dir: PathBuf,
    /// Database URL: sqlite://PATH or postgres://USER:PASS@HOST:PORT/DB (default: SQLite in
    /// the data folder).
    #[arg(
        long = "database",
        env = "MHSIP_DATABASE_URL",
        value_name = "URL",
        global = true,
        // The URL may hold a password: never print it in help.
        hide_env_values = true
    )]
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

/// Which days and which organisations a report covers.
#[derive(Args, Debug, Clone)]
pub struct RangeArgs {
    /// First day (default: the first day with bed days).
    #[arg(long)]
    pub from: Option<String>,
    /// Last day (default: the last day with bed days).
    #[arg(long)]
    pub to: Option<String>,
    /// Only wards under this organisation, e.g. trust:R9A or ward:R9A-ASH.
    #[arg(long, value_name = "LEVEL:CODE")]
    pub scope: Option<String>,
}

/// A resolved range: first day, last day, and the organisation it is limited to.
pub type Range = (Date, Date, Option<(OrgLevel, String)>);

impl RangeArgs {
    /// Fill in the defaults from the data held, and check the scope.
    pub async fn resolve(&self, store: &Store) -> Result<Range> {
        let Some((first, last)) = store.data_range().await? else {
            bail!("the database has no bed days yet: upload them (or run `mhsip demo`) first");
        };
        let day = |text: &Option<String>, default: i64| -> Result<Date> {
            match text {
                Some(s) => parse_date(s).map_err(anyhow::Error::msg),
                None => Ok(date_from_day(default as i32)),
            }
        };
        let scope = match &self.scope {
            Some(s) => {
                let (l, c) = s.split_once(':').ok_or_else(|| {
                    anyhow::anyhow!("--scope {s}: expected LEVEL:CODE, e.g. trust:R9A")
                })?;
                let level = OrgLevel::parse(l).ok_or_else(|| anyhow::anyhow!("--scope {s}: unknown level '{l}'; expected ward, site, trust, icb or region"))?;
                Some((level, c.trim().to_ascii_uppercase()))
            }
            None => None,
        };
        Ok((day(&self.from, first)?, day(&self.to, last)?, scope))
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
