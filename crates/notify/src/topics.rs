//! Subscriptions to events of interest: a commune publishes kinds of event ("road works in my
//! area", "school canteen menu"), people subscribe in their personal area choosing e-mail, SMS or
//! both (each needs its contact proven and its consent given), and staff holding
//! `messages:create` send a message to a kind's subscribers — through the outbox, spread over
//! time at [`PER_SECOND`] messages a second per commune, at most [`PER_HOUR`] sends an hour.

use serde::Deserialize;
use sportello_domain::{Email, Language, MobileNumber, Slug, TenantId};
use sportello_kernel::input::{Removal, optional, required};
use sportello_kernel::{Actor, Deps, Error, Problems, Result, Why};
use sportello_store::topics::{Subscription, Topic};

use crate::{Notice, To};

/// Messages to subscribers handed to the workers each second, per commune: a large list never
/// holds up the other communes' messages, nor floods a provider.
pub const PER_SECOND: i64 = 50;
/// Sends to subscribers a commune may make in an hour.
pub const PER_HOUR: i64 = 10;
const NAME_MAX: usize = 100;
const DESCRIPTION_MAX: usize = 500;
/// The longest message to subscribers (an SMS is sent in parts).
pub const TEXT_MAX: usize = 1000;

#[derive(Debug, Default, Deserialize)]
pub struct TopicForm {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub name_en: String,
    #[serde(default)]
    pub description: String,
}

pub async fn topics(deps: &Deps, commune: TenantId) -> Result<Vec<Topic>> {
    let tx = deps.store.tenant_read(commune).await?;
    let t = tx.db().topics().await?;
    tx.commit().await?;
    Ok(t)
}

