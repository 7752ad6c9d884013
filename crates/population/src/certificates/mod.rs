//! Issuing a certificate: a signed-in citizen (SPID/CIE level 2 or more) for themselves or a
//! member of their family, at once, as a PDF; staff at a desk or kiosk for a person present
//! (recorded as on their behalf). Each certificate is numbered per commune per year in the
//! transaction that records it (who asked, for whom, purpose, exemption, the PDF's SHA-256),
//! carries a digital stamp on every page and the legend of art. 40 DPR 445/2000, and is
//! bilingual where the commune is (Bolzano/Bozen).

pub mod duty;
mod layout;
pub mod wording;

use chrono::{Datelike, NaiveDate};
use serde_json::json;
use sha2::{Digest, Sha256};
use sportello_authz::Action;
use sportello_domain::registry::certificate::{self, Kind, exemption};
use sportello_domain::{AssuranceLevel, FiscalCode, Language, TenantId, Why};
use sportello_kernel::session::Current;
use sportello_kernel::{Actor, Deps, Error, Problems, Result};
use sportello_store::TenantDb;
use sportello_store::population::{Access, CertificateRow};

use crate::stamp::Content;
use layout::{RenderArgs, lay_out};
use wording::Subject;

/// What is asked.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub kind: String,
    /// The person the certificate is about: a fiscal code, or empty for the requester.
    pub subject: String,
    /// For "at a date" kinds.
    pub at: String,
    pub purpose: String,
    /// An exemption's key, or empty (then the stamp duty is due).
    pub exemption: String,
    /// The stamp duty was paid, by this notice (set by the duty's flow, never by a form).
    pub duty_paid: String,
}

/// A certificate made.
#[derive(Debug, Clone)]
pub struct Issued {
    pub year: i32,
    pub number: i64,
    pub pdf: Vec<u8>,
    pub stamp: String,
}

impl Issued {
    pub fn file_name(&self) -> String {
        format!("certificato-{}-{}.pdf", self.year, self.number)
    }
}

/// Who asks.
enum Requester<'a> {
    Citizen { person: &'a str, code: &'a str },
    Staff { actor: &'a Actor, channel: &'a str },
}

struct Parsed {
    kind: Kind,
    at: Option<NaiveDate>,
    purpose: String,
    exemption: Option<&'static certificate::Exemption>,
    duty_paid: Option<String>,
}

fn parse(r: &Request, today: NaiveDate) -> Result<Parsed> {
    let mut p = Problems::default();
    let kind = Kind::parse(&r.kind);
    if kind.is_none() {
        p.add("kind", Why::NotOneOf, r.kind.trim());
    }
    let mut at = None;
    if kind.is_some_and(Kind::at_date) {
        match sportello_domain::payment::parse_day(&r.at) {
            Ok(d) if d >= today || d.year() < 1900 => p.add("at", Why::DateInvalid, r.at.trim()),
            Ok(d) => at = Some(d),
            Err(e) => p.parse("at", &e),
        }
    }
    let purpose = r.purpose.split_whitespace().collect::<Vec<_>>().join(" ");
    if purpose.chars().count() > 200 || purpose.chars().any(char::is_control) {
        p.add("purpose", Why::TooLong, "200");
    }
    let ex = r.exemption.trim();
    let exemption = if ex.is_empty() { None } else { exemption(ex) };
    if !ex.is_empty() && exemption.is_none() {
        p.add("exemption", Why::NotOneOf, ex);
    }
    p.result()?;
    let paid = r.duty_paid.trim();
    Ok(Parsed {
        kind: kind.ok_or(Error::NotFound)?,
        at,
        purpose,
        exemption,
        duty_paid: (!paid.is_empty()
            && paid.len() <= 30
            && paid.chars().all(|c| c.is_ascii_digit()))
        .then(|| paid.to_owned()),
    })
}

