//! Values written by an import: the few types both engines agree on (SQLite binds them,
//! PostgreSQL receives them as COPY text).

#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Int(i64),
    Real(f64),
    Text(String),
    /// A code from a fixed list: no allocation per row.
    Static(&'static str),
    /// Text shared by many rows (a trust code, a patient's pseudonym).
    Shared(std::sync::Arc<str>),
    NullInt,
    NullReal,
    NullText,
}

impl Val {
    pub fn int_opt(v: Option<i64>) -> Val {
        v.map_or(Val::NullInt, Val::Int)
    }

    pub fn text_opt(v: Option<String>) -> Val {
        v.map_or(Val::NullText, Val::Text)
    }

    pub fn flag(b: bool) -> Val {
        Val::Int(i64::from(b))
    }

    pub fn flag_opt(b: Option<bool>) -> Val {
        Val::int_opt(b.map(i64::from))
    }

    pub fn text(s: impl Into<String>) -> Val {
        Val::Text(s.into())
    }
}
