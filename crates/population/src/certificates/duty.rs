//! A certificate on stamped paper asked online where the commune takes payments: the stamp duty
//! (16 €) is paid first. Asking checks everything issuing would (nothing is charged for a
//! certificate that could not be given), records the request and issues the duty's notice to
//! the person (asked again while unpaid: the same notice); once it is paid, the person collects
//! the certificate from their registry page, which says the duty was paid and by which notice —
//! made once and kept, so collecting again gives the same file. With an exemption, or where the commune takes no
//! payments, the certificate is given at once (the duty then recorded as due on it).

use serde::Serialize;
use sportello_domain::registry::certificate::Kind;
use sportello_domain::{FiscalCode, TenantId};
use sportello_kernel::session::Current;
use sportello_kernel::{Deps, Error, Result};
use sportello_payments::duty;
use sportello_store::population::CertificateRequest;

use super::{Issued, Request, check_for_citizen, for_citizen};

/// What asking gave.
#[derive(Debug, Clone)]
pub enum Asked {
    /// The certificate, at once.
    Issued(Issued),
    /// The duty to pay first: the request and the notice's number.
    ToPay { request: String, notice: String },
}

/// A request waiting for its duty or collected, as the person's page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Waiting {
    pub request: CertificateRequest,
    pub notice: Option<String>,
    /// The duty is paid: the certificate can be collected.
    pub paid: bool,
}

/// Requests listed on the person's page.
const LISTED: u64 = 20;

/// A citizen asks for a certificate.
pub async fn ask(deps: &Deps, commune: TenantId, who: &Current, r: &Request) -> Result<Asked> {
    let exempt = !r.exemption.trim().is_empty();
    let takes = {
        let tx = deps.store.tenant_read(commune).await?;
        let t = duty::taken(&tx.db()).await?;
        tx.commit().await?;
        t
    };
    if exempt || !takes {
        return Ok(Asked::Issued(for_citizen(deps, commune, who, r).await?));
    }
    check_for_citizen(deps, commune, who, r).await?;
    let person = who.person.as_ref().ok_or(Error::Refused("session_ended"))?;
    let purpose = r.purpose.split_whitespace().collect::<Vec<_>>().join(" ");
    let code = person
        .fiscal_code
        .as_deref()
        .and_then(|c| FiscalCode::parse(c).ok())
        .ok_or(Error::Refused("refused_certificate_level"))?;
    let id = data_encoding::BASE32_NOPAD
        .encode(&rand_bytes()?)
        .to_lowercase();
    let kind = Kind::parse(&r.kind).ok_or(Error::NotFound)?;
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    // The same certificate asked again (a second click, a second tab) while its duty is unpaid:
    // the same request and notice, never a second charge (looked up in the transaction that
    // would write the new one).
    let same = |q: &CertificateRequest| {
        q.state == "to_pay"
            && q.kind == kind.key()
            && q.subject == r.subject.trim()
            && q.at_date == r.at.trim()
            && q.purpose == purpose
    };
    let earlier = db
        .certificate_requests(&person.id, LISTED)
        .await?
        .into_iter()
        .find(|q| same(q));
    if let Some(q) = earlier {
        tx.commit().await?;
        return waiting_one(deps, commune, q).await;
    }
    let added = db
        .add_certificate_request(&CertificateRequest {
            id: id.clone(),
            person_id: person.id.clone(),
            fiscal_code: code.as_str().to_owned(),
            kind: kind.key().into(),
            subject: r.subject.trim().to_owned(),
            at_date: r.at.trim().to_owned(),
            purpose: purpose.clone(),
            created_at: sportello_store::now_micros(),
            state: "to_pay".into(),
            certificate: None,
        })
        .await?;
    if !added {
        // Asked at the same moment by another click (PostgreSQL waited for it): that one.
        let q = db
            .certificate_requests(&person.id, LISTED)
            .await?
            .into_iter()
            .find(|q| same(q))
            .ok_or_else(|| Error::Internal("a request neither written nor found".into()))?;
        tx.commit().await?;
        return waiting_one(deps, commune, q).await;
    }
    let payer = format!("{} {}", person.given_name, person.family_name);
    let what = super::wording::title(kind).0.to_lowercase();
    let notice = duty::issue(
        &db,
        &id,
        &code,
        &payer,
        &what,
        &format!("person:{}", person.id),
    )
    .await?;
    tx.commit().await?;
    Ok(Asked::ToPay {
        request: id,
        notice,
    })
}

