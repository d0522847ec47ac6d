//! The programme's measures as people read them: the series `store` computes, with the saved
//! annotations and rebases applied, disclosure control for figures that leave their
//! organisation, the SPC analysis, and the chart and summary models that the web pages, the API,
//! `mhsip measures`, `mhsip chart`, the demo and the benchmarks all use. Pure: no I/O.

pub mod chart;
pub mod compose;
pub mod facts;
pub mod freed;
pub mod ligature;
pub mod notes;
pub mod series;
pub mod summary;
