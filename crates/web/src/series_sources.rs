//! The measures computed from records other than the ward safety uploads (FREED referrals,
//! ligature registers, and any programme added later), for one cache key. The cache calls
//! this once per key beside the ward measures, so a new programme's measures reach every
//! chart page, download, API route and disclosure rule by adding one line here.

use crate::cache::{Key, Snapshot};
use store::Store;
use store::measures::MeasureSeries;

pub async fn series_for(
    store: &Store,
    snap: &Snapshot,
    key: &Key,
) -> store::Result<Vec<MeasureSeries>> {
    // FREED's measures (issue 14) for trusts, ICBs and the region, from their services'
    // referrals.
    let mut out = crate::pages::freed::measures::series_for(store, snap, key).await?;
    // The ligature registers' measures (issue 13), from every register as it stood at each
    // period's end.
    out.extend(crate::pages::ligature_measures::series_for(store, snap, key).await?);
    // The network beyond inpatient mental health (issue 12): acute trusts' patients' self-harm
    // and staff self-harm and suicide (monthly aggregates).
    out.extend(crate::pages::network::scope::series_for(store, snap, key).await?);
    Ok(out)
}