/// The same certificate asked again while its request waits: its notice to pay, or, paid,
/// the word that it is to be collected.
async fn waiting_one(deps: &Deps, commune: TenantId, q: CertificateRequest) -> Result<Asked> {
    let tx = deps.store.tenant_read(commune).await?;
    let n = duty::notice_of(&tx.db(), &q.id).await?;
    tx.commit().await?;
    match n {
        Some(n) if n.status == sportello_store::payments::NoticeStatus::Open => Ok(Asked::ToPay {
            request: q.id,
            notice: n.notice_number,
        }),
        _ => Err(Error::Refused("refused_duty_paid_collect")),
    }
}

fn rand_bytes() -> Result<[u8; 10]> {
    let mut b = [0u8; 10];
    openssl::rand::rand_bytes(&mut b).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(b)
}

/// The person's requests, with their duty's state.
pub async fn waiting(deps: &Deps, commune: TenantId, who: &Current) -> Result<Vec<Waiting>> {
    let person = who.person.as_ref().ok_or(Error::Refused("session_ended"))?;
    let tx = deps.store.tenant_read(commune).await?;
    let db = tx.db();
    let mut out = vec![];
    for request in db.certificate_requests(&person.id, LISTED).await? {
        let n = duty::notice_of(&db, &request.id).await?;
        out.push(Waiting {
            paid: n
                .as_ref()
                .is_some_and(|n| duty::paid(n, &request.fiscal_code)),
            notice: n.map(|n| n.notice_number),
            request,
        });
    }
    tx.commit().await?;
    Ok(out)
}

/// A collection claimed this long ago and never ended (a node died, the connection dropped)
/// may be claimed again.
const STALE_MICROS: i64 = 120_000_000;

/// The kept file of a request's certificate (by its number: a file is never another's).
fn file_key(commune: TenantId, id: &str, number: &str) -> String {
    format!(
        "certificates/{}/{id}-{}",
        commune.0,
        number.replace('/', "-")
    )
}

/// Collects a paid request's certificate: made the first time (and kept), the same file after.
pub async fn collect(deps: &Deps, commune: TenantId, who: &Current, id: &str) -> Result<Issued> {
    let person = who.person.as_ref().ok_or(Error::Refused("session_ended"))?;
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    let req = db
        .certificate_request(&person.id, id)
        .await?
        .ok_or(Error::NotFound)?;
    if let (Some(number), "collected") = (&req.certificate, req.state.as_str()) {
        tx.commit().await?;
        return again(deps, commune, id, number).await;
    }
    let notice = duty::notice_of(&db, id).await?;
    let Some(notice) = notice.filter(|n| duty::paid(n, &req.fiscal_code)) else {
        return Err(Error::Refused("refused_duty_unpaid"));
    };
    let now = sportello_store::now_micros();
    if !db
        .claim_certificate_request(id, now, now - STALE_MICROS)
        .await?
    {
        return Err(Error::Refused("refused_duty_collecting"));
    }
    tx.commit().await?;
    let r = Request {
        kind: req.kind.clone(),
        subject: req.subject.clone(),
        at: req.at_date.clone(),
        purpose: req.purpose.clone(),
        exemption: String::new(),
        duty_paid: notice.notice_number.clone(),
    };
    let issued = match for_citizen(deps, commune, who, &r).await {
        Ok(c) => {
            let n = format!("{}/{}", c.year, c.number);
            deps.files
                .put(&file_key(commune, id, &n), &c.pdf)
                .await
                .map(|()| (c, n))
                .map_err(|e| Error::Internal(format!("keeping a certificate: {e}")))
        }
        Err(e) => Err(e),
    };
    // Ended only by this claim (`now` is its token): a claim taken over meanwhile ends there.
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    let mut overtaken = false;
    match &issued {
        Ok((_, n)) => {
            // A claim that took this one over gives its own certificate: this one is not given
            // (one certificate for one duty).
            overtaken = !db
                .finish_certificate_request(id, now, "collected", Some(n))
                .await?;
        }
        // Not given (the registry changed since it was paid): the page says why, and it may be
        // collected again once put right; the office refunds the duty if it never can be.
        Err(_) => {
            db.finish_certificate_request(id, now, "to_pay", None)
                .await?;
        }
    }
    tx.commit().await?;
    if overtaken {
        return Err(Error::Refused("refused_duty_collecting"));
    }
    issued.map(|(c, _)| c)
}

/// A collected certificate again: the file kept when it was made.
async fn again(deps: &Deps, commune: TenantId, id: &str, number: &str) -> Result<Issued> {
    let pdf = deps
        .files
        .get(&file_key(commune, id, number))
        .await
        .map_err(|_| Error::NotFound)?;
    let (year, n) = number.split_once('/').ok_or(Error::NotFound)?;
    Ok(Issued {
        year: year.parse().map_err(|_| Error::NotFound)?,
        number: n.parse().map_err(|_| Error::NotFound)?,
        stamp: sportello_kernel::pdf::info_value(&pdf, "SportelloStamp").unwrap_or_default(),
        pdf,
    })
}
