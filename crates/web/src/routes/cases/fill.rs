//! Filling in a service's form: one page at a time (the draft keeps what was typed), a summary,
//! the submission. Signed in at the service's level, or sent to sign in through the service's
//! start page.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};
use sportello_cases::draft::{self, Filling, Step};
use sportello_domain::form::{Field, Kind, Raw, validate_all};

use crate::error::{AppError, AppResult};
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
    pagina: Option<usize>,
}

/// Not signed in at the level: the service's start page signs in or steps up, then comes back.
fn start_again(ctx: &Ctx, service: &str) -> HttpResponse {
    ctx.see_other(&format!("/servizi/{service}/avvia"))
}

fn signed_in(ctx: &Ctx) -> Option<std::sync::Arc<sportello_kernel::session::Current>> {
    ctx.citizen().cloned()
}

pub async fn page(ctx: Ctx, service: web::Path<String>, q: web::Query<PageQuery>) -> HttpResponse {
    let Some(who) = signed_in(&ctx) else {
        return start_again(&ctx, &service);
    };
    let r = async {
        let c = ctx.commune()?.id();
        let f = draft::open(&ctx.state, c, &who, &service, q.pagina).await?;
        let files = sportello_cases::files::of_draft(&ctx.state, c, &who, &service).await?;
        Ok(("case_fill.html", fill_context(&ctx, &f, &files)))
    }
    .await;
    answer(&ctx, &service, r)
}

/// The form's page again after a refused post (the words by each field), with status 400.
pub(super) async fn show_again(
    ctx: &Ctx,
    who: &sportello_kernel::session::Current,
    service: &str,
    page: usize,
) -> HttpResponse {
    let r = async {
        let c = ctx.commune()?.id();
        let f = draft::open(&ctx.state, c, who, service, Some(page)).await?;
        let files = sportello_cases::files::of_draft(&ctx.state, c, who, service).await?;
        Ok(("case_fill.html", fill_context(ctx, &f, &files)))
    }
    .await;
    let mut res = answer(ctx, service, r);
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
fn fill_context(ctx: &Ctx, f: &Filling, files: &[sportello_cases::files::FileLine]) -> Value {
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
            // A condition on an earlier page that does not hold: the field is not asked.
            x.show_if.as_ref().is_none_or(|c| {
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
    let Some(who) = signed_in(&ctx) else {
        return start_again(&ctx, &service);
    };
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let page: usize = get("_pagina").and_then(|p| p.parse().ok()).unwrap_or(0);
    let step = match get("_azione") {
        Some("indietro") => Step::Back,
        Some("salva") => Step::Save,
        _ => Step::Next,
    };
    let r: AppResult<Option<usize>> = async {
        let c = ctx.commune()?.id();
        Ok(draft::save(&ctx.state, c, &who, &service, page, &typed(&form), step).await?)
    }
    .await;
    match r {
        Ok(Some(p)) if step == Step::Save => {
            ctx.see_other(&format!("/pratiche/compila/{service}?pagina={p}&salvata=1"))
        }
        Ok(Some(p)) => ctx.see_other(&format!("/pratiche/compila/{service}?pagina={p}")),
        Ok(None) => ctx.see_other(&format!("/pratiche/compila/{service}/riepilogo")),
        Err(e) => match ctx.redo(&form, e) {
            Ok(()) => show_again(&ctx, &who, &service, page).await,
            Err(e) => answer(&ctx, &service, Err(e)),
        },
    }
}

pub async fn summary(ctx: Ctx, service: web::Path<String>) -> HttpResponse {
    let Some(who) = signed_in(&ctx) else {
        return start_again(&ctx, &service);
    };
    let r = async {
        let c = ctx.commune()?.id();
        let f = draft::open(&ctx.state, c, &who, &service, None).await?;
        match validate_all(&f.form.def, &f.raw, sportello_cases::today()) {
            // Something still wrong: back to the first page with a problem.
            Err(p) => Ok(Err(format!("/pratiche/compila/{service}?pagina={}", p[0].page))),
            Ok(answers) => Ok(Ok((
                "case_summary.html",
                json!({
                    "service": {"id": f.form.service.id, "title": sportello_cases::view::title(&f.form.service, ctx.lang)},
                    "answers": sportello_domain::form::summary(&f.form.def, &answers, ctx.lang),
                    "pages": f.pages.iter().map(|i| json!({"index": i, "title": f.form.def.pages[*i].title(ctx.lang)})).collect::<Vec<_>>(),
                    "draft": f.draft_id,
                    "files": sportello_cases::files::of_draft(&ctx.state, ctx.commune()?.id(), &who, &service).await?,
                    "level": who.level.number(),
                    "signed": who.level >= sportello_domain::AssuranceLevel::Substantial && who.idp != "password",
                    "csrf": ctx.csrf_token(),
                }),
            ))),
        }
    }
    .await;
    match r {
        Ok(Err(to)) => ctx.see_other(&to),
        Ok(Ok(p)) => answer(&ctx, &service, Ok(p)),
        Err(e) => answer(&ctx, &service, Err(e)),
    }
}

#[derive(Deserialize)]
pub struct SubmitForm {
    #[serde(default, rename = "_bozza")]
    draft: String,
}

pub async fn submit(
    ctx: Ctx,
    service: web::Path<String>,
    form: Posted<SubmitForm>,
) -> HttpResponse {
    let Some(who) = signed_in(&ctx) else {
        return start_again(&ctx, &service);
    };
    let r = async {
        let c = ctx.commune()?.id();
        let base = ctx.base_url()?;
        let s = sportello_cases::submit::submit(
            &ctx.state,
            c,
            &who,
            &service,
            &form.draft,
            ctx.lang,
            &base,
        )
        .await?;
        Ok(s.case_id)
    }
    .await;
    match r {
        Ok(id) => ctx.see_other(&format!("/area-personale/pratiche/{id}?inviata=1")),
        // Answers gone wrong since the summary (the form changed): back to the pages.
        Err(AppError::Invalid(_)) => {
            ctx.see_other(&format!("/pratiche/compila/{service}/riepilogo"))
        }
        Err(e) => answer(&ctx, &service, Err(e)),
    }
}

pub async fn discard(
    ctx: Ctx,
    service: web::Path<String>,
    _form: Posted<crate::routes::posted::Button>,
) -> HttpResponse {
    let Some(who) = signed_in(&ctx) else {
        return start_again(&ctx, &service);
    };
    let r = async {
        draft::discard(&ctx.state, ctx.commune()?.id(), &who, &service).await?;
        Ok(())
    }
    .await;
    match r {
        Ok(()) => ctx.see_other("/area-personale/pratiche?bozza=eliminata"),
        Err(e) => ctx.respond(Err(e)),
    }
}
