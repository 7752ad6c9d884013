//! What each kind of certificate says: its title and its essential lines (the lines the stamp
//! certifies), in Italian and, for the bilingual communes of Bolzano/Bozen, in German.

use chrono::NaiveDate;
use sportello_domain::Sex;
use sportello_domain::registry::certificate::Kind;
use sportello_domain::registry::{Facts, Marital, Relation, Status, citizenship_name};

/// What a certificate's words are made of.
pub struct Subject<'a> {
    pub facts: &'a Facts,
    pub fiscal_code: &'a str,
    /// The street's name, and the commune's.
    pub street: String,
    pub commune: String,
    /// The family's members (head first) with their fiscal codes, for family certificates.
    pub family: Vec<(&'a Facts, &'a str)>,
    /// The day the certificate speaks of ("at a date"), or None for today.
    pub at: Option<NaiveDate>,
}

fn day(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// Why a kind cannot be issued for this subject (a key of `ui.toml`).
pub fn refusal(kind: Kind, s: &Subject<'_>, cadastral: &str) -> Option<&'static str> {
    match kind {
        _ if s.facts.status != Status::Resident => Some("refused_certificate_not_resident"),
        Kind::FreeStatus if matches!(s.facts.marital, Marital::Married | Marital::CivilUnion) => {
            Some("refused_certificate_not_free")
        }
        Kind::BirthExtract if s.facts.birth_place != cadastral => {
            Some("refused_certificate_born_elsewhere")
        }
        _ => None,
    }
}

fn gendered(sex: Sex, m: &str, f: &str) -> String {
    if sex == Sex::Female {
        f.into()
    } else {
        m.into()
    }
}

fn address(s: &Subject<'_>) -> String {
    let f = s.facts;
    let mut a = format!("{} n. {}", s.street, f.number);
    if !f.interior.is_empty() {
        a.push_str(&format!(" int. {}", f.interior));
    }
    a
}

fn person_it(f: &Facts, code: &str) -> String {
    format!(
        "{}, {} il {} a {}, C.F. {}",
        f.name(),
        gendered(f.sex, "nato", "nata"),
        day(f.birth_date),
        f.birth_place_name,
        code
    )
}

fn person_de(f: &Facts, code: &str) -> String {
    format!(
        "{}, geboren am {} in {}, St.-Nr. {}",
        f.name(),
        day(f.birth_date),
        f.birth_place_name,
        code
    )
}

fn relation_it(r: Relation, sex: Sex) -> String {
    match r {
        Relation::Head => "intestatario/a".into(),
        Relation::Spouse => gendered(sex, "marito", "moglie"),
        Relation::CivilPartner => "unito/a civilmente".into(),
        Relation::Child => gendered(sex, "figlio", "figlia"),
        Relation::Parent => gendered(sex, "padre", "madre"),
        Relation::Sibling => gendered(sex, "fratello", "sorella"),
        Relation::Grandchild => gendered(sex, "nipote", "nipote"),
        Relation::Relative => "parente".into(),
        Relation::Cohabitant => "convivente".into(),
    }
}

fn relation_de(r: Relation) -> &'static str {
    match r {
        Relation::Head => "Haushaltsvorstand",
        Relation::Spouse => "Ehepartner",
        Relation::CivilPartner => "eingetragener Partner",
        Relation::Child => "Kind",
        Relation::Parent => "Elternteil",
        Relation::Sibling => "Geschwister",
        Relation::Grandchild => "Enkel",
        Relation::Relative => "Verwandter",
        Relation::Cohabitant => "Mitbewohner",
    }
}

fn marital_it(m: Marital, sex: Sex) -> String {
    match m {
        Marital::Single => gendered(sex, "celibe", "nubile"),
        Marital::Married => gendered(sex, "coniugato", "coniugata"),
        Marital::Divorced => gendered(sex, "divorziato", "divorziata"),
        Marital::Widowed => gendered(sex, "vedovo", "vedova"),
        Marital::CivilUnion => "unito/a civilmente".into(),
        Marital::UnionDissolved => "già unito/a civilmente (unione sciolta)".into(),
    }
}

fn marital_de(m: Marital) -> &'static str {
    match m {
        Marital::Single => "ledig",
        Marital::Married => "verheiratet",
        Marital::Divorced => "geschieden",
        Marital::Widowed => "verwitwet",
        Marital::CivilUnion => "in eingetragener Lebenspartnerschaft",
        Marital::UnionDissolved => "Lebenspartnerschaft aufgelöst",
    }
}

