//! Filling in a service's form: one page at a time (the draft keeps what was typed), a summary,
//! the submission. Signed in at the service's level, or sent to sign in through the service's
//! start page.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};
use sportello_cases::draft::{self, Filling, Step};
use sportello_cases::filer::Filer;
use sportello_domain::TenantId;
use sportello_domain::form::{Field, Kind, Raw, validate_all};
use sportello_kernel::session::Current;

use crate::error::{AppError, AppResult};
use crate::routes::cases::to_sign_in;
use crate::routes::{Ctx, Posted};

/// Whether a service takes cases here (its start page then leads to the form).
pub(crate) async fn has_form(ctx: &Ctx, service: &str) -> AppResult<bool> {
    let tx = ctx.state.store.tenant_read(ctx.commune()?.id()).await?;
    let f = sportello_cases::forms::of_service(&tx.db(), service).await?;
    tx.commit().await?;
    Ok(f.is_some())
}

#[derive(Deserialize)]
pub struct PageQuery {
    pub(crate) pagina: Option<usize>,
}

/// Not signed in at the level: the service's start page signs in or steps up, then comes back.
fn start_again(ctx: &Ctx, service: &str) -> HttpResponse {
    ctx.see_other(&format!("/servizi/{service}/avvia"))
}

/// Where a form is filled in, and by whom: the person on the commune's site, or staff at a desk
/// in the console (for a person, maybe for a partner commune).
pub(crate) struct Place {
    pub commune: TenantId,
    pub filer: Filer,
    pub service: String,
    /// The form's address: pages post here; `/riepilogo`, `/invia`, `/elimina` and
    /// `/allegati/...` follow it.
    pub base: String,
    /// Where a filed case is shown (its id follows).
    pub done: String,
    /// Where a discarded draft leads.
    pub discarded: String,
    /// A desk's place: the console's frame, and whom the form is for.
    pub desk: bool,
}

impl Place {
    fn citizen(ctx: &Ctx, who: &Current, service: &str) -> AppResult<Self> {
        Ok(Self {
            commune: ctx.commune()?.id(),
            filer: Filer::citizen(who)?,
            service: service.to_owned(),
            base: format!("/pratiche/compila/{service}"),
            done: "/area-personale/pratiche/".into(),
            discarded: "/area-personale/pratiche?bozza=eliminata".into(),
            desk: false,
        })
    }

    /// The template's frame and whom the form is for.
    fn frame(&self, v: &mut Value) {
        v["base"] = json!(self.base);
        if self.desk {
            v["layout"] = json!("console_layout.html");
            v["for_whom"] = json!(format!(
                "{} {} ({})",
                self.filer.person.given_name,
                self.filer.person.family_name,
                self.filer.person.fiscal_code.clone().unwrap_or_default()
            ));
        }
    }
}

/// The signed-in person's place for a service's form, or the way to sign in.
pub(super) fn signed_in(ctx: &Ctx, service: &str) -> Result<Place, Box<HttpResponse>> {
    let again = || Box::new(start_again(ctx, service));
    let who = ctx.citizen().cloned().ok_or_else(again)?;
    Place::citizen(ctx, &who, service).map_err(|_| again())
}

pub async fn page(ctx: Ctx, service: web::Path<String>, q: web::Query<PageQuery>) -> HttpResponse {
    match signed_in(&ctx, &service) {
        Ok(place) => page_at(&ctx, &place, q.pagina).await,
        Err(to) => *to,
    }
}

pub(crate) async fn page_at(ctx: &Ctx, place: &Place, pagina: Option<usize>) -> HttpResponse {
    let r = async {
        let f = draft::open(
            &ctx.state,
            place.commune,
            &place.filer,
            &place.service,
            pagina,
        )
        .await?;
        let files = sportello_cases::files::of_draft(
            &ctx.state,
            place.commune,
            &place.filer,
            &place.service,
        )
        .await?;
        let mut v = fill_context(ctx, &f, &files, false);
        place.frame(&mut v);
        Ok(("case_fill.html", v))
    }
    .await;
    answer(ctx, &place.service, r)
}

/// The form's page again after a refused post (the words by each field), with status 400.
pub(crate) async fn show_again(ctx: &Ctx, place: &Place, page: usize) -> HttpResponse {
    let mut res = page_at(ctx, place, Some(page)).await;
    if res.status().is_success() {
        *res.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
    }
    res
}

