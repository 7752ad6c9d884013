//! The commune's population registry in the console: find a person, read their record (the
//! purpose asked first: the look goes to the person's "who looked at my data"), register,
//! record a change from its legal day, correct a version, import a CSV export, issue a
//! certificate at the desk for the person present, rotate the signing key.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};
use sportello_authz::{Action, Object};
use sportello_domain::registry::certificate::{EXEMPTIONS, Kind};
use sportello_domain::registry::{DocKind, Marital, RawFacts, Relation};
use sportello_population::{certificates, import, keys, records};
use sportello_store::population::Version;

use crate::authz::Admitted;
use crate::error::{AppError, AppResult};
use crate::routes::Ctx;
use crate::routes::console_page::{
    after_post_or, field, field_help, form, link, no_query, notice_of, render_or, select, table,
    text, when,
};

use super::*;

/// The largest CSV file an import takes: 128 MiB (half a million people).
const IMPORT_BYTES: usize = 128 * 1024 * 1024;

pub(super) fn get<'a>(f: &'a [(String, String)], k: &str) -> &'a str {
    f.iter()
        .find(|(n, _)| n == k)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

pub(super) fn day(s: &str) -> String {
    sportello_payments::italian_day(s)
}

fn options(ctx: &Ctx, prefix: &str, keys: &[&str]) -> Vec<(String, String)> {
    keys.iter()
        .map(|k| ((*k).to_owned(), ctx.label_or_code(prefix, k)))
        .collect()
}

/// The facts' fields, filled with `f` (a change or a correction starts from what is recorded).
fn fact_fields(ctx: &Ctx, f: &RawFacts) -> Vec<Value> {
    let relations: Vec<&str> = Relation::ALL.iter().map(|r| r.key()).collect();
    let maritals: Vec<&str> = Marital::ALL.iter().map(|m| m.key()).collect();
    let mut docs = vec![""];
    docs.extend(DocKind::ALL.iter().map(|d| d.key()));
    vec![
        field(
            "text",
            "last_name",
            ctx.t("registry_last_name"),
            &f.last_name,
        ),
        field(
            "text",
            "first_name",
            ctx.t("registry_first_name"),
            &f.first_name,
        ),
        select(
            "sex",
            ctx.t("registry_sex"),
            &[("M".into(), "M".into()), ("F".into(), "F".into())],
            &f.sex,
        ),
        field(
            "date",
            "birth_date",
            ctx.t("registry_birth_date"),
            &f.birth_date,
        ),
        field_help(
            "text",
            "birth_place",
            ctx.t("registry_birth_place"),
            &f.birth_place,
            ctx.t("registry_birth_place_help"),
        ),
        field(
            "text",
            "birth_place_name",
            ctx.t("registry_birth_place_name"),
            &f.birth_place_name,
        ),
        field_help(
            "text",
            "citizenship",
            ctx.t("registry_citizenship"),
            &f.citizenship,
            ctx.t("registry_citizenship_help"),
        ),
        select(
            "marital",
            ctx.t("registry_marital"),
            &options(ctx, "registry_marital_", &maritals),
            &f.marital,
        ),
        field_help(
            "text",
            "family",
            ctx.t("registry_family_number"),
            &f.family,
            ctx.t("registry_family_number_help"),
        ),
        select(
            "relation",
            ctx.t("registry_relation"),
            &options(ctx, "registry_relation_", &relations),
            &f.relation,
        ),
        field_help(
            "text",
            "street",
            ctx.t("registry_street_code"),
            &f.street,
            ctx.t("registry_street_code_help"),
        ),
        field("text", "number", ctx.t("registry_house_number"), &f.number),
        field("text", "interior", ctx.t("registry_interior"), &f.interior),
        select(
            "doc_kind",
            ctx.t("registry_document"),
            &options(ctx, "registry_doc_", &docs),
            &f.doc_kind,
        ),
        field(
            "text",
            "doc_number",
            ctx.t("registry_doc_number"),
            &f.doc_number,
        ),
        field(
            "date",
            "doc_expires",
            ctx.t("registry_doc_expires"),
            &f.doc_expires,
        ),
        select(
            "voter",
            ctx.t("registry_voter"),
            &[
                ("N".into(), ctx.t("no").into()),
                ("S".into(), ctx.t("yes").into()),
            ],
            &f.voter,
        ),
        select(
            "status",
            ctx.t("registry_status"),
            &options(
                ctx,
                "registry_status_",
                &["resident", "emigrated", "deceased"],
            ),
            &f.status,
        ),
    ]
}