/// The title of a kind, in Italian and German.
pub fn title(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Residence => ("CERTIFICATO DI RESIDENZA", "ANSÄSSIGKEITSBESCHEINIGUNG"),
        Kind::ResidenceAt => (
            "CERTIFICATO STORICO DI RESIDENZA",
            "HISTORISCHE ANSÄSSIGKEITSBESCHEINIGUNG",
        ),
        Kind::Family => ("CERTIFICATO DI STATO DI FAMIGLIA", "FAMILIENBOGEN"),
        Kind::FamilyAt => (
            "CERTIFICATO STORICO DI STATO DI FAMIGLIA",
            "HISTORISCHER FAMILIENBOGEN",
        ),
        Kind::Citizenship => (
            "CERTIFICATO DI CITTADINANZA",
            "STAATSBÜRGERSCHAFTSBESCHEINIGUNG",
        ),
        Kind::FreeStatus => ("CERTIFICATO DI STATO LIBERO", "LEDIGENBESCHEINIGUNG"),
        Kind::Existence => ("CERTIFICATO DI ESISTENZA IN VITA", "LEBENSBESCHEINIGUNG"),
        Kind::Combined => ("CERTIFICATO CONTESTUALE", "SAMMELBESCHEINIGUNG"),
        Kind::BirthExtract => (
            "ESTRATTO PER RIASSUNTO DELL'ATTO DI NASCITA",
            "AUSZUG AUS DER GEBURTSURKUNDE",
        ),
    }
}

/// The essential lines, Italian then (bilingual) German.
pub fn lines(kind: Kind, s: &Subject<'_>) -> (Vec<String>, Vec<String>) {
    let f = s.facts;
    let (mut it, mut de) = (
        vec![person_it(f, s.fiscal_code)],
        vec![person_de(f, s.fiscal_code)],
    );
    let when_it =
        s.at.map_or_else(String::new, |d| format!("alla data del {} ", day(d)));
    let when_de = s.at.map_or_else(String::new, |d| format!("am {} ", day(d)));
    let residence = |it: &mut Vec<String>, de: &mut Vec<String>| {
        it.push(format!(
            "{}risulta residente nel Comune di {} in {}",
            when_it,
            s.commune,
            address(s)
        ));
        de.push(format!(
            "{}wohnhaft in der Gemeinde {}, {}",
            when_de,
            s.commune,
            address(s)
        ));
    };
    let family = |it: &mut Vec<String>, de: &mut Vec<String>| {
        it.push(format!(
            "{}la famiglia anagrafica risulta così composta:",
            when_it
        ));
        de.push(format!(
            "{}setzt sich die meldeamtliche Familie wie folgt zusammen:",
            when_de
        ));
        for (m, code) in &s.family {
            it.push(format!(
                "- {} ({}), {} il {}, C.F. {}",
                m.name(),
                relation_it(m.relation, m.sex),
                gendered(m.sex, "nato", "nata"),
                day(m.birth_date),
                code
            ));
            de.push(format!(
                "- {} ({}), geboren am {}, St.-Nr. {}",
                m.name(),
                relation_de(m.relation),
                day(m.birth_date),
                code
            ));
        }
    };
    let citizenship = |it: &mut Vec<String>, de: &mut Vec<String>| {
        it.push(format!(
            "è in possesso della cittadinanza {}",
            citizenship_name(&f.citizenship)
        ));
        de.push(format!("besitzt die Staatsbürgerschaft: {}", f.citizenship));
    };
    let alive = |it: &mut Vec<String>, de: &mut Vec<String>| {
        it.push(format!(
            "è {} in vita",
            gendered(f.sex, "vivente ed esistente", "vivente ed esistente")
        ));
        de.push("ist am Leben".into());
    };
    match kind {
        Kind::Residence | Kind::ResidenceAt => residence(&mut it, &mut de),
        Kind::Family | Kind::FamilyAt => {
            residence(&mut it, &mut de);
            family(&mut it, &mut de);
        }
        Kind::Citizenship => citizenship(&mut it, &mut de),
        Kind::FreeStatus => {
            it.push(format!(
                "è di stato libero: {}",
                marital_it(f.marital, f.sex)
            ));
            de.push(format!(
                "ist ledig im Sinne des Gesetzes: {}",
                marital_de(f.marital)
            ));
        }
        Kind::Existence => alive(&mut it, &mut de),
        Kind::Combined => {
            residence(&mut it, &mut de);
            citizenship(&mut it, &mut de);
            alive(&mut it, &mut de);
            it.push(format!("stato civile: {}", marital_it(f.marital, f.sex)));
            de.push(format!("Familienstand: {}", marital_de(f.marital)));
            family(&mut it, &mut de);
        }
        Kind::BirthExtract => {
            it.push(format!(
                "dai registri dello stato civile di questo Comune risulta {} il {} nel Comune di {}, sesso {}",
                gendered(f.sex, "nato", "nata"),
                day(f.birth_date),
                s.commune,
                if f.sex == Sex::Female { "femminile" } else { "maschile" }
            ));
            de.push(format!(
                "laut den Personenstandsregistern dieser Gemeinde geboren am {} in der Gemeinde {}",
                day(f.birth_date),
                s.commune
            ));
        }
    }
    (it, de)
}
