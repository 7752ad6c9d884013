//! Telling the citizen what happened to their case (through the outbox, in the case's
//! transaction), and the assigned clerk when the citizen writes.

use sportello_domain::Language;
use sportello_kernel::{Deps, Result};
use sportello_notify::{Notice, To};
use sportello_store::TenantDb;
use sportello_store::cases::Case;

/// The words of an event in the citizen's message, Italian and English.
fn what(event: &str, lang: Language) -> &'static str {
    let (it, en) = match event {
        "submitted" => ("è stata protocollata", "has been registered"),
        "taken" => ("è stata presa in carico", "has been taken in charge"),
        "asked" => (
            "l'ufficio ti chiede documenti o informazioni",
            "the office asks you for documents or information",
        ),
        "message" => (
            "hai un messaggio dall'ufficio",
            "you have a message from the office",
        ),
        "accepted" => ("è stata accolta", "has been accepted"),
        "rejected" => ("è stata respinta", "has been rejected"),
        "withdrawn" => ("è stata ritirata", "has been withdrawn"),
        "response_document" => (
            "l'ufficio ti ha inviato un documento",
            "the office sent you a document",
        ),
        _ => ("è stata aggiornata", "has been updated"),
    };
    if lang == Language::En { en } else { it }
}

/// Where the citizen is told about their case (their proven e-mail address: a case's receipt
/// and outcome are not news they may decline), read before the transaction that writes it.
pub(crate) async fn reach(deps: &Deps, person_id: &str) -> Result<Option<To>> {
    Ok(sportello_notify::topics::proven_contacts(deps, person_id)
        .await?
        .email
        .map(To::Email))
}

pub(crate) struct About<'a> {
    pub case: &'a Case,
    pub service_title: &'a str,
    /// As the commune writes it.
    pub protocol: String,
    /// The commune's site as the person reached it (`https://host`): the case's link.
    pub base: &'a str,
    pub given_name: &'a str,
}

/// Writes the message telling the citizen about `event` (nothing if they gave no address).
pub(crate) async fn citizen(
    deps: &Deps,
    db: &TenantDb<'_>,
    to: Option<To>,
    about: &About<'_>,
    event: &str,
    note: &str,
    sender: Option<&sportello_notify::Sender>,
) -> Result<()> {
    let Some(to) = to else {
        return Ok(());
    };
    let sender = match sender {
        Some(s) => s.clone(),
        None => sportello_notify::sender(db).await?,
    };
    let lang = Language::parse(&about.case.lang).unwrap_or(Language::It);
    let commune = deps
        .tenancy
        .by_id(db.tenant())
        .map_or_else(|| db.tenant().0.to_string(), |c| c.record.name.clone());
    let note: String = note.chars().take(2000).collect();
    sportello_notify::enqueue_as(
        deps,
        db,
        &Notice {
            template: "case_update",
            lang,
            to,
            person_id: Some(about.case.person_id.clone()),
            vars: serde_json::json!({
                "commune": commune,
                "protocol": about.protocol,
                "service": about.service_title,
                "what": what(event, lang),
                "note": note,
                "given": about.given_name,
                "url": format!("{}/area-personale/pratiche/{}", about.base, about.case.id),
            }),
        },
        &sender,
    )
    .await?;
    Ok(())
}

/// Tells the clerk a case assigned to them moved on the citizen's side.
pub(crate) async fn clerk(
    deps: &Deps,
    db: &TenantDb<'_>,
    email: &str,
    protocol: &str,
    case_id: &str,
    event: &str,
    base: &str,
) -> Result<()> {
    let Ok(email) = sportello_domain::Email::parse(email) else {
        return Ok(());
    };
    sportello_notify::enqueue(
        deps,
        db,
        &Notice {
            template: "case_clerk",
            lang: Language::It,
            to: To::Email(email),
            person_id: None,
            vars: serde_json::json!({
                "protocol": protocol,
                "answered": event == "answered",
                "url": format!("{base}/console/pratiche/{case_id}"),
            }),
        },
    )
    .await?;
    Ok(())
}
