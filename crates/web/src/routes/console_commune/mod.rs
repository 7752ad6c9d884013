//! The commune console's pages (on the commune's host). Every route here is declared with its
//! permission in [`routes`]; the guard has checked it before these handlers run. One file per
//! area of the console.

mod api_token;
mod audit;
mod cases;
mod checks;
mod delegations;
mod desk;
mod forms;
mod hours_form;
mod idps;
mod imu;
mod messages;
mod offices;
mod payments;
mod policies;
mod refunds;
mod registry;
mod residence;
mod service_fees;
mod services;
mod settings;
mod staff;
mod support;
mod tickets;
mod topics;

use api_token::*;
use audit::*;
use cases::*;
use checks::*;
use delegations::*;
use forms::*;
use idps::*;
use imu::*;
use messages::*;
use offices::*;
use payments::*;
use policies::*;
use refunds::*;
use registry::*;
use service_fees::*;
use services::*;
use settings::*;
use staff::*;
use support::*;
use tickets::*;
use topics::*;

use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use sportello_authz::{Action, Object};

use crate::authz::{Admitted, Need, Needs, Routes};
use crate::error::AppResult;
use crate::routes::console_page::{render, table, text};
use crate::routes::{Ctx, Posted};

type Query = web::Query<HashMap<String, String>>;

/// A file posted with its form (multipart, the form token in the body, checked before the
/// file is used), at most `limit` bytes, one upload at a time per node.
async fn uploaded_file(
    ctx: &Ctx,
    req: &actix_web::HttpRequest,
    mp: actix_multipart::Multipart,
    limit: usize,
) -> AppResult<Vec<u8>> {
    use crate::error::AppError;
    use crate::routes::cases::attach;
    let _turn = attach::uploads()
        .acquire()
        .await
        .map_err(|_| AppError::Internal("uploads closed".into()))?;
    let up = attach::read(mp, limit).await?;
    crate::auth::csrf::check(req, &ctx.state.secrets, &ctx.state.sessions, &up.csrf)?;
    if up.bytes.len() > limit {
        return Err(AppError::BadInput("bad_input_too_large"));
    }
    Ok(up.bytes)
}
type Pairs = Posted<Vec<(String, String)>>;

/// The population registry: its readers and clerks by `records`, certificates at the desk by
/// acting for the person present.
fn registry_routes(r: &mut Routes) {
    let allow = |act| Needs::Commune(Need::Allow(Object::Records, act));
    r.get("/console/anagrafe", allow(Action::Read), registry)
        .post(
            "/console/anagrafe/importa",
            allow(Action::Create),
            registry_import,
        )
        .post(
            "/console/anagrafe/persone",
            allow(Action::Create),
            person_register,
        )
        .get(
            "/console/anagrafe/persone/{id}",
            allow(Action::Read),
            person_page,
        )
        .post(
            "/console/anagrafe/persone/{id}/variazione",
            allow(Action::Update),
            person_change,
        )
        .post(
            "/console/anagrafe/persone/{id}/rettifica",
            allow(Action::Update),
            person_correct,
        )
        .post(
            "/console/anagrafe/chiavi",
            allow(Action::Update),
            keys_rotate,
        )
        .post(
            "/console/anagrafe/certificati",
            allow(Action::ActFor),
            desk_certificate,
        )
        .post("/console/anagrafe/enti", allow(Action::Update), agency_save)
        .post(
            "/console/anagrafe/enti/membri",
            allow(Action::Update),
            agency_member,
        )
        .post(
            "/console/anagrafe/enti/{id}/revoca",
            allow(Action::Update),
            agency_revoke,
        )
        .get("/console/verifiche", allow(Action::Verify), checks_form)
        .post("/console/verifiche", allow(Action::Verify), check_post)
        .post("/api/v1/registry/checks", allow(Action::Verify), api_check);
}