fn raw_of(f: &[(String, String)]) -> RawFacts {
    RawFacts {
        status: get(f, "status").into(),
        last_name: get(f, "last_name").into(),
        first_name: get(f, "first_name").into(),
        sex: get(f, "sex").into(),
        birth_date: get(f, "birth_date").into(),
        birth_place: get(f, "birth_place").into(),
        birth_place_name: get(f, "birth_place_name").into(),
        citizenship: get(f, "citizenship").into(),
        marital: get(f, "marital").into(),
        doc_kind: get(f, "doc_kind").into(),
        doc_number: get(f, "doc_number").into(),
        doc_expires: get(f, "doc_expires").into(),
        voter: get(f, "voter").into(),
        family: get(f, "family").into(),
        relation: get(f, "relation").into(),
        street: get(f, "street").into(),
        number: get(f, "number").into(),
        interior: get(f, "interior").into(),
    }
}

fn entry(f: &[(String, String)]) -> records::Entry {
    records::Entry {
        facts: raw_of(f),
        valid_from: get(f, "valid_from").into(),
        note: get(f, "note").into(),
    }
}

fn person_row(v: &Version) -> Vec<Value> {
    vec![
        link(
            v.facts.name(),
            format!("/console/anagrafe/persone/{}", v.person_id),
        ),
        text(&v.fiscal_code),
        text(v.facts.birth_date.format("%d/%m/%Y")),
        text(v.facts.family),
    ]
}

pub(super) async fn registry(ctx: Ctx, actor: Admitted, q: Query) -> HttpResponse {
    registry_page(ctx, actor, q, None).await
}

