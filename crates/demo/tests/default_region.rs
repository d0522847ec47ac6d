//! The default demo is the demo it has always been: the same seed gives the same files, byte for
//! byte, as before the generator learnt other sizes (hashes taken from the generator as it was
//! in the binary crate, commit ad1e346), with the same planted changes.

use sha2::{Digest, Sha256};

fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

const DEFAULT_SEED: u64 = 20_231_101;

#[test]
fn the_default_region_is_byte_for_byte_the_demo_of_before() {
    let expected = [
        (
            "organisations.csv",
            "f479edc6a0823c7b79f8f0e5236b6ceba3334ef2d1d7c8f0231f32fb9dbe2527",
        ),
        (
            "wards.csv",
            "c1a35420d597dfb5a9e9af725f64ad1c6dece41c45d2c2771a4944d7bcee8e0e",
        ),
        (
            "patients.csv",
            "c03816e5bad9639e7ed7d1b6fb367845ff32b58c9b1824a1e5bbb1217ded70a9",
        ),
        (
            "ward_stays.csv",
            "0c35b5e2acd1788d343767852ac1021e02ca6203f6a5ae1c613b0cbe800ac1cd",
        ),
        (
            "bed_days.csv",
            "275cca95f91146652c4d201acfc3682cc4af92101725f69303aec38518b9d4b5",
        ),
        (
            "restrictive_interventions.csv",
            "75bedeb3b9e547389fccdf718cf2cfbc13a365f77454bcc48058a5e6f2c97e44",
        ),
        (
            "incidents.csv",
            "457176347092f63d20fb0fd6e038f81077ec6600fe8eb69820d5ca30a9db8274",
        ),
        (
            "leave.csv",
            "c08637e191df1918dc14aa5910538dfe22de50e558312f38c9515bcb5da5c8b7",
        ),
        (
            "awol.csv",
            "7c870c2f7eaf468f9d5a5790d0bdd22ca1f246efa4238b9c94deb0fc1483d065",
        ),
        (
            "survey.csv",
            "f8b4c4d3f64f2ccbde12a950c649769d41b76724ff7597e09d39274c07c7c4be",
        ),
    ];
    let demo = demo::generate(DEFAULT_SEED);
    let got: Vec<(&str, String)> = demo.files.iter().map(|(_, n, c)| (*n, sha256(c))).collect();
    let want: Vec<(&str, String)> = expected.iter().map(|(n, h)| (*n, h.to_string())).collect();
    assert_eq!(got, want);
    assert_eq!((demo.trusts, demo.wards), (6, 60));
    // The same through the sized entry point with the default options.
    let sized = demo::generate_region(
        demo::Size {
            trusts: 6,
            wards_per_trust: 10,
            years: 5,
        },
        DEFAULT_SEED,
    )
    .unwrap();
    assert!(sized.files.iter().zip(&demo.files).all(|(a, b)| a.2 == b.2));

    let ri = &demo.files[5].2;
    assert_eq!(
        sha256(&demo::datix::export(ri, "R9A").unwrap()),
        "32f2f5ee6de6a987bdcf81f6674c10037565da5f55632941f4dd0043d37071ab"
    );
    let planted: Vec<String> = demo
        .planted
        .iter()
        .map(|p| format!("{} {} {}", p.ward_or_trust, p.from, p.description))
        .collect();
    assert_eq!(
        sha256(&planted.join("\n")),
        "5204ad557ee6183b004d8683eb53a9797ab7a6fe48b8678ca4e404841e1f9c6c"
    );
    let at: Vec<&str> = demo
        .planted
        .iter()
        .map(|p| p.ward_or_trust.as_str())
        .collect();
    assert_eq!(
        at,
        [
            "R9A-ASH",
            "R9A-ELM",
            "R9B-ROWAN",
            "R9B-YEW",
            "R9C-HORNBEAM",
            "R9D-LARCH",
            "R9E"
        ]
    );
}

/// A larger region: ODS-shaped codes (trusts three characters from R, sites five), unique
/// names and ward codes, the default's planted changes still there.
#[test]
fn a_larger_region_has_valid_unique_codes() {
    let size = demo::Size {
        trusts: 30,
        wards_per_trust: 30,
        years: 1,
    };
    let demo = demo::generate_region(size, 3).unwrap();
    assert_eq!((demo.trusts, demo.wards), (30, 900));
    let orgs = &demo.files[0].2;
    let mut codes = std::collections::HashSet::new();
    let mut names = std::collections::HashSet::new();
    for line in orgs.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let level = domain::OrgLevel::parse(f[2]).unwrap();
        domain::ids::OdsCode::parse(f[0], level).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert!(codes.insert(f[0].to_string()), "{line}");
        assert!(names.insert(f[1].to_string()), "{line}");
        if f[2] == "trust" {
            assert!(f[0].len() == 3 && f[0].starts_with('R'), "{line}");
        }
        if f[2] == "site" {
            assert!(f[0].len() == 5 && f[0].starts_with(f[3]), "{line}");
        }
    }
    assert_eq!(
        orgs.lines().filter(|l| l.ends_with(",trust,Q9A")).count(),
        3
    );
    let mut wards = std::collections::HashSet::new();
    for line in demo.files[1].2.lines().skip(1) {
        let code = line.split(',').next().unwrap();
        domain::ids::WardCode::parse(code).unwrap_or_else(|e| panic!("{line}: {e}"));
        assert!(wards.insert(code.to_string()), "{line}");
    }
    assert_eq!(wards.len(), 900);
    let bed_days = demo.files[4].2.lines().count() - 1;
    assert_eq!(bed_days, 900 * 365);
    // One year from November 2025: every planted change is before it, so none is listed.
    assert!(demo.planted.is_empty());
}

/// More wards a trust and fewer years: the first ten wards of each trust and the planted
/// changes are where the default region has them; names come round again, numbered.
#[test]
fn the_planted_changes_stay_where_they_are_at_other_sizes() {
    let size = demo::Size {
        trusts: 7,
        wards_per_trust: 26,
        years: 3,
    };
    let demo = demo::generate_region(size, 5).unwrap();
    let at: Vec<&str> = demo
        .planted
        .iter()
        .map(|p| p.ward_or_trust.as_str())
        .collect();
    assert_eq!(
        at,
        [
            "R9A-ASH",
            "R9A-ELM",
            "R9B-ROWAN",
            "R9B-YEW",
            "R9C-HORNBEAM",
            "R9D-LARCH",
            "R9E"
        ]
    );
    let wards = &demo.files[1].2;
    assert!(wards.contains("\nR9A-ASH2,Ash 2 Ward,R9A01,"), "{wards}");
    assert!(demo.files[4].2.contains("\nR9G-ASH,2023-11-01,"));
    assert_eq!(demo.wards, 7 * 26);
}

#[test]
fn sizes_out_of_range_are_refused() {
    let size = |trusts, wards_per_trust, years| demo::Size {
        trusts,
        wards_per_trust,
        years,
    };
    assert!(demo::generate_region(size(0, 10, 5), 1).is_err());
    assert!(demo::generate_region(size(6, 0, 5), 1).is_err());
    assert!(demo::generate_region(size(6, 10, 0), 1).is_err());
    assert_eq!(
        demo::generate_region(size(1000, 10, 5), 1)
            .err()
            .unwrap()
            .to_string(),
        "--trusts must be 1 to 234 (got 1000)"
    );
}
