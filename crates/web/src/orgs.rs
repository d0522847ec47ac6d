//! The organisation tree as pages need it: names, levels, which trust a ward or site belongs to,
//! and each trust's wards. Loaded from the database with the data generation it describes.

use domain::OrgLevel;
use domain::access::Place;
use std::collections::HashMap;
use store::read::WardRow;

#[derive(Clone, Debug)]
pub struct Org {
    pub code: String,
    pub name: String,
    pub level: OrgLevel,
    /// The trust it belongs to (itself for a trust; none above trusts).
    pub trust: Option<String>,
    pub parent: Option<String>,
}

#[derive(Debug, Default)]
pub struct Directory {
    by_code: HashMap<String, Org>,
    wards: Vec<WardRow>,
    trusts: Vec<String>,
    region: Option<String>,
    /// Trusts whose organisations upload gave `OrgType` acute (issue 12): they have no mental
    /// health wards.
    acute: std::collections::HashSet<String>,
}

impl Directory {
    pub async fn load(store: &store::Store) -> store::Result<Directory> {
        let orgs = store.organisations().await?;
        let wards = store.wards().await?;
        let mut by_code = HashMap::new();
        let parent_of: HashMap<String, Option<String>> = orgs
            .iter()
            .map(|o| (o.code.clone(), o.parent_code.clone()))
            .collect();
        let level_of: HashMap<String, OrgLevel> = orgs
            .iter()
            .filter_map(|o| OrgLevel::parse(&o.level).map(|l| (o.code.clone(), l)))
            .collect();
        // A site's trust is the nearest trust above it.
        let trust_above = |code: &str| {
            let mut cur = Some(code.to_string());
            for _ in 0..8 {
                let c = cur?;
                if level_of.get(&c) == Some(&OrgLevel::Trust) {
                    return Some(c);
                }
                cur = parent_of.get(&c).cloned().flatten();
            }
            None
        };
        let mut trusts = Vec::new();
        let mut region = None;
        for o in &orgs {
            let Some(level) = OrgLevel::parse(&o.level) else {
                continue;
            };
            match level {
                OrgLevel::Trust => trusts.push(o.code.clone()),
                OrgLevel::Region => region = Some(o.code.clone()),
                _ => {}
            }
            by_code.insert(
                o.code.clone(),
                Org {
                    code: o.code.clone(),
                    name: o.name.clone(),
                    level,
                    trust: trust_above(&o.code),
                    parent: o.parent_code.clone(),
                },
            );
        }
        for w in &wards {
            by_code.insert(
                w.code.clone(),
                Org {
                    code: w.code.clone(),
                    name: w.name.clone(),
                    level: OrgLevel::Ward,
                    trust: Some(w.trust_code.clone()),
                    parent: Some(w.site_code.clone()),
                },
            );
        }
        trusts.sort();
        let acute = store
            .organisation_types()
            .await?
            .into_iter()
            .filter(|(_, kind)| kind == domain::codes::OrgType::Acute.code())
            .map(|(code, _)| code)
            .collect();
        Ok(Directory {
            by_code,
            wards,
            trusts,
            region,
            acute,
        })
    }

    /// Whether `trust` is an acute trust.
    pub fn is_acute(&self, trust: &str) -> bool {
        self.acute.contains(trust)
    }

    pub fn get(&self, code: &str) -> Option<&Org> {
        self.by_code.get(code)
    }

    /// Where an organisation sits, for access decisions.
    pub fn place(&self, org: &Org) -> Place {
        Place {
            ward: (org.level == OrgLevel::Ward).then(|| org.code.clone()),
            trust: org.trust.clone(),
        }
    }

    pub fn trusts(&self) -> impl Iterator<Item = &Org> {
        self.trusts.iter().filter_map(|c| self.by_code.get(c))
    }

    pub fn region(&self) -> Option<&Org> {
        self.region.as_deref().and_then(|c| self.by_code.get(c))
    }

    pub fn wards_of<'a>(&'a self, trust: &'a str) -> impl Iterator<Item = &'a WardRow> + 'a {
        self.wards.iter().filter(move |w| w.trust_code == trust)
    }

    pub fn wards(&self) -> &[WardRow] {
        &self.wards
    }

    /// The wards within `org` (a ward is within itself).
    pub fn wards_within<'a>(&'a self, org: &'a Org) -> impl Iterator<Item = &'a WardRow> + 'a {
        self.wards.iter().filter(move |w| match org.level {
            OrgLevel::Ward => w.code == org.code,
            OrgLevel::Site => w.site_code == org.code,
            OrgLevel::Trust => w.trust_code == org.code,
            OrgLevel::Icb => w.icb_code.as_deref() == Some(&org.code),
            OrgLevel::Region => w.region_code.as_deref() == Some(&org.code),
        })
    }

    /// The organisation at `level` that a trust's records count for: the trust itself, or its
    /// ICB or region (`None` for a trust not known, or a level below a trust).
    pub fn trust_counts_for(&self, trust: &str, level: OrgLevel) -> Option<String> {
        match level {
            OrgLevel::Trust => Some(trust.to_string()),
            level => self.get(trust).and_then(|t| {
                self.ancestors(t)
                    .into_iter()
                    .find(|o| o.level == level)
                    .map(|o| o.code.clone())
            }),
        }
    }

    /// The chain from the region down to `org` (for breadcrumbs).
    pub fn ancestors(&self, org: &Org) -> Vec<&Org> {
        let mut out = Vec::new();
        let mut cur = org.parent.clone();
        while let Some(c) = cur {
            let Some(o) = self.by_code.get(&c) else { break };
            if out.len() > 8 {
                break;
            }
            out.push(o);
            cur = o.parent.clone();
        }
        out.reverse();
        out
    }
}
