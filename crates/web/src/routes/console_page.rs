//! The consoles' pages are one template (`console_page.html`) fed with sections: tables and
//! forms described as data. This builds them.

use actix_web::HttpResponse;
use serde_json::{Value, json};
use sportello_authz::{Action, Object};
use sportello_store::staff::Realm;

use super::{Ctx, Posted};
use crate::authz::Actor;
use crate::error::AppResult;

/// A time stored in microseconds, as Rome reads it.
/// An instant in words on Rome's clock, in the page's language ("6 dicembre 2026, 01:58").
pub fn when(ctx: &Ctx, micros: i64) -> String {
    crate::views::when::when(ctx.lang, micros)
}

pub fn text(t: impl ToString) -> Value {
    json!({"text": t.to_string()})
}
pub fn link(t: impl ToString, href: impl ToString) -> Value {
    json!({"text": t.to_string(), "href": href.to_string()})
}
pub fn button(t: &str, post: impl ToString, hidden: &[(&str, &str)]) -> Value {
    let hidden: Vec<Value> = hidden
        .iter()
        .map(|(n, v)| json!({"name": n, "value": v}))
        .collect();
    json!({"text": t, "post": post.to_string(), "hidden": hidden})
}
pub fn checkbox(name: &str, checked: bool, label: &str) -> Value {
    json!({"checkbox": name, "checked": checked, "label": label})
}

pub fn field(kind: &str, name: &str, label: &str, value: impl ToString) -> Value {
    json!({"kind": kind, "name": name, "label": label, "value": value.to_string()})
}
pub fn field_help(kind: &str, name: &str, label: &str, value: impl ToString, help: &str) -> Value {
    json!({"kind": kind, "name": name, "label": label, "value": value.to_string(), "help": help})
}
pub fn check(name: &str, label: &str, checked: bool) -> Value {
    json!({"kind": "checkbox", "name": name, "label": label, "value": checked})
}
pub fn select(name: &str, label: &str, options: &[(String, String)], selected: &str) -> Value {
    let options: Vec<Value> = options
        .iter()
        .map(|(v, l)| json!({"value": v, "label": l, "selected": v == selected}))
        .collect();
    json!({"kind": "select", "name": name, "label": label, "options": options})
}

/// The fields of a destructive action's form: why (to the audit log), and the tick that says the
/// person means it (`kernel::input::Removal`).
pub fn removal_fields(ctx: &Ctx, confirm: &str) -> Vec<Value> {
    vec![
        json!({"kind": "textarea", "name": "reason", "label": ctx.t("console_reason_label"),
               "help": ctx.t("console_removal_help"), "value": "", "rows": 3, "required": true}),
        json!({"kind": "checkbox", "name": "confirm", "label": confirm, "value": false, "required": true}),
    ]
}

/// A section with words before its form (a warning, what will happen).
pub fn form_with_text(
    heading: &str,
    text: &str,
    action: &str,
    submit: &str,
    fields: Vec<Value>,
) -> Value {
    let mut f = form(heading, action, submit, fields);
    f["text"] = json!(text);
    f
}

pub fn table(heading: &str, headers: &[&str], rows: Vec<Vec<Value>>) -> Value {
    json!({"heading": heading, "table": {"headers": headers, "rows": rows}})
}
pub fn form(heading: &str, action: &str, submit: &str, fields: Vec<Value>) -> Value {
    json!({"heading": heading, "form": {"action": action, "submit": submit, "fields": fields}})
}

/// The tabs an actor's permissions open (links only: the guard decides, not the menu).
async fn nav(ctx: &Ctx, actor: &Actor, current: &str) -> Vec<Value> {
    let items: &[(&str, &str, Object)] = match actor.realm {
        Realm::Commune(_) => &[
            (
                "/console/uffici",
                ctx.t("console_nav_offices"),
                Object::Offices,
            ),
            (
                "/console/servizi",
                ctx.t("console_services"),
                Object::Services,
            ),
            (
                "/console/pratiche",
                ctx.t("console_nav_cases"),
                Object::Cases,
            ),
            (
                "/console/pagamenti",
                ctx.t("console_nav_payments"),
                Object::Payments,
            ),
            (
                "/console/anagrafe",
                ctx.t("console_nav_registry"),
                Object::Records,
            ),
            (
                "/console/biglietti",
                ctx.t("console_nav_tickets"),
                Object::Payments,
            ),
            (
                "/console/personale",
                ctx.t("console_nav_staff"),
                Object::Staff,
            ),
            (
                "/console/permessi",
                ctx.t("console_nav_permissions"),
                Object::Policies,
            ),
            (
                "/console/impostazioni",
                ctx.t("console_nav_settings"),
                Object::Settings,
            ),
            ("/console/identita", ctx.t("console_nav_idps"), Object::Idps),
            (
                "/console/registro",
                ctx.t("console_nav_audit"),
                Object::Audit,
            ),
            (
                "/console/messaggi",
                ctx.t("console_nav_messages"),
                Object::Messages,
            ),
            (
                "/console/avvisi",
                ctx.t("console_nav_topics"),
                Object::Messages,
            ),
            (
                "/console/supporto",
                ctx.t("console_nav_support"),
                Object::Support,
            ),
        ],
        Realm::Federation => &[
            (
                "/console/comuni",
                ctx.t("console_nav_onboard"),
                Object::Communes,
            ),
            (
                "/console/assistenza",
                ctx.t("console_nav_assistance"),
                Object::Support,
            ),
        ],
    };
    let mut out = vec![
        json!({"href": "/console", "label": ctx.t("console_nav_home"), "current": current == "/console"}),
    ];
    for (href, label, obj) in items {
        if actor.may(&ctx.state, *obj, Action::Read).await {
            out.push(json!({"href": href, "label": label, "current": current == *href}));
        }
    }
    // Acting for citizens (front desk, call centre, intermediaries) is its own permission.
    if matches!(actor.realm, Realm::Commune(_))
        && actor.may(&ctx.state, Object::Cases, Action::ActFor).await
    {
        out.push(json!({"href": "/console/sportello", "label": ctx.t("console_nav_desk"), "current": current == "/console/sportello"}));
    }
    // Checks by agencies: the verifier's own page.
    if matches!(actor.realm, Realm::Commune(_))
        && actor.may(&ctx.state, Object::Records, Action::Verify).await
    {
        out.push(json!({"href": "/console/verifiche", "label": ctx.t("console_nav_checks"), "current": current == "/console/verifiche"}));
    }
    if matches!(actor.realm, Realm::Commune(_)) && !actor.federation {
        out.push(json!({"href": "/console/accesso-api", "label": ctx.t("console_nav_api"), "current": current == "/console/accesso-api"}));
    }
    out
}