/// Publishes (or renames) a kind of event.
pub async fn save_topic(deps: &Deps, actor: &Actor, f: &TopicForm) -> Result<()> {
    let c = actor.commune()?;
    let mut p = Problems::default();
    let id = Slug::parse(&f.id).map_err(|e| p.parse("id", &e)).ok();
    let name = required("name", &f.name).inspect_err(|_| p.add("name", Why::Required, ""));
    for (field, v, max) in [
        ("name", &f.name, NAME_MAX),
        ("name_en", &f.name_en, NAME_MAX),
        ("description", &f.description, DESCRIPTION_MAX),
    ] {
        if v.trim().chars().count() > max {
            p.add(field, Why::TooLong, max.to_string());
        }
    }
    let (Some(id), Ok(name), true) = (id, name, p.is_empty()) else {
        return Err(Error::Invalid(p));
    };
    let topic = Topic {
        id: id.to_string(),
        name,
        name_en: optional(&f.name_en),
        description: f.description.trim().to_owned(),
    };
    let tx = deps.store.tenant(c).await?;
    let db = tx.db();
    db.save_topic(&topic, sportello_store::now_micros()).await?;
    sportello_kernel::audit::record(
        &db,
        actor,
        "topic_saved",
        &format!("topic:{}", topic.id),
        serde_json::json!({"name": topic.name}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Withdraws a kind of event and its subscriptions (confirmed, with a reason).
pub async fn delete_topic(deps: &Deps, actor: &Actor, id: &str, f: &Removal) -> Result<()> {
    let reason = f.reason()?;
    let tx = deps.store.tenant(actor.commune()?).await?;
    let db = tx.db();
    if !db.delete_topic(id).await? {
        return Err(Error::NotFound);
    }
    sportello_kernel::audit::record(
        &db,
        actor,
        "topic_deleted",
        &format!("topic:{id}"),
        serde_json::json!({"reason": reason}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Where a person can be reached: the contact e-mail and mobile they proved and agreed to be
/// told things at (the rules of the personal area's contacts).
pub struct Reach {
    pub email: Option<Email>,
    pub mobile: Option<MobileNumber>,
}

pub async fn reach(deps: &Deps, person_id: &str) -> Result<Reach> {
    reach_with(deps, person_id, true).await
}

/// Where a person can be told about what they asked for themselves (their case's receipt and
/// outcome): the contacts they proved, whether or not they agreed to news by e-mail or SMS.
pub async fn proven_contacts(deps: &Deps, person_id: &str) -> Result<Reach> {
    reach_with(deps, person_id, false).await
}

async fn reach_with(deps: &Deps, person_id: &str, need_consent: bool) -> Result<Reach> {
    let id = deps.store.identity();
    let Some(p) = id.person(person_id).await? else {
        return Ok(Reach {
            email: None,
            mobile: None,
        });
    };
    let email = match &p.contact_email {
        Some(e) if id.contact_email_verified(person_id).await?.as_deref() == Some(e.as_str()) => {
            Some(e.clone())
        }
        Some(_) => None,
        None => match &p.idp_email {
            Some(e) => Some(e.clone()),
            None => id
                .local_account_of(person_id)
                .await?
                .filter(|a| a.email_verified)
                .map(|a| a.email),
        },
    };
    let mobile = match &p.contact_mobile {
        Some(m) if id.contact_mobile_verified(person_id).await?.as_deref() == Some(m.as_str()) => {
            Some(m.clone())
        }
        Some(_) => None,
        None => p.idp_mobile.clone(),
    };
    Ok(Reach {
        email: email
            .filter(|_| p.email_consent || !need_consent)
            .and_then(|e| Email::parse(&e).ok()),
        // SMS go to Italian mobile numbers only (as the codes that prove them).
        mobile: mobile
            .filter(|m| (p.sms_consent || !need_consent) && m.starts_with("+393"))
            .and_then(|m| MobileNumber::parse(&m).ok()),
    })
}

/// A person's choice for one kind of event.
#[derive(Debug, Clone)]
pub struct Choice {
    pub topic_id: String,
    pub by_email: bool,
    pub by_sms: bool,
}

/// Sets a person's subscriptions in a commune. A channel needs its contact proven and its
/// consent given in the personal area, SMS a commune that sends SMS; every choice is checked
/// before anything is written.
pub async fn subscribe(
    deps: &Deps,
    commune: TenantId,
    person_id: &str,
    choices: &[Choice],
) -> Result<()> {
    let known = topics(deps, commune).await?;
    let reach = reach(deps, person_id).await?;
    let sms = crate::channels::sms_enabled(deps, commune).await?;
    // Where the commune sends no SMS (now), the SMS choices stay as they were: the form has no
    // boxes for them, and switching SMS off must not unsubscribe everyone.
    let stored = {
        let tx = deps.store.tenant_read(commune).await?;
        let s = tx.db().subscriptions_of(person_id).await?;
        tx.commit().await?;
        s
    };
    let choices: Vec<Choice> = choices
        .iter()
        .map(|c| Choice {
            by_sms: if sms {
                c.by_sms
            } else {
                stored.iter().any(|s| s.topic_id == c.topic_id && s.by_sms)
            },
            ..c.clone()
        })
        .collect();
    let mut p = Problems::default();
    for c in &choices {
        if !known.iter().any(|t| t.id == c.topic_id) {
            p.add(
                &format!("email:{}", c.topic_id),
                Why::Malformed,
                &c.topic_id,
            );
            continue;
        }
        if c.by_email && reach.email.is_none() {
            p.add(&format!("email:{}", c.topic_id), Why::ContactNeeded, "");
        }
        if c.by_sms && sms && reach.mobile.is_none() {
            p.add(&format!("sms:{}", c.topic_id), Why::ContactNeeded, "");
        }
    }
    p.result()?;
    let tx = deps.store.tenant(commune).await?;
    let db = tx.db();
    let now = sportello_store::now_micros();
    for c in &choices {
        db.set_subscription(
            &Subscription {
                topic_id: c.topic_id.clone(),
                person_id: person_id.to_owned(),
                by_email: c.by_email,
                by_sms: c.by_sms,
            },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Sends a message to a kind's subscribers, by the channels each chose and can still be reached
/// at: every message written with the record of the send, in one transaction. Gives how many
/// messages were written.
pub async fn broadcast(
    deps: &Deps,
    actor: &Actor,
    topic_id: &str,
    text: &str,
    area_url: &str,
) -> Result<usize> {
    let c = actor.commune()?;
    let text = required("text", text)?;
    if text.chars().count() > TEXT_MAX {
        return Err(Error::invalid_at(
            "text",
            Why::TooLong,
            TEXT_MAX.to_string(),
        ));
    }
    let topic = topics(deps, c)
        .await?
        .into_iter()
        .find(|t| t.id == topic_id)
        .ok_or(Error::NotFound)?;
    let subscribers = {
        let tx = deps.store.tenant_read(c).await?;
        let db = tx.db();
        // Refused early when the hour's sends are used up (checked again before writing).
        if db
            .broadcasts_since(sportello_store::now_micros() - 3_600_000_000)
            .await?
            >= PER_HOUR
        {
            return Err(Error::Refused("broadcast_limit"));
        }
        let s = db.subscribers(topic_id).await?;
        tx.commit().await?;
        s
    };
    let sms = crate::channels::sms_enabled(deps, c).await?;
    let commune = deps
        .tenancy
        .by_id(c)
        .map_or_else(|| c.0.to_string(), |m| m.record.name.clone());
    // Where each goes, read before the transaction (nothing is held open meanwhile).
    let mut notices = vec![];
    for s in &subscribers {
        let r = reach(deps, &s.person_id).await?;
        let vars = |lang: Language| {
            let name = match lang {
                Language::En => topic.name_en.clone().unwrap_or_else(|| topic.name.clone()),
                _ => topic.name.clone(),
            };
            serde_json::json!({"topic": name, "text": text, "commune": commune, "url": area_url})
        };
        if let (true, Some(e)) = (s.by_email, r.email) {
            notices.push(Notice {
                template: "topic_message",
                lang: Language::It,
                to: To::Email(e),
                person_id: Some(s.person_id.clone()),
                vars: vars(Language::It),
            });
        }
        if let (true, true, Some(m)) = (s.by_sms, sms, r.mobile) {
            notices.push(Notice {
                template: "topic_message",
                lang: Language::It,
                to: To::Mobile(m),
                person_id: Some(s.person_id.clone()),
                vars: vars(Language::It),
            });
        }
    }
    let tx = deps.store.tenant(c).await?;
    let db = tx.db();
    // Two sends at once take turns, and the second counts the first.
    db.take_turn().await?;
    let now = sportello_store::now_micros();
    if db.broadcasts_since(now - 3_600_000_000).await? >= PER_HOUR {
        return Err(Error::Refused("broadcast_limit"));
    }
    // After what this commune already has waiting: its pace holds across sends.
    let start = db
        .last_scheduled("topic_message")
        .await?
        .map_or(now, |t| t.max(now) + 1_000_000 / PER_SECOND);
    let settings = db.settings().await?;
    for (i, n) in notices.iter().enumerate() {
        let mut m = crate::compose::compose(
            deps,
            c,
            n,
            settings.mail_from_name.clone(),
            settings.mail_reply_to.clone(),
        )?;
        // Spread over time: PER_SECOND a second from now.
        m.not_before = Some(start + (i as i64) * 1_000_000 / PER_SECOND);
        db.enqueue_message(&m, now).await?;
    }
    let id = uuid::Uuid::new_v4().to_string();
    db.record_broadcast(
        &id,
        topic_id,
        &text,
        &actor.audit_name(),
        notices.len() as i64,
        now,
    )
    .await?;
    sportello_kernel::audit::record(
        &db,
        actor,
        "topic_broadcast",
        &format!("topic:{topic_id}"),
        serde_json::json!({"messages": notices.len()}),
    )
    .await?;
    tx.commit().await?;
    crate::wake(deps);
    Ok(notices.len())
}