fn answer(ctx: &Ctx, service: &str, r: AppResult<(&'static str, Value)>) -> HttpResponse {
    match r {
        Err(AppError::Refused("refused_level_too_low")) => start_again(ctx, service),
        other => ctx.page(other),
    }
}

/// The page's context: the steps, the fields of the page to show with what the draft holds.
fn fill_context(
    ctx: &Ctx,
    f: &Filling,
    files: &[sportello_cases::files::FileLine],
    every_field: bool,
) -> Value {
    let def = &f.form.def;
    let lang = ctx.lang;
    let ids: Vec<(String, String)> = def.pages[f.page]
        .fields
        .iter()
        .map(|x| (x.id.clone(), format!("f-{}", x.id)))
        .collect();
    let pairs: Vec<(&str, &str)> = ids.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let fs = ctx.form_state(&pairs, "case-form");
    let prior = sportello_cases::draft::answers_before(def, &f.raw, f.page);
    let fields: Vec<Value> = def.pages[f.page]
        .fields
        .iter()
        .filter(|x| {
            // A condition on an earlier page that does not hold: the field is not asked (the
            // preview shows every field, each with its condition in words).
            every_field
                || x.show_if.as_ref().is_none_or(|c| {
                    def.pages[f.page].fields.iter().any(|y| y.id == c.field) || c.holds(&prior)
                })
        })
        .map(|x| {
            let mut j = field_json(ctx, def, x, &f.raw, &fs);
            if x.kind == Kind::File {
                let mine: Vec<_> = files.iter().filter(|y| y.field == x.id).collect();
                j["files"] = json!(mine);
                j["room"] = json!(mine.len() < x.max_files.unwrap_or(1) as usize);
                j["types"] = json!(if x.types.is_empty() {
                    "PDF".to_owned()
                } else {
                    x.types.join(", ").to_uppercase()
                });
                j["max_mb"] = json!(
                    f64::from(x.max_kib.unwrap_or(sportello_cases::files::DEFAULT_KIB)) / 1024.0
                );
            }
            j
        })
        .collect();
    let steps: Vec<Value> = f
        .pages
        .iter()
        .enumerate()
        .map(|(n, i)| json!({"n": n + 1, "title": def.pages[*i].title(lang), "current": *i == f.page, "page": i}))
        .collect();
    let position = f.pages.iter().position(|p| *p == f.page).unwrap_or(0);
    json!({
        "service": {"id": f.form.service.id, "title": sportello_cases::view::title(&f.form.service, lang)},
        "page": {"index": f.page, "title": def.pages[f.page].title(lang), "n": position + 1, "of": f.pages.len()},
        "steps": steps,
        "first": position == 0,
        "fields": fields,
        "fs": fs,
        "saved": crate::views::when::when(lang, f.updated_at),
        "csrf": ctx.csrf_token(),
    })
}

/// The console's preview of a form's page: every page in the steps, every field with its
/// condition in words, nothing typed.
pub(crate) fn preview_context(
    ctx: &Ctx,
    form: sportello_cases::forms::ServiceForm,
    page: usize,
) -> Value {
    let pages: Vec<usize> = (0..form.def.pages.len()).collect();
    let f = Filling {
        form,
        draft_id: String::new(),
        raw: Raw::new(),
        page,
        pages,
        complete: false,
        updated_at: sportello_store::now_micros(),
    };
    fill_context(ctx, &f, &[], true)
}

/// A definition's field as `_form.html` draws it (`multi`: a group of boxes, drawn by the page).
fn field_json(
    ctx: &Ctx,
    def: &sportello_domain::form::FormDef,
    x: &Field,
    raw: &Raw,
    fs: &Value,
) -> Value {
    let lang = ctx.lang;
    let values = raw.get(&x.id).cloned().unwrap_or_default();
    let first = values.first().cloned().unwrap_or_default();
    let error = fs["errors"][&x.id].clone();
    let mut help = x.help(lang).unwrap_or("").to_owned();
    if let Some(c) = &x.show_if
        && let Some(on) = def.field(&c.field)
    {
        let wanted: Vec<String> = c
            .equals
            .iter()
            .chain(c.any_of.iter().flatten())
            .map(|v| {
                on.options
                    .iter()
                    .find(|o| o.value == *v)
                    .map_or(v.clone(), |o| o.label(lang).to_owned())
            })
            .collect();
        let only = if wanted.is_empty() {
            ctx.tf("case_only_if_filled", &[&on.label(lang)])
        } else {
            ctx.tf("case_only_if", &[&on.label(lang), &wanted.join(" / ")])
        };
        help = if help.is_empty() {
            only
        } else {
            format!("{help} {only}")
        };
    }
    let label = if x.required {
        format!("{} *", x.label(lang))
    } else {
        x.label(lang).to_owned()
    };
    let base = |kind: &str| json!({"kind": kind, "name": x.id, "label": label, "value": first, "help": help, "error": error});
    match x.kind {
        Kind::LongText => base("textarea"),
        Kind::Date => base("date"),
        Kind::Email => base("email"),
        Kind::Phone => base("tel"),
        Kind::Checkbox => {
            let mut f = base("checkbox");
            f["value"] = json!(!first.is_empty());
            f
        }
        Kind::Choice => {
            let mut opts = vec![json!({"value": "", "label": "—", "selected": first.is_empty()})];
            opts.extend(x.options.iter().map(
                |o| json!({"value": o.value, "label": o.label(lang), "selected": o.value == first}),
            ));
            let mut f = base("select");
            f["options"] = json!(opts);
            f
        }
        Kind::MultiChoice => {
            let mut f = base("multi");
            f["options"] = json!(
                x.options
                    .iter()
                    .map(|o| json!({"value": o.value, "label": o.label(lang), "checked": values.contains(&o.value)}))
                    .collect::<Vec<_>>()
            );
            f
        }
        Kind::File => base("files"),
        _ => base("text"),
    }
}

/// The typed values of a posted page (the form's own fields left out).
fn typed(pairs: &[(String, String)]) -> Raw {
    let mut raw = Raw::new();
    for (k, v) in pairs {
        if k == "csrf" || k.starts_with('_') {
            continue;
        }
        raw.entry(k.clone()).or_default().push(v.clone());
    }
    raw
}

pub async fn save(
    ctx: Ctx,
    service: web::Path<String>,
    form: Posted<Vec<(String, String)>>,
) -> HttpResponse {
    match signed_in(&ctx, &service) {
        Ok(place) => save_at(&ctx, &place, &form).await,
        Err(to) => *to,
    }
}

pub(crate) async fn save_at(
    ctx: &Ctx,
    place: &Place,
    form: &Posted<Vec<(String, String)>>,
) -> HttpResponse {
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let page: usize = get("_pagina").and_then(|p| p.parse().ok()).unwrap_or(0);
    let step = match get("_azione") {
        Some("indietro") => Step::Back,
        Some("salva") => Step::Save,
        _ => Step::Next,
    };
    let r: AppResult<Option<usize>> = async {
        Ok(draft::save(
            &ctx.state,
            place.commune,
            &place.filer,
            &place.service,
            page,
            &typed(form.as_slice()),
            step,
        )
        .await?)
    }
    .await;
    let base = &place.base;
    match r {
        Ok(Some(p)) if step == Step::Save => ctx.see_other(&format!("{base}?pagina={p}&salvata=1")),
        Ok(Some(p)) => ctx.see_other(&format!("{base}?pagina={p}")),
        Ok(None) => ctx.see_other(&format!("{base}/riepilogo")),
        Err(e) => match ctx.redo(form, e) {
            Ok(()) => show_again(ctx, place, page).await,
            Err(e) => answer(ctx, &place.service, Err(e)),
        },
    }
}

pub async fn summary(ctx: Ctx, service: web::Path<String>) -> HttpResponse {
    match signed_in(&ctx, &service) {
        Ok(place) => summary_at(&ctx, &place).await,
        Err(to) => *to,
    }
}

pub(crate) async fn summary_at(ctx: &Ctx, place: &Place) -> HttpResponse {
    let r = async {
        let f = draft::open(&ctx.state, place.commune, &place.filer, &place.service, None).await?;
        match validate_all(&f.form.def, &f.raw, sportello_cases::today()) {
            // Something still wrong: back to the first page with a problem.
            Err(p) => Ok(Err(format!("{}?pagina={}", place.base, p[0].page))),
            Ok(answers) => {
                let mut v = json!({
                    "service": {"id": f.form.service.id, "title": sportello_cases::view::title(&f.form.service, ctx.lang)},
                    "answers": sportello_domain::form::summary(&f.form.def, &answers, ctx.lang),
                    "pages": f.pages.iter().map(|i| json!({"index": i, "title": f.form.def.pages[*i].title(ctx.lang)})).collect::<Vec<_>>(),
                    "draft": f.draft_id,
                    "files": sportello_cases::files::of_draft(&ctx.state, place.commune, &place.filer, &place.service).await?,
                    "level": place.filer.level.number(),
                    "signed": place.filer.signed(),
                    "csrf": ctx.csrf_token(),
                });
                if let Some((q, n)) = sportello_payments::fees::for_draft(
                    &ctx.state,
                    place.commune,
                    &place.service,
                    &f.draft_id,
                )
                .await?
                {
                    let with_stamp = q.total(None).map(|(m, _)| m.to_string()).unwrap_or_default();
                    v["fee"] = json!({"mode": q.mode, "cost": q.cost.to_string(),
                        "stamp": q.stamp.map(|m| m.to_string()), "exemptions": q.exemptions,
                        "total": with_stamp,
                        "paid": n.as_ref().is_some_and(|n| n.status == sportello_store::payments::NoticeStatus::Paid),
                        "at_desk": place.filer.desk.is_some()});
                }
                place.frame(&mut v);
                Ok(Ok(("case_summary.html", v)))
            }
        }
    }
    .await;
    match r {
        Ok(Err(to)) => ctx.see_other(&to),
        Ok(Ok(p)) => answer(ctx, &place.service, Ok(p)),
        Err(e) => answer(ctx, &place.service, Err(e)),
    }
}

#[derive(Deserialize)]
pub struct SubmitForm {
    #[serde(default, rename = "_bozza")]
    draft: String,
    /// The exemption from the stamp duty the person declares, if any.
    #[serde(default)]
    esenzione: String,
}

pub async fn submit(
    ctx: Ctx,
    service: web::Path<String>,
    form: Posted<SubmitForm>,
) -> HttpResponse {
    match signed_in(&ctx, &service) {
        Ok(place) => submit_at(&ctx, &place, &form.draft, Some(&form.esenzione)).await,
        Err(to) => *to,
    }
}

pub(crate) async fn submit_at(
    ctx: &Ctx,
    place: &Place,
    draft_id: &str,
    exemption: Option<&str>,
) -> HttpResponse {
    let r = async {
        // The case's own commune's site (a partner's, for a desk filing for it).
        let base = ctx.base_url_of(place.commune)?;
        let s = sportello_cases::submit::submit_with(
            &ctx.state,
            place.commune,
            &place.filer,
            &place.service,
            draft_id,
            ctx.lang,
            &base,
            exemption,
        )
        .await?;
        Ok(s.case_id)
    }
    .await;
    match r {
        Ok(id) => ctx.see_other(&format!("{}{id}?inviata=1", place.done)),
        // An exemption not offered: the summary again, which offers them.
        Err(AppError::Invalid(p)) if p.has("esenzione", sportello_kernel::Why::NotOneOf) => {
            ctx.see_other(&format!("{}/riepilogo", place.base))
        }
        // Answers gone wrong since the summary (the form changed): back to the pages.
        Err(AppError::Invalid(_)) => ctx.see_other(&format!("{}/riepilogo", place.base)),
        Err(e) => answer(ctx, &place.service, Err(e)),
    }
}

pub async fn discard(
    ctx: Ctx,
    service: web::Path<String>,
    _form: Posted<crate::routes::posted::Button>,
) -> HttpResponse {
    match signed_in(&ctx, &service) {
        Ok(place) => discard_at(&ctx, &place).await,
        Err(to) => *to,
    }
}

pub(crate) async fn discard_at(ctx: &Ctx, place: &Place) -> HttpResponse {
    let r = async {
        draft::discard(&ctx.state, place.commune, &place.filer, &place.service).await?;
        Ok(())
    }
    .await;
    match r {
        Ok(()) => ctx.see_other(&place.discarded),
        Err(e) => ctx.respond(Err(e)),
    }
}

/// A service paid first: the fee's notice is issued (with the exemption declared) and paid like
/// any notice; the summary then lets the person submit.
pub async fn pay_first(
    ctx: Ctx,
    service: web::Path<String>,
    form: Posted<SubmitForm>,
) -> HttpResponse {
    let place = match signed_in(&ctx, &service) {
        Ok(p) => p,
        Err(to) => return *to,
    };
    let Some(who) = ctx.citizen().cloned() else {
        return to_sign_in(&ctx);
    };
    let r = sportello_payments::fees::pay_first(
        &ctx.state,
        place.commune,
        &who,
        &place.service,
        &form.draft,
        Some(&form.esenzione),
    )
    .await;
    match r {
        Ok(id) => ctx.see_other(&format!("/area-personale/pagamenti/pagamento/{id}")),
        Err(e) => answer(&ctx, &place.service, Err(e.into())),
    }
}