async fn registry_page(
    ctx: Ctx,
    actor: Admitted,
    q: Query,
    refused: Option<(Vec<import::RowError>, usize)>,
) -> HttpResponse {
    let r: AppResult<Vec<Value>> = async {
        let mut out = vec![];
        if let Some((errors, total)) = refused {
            let rows = errors
                .iter()
                .map(|e| {
                    let p = sportello_kernel::Problem { field: e.column.clone(), why: e.why, arg: e.arg.clone() };
                    vec![text(e.line), text(&e.column), text(&e.arg), text(ctx.problem_text(&p))]
                })
                .collect();
            let mut t = table(
                &ctx.tf("registry_import_refused", &[&total]),
                &[ctx.t("payments_line"), ctx.t("payments_column"), ctx.t("payments_value"), ctx.t("payments_problem")],
                rows,
            );
            t["text"] = json!(ctx.t("payments_import_nothing_written"));
            out.push(t);
        }
        let text_q = q.get("q").cloned().unwrap_or_default();
        out.push(json!({"heading": ctx.t("registry_find"), "text": ctx.t("registry_find_help"),
                        "search": {"action": "/console/anagrafe", "value": text_q}}));
        if !text_q.trim().is_empty() {
            let found = records::find(&ctx.state, &actor, &text_q).await?;
            let mut t = table(
                ctx.t("registry_found"),
                &[ctx.t("registry_name"), ctx.t("registry_fiscal_code"), ctx.t("registry_birth_date"), ctx.t("registry_family_number")],
                found.iter().map(person_row).collect(),
            );
            t["empty"] = json!(ctx.t("registry_none_found"));
            out.push(t);
        }
        let may = |a| actor.may(&ctx.state, Object::Records, a);
        if may(Action::ActFor).await {
            let kinds: Vec<(String, String)> =
                Kind::ALL.iter().map(|k| (k.key().to_owned(), ctx.label_or_code("certificate_kind_", k.key()))).collect();
            let mut ex = vec![(String::new(), ctx.t("certificate_no_exemption").to_owned())];
            ex.extend(EXEMPTIONS.iter().map(|e| (e.key.to_owned(), format!("{} ({})", e.it, e.rule))));
            out.push(form(
                ctx.t("registry_desk_certificate"),
                "/console/anagrafe/certificati",
                ctx.t("certificate_get"),
                vec![
                    field("text", "subject", ctx.t("registry_fiscal_code"), ""),
                    select("kind", ctx.t("certificate_kind"), &kinds, "residence"),
                    field_help("date", "at", ctx.t("certificate_at"), "", ctx.t("certificate_at_help")),
                    field("text", "purpose", ctx.t("certificate_purpose"), ""),
                    select("exemption", ctx.t("certificate_exemption"), &ex, ""),
                    select("channel", ctx.t("registry_channel"), &[("desk".into(), ctx.t("registry_capacity_desk").into()), ("kiosk".into(), ctx.t("registry_capacity_kiosk").into())], "desk"),
                ],
            ));
        }
        if may(Action::Create).await {
            let mut fields = vec![field("text", "fiscal_code", ctx.t("registry_fiscal_code"), "")];
            fields.extend(fact_fields(&ctx, &RawFacts { status: "resident".into(), voter: "N".into(), ..RawFacts::default() }));
            fields.push(field_help("date", "valid_from", ctx.t("registry_valid_from"), "", ctx.t("registry_valid_from_help")));
            fields.push(field("text", "note", ctx.t("registry_note"), ""));
            out.push(form(ctx.t("registry_register"), "/console/anagrafe/persone", ctx.t("registry_register_submit"), fields));
            let mut f = form(
                ctx.t("registry_import"),
                "/console/anagrafe/importa",
                ctx.t("payments_import_submit"),
                vec![json!({"kind": "file", "name": "file", "label": ctx.t("payments_import_file"),
                            "help": ctx.t("registry_import_help"), "value": ""})],
            );
            f["form"]["multipart"] = json!(true);
            out.push(f);
        }
        if may(Action::Update).await {
            out.push(table(
                ctx.t("residence_title"),
                &[ctx.t("residence_what")],
                vec![vec![link(ctx.t("residence_link"), "/console/anagrafe/residenze")]],
            ));
            out.extend(super::checks::agency_sections(&ctx, &actor).await?);
            let published = keys::published(&ctx.state, actor.commune()?).await?;
            let mut t = form(ctx.t("registry_keys"), "/console/anagrafe/chiavi", ctx.t("registry_rotate"), vec![]);
            t["text"] = json!(ctx.tf("registry_keys_help", &[&keys::WELL_KNOWN, &keys::ROTATE_DAYS.to_string()]));
            t["tables"] = json!([{"heading": ctx.t("registry_keys"), "headers": ["kid", ctx.t("registry_from"), ctx.t("registry_to")],
                "rows": published.keys.iter().map(|k| vec![text(&k.kid), text(&k.created), text(k.retired.as_deref().unwrap_or("—"))]).collect::<Vec<_>>()}]);
            out.push(t);
        }
        Ok(out)
    }
    .await;
    render_or(
        &ctx,
        &actor,
        "/console/anagrafe",
        (ctx.t("console_nav_registry"), ctx.t("registry_intro")),
        notice_of(&ctx, &q),
        r,
    )
    .await
}

/// A person's id in a path (a number; anything else is no one).
fn person_id(id: &str) -> AppResult<i64> {
    id.parse::<i64>().map_err(|_| AppError::NotFound)
}

