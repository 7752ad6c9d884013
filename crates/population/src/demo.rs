//! Synthetic residents for the demo federation: generated from the commune's code alone (the
//! same people every time), Italian names, valid fiscal codes, families of one to six on the
//! commune's streets, and the demo identity provider's people at their addresses (with a
//! family, so that family certificates show something).

use std::collections::{HashMap, HashSet};

use chrono::{Datelike, NaiveDate};
use sportello_domain::registry::{DocKind, Document, Facts, Marital, Relation, Status};
use sportello_domain::{FiscalCode, Sex, TenantId};
use sportello_store::Store;

use crate::import::{Outcome, Row};

/// A person of the demo identity provider, to be found in their commune's registry.
#[derive(Debug, Clone)]
pub struct Known {
    pub fiscal_code: String,
    pub first_name: String,
    pub last_name: String,
    pub birth_date: NaiveDate,
    /// "Lungarno Pacinotti 43, 56126 Pisa": the street and number are taken from it.
    pub address: String,
}

const MEN: &[&str] = &[
    "MARCO",
    "ANDREA",
    "LUCA",
    "GIUSEPPE",
    "FRANCESCO",
    "ALESSANDRO",
    "MATTEO",
    "LORENZO",
    "DAVIDE",
    "STEFANO",
    "PAOLO",
    "ROBERTO",
    "GIOVANNI",
    "ANTONIO",
    "FABIO",
    "SIMONE",
    "RICCARDO",
    "TOMMASO",
    "LEONARDO",
    "NICOLA",
    "PIETRO",
    "FEDERICO",
    "CLAUDIO",
    "MASSIMO",
    "EMANUELE",
    "DANIELE",
    "GABRIELE",
    "SALVATORE",
    "VINCENZO",
    "ENRICO",
];
const WOMEN: &[&str] = &[
    "GIULIA",
    "FRANCESCA",
    "CHIARA",
    "SARA",
    "MARTINA",
    "ELENA",
    "VALENTINA",
    "ALESSIA",
    "SILVIA",
    "LAURA",
    "ANNA",
    "MARIA",
    "PAOLA",
    "ROBERTA",
    "FEDERICA",
    "ELISA",
    "GIORGIA",
    "SOFIA",
    "AURORA",
    "GINEVRA",
    "BEATRICE",
    "CATERINA",
    "CRISTINA",
    "MONICA",
    "BARBARA",
    "DANIELA",
    "ILARIA",
    "SERENA",
    "NOEMI",
    "MARTA",
];
const SURNAMES: &[&str] = &[
    "ROSSI",
    "RUSSO",
    "FERRARI",
    "ESPOSITO",
    "BIANCHI",
    "ROMANO",
    "COLOMBO",
    "RICCI",
    "MARINO",
    "GRECO",
    "BRUNO",
    "GALLO",
    "CONTI",
    "DE LUCA",
    "MANCINI",
    "COSTA",
    "GIORDANO",
    "RIZZO",
    "LOMBARDI",
    "MORETTI",
    "BARBIERI",
    "FONTANA",
    "SANTORO",
    "MARIANI",
    "RINALDI",
    "CARUSO",
    "FERRARA",
    "GALLI",
    "MARTINI",
    "LEONE",
    "LONGO",
    "GENTILE",
    "MARTINELLI",
    "VITALE",
    "LOMBARDO",
    "SERRA",
    "COPPOLA",
    "DE SANTIS",
    "D'ANGELO",
    "MARCHETTI",
    "PARISI",
    "VILLA",
    "CONTE",
    "FERRO",
    "FABBRI",
    "BIANCO",
    "MARRA",
    "GRASSO",
    "TESTA",
    "BELLINI",
];
const STREETS: &[&str] = &[
    "VIA ROMA",
    "VIA GARIBALDI",
    "VIA MAZZINI",
    "CORSO ITALIA",
    "VIA CAVOUR",
    "PIAZZA DEL DUOMO",
    "VIA DANTE ALIGHIERI",
    "VIA XX SETTEMBRE",
    "VIA VERDI",
    "VIA DELLA REPUBBLICA",
    "VIA MATTEOTTI",
    "VIA GRAMSCI",
    "VIA DEI MILLE",
    "VIA SAN FRANCESCO",
    "VIA DEL MARE",
    "VIA DELLE ROSE",
    "VIA PUCCINI",
    "VIA LEOPARDI",
    "VIA CARDUCCI",
    "VIA MARCONI",
    "VIA DELLA LIBERTA",
    "VIA DEL BORGO",
    "VIA DEI PINI",
    "VIA FIRENZE",
    "VIA ALDO MORO",
    "PIAZZA GARIBALDI",
    "VIA SANTA MARIA",
    "VIA DON MINZONI",
    "VIA GALILEI",
    "VIA FERMI",
];
/// Places of birth elsewhere: (cadastral code, name, citizenship).
const ELSEWHERE: &[(&str, &str, &str)] = &[
    ("H501", "ROMA", "ITA"),
    ("F205", "MILANO", "ITA"),
    ("F839", "NAPOLI", "ITA"),
    ("D612", "FIRENZE", "ITA"),
    ("L219", "TORINO", "ITA"),
    ("A944", "BOLOGNA", "ITA"),
    ("G273", "PALERMO", "ITA"),
    ("Z129", "ROMANIA", "ROU"),
    ("Z100", "ALBANIA", "ALB"),
    ("Z330", "MAROCCO", "MAR"),
    ("Z210", "CINA", "CHN"),
    ("Z138", "UCRAINA", "UKR"),
];

