//! `mhsip bench freed` (issue 14's speed figures): N generated FREED referrals of one service,
//! and their contacts (an engagement call for every referral, a first treatment 20 days later
//! for all but the last few weeks'), imported into a fresh SQLite database (or `--database`)
//! through `ingest::import` as any upload; then the service's page (its waiting list with every
//! open referral's clocks) and its FREED measures page timed one request at a time over HTTP.
//! The targets: the referrals with their contacts imported in under 2 s, the service
//! page p95 under 30 ms (both on a release build).

use crate::{Context, Error, Result, fail};
use std::time::{Duration, Instant};

const PASSWORD: &str = "bench-password-not-secret";
const ORGANISATIONS: &str = "OrgCode,OrgName,OrgLevel,ParentOrgCode\nY98,Bench Region,region,\nQ98,Bench ICB,icb,Y98\nR8A,Bench Trust,trust,Q98\nR8A01,Bench Site,site,R8A\n";
const WARDS: &str = "WardCode,WardName,SiteCode,WardType,WardSexMix,Beds,BedsFromDate\nR8A-ASH,Ash Ward,R8A01,eating_disorders,mixed,20,2023-04-01\n";
const SERVICES: &str =
    "ServiceCode,ServiceName,OrgCode,WardCode\nR8A-FREED,Bench FREED Service,R8A,\n";
/// The day the service page is asked about: the last referral's day.
const DAYS: i64 = 800;

/// The figures.
#[derive(Clone, Debug)]
pub struct FreedFigures {
    pub referrals: usize,
    pub contacts: usize,
    pub import_referrals: Duration,
    pub import_contacts: Duration,
    /// Referrals on the list as of the page's time (what the page shows).
    pub waiting: usize,
    pub service_page: Vec<Duration>,
    pub measures_page: Vec<Duration>,
}

/// The referrals and contacts files: `n` referrals over 800 days; those of the last 20 days
/// not yet treated.
pub fn generate(n: usize) -> (String, String) {
    let mut refs = String::from(
        "ServiceCode,ServiceRequestId,NHSNumber,ReferralRequestReceivedDate,ReferralRequestReceivedTime,SourceOfReferral,AgeServReferRecDate,FirstEpisode,OnsetDate,EDDiagnosisGroup,ClinRespPriorityType\n",
    );
    let mut contacts = String::from(
        "ServiceCode,ServiceRequestId,CareContactId,FREEDContactType,CareContDate,CareContTime,AttendOrDNACode\n",
    );
    let nhs: Vec<String> = (0..3000u32)
        .filter_map(|i| {
            (0..10).find_map(|c| {
                let s = format!("9990{i:05}{c}");
                domain::NhsNumber::parse(&s).ok().map(|_| s)
            })
        })
        .collect();
    let start = time::macros::date!(2022 - 01 - 01);
    let n = n.max(1);
    for i in 0..n {
        let offset = (i as i64) * DAYS / n as i64;
        let d = start + time::Duration::days(offset);
        let day = domain::dates::iso(d);
        refs.push_str(&format!(
            "R8A-FREED,S-{i},{},{day},{:02}:{:02},gp,{},Y,{},AN,routine\n",
            nhs[i % nhs.len()],
            i % 24,
            i % 60,
            16 + i % 10,
            domain::dates::iso(d - time::Duration::days(100 + (i % 300) as i64)),
        ));
        contacts.push_str(&format!(
            "R8A-FREED,S-{i},E-{i},engagement_call,{day},23:59,5\n"
        ));
        if offset < DAYS - 20 {
            let t = domain::dates::iso(d + time::Duration::days(20));
            contacts.push_str(&format!(
                "R8A-FREED,S-{i},T-{i},first_treatment,{t},10:00,5\n"
            ));
        }
    }
    (refs, contacts)
}