/// The commune console's pages (commune hosts only), each with the permission it needs.
pub fn routes(r: &mut Routes) {
    use Action::{Create, Delete, Read, Refund, Update};
    let allow = |obj, act| Needs::Commune(Need::Allow(obj, act));
    r.get("/console/uffici", allow(Object::Offices, Read), offices)
        .post(
            "/console/uffici",
            allow(Object::Offices, Create),
            office_create,
        )
        .get(
            "/console/uffici/{id}",
            allow(Object::Offices, Read),
            office_page,
        )
        .post(
            "/console/uffici/{id}",
            allow(Object::Offices, Update),
            office_update,
        )
        .post(
            "/console/uffici/{id}/pubblica",
            allow(Object::Charter, Update),
            office_publish,
        )
        .post(
            "/console/uffici/{id}/elimina",
            allow(Object::Offices, Delete),
            office_delete,
        )
        .get("/console/servizi", allow(Object::Services, Read), services)
        .post(
            "/console/servizi",
            allow(Object::Services, Create),
            service_create,
        )
        .get(
            "/console/servizi/{id}",
            allow(Object::Services, Read),
            service_page,
        )
        .post(
            "/console/servizi/{id}",
            allow(Object::Services, Update),
            service_update,
        )
        .get(
            "/console/servizi/{id}/modulo",
            allow(Object::Services, Read),
            form_editor,
        )
        .post(
            "/console/servizi/{id}/modulo",
            allow(Object::Services, Update),
            form_edit,
        )
        .get(
            "/console/servizi/{id}/modulo/anteprima",
            allow(Object::Services, Read),
            form_preview,
        )
        .get("/console/personale", allow(Object::Staff, Read), staff)
        .post(
            "/console/personale",
            allow(Object::Staff, Create),
            staff_invite,
        )
        .get(
            "/console/personale/{id}",
            allow(Object::Staff, Read),
            person,
        )
        .post(
            "/console/personale/{id}/ruoli",
            allow(Object::Staff, Update),
            staff_role,
        )
        .post(
            "/console/personale/{id}/elimina",
            allow(Object::Staff, Delete),
            staff_remove,
        )
        .get("/console/permessi", allow(Object::Policies, Read), policies)
        .post(
            "/console/permessi",
            allow(Object::Policies, Update),
            policies_save,
        )
        .post(
            "/console/permessi/modello",
            allow(Object::Policies, Update),
            policies_template,
        )
        .get(
            "/console/impostazioni",
            allow(Object::Settings, Read),
            settings,
        )
        .post(
            "/console/impostazioni",
            allow(Object::Settings, Update),
            settings_save,
        )
        .get("/console/identita", allow(Object::Idps, Read), idps)
        .post("/console/identita", allow(Object::Idps, Create), idp_add)
        .post(
            "/console/identita/{id}/elimina",
            allow(Object::Idps, Delete),
            idp_remove,
        )
        .get("/console/pratiche", allow(Object::Cases, Read), cases)
        .get(
            "/console/pratiche/{id}",
            allow(Object::Cases, Read),
            case_page,
        )
        .post(
            "/console/pratiche/{id}",
            allow(Object::Cases, Update),
            case_act,
        )
        .post(
            "/console/pratiche/{id}/documento",
            allow(Object::Cases, Update),
            case_document,
        )
        .get(
            "/console/pratiche/{id}/allegati/{file}",
            allow(Object::Cases, Read),
            crate::routes::cases::staff_download,
        )
        .get(
            "/console/pratiche-impostazioni",
            allow(Object::Settings, Read),
            case_settings,
        )
        .post(
            "/console/pratiche-impostazioni",
            allow(Object::Settings, Update),
            case_settings_save,
        );
    desk::routes(r);
    residence::routes(r);
    registry_routes(r);
    let staff = Needs::Commune(Need::Staff);
    r.get("/console/accesso-api", staff, api_token_page)
        .post("/console/accesso-api", staff, api_token_create)
        .post("/console/accesso-api/revoca", staff, api_token_revoke);
    r.get("/console/registro", allow(Object::Audit, Read), audit_log)
        .get("/console/messaggi", allow(Object::Messages, Read), messages)
        .get(
            "/console/avvisi",
            allow(Object::Messages, Read),
            topics_page,
        )
        .post(
            "/console/avvisi",
            allow(Object::Messages, Update),
            topic_save,
        )
        .post(
            "/console/avvisi/{id}/invia",
            allow(Object::Messages, Create),
            topic_send,
        )
        .post(
            "/console/avvisi/{id}/elimina",
            allow(Object::Messages, Delete),
            topic_delete,
        )
        // The gateway holds a credential and spends the commune's money: the administrators'
        // (support staff may change settings, not this).
        .post(
            "/console/messaggi/sms",
            allow(Object::Policies, Update),
            gateway_save,
        )
        // The administrators' decision: the right only they hold by the template (support staff
        // may change settings, not this).
        .post(
            "/console/pubblica",
            allow(Object::Policies, Update),
            publish_portal,
        )
        .get("/console/supporto", allow(Object::Support, Read), support)
        .post(
            "/console/supporto",
            allow(Object::Support, Create),
            support_grant,
        )
        .post(
            "/console/supporto/{id}/revoca",
            allow(Object::Support, Delete),
            support_revoke,
        )
        .get(
            "/console/pagamenti",
            allow(Object::Payments, Read),
            payments,
        )
        .get(
            "/console/pagamenti/pagamenti",
            allow(Object::Payments, Read),
            payments_made,
        )
        .get(
            "/console/pagamenti/pagamenti/{id}",
            allow(Object::Payments, Read),
            payment_page,
        )
        .post(
            "/console/pagamenti/pagamenti/{id}/rimborsa",
            allow(Object::Payments, Refund),
            payment_refund,
        )
        .get(
            "/console/pagamenti/riconciliazione",
            allow(Object::Payments, Read),
            reconciliation,
        )
        .get(
            "/console/pagamenti/riconciliazione/csv",
            allow(Object::Payments, Read),
            reconciliation_csv,
        )
        .get(
            "/console/pagamenti/servizi",
            allow(Object::Payments, Read),
            service_fees,
        )
        .post(
            "/console/pagamenti/servizi/{id}",
            allow(Object::Payments, Update),
            service_fee_save,
        )
        .get("/console/imu", allow(Object::Payments, Read), imu_rates)
        .post(
            "/console/imu",
            allow(Object::Payments, Update),
            imu_rates_save,
        )
        .get("/console/biglietti", allow(Object::Payments, Read), tickets)
        .post(
            "/console/biglietti",
            allow(Object::Payments, Update),
            offer_save,
        )
        .get(
            "/console/biglietti/offerte/{id}",
            allow(Object::Payments, Read),
            offer_page,
        )
        .post(
            "/console/biglietti/offerte/{id}/orari",
            allow(Object::Payments, Update),
            slot_add,
        )
        .get(
            "/console/biglietti/valida",
            allow(Object::Payments, Read),
            entrance_page,
        )
        // Letting a ticket in: the staff who read the commune's payments (the service refuses
        // an intermediary and a role given for one office).
        .post(
            "/console/biglietti/valida",
            allow(Object::Payments, Read),
            admit,
        )
        .post(
            "/console/pagamenti/impostazioni",
            allow(Object::Payments, Update),
            payment_settings_save,
        )
        .post(
            "/console/pagamenti/avvisi",
            allow(Object::Payments, Update),
            notice_create,
        )
        .post(
            "/console/pagamenti/importa",
            allow(Object::Payments, Update),
            notices_import,
        )
        .get(
            "/console/pagamenti/avvisi/{number}",
            allow(Object::Payments, Read),
            notice_page,
        )
        .get(
            "/console/pagamenti/avvisi/{number}/pdf",
            allow(Object::Payments, Read),
            notice_pdf,
        )
        .post(
            "/console/pagamenti/avvisi/{number}/annulla",
            allow(Object::Payments, Update),
            notice_cancel,
        )
        // Federation support staff arrive with a one-time code, not yet signed in here.
        .get(
            "/console/supporto/ingresso",
            Needs::Commune(Need::Public),
            support_enter,
        );
}

