//! Values bound to SQL parameters: the few types both engines agree on through `Any`.

use sqlx::Any;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

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

pub(crate) fn bind<'q>(
    q: Query<'q, Any, AnyArguments<'q>>,
    v: Val,
) -> Query<'q, Any, AnyArguments<'q>> {
    match v {
        Val::Int(i) => q.bind(i),
        Val::Real(f) => q.bind(f),
        Val::Text(s) => q.bind(s),
        Val::Static(s) => q.bind(s),
        Val::Shared(s) => q.bind(s.to_string()),
        Val::NullInt => q.bind(None::<i64>),
        Val::NullReal => q.bind(None::<f64>),
        Val::NullText => q.bind(None::<String>),
    }
}
