//! From an event to an outbox row: the words rendered in the person's language, the sender
//! (the commune's name and reply-to, or the federation's), the payload sealed, and the row
//! written in the caller's transaction — the message exists if and only if the event commits.

use serde::{Deserialize, Serialize};
use sportello_domain::{Email, Language, MobileNumber, TenantId};
use sportello_kernel::{Deps, Error, Result};
use sportello_store::TenantDb;
use sportello_store::outbox::NewMessage;

use crate::templates;

/// Where a message goes.
#[derive(Debug, Clone)]
pub enum To {
    Email(Email),
    Mobile(MobileNumber),
}

impl To {
    pub fn channel(&self) -> &'static str {
        match self {
            To::Email(_) => "email",
            To::Mobile(_) => "sms",
        }
    }
    fn address(&self) -> &str {
        match self {
            To::Email(e) => e.as_str(),
            To::Mobile(m) => m.as_str(),
        }
    }
}

/// One message to tell someone something.
#[derive(Debug, Clone)]
pub struct Notice {
    /// The event's template (`templates/<key>.toml`).
    pub template: &'static str,
    pub lang: Language,
    pub to: To,
    /// The person it is for, when known: their "messages we sent you".
    pub person_id: Option<String>,
    /// The words the template fills in (`federation` is added).
    pub vars: serde_json::Value,
}

/// What the workers send, sealed in the row.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum Payload {
    Email {
        subject: String,
        text: String,
        html: String,
        from_name: Option<String>,
        reply_to: Option<String>,
    },
    Sms {
        text: String,
        sender: String,
    },
}

/// Renders and seals a notice into the row [`enqueue`] writes, from `commune` with its sender
/// name and reply-to.
pub fn compose(
    deps: &Deps,
    commune: TenantId,
    n: &Notice,
    from_name: Option<String>,
    reply_to: Option<String>,
) -> Result<NewMessage> {
    let mut vars = n.vars.clone();
    if let Some(m) = vars.as_object_mut() {
        m.entry("federation")
            .or_insert_with(|| deps.federation_name.clone().into());
        let sender = from_name
            .clone()
            .unwrap_or_else(|| match deps.tenancy.by_id(commune) {
                Some(c) => format!("Comune di {}", c.record.name),
                None => deps.federation_name.clone(),
            });
        m.entry("sender").or_insert_with(|| sender.into());
    }
    let t = templates::template(n.template).map_err(Error::Internal)?;
    let words = templates::render(n.template, n.lang, &vars).map_err(Error::Internal)?;
    let payload = match &n.to {
        To::Email(_) => Payload::Email {
            subject: words.subject.clone(),
            text: words.text,
            html: words.html,
            from_name,
            reply_to,
        },
        To::Mobile(_) => Payload::Sms {
            text: words.sms.ok_or_else(|| {
                Error::Internal(format!("template {} has no SMS text", n.template))
            })?,
            sender: vars["sender"].as_str().unwrap_or_default().to_owned(),
        },
    };
    let json = serde_json::to_vec(&payload).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(NewMessage {
        id: uuid::Uuid::new_v4().to_string(),
        channel: n.to.channel().to_owned(),
        template: n.template.to_owned(),
        recipient: n.to.address().to_owned(),
        person_id: n.person_id.clone(),
        // A code in the subject is a secret too.
        subject: if t.secret {
            words.subject.replace(
                vars["code"]
                    .as_str()
                    .filter(|c| !c.is_empty())
                    .unwrap_or("\u{0}"),
                "······",
            )
        } else {
            words.subject
        },
        payload: deps.secrets.seal(&json).map_err(Error::Internal)?,
        secret: t.secret,
        not_before: None,
    })
}

/// Writes the notice into the outbox of `db`'s commune (tenant 0: the federation's), in `db`'s
/// transaction. After the commit, [`wake`] this node's workers.
pub async fn enqueue(deps: &Deps, db: &TenantDb<'_>, n: &Notice) -> Result<String> {
    let s = sender(db).await?;
    enqueue_as(deps, db, n, &s).await
}

/// A commune's sender words (its name and reply-to), read ahead of a message.
#[derive(Debug, Clone, Default)]
pub struct Sender {
    pub from_name: Option<String>,
    pub reply_to: Option<String>,
}

/// The sender words of `db`'s commune (none for the federation's own).
pub async fn sender(db: &TenantDb<'_>) -> Result<Sender> {
    if db.tenant().0 == 0 {
        return Ok(Sender::default());
    }
    let s = db.settings().await?;
    Ok(Sender {
        from_name: s.mail_from_name,
        reply_to: s.mail_reply_to,
    })
}

/// [`enqueue`] with the sender read before (a transaction holding a lock writes the message
/// without another read).
pub async fn enqueue_as(deps: &Deps, db: &TenantDb<'_>, n: &Notice, s: &Sender) -> Result<String> {
    let m = compose(
        deps,
        db.tenant(),
        n,
        s.from_name.clone(),
        s.reply_to.clone(),
    )?;
    db.enqueue_message(&m, sportello_store::now_micros())
        .await?;
    Ok(m.id)
}

/// The message row for a notice, for store functions that write it in their own transaction
/// (the federation's: no commune sender).
pub fn federation_message(deps: &Deps, n: &Notice) -> Result<NewMessage> {
    compose(deps, TenantId(0), n, None, None)
}

/// The message row for a notice from a commune (its sender name and reply-to; tenant 0: the
/// federation's), for store functions that write it in their own transaction.
pub async fn commune_message(deps: &Deps, commune: TenantId, n: &Notice) -> Result<NewMessage> {
    if commune.0 == 0 {
        return federation_message(deps, n);
    }
    let tx = deps.store.tenant(commune).await?;
    let s = tx.db().settings().await?;
    tx.commit().await?;
    compose(deps, commune, n, s.mail_from_name, s.mail_reply_to)
}

/// Tells this node's workers that messages were just committed.
pub fn wake(deps: &Deps) {
    deps.outbox_wake.notify_waiters();
}