pub(super) async fn person_page(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    q: Query,
) -> HttpResponse {
    let purpose = q.get("scopo").cloned().unwrap_or_default();
    let r: AppResult<Vec<Value>> = async {
        let id = person_id(&id)?;
        if purpose.trim().is_empty() {
            let mut f = form(
                ctx.t("registry_purpose_first"),
                &format!("/console/anagrafe/persone/{id}"),
                ctx.t("registry_open"),
                vec![field("text", "scopo", ctx.t("registry_purpose"), "")],
            );
            f["form"]["method"] = json!("get");
            return Ok(vec![f]);
        }
        let rec = records::read(&ctx.state, &actor, id, &purpose).await?;
        let cur = &rec.current;
        let f = &cur.facts;
        let mut out = vec![table(
            &format!("{} — {}", f.name(), cur.fiscal_code),
            &[ctx.t("registry_field"), ctx.t("registry_value")],
            vec![
                vec![
                    text(ctx.t("registry_status")),
                    text(ctx.label_or_code("registry_status_", f.status.key())),
                ],
                vec![
                    text(ctx.t("registry_born")),
                    text(format!(
                        "{} {}",
                        f.birth_date.format("%d/%m/%Y"),
                        f.birth_place_name
                    )),
                ],
                vec![text(ctx.t("registry_citizenship")), text(&f.citizenship)],
                vec![
                    text(ctx.t("registry_marital")),
                    text(ctx.label_or_code("registry_marital_", f.marital.key())),
                ],
                vec![
                    text(ctx.t("registry_address")),
                    text(format!("{} {} {}", rec.street, f.number, f.interior)),
                ],
                vec![text(ctx.t("registry_family_number")), text(f.family)],
                vec![text(ctx.t("registry_since")), text(day(&cur.valid_from))],
            ],
        )];
        out.push(table(
            ctx.t("registry_family"),
            &[
                ctx.t("registry_name"),
                ctx.t("registry_fiscal_code"),
                ctx.t("registry_birth_date"),
                ctx.t("registry_family_number"),
            ],
            rec.family.iter().map(person_row).collect(),
        ));
        out.push(table(
            ctx.t("registry_history"),
            &[
                ctx.t("registry_from"),
                ctx.t("registry_to"),
                ctx.t("registry_cause"),
                ctx.t("registry_recorded"),
                ctx.t("registry_value"),
            ],
            rec.history
                .iter()
                .map(|v| {
                    let mut cause = ctx.label_or_code("registry_cause_", &v.cause);
                    if v.superseded_at.is_some() {
                        cause = format!("{cause} ({})", ctx.t("registry_superseded"));
                    }
                    if !v.note.is_empty() {
                        cause = format!("{cause}: {}", v.note);
                    }
                    vec![
                        text(day(&v.valid_from)),
                        text(v.valid_to.as_deref().map(day).unwrap_or_default()),
                        text(cause),
                        text(format!("{} · {}", when(&ctx, v.recorded_at), v.recorded_by)),
                        text(format!(
                            "{} · {} {} · {}",
                            v.facts.name(),
                            v.facts.street,
                            v.facts.number,
                            ctx.label_or_code("registry_marital_", v.facts.marital.key())
                        )),
                    ]
                })
                .collect(),
        ));
        if actor.may(&ctx.state, Object::Records, Action::Update).await {
            let raw = f.raw();
            let mut change = fact_fields(&ctx, &raw);
            change.push(field_help(
                "date",
                "valid_from",
                ctx.t("registry_valid_from"),
                "",
                ctx.t("registry_change_from_help"),
            ));
            change.push(field("text", "note", ctx.t("registry_note"), ""));
            out.push(form(
                ctx.t("registry_change"),
                &format!("/console/anagrafe/persone/{id}/variazione"),
                ctx.t("registry_change_submit"),
                change,
            ));
            let mut correct = fact_fields(&ctx, &raw);
            correct.push(
                json!({"kind": "hidden", "name": "version", "value": cur.version.to_string()}),
            );
            correct.push(field_help(
                "text",
                "note",
                ctx.t("registry_correction_note"),
                "",
                ctx.t("registry_correction_help"),
            ));
            out.push(form(
                ctx.t("registry_correct"),
                &format!("/console/anagrafe/persone/{id}/rettifica"),
                ctx.t("registry_correct_submit"),
                correct,
            ));
        }
        Ok(out)
    }
    .await;
    render_or(
        &ctx,
        &actor,
        "/console/anagrafe",
        (
            ctx.t("console_nav_registry"),
            ctx.t("registry_person_intro"),
        ),
        notice_of(&ctx, &q),
        r,
    )
    .await
}

fn back_to(id: i64, outcome: &str) -> String {
    format!(
        "/console/anagrafe/persone/{id}?scopo=verifica%20dopo%20la%20registrazione&esito={outcome}"
    )
}