async fn import(
    store: &store::Store,
    keys: &mut ingest::pseudonym::Pseudonymiser,
    kind: ingest::formats::Kind,
    text: &str,
) -> Result<(usize, Duration)> {
    let req = ingest::Request {
        kind,
        file_name: "bench.csv",
        bytes: text.as_bytes(),
        mapping: None,
        uploaded_by: "bench",
        only_trust: None,
        dry_run: false,
    };
    let t = Instant::now();
    let r = ingest::import(store, keys, &req, &mut |_, _, _| {}).await?;
    let took = t.elapsed();
    if !r.ok() {
        return fail(format!(
            "{}: {}",
            kind.as_str(),
            r.error_lines()
                .into_iter()
                .take(3)
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    Ok((usize::try_from(r.rows_read).unwrap_or(usize::MAX), took))
}

pub async fn run(
    referrals: usize,
    requests: usize,
    database: Option<String>,
) -> Result<FreedFigures> {
    let dir = std::env::temp_dir().join(format!("mhsip-bench-freed-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run_in(&dir, referrals, requests, database).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run_in(
    dir: &std::path::Path,
    referrals: usize,
    requests: usize,
    database: Option<String>,
) -> Result<FreedFigures> {
    use ingest::formats::Kind;
    let url = database.unwrap_or_else(|| format!("sqlite://{}", dir.join("mhsip.db").display()));
    let store = store::Store::open(&url).await?;
    let (mut keys, _) = ingest::pseudonym::Pseudonymiser::open(dir, &store).await?;
    for (kind, text) in [
        (Kind::Organisations, ORGANISATIONS),
        (Kind::Wards, WARDS),
        (Kind::FreedServices, SERVICES),
    ] {
        import(&store, &mut keys, kind, text).await?;
    }
    let (refs, contacts) = generate(referrals);
    let (n_refs, import_referrals) = import(&store, &mut keys, Kind::FreedReferrals, &refs).await?;
    let (n_contacts, import_contacts) =
        import(&store, &mut keys, Kind::FreedContacts, &contacts).await?;
    let grant =
        domain::access::Grant::new(domain::access::Role::TrustLead, Some("R8A".into()), None)
            .map_err(Error::Msg)?;
    store.create_user("bench.lead", PASSWORD, &grant).await?;
    // As of noon on the last referrals' day: those of the last 20 days are waiting.
    let as_of_day = time::macros::date!(2022 - 01 - 01) + time::Duration::days(DAYS - 1);
    let as_of = format!("{}+12:00", domain::dates::iso(as_of_day));
    let at = time::PrimitiveDateTime::new(as_of_day, time::macros::time!(12:00));
    let held = ingest::freed::held_referrals(
        store
            .freed_rows("R8A-FREED", Some(domain::dates::minute_number(at)))
            .await?,
    )
    .map_err(Error::Msg)?;
    let list: Vec<pathway::Referral> = held.into_iter().map(|h| h.referral).collect();
    let waiting = pathway::service_waiting_list(&list, "R8A-FREED", at).len();
    let config = web::Config {
        data_dir: dir.to_path_buf(),
        ..web::Config::default()
    };
    let state = web::AppState::new(store, keys, config).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(async move { web::serve(listener, state).await });
    let result = async {
        let cookie = login(addr).await?;
        let mut c = Client::connect(addr, &cookie).await?;
        let page = format!("/freed/R8A-FREED?as_of={as_of}");
        let measures = format!("/freed/R8A-FREED/measures?as_of={as_of}");
        // Once each first (nothing cached on the FREED pages, but the connection and the
        // database warm up).
        c.get(&page).await?;
        let mut service_page = Vec::with_capacity(requests);
        for _ in 0..requests {
            service_page.push(c.timed(&page).await?);
        }
        let mut measures_page = Vec::new();
        for _ in 0..requests.clamp(1, 5) {
            measures_page.push(c.timed(&measures).await?);
        }
        service_page.sort();
        measures_page.sort();
        Ok::<_, Error>((service_page, measures_page))
    }
    .await;
    server.abort();
    let (service_page, measures_page) = result?;
    Ok(FreedFigures {
        referrals: n_refs,
        contacts: n_contacts,
        import_referrals,
        import_contacts,
        waiting,
        service_page,
        measures_page,
    })
}

/// The p-th quantile (0 to 1) of sorted times.
pub fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

async fn login(addr: std::net::SocketAddr) -> Result<String> {
    let mut c = Client::connect(addr, "").await?;
    let body = format!(
        "username=bench.lead&password={}",
        PASSWORD.replace('-', "%2D")
    );
    let (status, headers) = c.request("POST", "/login", &body).await?;
    headers
        .iter()
        .find_map(|h| {
            let l = h.to_ascii_lowercase();
            l.starts_with("set-cookie:")
                .then(|| {
                    h["set-cookie:".len()..]
                        .trim()
                        .split(';')
                        .next()
                        .map(str::to_string)
                })
                .flatten()
        })
        .filter(|_| status == 303)
        .context(&format!("could not sign in (HTTP {status})"))
}

/// One kept-alive connection (`crate::web`'s client) that fails on anything but 200.
struct Client(crate::web::Client);

impl Client {
    async fn connect(addr: std::net::SocketAddr, cookie: &str) -> Result<Client> {
        Ok(Client(crate::web::Client::connect(addr, cookie).await?))
    }

    async fn request(
        &mut self,
        method: &str,
        path: &str,
        body: &str,
    ) -> Result<(u16, Vec<String>)> {
        let (status, _, headers) = self.0.request(method, path, body).await?;
        Ok((status, headers))
    }

    async fn get(&mut self, path: &str) -> Result<()> {
        let (status, _) = self.request("GET", path, "").await?;
        if status != 200 {
            return fail(format!("{path}: HTTP {status}"));
        }
        Ok(())
    }

    async fn timed(&mut self, path: &str) -> Result<Duration> {
        let t = Instant::now();
        self.get(path).await?;
        Ok(t.elapsed())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_files_hold_every_referral_and_a_treatment_for_the_earlier_ones() {
        let (refs, contacts) = super::generate(1000);
        assert_eq!(refs.lines().count(), 1001);
        let treated = contacts
            .lines()
            .filter(|l| l.contains("first_treatment"))
            .count();
        assert!(treated > 950 && treated < 1000, "{treated}");
    }
}
