//! The ligature register's measures (issue 13) for the chart pages, downloads and API: every
//! ward's register, actions and trust settings read from the store (`ingest::ligature` turns
//! the rows into the register's types), grouped by the organisation at the cache key's level,
//! and counted by `measures::ligature` with the register's own rules. The cache keeps them per
//! data generation, which a signed audit or a changed action moves.

use crate::cache::{Key, Snapshot};
use domain::OrgLevel;
use domain::measures::{Measure, ligature_catalogue};
use ingest::ligature::{action_of, held};
use ligature::{Action, Audit, Settings};
use measures::ligature::WardRegister;
use measures::series::MeasureSeries;
use std::collections::BTreeMap;

/// Whether the key asks for ligature measures (all measures, or one of them).
fn wanted(key: &Key) -> bool {
    key.measure
        .is_none_or(|id| domain::measures::find(id).is_some_and(|m| m.is_ligature()))
}

/// A ward's register as the measures read it.
struct Held {
    ward: String,
    audits: Vec<Audit>,
    actions: Vec<Action>,
    settings: Settings,
}

/// The ligature series of a cache key as of today: every organisation at the key's level (in
/// its scope) with an audited ward. Empty when the key does not want them or no ward has a
/// register.
pub async fn series_for(
    store: &store::Store,
    snap: &Snapshot,
    key: &Key,
) -> store::Result<Vec<MeasureSeries>> {
    if !wanted(key) {
        return Ok(Vec::new());
    }
    let invalid = |e: String| store::StoreError::Invalid(format!("ligature register: {e}"));
    let mut registers = Vec::new();
    let mut settings: BTreeMap<String, Settings> = BTreeMap::new();
    for (ward, trust) in store.ligature_wards(None).await? {
        let Some(org) = snap.orgs.get(&ward) else {
            continue;
        };
        let Some(target) = org_at(snap, org, key.level) else {
            continue;
        };
        if !in_scope(snap, org, key.scope.as_ref()) {
            continue;
        }
        let s = match settings.get(&trust) {
            Some(s) => *s,
            None => {
                let s = match store.ligature_settings(&trust).await? {
                    Some(r) => Settings::new(r.escalation_days, r.audit_interval_days)
                        .map_err(|e| invalid(e.to_string()))?,
                    None => Settings::default(),
                };
                settings.insert(trust.clone(), s);
                s
            }
        };
        let h = held(store, &ward).await.map_err(invalid)?;
        let actions = store
            .ligature_actions(&ward)
            .await?
            .iter()
            .map(action_of)
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid)?;
        registers.push((
            target,
            Held {
                ward,
                audits: h.audits,
                actions,
                settings: s,
            },
        ));
    }
    let Some(from) = registers
        .iter()
        .flat_map(|(_, h)| h.audits.iter().filter(|a| a.signed_off.is_some()))
        .map(|a| a.date)
        .min()
    else {
        return Ok(Vec::new());
    };
    let today = super::ligature::today();
    let mut groups: BTreeMap<String, Vec<WardRegister<'_>>> = BTreeMap::new();
    for (target, h) in &registers {
        groups
            .entry(target.clone())
            .or_default()
            .push(WardRegister {
                ward: &h.ward,
                audits: &h.audits,
                actions: &h.actions,
                settings: h.settings,
            });
    }
    let groups: Vec<(String, Vec<WardRegister<'_>>)> = groups.into_iter().collect();
    let wanted_measures: Vec<Measure> = ligature_catalogue()
        .into_iter()
        .filter(|m| key.measure.is_none_or(|id| id == m.id))
        .collect();
    let facts = measures::ligature::facts(&groups, key.period, from, today, today);
    Ok(measures::series::assemble(&wanted_measures, &facts))
}

/// The organisation at `level` that `ward` counts for: itself, or the ancestor at that level.
fn org_at(snap: &Snapshot, ward: &crate::orgs::Org, level: OrgLevel) -> Option<String> {
    if ward.level == level {
        return Some(ward.code.clone());
    }
    snap.orgs
        .ancestors(ward)
        .into_iter()
        .find(|o| o.level == level)
        .map(|o| o.code.clone())
}

/// Whether `ward` is within the key's scope (the ward itself or one of its ancestors).
fn in_scope(snap: &Snapshot, ward: &crate::orgs::Org, scope: Option<&(OrgLevel, String)>) -> bool {
    match scope {
        None => true,
        Some((level, code)) => {
            (ward.level == *level && &ward.code == code)
                || snap
                    .orgs
                    .ancestors(ward)
                    .iter()
                    .any(|o| o.level == *level && &o.code == code)
        }
    }
}
