//! tower-sessions records kept in our own database (the `sessions` table), through `store`, so
//! one code path serves SQLite and PostgreSQL.

use async_trait::async_trait;
use store::Store;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result, SessionStore};

#[derive(Clone)]
pub struct DbSessionStore {
    store: Store,
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbSessionStore")
    }
}

impl DbSessionStore {
    pub fn new(store: Store) -> DbSessionStore {
        DbSessionStore { store }
    }
}

fn encode(record: &Record) -> Result<String> {
    serde_json::to_string(&record.data).map_err(|e| Error::Encode(e.to_string()))
}

fn backend(e: store::StoreError) -> Error {
    Error::Backend(e.to_string())
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        let data = encode(record)?;
        // A new random id on the (vanishingly rare) collision, as the trait asks.
        for _ in 0..8 {
            if self
                .store
                .create_session(
                    &record.id.to_string(),
                    &data,
                    record.expiry_date.unix_timestamp(),
                )
                .await
                .map_err(backend)?
            {
                return Ok(());
            }
            record.id = Id::default();
        }
        Err(Error::Backend("could not find a free session id".into()))
    }

    async fn save(&self, record: &Record) -> Result<()> {
        self.store
            .save_session(
                &record.id.to_string(),
                &encode(record)?,
                record.expiry_date.unix_timestamp(),
            )
            .await
            .map_err(backend)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let now = time::OffsetDateTime::now_utc();
        let Some((data, expires_at)) = self
            .store
            .load_session(&id.to_string(), now.unix_timestamp())
            .await
            .map_err(backend)?
        else {
            return Ok(None);
        };
        let data = serde_json::from_str(&data).map_err(|e| Error::Decode(e.to_string()))?;
        let expiry_date = time::OffsetDateTime::from_unix_timestamp(expires_at)
            .map_err(|e| Error::Decode(e.to_string()))?;
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date,
        }))
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        self.store
            .delete_session(&id.to_string())
            .await
            .map_err(backend)
    }
}