pub async fn home(ctx: Ctx, actor: Admitted) -> HttpResponse {
    let r: AppResult<Option<Vec<serde_json::Value>>> = async {
        let c = actor.commune()?;
        let tx = ctx.state.store.tenant(c).await?;
        let db = tx.db();
        let offices: Vec<(String, String)> = db
            .offices()
            .await?
            .into_iter()
            .map(|o| (o.id.clone(), o.name))
            .collect();
        let roles: Vec<String> = db
            .role_assignments()
            .await?
            .into_iter()
            .filter(|r| r.staff_id == actor.staff_id)
            .map(|r| {
                let name = role_name(&ctx, &r.role);
                match r.office_id {
                    Some(o) => {
                        let office = offices
                            .iter()
                            .find(|(id, _)| *id == o)
                            .map_or(o.as_str(), |(_, n)| n);
                        format!("{name} ({office})")
                    }
                    None => name,
                }
            })
            .collect();
        // Someone whose last role was taken away sees nothing of the commune.
        if roles.is_empty() && !actor.federation {
            tx.commit().await?;
            return Ok(None);
        }
        let offices = offices.len();
        let services = db.services().await?.len();
        tx.commit().await?;
        let mut out = vec![];
        // Onboarded, not yet public: what to do, and for whoever may, the button.
        if ctx.commune()?.record.status == sportello_domain::CommuneStatus::Draft {
            let may = actor
                .may(&ctx.state, Object::Policies, Action::Update)
                .await;
            let mut s = crate::routes::console_page::form_with_text(
                ctx.t("console_portal_draft"),
                ctx.t(if may {
                    "console_portal_draft_text"
                } else {
                    "console_portal_draft_wait"
                }),
                "/console/pubblica",
                ctx.t("console_publish_portal"),
                vec![],
            );
            if !may && let Some(m) = s.as_object_mut() {
                m.remove("form");
            }
            out.push(s);
        }
        out.push(table(
            ctx.t("console_commune_summary"),
            &[ctx.t("console_item"), ctx.t("console_value")],
            vec![
                vec![text(ctx.t("console_offices")), text(offices)],
                vec![text(ctx.t("console_services")), text(services)],
                vec![
                    text(ctx.t("console_your_roles")),
                    text(if actor.federation {
                        ctx.t("console_federation_support_lower").to_owned()
                    } else {
                        roles.join(", ")
                    }),
                ],
            ],
        ));
        Ok(Some(out))
    }
    .await;
    match r {
        Ok(sections) => {
            let intro = match &sections {
                Some(_) => format!("{} · {}", actor.name, actor.email),
                None => ctx.t("console_no_role").to_owned(),
            };
            render(
                &ctx,
                &actor,
                "/console",
                ctx.t("console_commune_title"),
                &intro,
                None,
                sections.unwrap_or_default(),
            )
            .await
        }
        Err(e) => ctx.respond(Err(e)),
    }
}

/// Publishes the commune's portal after onboarding (its administrator decides).
pub(super) async fn publish_portal(
    ctx: Ctx,
    actor: Admitted,
    b: Posted<crate::routes::Button>,
) -> HttpResponse {
    let r = async {
        sportello_admin::commune::publish_portal(&ctx.state, &actor).await?;
        Ok("/console?esito=pubblicato".to_owned())
    }
    .await;
    crate::routes::console_page::after_post_or(ctx, &b, r, |ctx| home(ctx, actor)).await
}
