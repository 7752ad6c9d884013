//! The demonstration identity provider of `sportello serve --demo`: a handful of fictitious
//! people a newcomer can sign in as, at SPID levels 1 to 3, without a real SPID or CIE.
//!
//! It exists only when the server runs in demo mode (`Settings::demo`, set by the `--demo` flag
//! alone: configuration that asks for it is refused at start-up). A chosen person is signed in
//! through the same path as a real provider's answer: the person is created or refreshed from
//! the identity (`citizen::person_from_idp`), the level must reach the one the sign-in asked for,
//! and `signin::complete` opens the SSO session and hands it to the commune waiting, with the
//! same audit records (provider `demo:<id>`).

use sportello_domain::{AssuranceLevel, FiscalCode};
use sportello_store::identity::VerifiedIdentity;

use crate::citizen;
use sportello_kernel::Deps;
use sportello_kernel::{Error, Result};

/// A fictitious person of the demo.
#[derive(Debug, Clone, Copy)]
pub struct DemoPerson {
    /// Used in the form and in the audit log (`demo:<id>`).
    pub id: &'static str,
    pub given_name: &'static str,
    pub family_name: &'static str,
    /// A valid fiscal code (check character right, birthplace a real cadastral code).
    pub fiscal_code: &'static str,
    pub date_of_birth: &'static str,
    /// The SPID level this person's (fictitious) credential reaches.
    pub level: AssuranceLevel,
    /// Where they live: the demo commune (ISTAT code) and the address.
    pub commune_istat: &'static str,
    pub address: &'static str,
    pub email: &'static str,
    pub mobile: &'static str,
}

/// The people of the demo: one per level 1–3, residents of Pisa, Calci and Cesena.
pub const PEOPLE: &[DemoPerson] = &[
    DemoPerson {
        id: "mario-rossi",
        given_name: "Mario",
        family_name: "Rossi",
        fiscal_code: "RSSMRA80A01G702C",
        date_of_birth: "1980-01-01",
        level: AssuranceLevel::Low,
        commune_istat: "050026",
        address: "Via Santa Maria 12, 56126 Pisa",
        email: "mario.rossi@demo.example",
        mobile: "+393330000001",
    },
    DemoPerson {
        id: "giulia-bianchi",
        given_name: "Giulia",
        family_name: "Bianchi",
        fiscal_code: "BNCGLI85M52G702M",
        date_of_birth: "1985-08-12",
        level: AssuranceLevel::Substantial,
        commune_istat: "050026",
        address: "Lungarno Pacinotti 43, 56126 Pisa",
        email: "giulia.bianchi@demo.example",
        mobile: "+393330000002",
    },
    DemoPerson {
        id: "luca-ferrari",
        given_name: "Luca",
        family_name: "Ferrari",
        fiscal_code: "FRRLCU72T15B390J",
        date_of_birth: "1972-12-15",
        level: AssuranceLevel::High,
        commune_istat: "050003",
        address: "Piazza Garibaldi 1, 56011 Calci",
        email: "luca.ferrari@demo.example",
        mobile: "+393330000003",
    },
    DemoPerson {
        id: "anna-esposito",
        given_name: "Anna",
        family_name: "Esposito",
        fiscal_code: "ESPNNA90E45F839C",
        date_of_birth: "1990-05-05",
        level: AssuranceLevel::Substantial,
        commune_istat: "050003",
        address: "Via del Paradiso 8, 56011 Calci",
        email: "anna.esposito@demo.example",
        mobile: "+393330000004",
    },
    DemoPerson {
        id: "sofia-romano",
        given_name: "Sofia",
        family_name: "Romano",
        fiscal_code: "RMNSFO95C60D612R",
        date_of_birth: "1995-03-20",
        level: AssuranceLevel::Substantial,
        commune_istat: "040007",
        address: "Corso Sozzi 20, 47521 Cesena",
        email: "sofia.romano@demo.example",
        mobile: "+393330000005",
    },
];

/// A demo person by id.
pub fn person(id: &str) -> Option<&'static DemoPerson> {
    PEOPLE.iter().find(|p| p.id == id)
}

impl DemoPerson {
    /// What a real provider's answer would carry about this person.
    pub fn identity(&self) -> Result<VerifiedIdentity> {
        let cf = FiscalCode::parse(self.fiscal_code)
            .map_err(|e| Error::SignInRefused(format!("fiscal code: {e}")))?;
        Ok(VerifiedIdentity {
            fiscal_code: cf.normalised().as_str().to_owned(),
            given_name: self.given_name.into(),
            family_name: self.family_name.into(),
            email: Some(self.email.into()),
            mobile: Some(self.mobile.into()),
            date_of_birth: Some(self.date_of_birth.into()),
            place_of_birth: None,
        })
    }
}

/// The demo provider's answer: `who` signs in if their level reaches `requested` (as a real
/// provider's answer below the level asked for is refused). Gives the person's id and level.
pub async fn sign_in(
    deps: &Deps,
    who: &DemoPerson,
    requested: AssuranceLevel,
) -> Result<(String, AssuranceLevel)> {
    if !deps.settings.demo {
        return Err(Error::NotFound);
    }
    if who.level < requested {
        return Err(Error::Refused("demo_level_too_low"));
    }
    let person = citizen::person_from_idp(deps, &who.identity()?, true).await?;
    Ok((person, who.level))
}

#[cfg(test)]
#[path = "../tests/demo.rs"]
mod tests;