/// A small deterministic generator (SplitMix64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a>(&mut self, list: &[&'a str]) -> &'a str {
        list[self.below(list.len())]
    }
}

struct Place {
    code: String,
    name: String,
    citizenship: &'static str,
}

fn street_code(i: usize) -> String {
    format!("{:05}", (i + 1) * 10)
}

/// The demo's residents of a commune: `count` synthetic people (about) and the known people.
pub fn residents(
    commune: TenantId,
    cadastral: &str,
    name: &str,
    count: usize,
    known: &[Known],
) -> Vec<Row> {
    let mut rng = Rng(commune.0 as u64 ^ 0x5EED);
    let mut rows: Vec<Row> = vec![];
    let mut codes: HashSet<String> = HashSet::new();
    let since = NaiveDate::from_ymd_opt(2015, 1, 1).unwrap_or_default();
    let home = Place {
        code: cadastral.to_owned(),
        name: name.to_uppercase(),
        citizenship: "ITA",
    };
    let mut family = 0i64;
    let mut streets: HashMap<String, String> = STREETS
        .iter()
        .enumerate()
        .map(|(i, s)| ((*s).to_owned(), street_code(i)))
        .collect();
    let mut push = |rows: &mut Vec<Row>, code: FiscalCode, facts: Facts, street_name: String| {
        if codes.insert(code.as_str().to_owned()) {
            rows.push(Row {
                line: rows.len() as u64 + 2,
                code,
                facts,
                since: since.to_string(),
                street_name,
            });
        }
    };
    let person = |rng: &mut Rng,
                  sex: Sex,
                  last: &str,
                  born: NaiveDate,
                  place: &Place,
                  family: i64,
                  relation: Relation,
                  street: (&str, &str),
                  number: &str| {
        let first = if sex == Sex::Female {
            rng.pick(WOMEN)
        } else {
            rng.pick(MEN)
        };
        let adult = born.year() <= 2007;
        let document = adult.then(|| Document {
            kind: if rng.below(4) == 0 {
                DocKind::PaperIdentityCard
            } else {
                DocKind::IdentityCard
            },
            number: format!(
                "CA{:05}{}{}",
                rng.below(100_000),
                (b'A' + rng.below(26) as u8) as char,
                (b'A' + rng.below(26) as u8) as char
            ),
            expires: NaiveDate::from_ymd_opt(
                2025 + rng.below(11) as i32,
                1 + rng.below(12) as u32,
                1 + rng.below(28) as u32,
            )
            .unwrap_or(born),
        });
        let facts = Facts {
            status: Status::Resident,
            last_name: last.to_owned(),
            first_name: first.to_owned(),
            sex,
            birth_date: born,
            birth_place: place.code.clone(),
            birth_place_name: place.name.clone(),
            citizenship: place.citizenship.to_owned(),
            marital: Marital::Single,
            document,
            voter: adult && place.citizenship == "ITA",
            family,
            relation,
            street: street.1.to_owned(),
            number: number.to_owned(),
            interior: String::new(),
        };
        FiscalCode::compute(last, first, sex, born, &place.code).map(|c| (c, facts))
    };
    let birth = |rng: &mut Rng, from: i32, to: i32| {
        NaiveDate::from_ymd_opt(
            from + rng.below((to - from + 1) as usize) as i32,
            1 + rng.below(12) as u32,
            1 + rng.below(28) as u32,
        )
        .unwrap_or_default()
    };
    // The known people first, each head of a family of three.
    for k in known {
        let Ok(code) = FiscalCode::parse(&k.fiscal_code) else {
            continue;
        };
        let (street, number) = split_address(&k.address);
        let scode = match streets.get(&street) {
            Some(c) => c.clone(),
            None => {
                let c = street_code(streets.len());
                streets.insert(street.clone(), c.clone());
                c
            }
        };
        family += 1;
        let place_code = code.birthplace();
        let place = Place {
            name: sportello_store::istat::by_cadastral_code(&place_code)
                .map_or_else(|| place_code.clone(), |r| r.name_it.to_uppercase()),
            code: place_code,
            citizenship: "ITA",
        };
        let mut facts = match person(
            &mut rng,
            code.sex(),
            &k.last_name.to_uppercase(),
            k.birth_date,
            &place,
            family,
            Relation::Head,
            (&street, &scode),
            &number,
        ) {
            Some((_, f)) => f,
            None => continue,
        };
        facts.first_name = k.first_name.to_uppercase();
        facts.marital = Marital::Married;
        let partner_sex = if code.sex() == Sex::Female {
            Sex::Male
        } else {
            Sex::Female
        };
        let partner_born = birth(&mut rng, k.birth_date.year() - 3, k.birth_date.year() + 2);
        push(&mut rows, code, facts, street.clone());
        let partner_name = rng_surname(&mut rng);
        if let Some((c, mut f)) = person(
            &mut rng,
            partner_sex,
            &partner_name,
            partner_born,
            &home,
            family,
            Relation::Spouse,
            (&street, &scode),
            &number,
        ) {
            f.marital = Marital::Married;
            push(&mut rows, c, f, street.clone());
        }
        let child_born = birth(
            &mut rng,
            k.birth_date.year() + 25,
            (k.birth_date.year() + 35).min(2024),
        );
        let sex = if rng.below(2) == 0 {
            Sex::Male
        } else {
            Sex::Female
        };
        if let Some((c, f)) = person(
            &mut rng,
            sex,
            &k.last_name.to_uppercase(),
            child_born,
            &home,
            family,
            Relation::Child,
            (&street, &scode),
            &number,
        ) {
            push(&mut rows, c, f, street.clone());
        }
    }
    let street_list: Vec<(String, String)> = streets
        .iter()
        .map(|(n, c)| (n.clone(), c.clone()))
        .collect();
    let mut sorted = street_list;
    sorted.sort();
    while rows.len() < count + known.len() * 3 {
        family += 1;
        let (sname, scode) = &sorted[rng.below(sorted.len())];
        let number = (1 + rng.below(120)).to_string();
        let last = rng.pick(SURNAMES).to_owned();
        let place = |rng: &mut Rng| -> Place {
            if rng.below(10) < 7 {
                Place {
                    code: home.code.clone(),
                    name: home.name.clone(),
                    citizenship: "ITA",
                }
            } else {
                let (c, n, z) = ELSEWHERE[rng.below(ELSEWHERE.len())];
                Place {
                    code: c.into(),
                    name: n.into(),
                    citizenship: z,
                }
            }
        };
        let size = [1, 1, 2, 2, 3, 3, 4, 4, 5, 6][rng.below(10)];
        let head_sex = if rng.below(2) == 0 {
            Sex::Male
        } else {
            Sex::Female
        };
        let head_born = birth(&mut rng, 1940, 1998);
        let p = place(&mut rng);
        let Some((c, mut f)) = person(
            &mut rng,
            head_sex,
            &last,
            head_born,
            &p,
            family,
            Relation::Head,
            (sname, scode),
            &number,
        ) else {
            continue;
        };
        let couple = size >= 2 && rng.below(5) > 0;
        if couple {
            f.marital = Marital::Married;
        } else if head_born.year() < 1960 && rng.below(3) == 0 {
            f.marital = Marital::Widowed;
        } else if rng.below(6) == 0 {
            f.marital = Marital::Divorced;
        }
        push(&mut rows, c, f, sname.clone());
        let mut members = 1;
        if couple {
            let s = if head_sex == Sex::Female {
                Sex::Male
            } else {
                Sex::Female
            };
            let born = birth(
                &mut rng,
                head_born.year() - 4,
                (head_born.year() + 4).min(2000),
            );
            let p = place(&mut rng);
            let spouse_name = rng_surname(&mut rng);
            if let Some((c, mut f)) = person(
                &mut rng,
                s,
                &spouse_name,
                born,
                &p,
                family,
                Relation::Spouse,
                (sname, scode),
                &number,
            ) {
                f.marital = Marital::Married;
                push(&mut rows, c, f, sname.clone());
            }
            members += 1;
        }
        while members < size {
            let from = (head_born.year() + 20).min(2024);
            let born = birth(&mut rng, from, (head_born.year() + 42).clamp(from, 2024));
            let s = if rng.below(2) == 0 {
                Sex::Male
            } else {
                Sex::Female
            };
            if let Some((c, f)) = person(
                &mut rng,
                s,
                &last,
                born,
                &home,
                family,
                Relation::Child,
                (sname, scode),
                &number,
            ) {
                push(&mut rows, c, f, sname.clone());
            }
            members += 1;
        }
    }
    rows
}