/// A citizen asks for a certificate about themselves or a member of their family.
pub async fn for_citizen(
    deps: &Deps,
    commune: TenantId,
    who: &Current,
    r: &Request,
) -> Result<Issued> {
    let (person, code) = citizen_of(who)?;
    issue(deps, commune, Requester::Citizen { person, code }, r).await
}

/// The signed-in citizen who may ask (level 2 or more, with a fiscal code): their id and code.
fn citizen_of(who: &Current) -> Result<(&str, &str)> {
    if who.level < AssuranceLevel::Substantial || who.idp == "password" {
        return Err(Error::Refused("refused_certificate_level"));
    }
    let person = who
        .person
        .as_ref()
        .ok_or(Error::Refused("refused_certificate_level"))?;
    let code = person
        .fiscal_code
        .as_deref()
        .ok_or(Error::Refused("refused_certificate_level"))?;
    Ok((&person.id, code))
}

/// Whether the citizen's certificate would be issued now (every check, nothing written).
pub(crate) async fn check_for_citizen(
    deps: &Deps,
    commune: TenantId,
    who: &Current,
    r: &Request,
) -> Result<()> {
    let (person, code) = citizen_of(who)?;
    issue_or_check(deps, commune, Requester::Citizen { person, code }, r, true).await?;
    Ok(())
}

/// Staff at a desk (or a kiosk) issue a certificate for the person present.
pub async fn for_person(deps: &Deps, actor: &Actor, channel: &str, r: &Request) -> Result<Issued> {
    crate::require(deps, actor, Action::ActFor).await?;
    if r.purpose.trim().is_empty() {
        let mut p = Problems::default();
        p.add("purpose", Why::Required, "");
        return Err(Error::Invalid(p));
    }
    let channel = if channel == "kiosk" { "kiosk" } else { "desk" };
    issue(
        deps,
        actor.commune()?,
        Requester::Staff { actor, channel },
        r,
    )
    .await
}

/// An intermediary (CAF, patronato) issues a certificate about a client who delegated it: only
/// while the delegation holds, about that client only, with a purpose (recorded as on their
/// behalf; the look goes to the client's "who looked").
pub async fn for_client(
    deps: &Deps,
    actor: &Actor,
    delegation_id: &str,
    r: &Request,
) -> Result<Issued> {
    // An intermediary (as the commune's rules make one), with its own delegation.
    sportello_cases::delegations::intermediary(deps, actor).await?;
    let commune = actor.commune()?;
    let d = sportello_cases::delegations::delegation_in_force(deps, actor, delegation_id).await?;
    if r.purpose.trim().is_empty() {
        let mut p = Problems::default();
        p.add("purpose", Why::Required, "");
        return Err(Error::Invalid(p));
    }
    let r = Request {
        subject: d.fiscal_code,
        duty_paid: String::new(),
        ..r.clone()
    };
    let channel = "intermediary";
    issue(deps, commune, Requester::Staff { actor, channel }, &r).await
}

fn not_found_subject() -> Error {
    let mut p = Problems::default();
    p.add("subject", Why::NotOneOf, "");
    Error::Invalid(p)
}

async fn issue(deps: &Deps, commune: TenantId, who: Requester<'_>, r: &Request) -> Result<Issued> {
    issue_or_check(deps, commune, who, r, false)
        .await?
        .ok_or_else(|| Error::Internal("a certificate checked, not issued".into()))
}

