//! Registry certificates: their kinds, the stamp duty and its exemptions, how long one is
//! valid, and the legend every certificate carries (DPR 445/2000, art. 40, as amended by
//! law 183/2011: certificates are for private use only).

use chrono::{Months, NaiveDate};
use serde::Serialize;

use crate::Money;

macro_rules! kinds {
    ($($variant:ident => $key:literal, $at:literal,)+) => {
        /// A kind of certificate.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        pub enum Kind { $($variant),+ }

        impl Kind {
            pub const ALL: &'static [Kind] = &[$(Kind::$variant),+];
            pub fn key(self) -> &'static str {
                match self { $(Kind::$variant => $key),+ }
            }
            /// Whether it certifies the state on a past day the person chooses.
            pub fn at_date(self) -> bool {
                match self { $(Kind::$variant => $at),+ }
            }
            pub fn parse(s: &str) -> Option<Kind> {
                Kind::ALL.iter().copied().find(|k| k.key() == s.trim())
            }
        }
    };
}

kinds! {
    Residence => "residence", false,
    ResidenceAt => "residence_at", true,
    Family => "family", false,
    FamilyAt => "family_at", true,
    Citizenship => "citizenship", false,
    FreeStatus => "free_status", false,
    Existence => "existence", false,
    Combined => "combined", false,
    BirthExtract => "birth_extract", false,
}

/// The stamp duty on a certificate (DPR 642/1972, tariff art. 4): 16 euros.
pub const STAMP_DUTY: Money = Money::from_cents(1600);

/// How long a registry certificate is valid (DPR 445/2000, art. 41): six months.
pub const VALID_MONTHS: u32 = 6;

/// The last day a certificate issued on `issued` is valid.
pub fn expires(issued: NaiveDate) -> NaiveDate {
    issued
        .checked_add_months(Months::new(VALID_MONTHS))
        .unwrap_or(issued)
}

/// The legend of art. 40 DPR 445/2000, in Italian.
pub const LEGEND_IT: &str = "Il presente certificato non può essere prodotto agli organi della \
    pubblica amministrazione o ai privati gestori di pubblici servizi.";
/// The same legend in German (Bolzano/Bozen's bilingual certificates).
pub const LEGEND_DE: &str = "Die vorliegende Bescheinigung darf den Organen der öffentlichen \
    Verwaltung oder den privaten Betreibern öffentlicher Dienste nicht vorgelegt werden.";

/// A use for which the law exempts a certificate from stamp duty, with the rule that says so
/// (printed on the certificate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Exemption {
    pub key: &'static str,
    pub it: &'static str,
    pub de: &'static str,
    pub rule: &'static str,
}

/// The commonest exemptions (DPR 642/1972, table B, and the laws named).
pub const EXEMPTIONS: &[Exemption] = &[
    Exemption {
        key: "electoral",
        it: "uso elettorale",
        de: "Wahlzwecke",
        rule: "art. 1 Tab. B DPR 642/1972",
    },
    Exemption {
        key: "social_security",
        it: "previdenza, assistenza sociale, assegni familiari, pensione",
        de: "Vorsorge, Sozialfürsorge, Familiengeld, Rente",
        rule: "art. 9 Tab. B DPR 642/1972",
    },
    Exemption {
        key: "school",
        it: "iscrizione scolastica, borse di studio, esonero dalle tasse scolastiche",
        de: "Schuleinschreibung, Studienbeihilfen, Befreiung von Schulgebühren",
        rule: "art. 11 Tab. B DPR 642/1972",
    },
    Exemption {
        key: "labour_dispute",
        it: "controversie di lavoro, previdenza e assistenza obbligatorie",
        de: "Arbeitsstreitigkeiten, Pflichtvorsorge und -fürsorge",
        rule: "art. 12 Tab. B DPR 642/1972",
    },
    Exemption {
        key: "minors",
        it: "adozione, affidamento, tutela dei minori",
        de: "Adoption, Anvertrauung, Schutz Minderjähriger",
        rule: "art. 13 Tab. B DPR 642/1972; art. 82 L. 184/1983",
    },
    Exemption {
        key: "separation",
        it: "separazione personale e divorzio",
        de: "Trennung und Scheidung",
        rule: "art. 19 L. 74/1987",
    },
    Exemption {
        key: "third_sector",
        it: "enti del Terzo settore (ONLUS, organizzazioni di volontariato)",
        de: "Körperschaften des Dritten Sektors",
        rule: "art. 82 c. 5 D.Lgs. 117/2017",
    },
    Exemption {
        key: "amateur_sport",
        it: "associazioni e società sportive dilettantistiche",
        de: "Amateursportvereine und -gesellschaften",
        rule: "art. 27-bis Tab. B DPR 642/1972",
    },
];

/// An exemption by its key.
pub fn exemption(key: &str) -> Option<&'static Exemption> {
    EXEMPTIONS.iter().find(|e| e.key == key.trim())
}

/// Whether a commune issues its certificates in Italian and German: every commune of the
/// province of Bolzano/Bozen (ISTAT province 021; DPR 574/1988 on the use of German in
/// dealings with the public administration there).
pub fn bilingual(istat_code: &str) -> bool {
    istat_code.starts_with("021")
}