fn rng_surname(rng: &mut Rng) -> String {
    rng.pick(SURNAMES).to_owned()
}

/// "Lungarno Pacinotti 43, 56126 Pisa" → ("LUNGARNO PACINOTTI", "43").
fn split_address(a: &str) -> (String, String) {
    let first = a.split(',').next().unwrap_or(a).trim();
    match first.rsplit_once(' ') {
        Some((street, number)) if number.chars().any(|c| c.is_ascii_digit()) => {
            (street.to_uppercase(), number.to_uppercase())
        }
        _ => (first.to_uppercase(), "1".into()),
    }
}

/// Fills a commune's registry with its demo residents, once (a registry already holding
/// people is left as it is). Gives how many were written.
pub async fn populate(
    store: &Store,
    commune: TenantId,
    cadastral: &str,
    name: &str,
    count: usize,
    known: &[Known],
) -> sportello_kernel::Result<u64> {
    let tx = store.tenant(commune).await?;
    let db = tx.db();
    if db.registry_count().await? > 0 {
        return Ok(0);
    }
    let rows = residents(commune, cadastral, name, count, known);
    let names = HashMap::from([
        ("street_name", "via".to_owned()),
        ("fiscal_code", "codice_fiscale".to_owned()),
    ]);
    match crate::import::write(&db, "demo", &rows, &names).await? {
        Outcome::Done { written, .. } => {
            tx.commit().await?;
            Ok(written)
        }
        Outcome::Refused { errors, .. } => Err(sportello_kernel::Error::Internal(format!(
            "demo residents: {errors:?}"
        ))),
    }
}