/// Issues the certificate; with `check_only`, only says whether it would be (every check, no
/// write: nothing numbered, no look logged).
async fn issue_or_check(
    deps: &Deps,
    commune: TenantId,
    who: Requester<'_>,
    r: &Request,
    check_only: bool,
) -> Result<Option<Issued>> {
    let today = crate::today();
    let q = parse(r, today)?;
    let c = deps.tenancy.by_id(commune).ok_or(Error::NotFound)?;
    let rec = &c.record;
    let bilingual =
        certificate::bilingual(&rec.istat_code) || rec.languages.contains(&Language::De);
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    // The requester, for a citizen: their own record (found by their code without omocodia).
    let me = match &who {
        Requester::Citizen { code, .. } => Some(
            crate::signed_in_person(&db, code)
                .await?
                .ok_or_else(not_found_subject)?,
        ),
        Requester::Staff { .. } => None,
    };
    let subject_id = match (me, r.subject.trim()) {
        (Some(me), "") => me,
        (_, s) => {
            let code = FiscalCode::parse(s).map_err(|_| not_found_subject())?;
            db.registry_id(code.as_str())
                .await?
                .ok_or_else(not_found_subject)?
        }
    };
    let subject_code = db
        .registry_at(subject_id, None)
        .await?
        .ok_or_else(not_found_subject)?
        .fiscal_code;
    let day = q.at.map(|d| d.to_string());
    // A citizen asks about someone else only if both are resident members of one family today,
    // and, for a past day, were members of one family on that day too: a certificate about
    // someone else never shows a household the requester was not part of.
    if let Some(me) = me
        && me != subject_id
    {
        for d in [None, day.as_deref()]
            .into_iter()
            .collect::<std::collections::BTreeSet<_>>()
        {
            let (mine, theirs) = (
                db.registry_at(me, d).await?,
                db.registry_at(subject_id, d).await?,
            );
            let together = matches!((&mine, &theirs), (Some(m), Some(t))
                if m.facts.family == t.facts.family
                    && m.facts.status == sportello_domain::registry::Status::Resident
                    && t.facts.status == sportello_domain::registry::Status::Resident);
            if !together {
                return Err(not_found_subject());
            }
        }
    }
    let v = db
        .registry_at(subject_id, day.as_deref())
        .await?
        .ok_or(Error::Refused("refused_certificate_not_resident"))?;
    let family_rows = if matches!(q.kind, Kind::Family | Kind::FamilyAt | Kind::Combined) {
        db.registry_family(v.facts.family, day.as_deref()).await?
    } else {
        vec![]
    };
    let subject = Subject {
        facts: &v.facts,
        fiscal_code: &v.fiscal_code,
        street: crate::records::street_name(&db, &v.facts.street).await?,
        commune: rec.name.to_uppercase(),
        family: family_rows
            .iter()
            .map(|m| (&m.facts, m.fiscal_code.as_str()))
            .collect(),
        at: q.at,
    };
    if let Some(key) = wording::refusal(q.kind, &subject, &rec.cadastral_code) {
        return Err(Error::Refused(key));
    }
    if check_only {
        return Ok(None);
    }
    let (it, de) = wording::lines(q.kind, &subject);
    let year = today.year();
    let number = db.registry_take(&format!("certificate:{year}"), 1).await?;
    let (kid, key) = crate::keys::signing(deps, &db).await?;
    let signer = crate::pades::signer(deps, &db, &kid, &key, &rec.name).await?;
    let expires = certificate::expires(today);
    let number_text = format!("{year}/{number}");
    let (by, by_person, on_behalf, channel) = match &who {
        Requester::Citizen { person, .. } => (
            format!("person:{person}"),
            Some((*person).to_owned()),
            (me != Some(subject_id)).then(|| subject_code.clone()),
            "online",
        ),
        Requester::Staff { actor, channel } => (
            actor.audit_name(),
            None,
            Some(subject_code.clone()),
            *channel,
        ),
    };
    // The register first, in a short transaction (the year's counter is locked only while
    // it lasts); the PDF is drawn and signed after, and its hash then sealed into the row.
    db.insert_certificate(&CertificateRow {
        year,
        number,
        kind: q.kind.key().into(),
        person_id: subject_id,
        at_date: day,
        issued_at: sportello_store::now_micros(),
        expires_on: expires.to_string(),
        requested_by: by.clone(),
        requested_by_person: by_person,
        on_behalf_of: on_behalf.clone(),
        channel: channel.into(),
        purpose: q.purpose.clone(),
        exemption: q.exemption.map(|e| e.key.to_owned()),
        stamp_duty_cents: if q.exemption.is_some() {
            0
        } else {
            certificate::STAMP_DUTY.cents()
        },
        language: if bilingual { "it+de" } else { "it" }.into(),
        kid: kid.clone(),
        pdf_sha256: String::new(),
    })
    .await?;
    // Everyone the certificate shows, but the requester, sees the look.
    let shown: std::collections::BTreeSet<i64> = std::iter::once(subject_id)
        .chain(family_rows.iter().map(|m| m.person_id))
        .filter(|id| Some(*id) != me)
        .collect();
    for id in shown {
        log_look(&db, &who, id, q.kind, &q.purpose).await?;
    }
    if let Requester::Staff { actor, .. } = &who {
        sportello_kernel::audit::record_for(
            &db,
            actor,
            "certificate_issued",
            "records",
            json!({"number": number_text, "kind": q.kind.key()}),
            &subject_code,
            &q.purpose,
        )
        .await?;
    }
    tx.commit().await?;
    let base = deps.commune_base(&rec.primary_host);
    let laid = lay_out(&RenderArgs {
        rec,
        kind: q.kind,
        q: &q,
        it: &it,
        de: bilingual.then_some(&de),
        number: &number_text,
        today,
        expires,
        base: &base,
    });
    let content = Content {
        c: commune.0,
        h: rec.primary_host.clone(),
        n: number_text,
        k: q.kind.key().into(),
        i: today.to_string(),
        x: expires.to_string(),
        l: it,
        d: laid.digest(),
    };
    let stamp = crate::stamp::seal(&content, &kid, &key).map_err(Error::Internal)?;
    let qr = format!("{base}/verifica?t={stamp}");
    let pdf = laid.write(&stamp, &qr);
    // Signed (PAdES) where the deployment has a CA; a PDF that cannot be signed is not given.
    let mut unsigned = false;
    let pdf = match (pdf, &signer) {
        (Some(p), Some(s)) => {
            let signed = crate::pades::sign(s, &key, &p, chrono::Utc::now());
            unsigned = signed.is_none();
            signed
        }
        (p, _) => p,
    };
    // The row says what became of the number: the PDF's hash, or void (nothing was given out).
    let sealed = pdf.as_ref().map_or_else(
        || VOID.to_owned(),
        |p| data_encoding::HEXLOWER.encode(&Sha256::digest(p)),
    );
    let tx = deps.store.tenant(commune).await?;
    tx.db().seal_certificate(year, number, &sealed).await?;
    tx.commit().await?;
    if unsigned {
        return Err(Error::Internal(
            "a certificate's PAdES signature failed".into(),
        ));
    }
    let pdf = pdf.ok_or(Error::Refused("refused_certificate_too_large"))?;
    Ok(Some(Issued {
        year,
        number,
        pdf,
        stamp,
    }))
}

