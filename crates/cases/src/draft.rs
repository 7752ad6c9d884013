//! Filling in a form: page by page, kept as typed in a draft (one per person and service) that
//! survives signing out and session expiry. "Next" checks the page; "save" keeps what was typed
//! without checking it; a refused page is saved too, so nothing typed is lost.

use sportello_domain::TenantId;
use sportello_domain::form::{Answers, FormDef, Kind, Prefill, Raw, page_shown, validate_page};
use sportello_kernel::session::Current;
use sportello_kernel::{Deps, Error, Problems, Result};
use sportello_store::cases::forms::Draft;
use sportello_store::identity::Person;

use crate::filer::Filer;
use crate::forms::{self, ServiceForm};

/// A form being filled in.
#[derive(Debug, Clone)]
pub struct Filling {
    pub form: ServiceForm,
    pub draft_id: String,
    pub raw: Raw,
    /// The page to show.
    pub page: usize,
    /// The pages shown, given the answers so far (a page whose condition fails is skipped).
    pub pages: Vec<usize>,
    /// Whether every shown page is answered well (the summary can be offered).
    pub complete: bool,
    pub updated_at: i64,
}

/// What the person pressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Check this page and go on (to the summary after the last).
    Next,
    /// Keep what was typed, go back a page.
    Back,
    /// Keep what was typed and stay (to come back later).
    Save,
}

/// Opens the person's draft for a service (a new one, prefilled from their identity and
/// contacts, if none), at `page` if given and shown, else where they left off.
pub async fn open(
    deps: &Deps,
    commune: TenantId,
    who: &Filer,
    service_id: &str,
    page: Option<usize>,
) -> Result<Filling> {
    // A read first: a page view takes no write lock once the draft exists.
    let (form, p, existing) = {
        let tx = deps.store.tenant_read(commune).await?;
        let db = tx.db();
        let form = forms::of_service(&db, service_id)
            .await?
            .ok_or(Error::NotFound)?;
        who.may_fill(&form)?;
        let p = who.person.clone();
        let d = db.draft_of(&p.id, service_id, &who.key()).await?;
        tx.commit().await?;
        (form, p, d)
    };
    let draft = match existing {
        Some(d) => d,
        None => {
            // A password account's address is the account's (no provider gave one); read
            // before the writing transaction.
            let account_email = match (&p.contact_email, &p.idp_email) {
                (None, None) if who.desk.is_none() => deps
                    .store
                    .identity()
                    .local_account_of(&p.id)
                    .await?
                    .filter(|a| a.email_verified)
                    .map(|a| a.email),
                _ => None,
            };
            let now = sportello_store::now_micros();
            let d = Draft {
                id: uuid::Uuid::new_v4().to_string(),
                person_id: p.id.clone(),
                service_id: service_id.to_owned(),
                form_version: form.version,
                raw: serde_json::to_string(&prefill(
                    &form.def,
                    &p,
                    account_email,
                    who.desk.is_some(),
                ))
                .map_err(internal)?,
                page: 0,
                created_at: now,
                updated_at: now,
                filed_by: who.key(),
                filed_as: who
                    .desk
                    .as_ref()
                    .map_or_else(String::new, |d| d.as_.key().to_owned()),
                filed_from: who.desk.as_ref().map(|d| d.from.0),
                purpose: who
                    .desk
                    .as_ref()
                    .map_or_else(String::new, |d| d.purpose.clone()),
                delegation_id: who.desk.as_ref().and_then(|d| d.delegation_id.clone()),
            };
            let tx = deps.store.tenant(commune).await?;
            let db = tx.db();
            // Two first visits at once: one draft, the other visit reads it.
            let d = if db.create_draft(&d).await? {
                d
            } else {
                db.draft_of(&p.id, service_id, &who.key())
                    .await?
                    .ok_or(Error::NotFound)?
            };
            tx.commit().await?;
            d
        }
    };
    let raw: Raw = serde_json::from_str(&draft.raw).unwrap_or_default();
    let (pages, complete) = walk(&form.def, &raw);
    let at = page
        .or(usize::try_from(draft.page).ok())
        .filter(|p| pages.contains(p))
        .unwrap_or_else(|| pages.first().copied().unwrap_or(0));
    Ok(Filling {
        form,
        draft_id: draft.id,
        raw,
        page: at,
        pages,
        complete,
        updated_at: draft.updated_at,
    })
}