/// Renders a console page.
pub async fn render(
    ctx: &Ctx,
    actor: &Actor,
    current: &str,
    title: &str,
    intro: &str,
    notice: Option<(&str, String)>,
    mut sections: Vec<Value>,
) -> HttpResponse {
    let errors = ctx.redo_sections(&mut sections);
    let page = json!({
        "title": title,
        "intro": intro,
        "nav": nav(ctx, actor, current).await,
        "notice": if ctx.redoing() { None } else { notice.map(|(k, t)| json!({"kind": k, "text": t})) },
        "errors": errors,
        "sections": sections,
    });
    let mut res = ctx.page(Ok((
        "console_page.html",
        json!({"page": page, "csrf": ctx.csrf_token()}),
    )));
    if ctx.redoing() && res.status().is_success() {
        *res.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
    }
    res
}

/// A console page from its sections, or the error's page.
pub async fn render_or(
    ctx: &Ctx,
    actor: &Actor,
    current: &str,
    (title, intro): (&str, &str),
    notice: Option<(&str, String)>,
    sections: crate::error::AppResult<Vec<Value>>,
) -> HttpResponse {
    match sections {
        Ok(sections) => render(ctx, actor, current, title, intro, notice, sections).await,
        Err(e) => ctx.respond(Err(e)),
    }
}

/// The outcome of a form post: back to `to` with a notice; refused fields: the form's page
/// again (`again`), with the values sent and the words by each field; another error: its page.
pub async fn after_post_or<T, Fut>(
    ctx: Ctx,
    posted: &Posted<T>,
    r: AppResult<String>,
    again: impl FnOnce(Ctx) -> Fut,
) -> HttpResponse
where
    Fut: std::future::Future<Output = HttpResponse>,
{
    match r {
        Ok(to) => ctx.see_other(&to),
        Err(e) => match ctx.redo(posted, e) {
            Ok(()) => again(ctx).await,
            Err(e) => ctx.respond(Err(e)),
        },
    }
}

/// No query (a form's page shown again after a refused post).
pub fn no_query() -> actix_web::web::Query<std::collections::HashMap<String, String>> {
    actix_web::web::Query(std::collections::HashMap::new())
}

/// The notice a page shows after a redirect (`?esito=`).
pub fn notice_of(
    ctx: &Ctx,
    q: &std::collections::HashMap<String, String>,
) -> Option<(&'static str, String)> {
    q.get("esito").map(|e| {
        let t = match e.as_str() {
            "salvato" => ctx.t("console_notice_saved"),
            "invariato" => ctx.t("console_notice_unchanged"),
            "invitato" => ctx.t("console_notice_invited"),
            "creato" => ctx.t("console_notice_created"),
            "eliminato" => ctx.t("console_notice_deleted"),
            "pubblicato" => ctx.t("console_notice_published"),
            "inviato" => ctx.t("console_notice_sent"),
            "annullato" => ctx.t("console_notice_cancelled"),
            "rimborsato" => ctx.t("console_notice_refunded"),
            "ammesso" => return ("success", ctx.t("ticket_admitted").to_owned()),
            "usato" => return ("danger", ctx.t("ticket_already_used").to_owned()),
            "importati" => {
                let n = |k: &str| q.get(k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
                return (
                    "success",
                    ctx.tf("console_notice_imported", &[&n("scritti"), &n("gia")]),
                );
            }
            _ => ctx.t("console_notice_done"),
        };
        ("success", t.to_owned())
    })
}
