//! Cases in the JSON API (`openapi.json`, tag `cases`): the signed-in citizen's own cases on a
//! commune's host, and the back office for staff (a console session, or a staff API token in
//! `Authorization: Bearer`): the queues of their offices, one case, and the acts on it. The
//! services decide what each may see and do, as for the pages.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};
use sportello_cases::follow;
use sportello_cases::office::{self, Act, QueueQuery};
use sportello_store::cases::Queue;

use crate::authz::{Admitted, Need, Needs, Routes};
use crate::error::{AppError, AppResult};
use crate::routes::Ctx;

pub fn routes(r: &mut Routes) {
    use sportello_authz::{Action, Object};
    let public = Needs::Commune(Need::Public);
    let read = Needs::Commune(Need::Allow(Object::Cases, Action::Read));
    let update = Needs::Commune(Need::Allow(Object::Cases, Action::Update));
    r.get("/api/v1/cases", public, mine)
        .get("/api/v1/cases/{id}", public, one)
        .get("/api/v1/office/cases", read, queue)
        .get("/api/v1/office/cases/{id}", read, office_case)
        .post("/api/v1/office/cases/{id}/actions", update, act);
}

/// The signed-in citizen, or 401 (an API answers, it does not redirect).
fn citizen(ctx: &Ctx) -> AppResult<std::sync::Arc<sportello_kernel::session::Current>> {
    ctx.citizen()
        .cloned()
        .ok_or(AppError::Unauthorized("api_sign_in"))
}

async fn mine(ctx: Ctx) -> HttpResponse {
    let r = async {
        let who = citizen(&ctx)?;
        let cases = follow::mine(&ctx.state, ctx.commune()?.id(), &who, ctx.lang).await?;
        Ok(json!({ "cases": cases }))
    }
    .await;
    ctx.json(r)
}

async fn one(ctx: Ctx, id: web::Path<String>) -> HttpResponse {
    let r = async {
        let who = citizen(&ctx)?;
        let v = follow::one(&ctx.state, ctx.commune()?.id(), &who, &id, ctx.lang).await?;
        serde_json::to_value(v).map_err(|e| AppError::Internal(e.to_string()))
    }
    .await;
    ctx.json(r)
}

#[derive(Deserialize)]
struct QueueParams {
    queue: Option<String>,
    q: Option<String>,
    office: Option<String>,
    service: Option<String>,
    page: Option<u64>,
}

/// The queues by their API names.
const QUEUES: &[(&str, Queue)] = &[
    ("new", Queue::New),
    ("mine", Queue::Mine),
    ("waiting", Queue::Waiting),
    ("deadline", Queue::Deadline),
    ("closed", Queue::Closed),
    ("all", Queue::All),
];

async fn queue(ctx: Ctx, actor: Admitted, p: web::Query<QueueParams>) -> HttpResponse {
    let r = async {
        let name = p.queue.as_deref().unwrap_or("new");
        let queue = QUEUES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, q)| *q)
            .ok_or_else(|| AppError::BadParam("queue".into()))?;
        let q = QueueQuery {
            queue,
            office: p.office.clone().filter(|s| !s.is_empty()),
            service: p.service.clone().filter(|s| !s.is_empty()),
            search: p.q.clone().filter(|s| !s.trim().is_empty()),
            page: match p.page {
                Some(n) if n > 9999 => return Err(AppError::BadParam("page".into())),
                n => n.unwrap_or(0),
            },
            ..QueueQuery::default()
        };
        let page = office::queue(&ctx.state, &actor, &q).await?;
        // The counts by the API's names (the console's codes are Italian).
        let counts: serde_json::Map<String, Value> = page
            .counts
            .iter()
            .zip(QUEUES)
            .map(|((_, n), (name, _))| ((*name).to_owned(), json!(n)))
            .collect();
        Ok(json!({"cases": page.lines, "counts": counts, "page": page.page, "more": page.more}))
    }
    .await;
    ctx.json(r)
}

async fn office_case(ctx: Ctx, actor: Admitted, id: web::Path<String>) -> HttpResponse {
    let r = async {
        let v = office::case(&ctx.state, &actor, &id, ctx.lang).await?;
        serde_json::to_value(v).map_err(|e| AppError::Internal(e.to_string()))
    }
    .await;
    ctx.json(r)
}

/// An act on a case, as JSON: `{"action": "take"}`, `{"action": "ask", "text": …}`,
/// `{"action": "accept", "reason": …}`, `{"action": "reroute", "office": …, "reason": …}`.
#[derive(Deserialize)]
struct ActBody {
    action: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    staff_id: String,
    #[serde(default)]
    office: String,
}

fn act_of(b: ActBody) -> AppResult<Act> {
    Ok(match b.action.as_str() {
        "take" => Act::Take,
        "assign" => Act::Assign {
            staff_id: b.staff_id,
        },
        "ask" => Act::Ask { text: b.text },
        "message" => Act::Message { text: b.text },
        "note" => Act::Note { text: b.text },
        "accept" => Act::Decide {
            accept: true,
            reason: b.reason,
        },
        "reject" => Act::Decide {
            accept: false,
            reason: b.reason,
        },
        "reroute" => Act::Reroute {
            office: b.office,
            reason: b.reason,
        },
        _ => return Err(AppError::BadParam("action".into())),
    })
}

/// The act a request's body asks for: JSON only (a browser's form cannot send it from another
/// site, so a console session needs no form token here).
/// Whether a request's body is declared JSON (what a form of another site cannot send).
pub(crate) fn is_json(req: &actix_web::HttpRequest) -> bool {
    req.headers()
        .get(actix_web::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';')
                .next()
                .is_some_and(|t| t.trim() == "application/json")
        })
}

fn body_of(req: &actix_web::HttpRequest, body: &[u8]) -> AppResult<Act> {
    let json = is_json(req);
    if !json {
        return Err(AppError::BadRequest(
            "the body must be application/json".into(),
        ));
    }
    let b: ActBody = serde_json::from_slice(body)
        .map_err(|e| AppError::BadRequest(format!("the body is not an act: {e}")))?;
    // What no form lets through either: control characters (a text keeps its line breaks and
    // tabs), and ids that are no ids.
    let text_ok = |t: &str| {
        !t.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    };
    let id_ok = |t: &str| {
        t.len() <= 80
            && t.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | ':' | '.'))
    };
    if !text_ok(&b.text) || !text_ok(&b.reason) {
        return Err(AppError::BadInput("bad_input_form"));
    }
    if !id_ok(&b.staff_id) || !id_ok(&b.office) {
        return Err(AppError::BadParam(
            if id_ok(&b.office) {
                "staff_id"
            } else {
                "office"
            }
            .into(),
        ));
    }
    act_of(b)
}

async fn act(
    ctx: Ctx,
    actor: Admitted,
    req: actix_web::HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let r = async {
        // A case the caller cannot see is not found, whatever the body says.
        office::case(&ctx.state, &actor, &id, ctx.lang).await?;
        let a = body_of(&req, &body)?;
        let base = ctx.base_url()?;
        match office::act(&ctx.state, &actor, &id, &a, &base).await {
            // The colleague or office named is not one here: as for any unknown resource.
            Err(sportello_kernel::Error::Invalid(p))
                if p.0
                    .iter()
                    .all(|x| x.field == "staff_id" || x.field == "office") =>
            {
                return Err(AppError::NotFound);
            }
            other => other?,
        }
        let v = office::case(&ctx.state, &actor, &id, ctx.lang).await?;
        serde_json::to_value(v).map_err(|e| AppError::Internal(e.to_string()))
    }
    .await;
    ctx.json(r)
}