pub(super) async fn person_register(ctx: Ctx, actor: Admitted, f: Pairs) -> HttpResponse {
    let r = async {
        let id = records::register(&ctx.state, &actor, get(&f, "fiscal_code"), &entry(&f)).await?;
        Ok(back_to(id, "salvato"))
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| registry(ctx, actor, no_query())).await
}

pub(super) async fn person_change(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    f: Pairs,
) -> HttpResponse {
    let path = id.into_inner();
    let r = async {
        let id = person_id(&path)?;
        records::change(&ctx.state, &actor, id, &entry(&f)).await?;
        Ok(back_to(id, "salvato"))
    }
    .await;
    let q = web::Query(
        [("scopo".to_owned(), "variazione".to_owned())]
            .into_iter()
            .collect(),
    );
    after_post_or(ctx, &f, r, |ctx| {
        person_page(ctx, actor, web::Path::from(path), q)
    })
    .await
}

pub(super) async fn person_correct(
    ctx: Ctx,
    actor: Admitted,
    id: web::Path<String>,
    f: Pairs,
) -> HttpResponse {
    let path = id.into_inner();
    let r = async {
        let id = person_id(&path)?;
        let version = get(&f, "version")
            .trim()
            .parse::<i32>()
            .map_err(|_| AppError::NotFound)?;
        records::correct(&ctx.state, &actor, id, version, &entry(&f)).await?;
        Ok(back_to(id, "salvato"))
    }
    .await;
    let q = web::Query(
        [("scopo".to_owned(), "rettifica".to_owned())]
            .into_iter()
            .collect(),
    );
    after_post_or(ctx, &f, r, |ctx| {
        person_page(ctx, actor, web::Path::from(path), q)
    })
    .await
}

pub(super) async fn keys_rotate(ctx: Ctx, actor: Admitted, f: Pairs) -> HttpResponse {
    let r = async {
        keys::rotate(&ctx.state, &actor).await?;
        Ok("/console/anagrafe?esito=salvato".to_owned())
    }
    .await;
    after_post_or(ctx, &f, r, |ctx| registry(ctx, actor, no_query())).await
}

/// A certificate for the person at the desk (or a kiosk's): the PDF.
pub(super) async fn desk_certificate(ctx: Ctx, actor: Admitted, f: Pairs) -> HttpResponse {
    let req = certificates::Request {
        kind: get(&f, "kind").into(),
        subject: get(&f, "subject").into(),
        at: get(&f, "at").into(),
        purpose: get(&f, "purpose").into(),
        exemption: get(&f, "exemption").into(),
        duty_paid: String::new(),
    };
    match certificates::for_person(&ctx.state, &actor, get(&f, "channel"), &req).await {
        Ok(done) => HttpResponse::Ok()
            .insert_header((header::CONTENT_TYPE, "application/pdf"))
            .insert_header((
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", done.file_name()),
            ))
            .insert_header((header::CACHE_CONTROL, "private, no-store"))
            .body(done.pdf),
        Err(e) => match ctx.redo(&f, e.into()) {
            Ok(()) => registry(ctx, actor, no_query()).await,
            Err(e) => ctx.respond(Err(e)),
        },
    }
}

/// A CSV export of people (multipart, its form token in the body): all or nothing.
pub(super) async fn registry_import(
    ctx: Ctx,
    actor: Admitted,
    req: HttpRequest,
    mp: actix_multipart::Multipart,
) -> HttpResponse {
    let r: AppResult<import::Outcome> = async {
        let bytes = uploaded_file(&ctx, &req, mp, IMPORT_BYTES).await?;
        Ok(import::import(&ctx.state, &actor, &bytes).await?)
    }
    .await;
    match r {
        Ok(import::Outcome::Done { written, already }) => ctx.see_other(&format!(
            "/console/anagrafe?esito=importati&scritti={written}&gia={already}"
        )),
        Ok(import::Outcome::Refused { errors, total }) => {
            let mut res = registry_page(ctx, actor, no_query(), Some((errors, total))).await;
            *res.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
            res
        }
        Err(e) => ctx.respond(Err(e)),
    }
}