/// What the register says of a number whose PDF could not be made.
pub const VOID: &str = "void";

/// A certificate about someone else is a look at their record: it goes to their list.
async fn log_look(
    db: &TenantDb<'_>,
    who: &Requester<'_>,
    subject: i64,
    kind: Kind,
    purpose: &str,
) -> Result<()> {
    let (who_id, name, capacity) = match who {
        Requester::Citizen { person, code } => {
            (format!("person:{person}"), (*code).to_owned(), "family")
        }
        Requester::Staff { actor, channel } => (actor.audit_name(), actor.name.clone(), *channel),
    };
    db.registry_log_access(
        subject,
        &Access {
            at: sportello_store::now_micros(),
            who: who_id,
            who_name: name,
            capacity: capacity.into(),
            purpose: purpose.to_owned(),
            reference: String::new(),
            what: format!("certificate:{}", kind.key()),
        },
    )
    .await?;
    Ok(())
}

/// The certificates a person asked for here, newest first.
pub async fn mine(deps: &Deps, commune: TenantId, who: &Current) -> Result<Vec<CertificateRow>> {
    let Some(p) = &who.person else {
        return Ok(vec![]);
    };
    let tx = deps.store.tenant_read(commune).await?;
    let list = tx.db().certificates_requested_by(&p.id, 100).await?;
    tx.commit().await?;
    Ok(list)
}