/// Keeps what was typed on `page` and moves as `step` says: gives the page to show next
/// (`None`: the summary). With [`Step::Next`] the page is checked: if refused, the typed values
/// are kept all the same and the error names every field.
pub async fn save(
    deps: &Deps,
    commune: TenantId,
    who: &Filer,
    service_id: &str,
    page: usize,
    typed: &Raw,
    step: Step,
) -> Result<Option<usize>> {
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    let form = forms::of_service(&db, service_id)
        .await?
        .ok_or(Error::NotFound)?;
    who.may_fill(&form)?;
    let mut draft = db
        .draft_of(&who.person.id, service_id, &who.key())
        .await?
        .ok_or(Error::NotFound)?;
    let was = draft.raw.clone();
    let mut raw: Raw = serde_json::from_str(&draft.raw).unwrap_or_default();
    let def = &form.def;
    let Some(on_page) = def.pages.get(page) else {
        return Err(Error::NotFound);
    };
    // The page's fields take what was sent (a checkbox not ticked sends nothing); files are
    // attached on their own and stay.
    for f in on_page.fields.iter().filter(|f| f.kind != Kind::File) {
        match typed.get(&f.id) {
            Some(v) if v.iter().any(|x| !x.trim().is_empty()) => {
                let kept: Vec<String> = v
                    .iter()
                    .take(50)
                    .map(|x| x.chars().take(5000).collect())
                    .collect();
                raw.insert(f.id.clone(), kept);
            }
            _ => {
                raw.remove(&f.id);
            }
        }
    }
    let prior = answers_before(def, &raw, page);
    let checked = validate_page(def, page, &raw, &prior, crate::today());
    let (pages, _) = walk(def, &raw);
    let next = match step {
        Step::Save => Some(page),
        Step::Back => Some(
            pages
                .iter()
                .rev()
                .find(|i| **i < page)
                .copied()
                .unwrap_or(page),
        ),
        Step::Next => match &checked {
            Ok(_) => pages.iter().find(|i| **i > page).copied(),
            Err(_) => Some(page),
        },
    };
    draft.raw = serde_json::to_string(&raw).map_err(internal)?;
    draft.page = i32::try_from(next.unwrap_or(page)).unwrap_or(0);
    draft.form_version = form.version;
    draft.updated_at = sportello_store::now_micros();
    if !db.update_draft(&draft, &was).await? {
        // Submitted, discarded or changed elsewhere meanwhile: nothing is overwritten.
        return Err(Error::Refused("refused_draft_changed"));
    }
    tx.commit().await?;
    if step == Step::Next
        && let Err(problems) = checked
    {
        return Err(Error::Invalid(problems_of(&problems)));
    }
    Ok(next)
}

/// Throws a draft away.
pub async fn discard(deps: &Deps, commune: TenantId, who: &Filer, service_id: &str) -> Result<()> {
    let p = &who.person;
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    let mut keys = vec![];
    if let Some(d) = db.draft_of(&p.id, service_id, &who.key()).await? {
        // Its fee goes with it; a paid one keeps it (the person submits it instead).
        if !sportello_payments::fees::release(&db, &d.id).await? {
            return Err(Error::Refused("refused_fee_paid_keep"));
        }
        for f in db.draft_files(&d.id).await? {
            if let Some(k) = db.delete_draft_file(&f.id, &d.id).await? {
                keys.push(k);
            }
        }
        db.delete_draft(&d.id, &p.id).await?;
    }
    tx.commit().await?;
    for k in keys {
        deps.files.delete(&k).await.ok();
    }
    Ok(())
}

pub(crate) fn problems_of(list: &[sportello_domain::form::FieldProblem]) -> Problems {
    let mut p = Problems::default();
    for x in list {
        p.add(&x.field, x.why, x.arg.clone());
    }
    p
}

/// The answers of the pages before `page` that are shown and answered well (for conditions).
pub fn answers_before(def: &FormDef, raw: &Raw, page: usize) -> Answers {
    let mut a = Answers::new();
    for i in 0..page.min(def.pages.len()) {
        if page_shown(def, i, &a)
            && let Ok(x) = validate_page(def, i, raw, &a, crate::today())
        {
            a.extend(x);
        }
    }
    a
}

/// The pages shown given the answers so far, and whether all of them are answered well.
pub(crate) fn walk(def: &FormDef, raw: &Raw) -> (Vec<usize>, bool) {
    let mut a = Answers::new();
    let mut pages = vec![];
    let mut complete = true;
    for i in 0..def.pages.len() {
        if !page_shown(def, i, &a) {
            continue;
        }
        pages.push(i);
        match validate_page(def, i, raw, &a, crate::today()) {
            Ok(x) => a.extend(x),
            Err(_) => complete = false,
        }
    }
    (pages, complete)
}

/// The answers known before the person starts. For a desk, only what the desk was told (names
/// and fiscal code): the person's stored contacts and birth data are not staff's to read.
fn prefill(def: &FormDef, p: &Person, account_email: Option<String>, desk: bool) -> Raw {
    let mut raw = Raw::new();
    for f in def.fields() {
        let v = match f.prefill {
            Some(Prefill::GivenName) => Some(p.given_name.clone()),
            Some(Prefill::FamilyName) => Some(p.family_name.clone()),
            Some(Prefill::FiscalCode) => p.fiscal_code.clone(),
            _ if desk => None,
            Some(Prefill::DateOfBirth) => p.date_of_birth.clone(),
            Some(Prefill::PlaceOfBirth) => p.place_of_birth.clone(),
            Some(Prefill::Email) => p
                .contact_email
                .clone()
                .or_else(|| p.idp_email.clone())
                .or_else(|| account_email.clone()),
            Some(Prefill::Mobile) => p.contact_mobile.clone().or_else(|| p.idp_mobile.clone()),
            None => None,
        };
        if let Some(v) = v.filter(|v| !v.is_empty()) {
            raw.insert(f.id.clone(), vec![v]);
        }
    }
    raw
}

pub(crate) fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(e.to_string())
}

/// A draft as the person's list shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DraftLine {
    pub service_id: String,
    pub service_title: String,
    pub updated_at: i64,
}

/// The person's drafts in this commune, the most recent first.
pub async fn mine(
    deps: &Deps,
    commune: TenantId,
    who: &Current,
    lang: sportello_domain::Language,
) -> Result<Vec<DraftLine>> {
    let p = who.person.as_ref().ok_or(Error::Refused("session_ended"))?;
    let tx = deps.store.tenant_read(commune).await?;
    let db = tx.db();
    let drafts = db.drafts_of(&p.id).await?;
    let services = db.services().await?;
    tx.commit().await?;
    Ok(drafts
        .into_iter()
        .filter_map(|d| {
            let s = services.iter().find(|s| s.id == d.service_id)?;
            Some(DraftLine {
                service_id: d.service_id,
                service_title: crate::view::title(s, lang).to_owned(),
                updated_at: d.updated_at,
            })
        })
        .collect())
}
