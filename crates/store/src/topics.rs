//! Kinds of event a commune publishes, the people subscribed to each (and by which channels),
//! and the messages sent to a kind's subscribers.

use serde::Serialize;

use crate::identity::get;
use crate::{Result, TenantDb};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Topic {
    pub id: String,
    pub name: String,
    pub name_en: Option<String>,
    pub description: String,
}

/// A person's subscription to one kind of event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Subscription {
    pub topic_id: String,
    pub person_id: String,
    pub by_email: bool,
    pub by_sms: bool,
}

impl TenantDb<'_> {
    pub async fn topics(&self) -> Result<Vec<Topic>> {
        self.all(
            "SELECT id, name, name_en, description FROM topics WHERE tenant_id = $1 ORDER BY name",
            vec![],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(Topic {
                id: get(r, "id")?,
                name: get(r, "name")?,
                name_en: get(r, "name_en")?,
                description: get(r, "description")?,
            })
        })
        .collect()
    }

    /// Creates or renames a kind of event.
    pub async fn save_topic(&self, t: &Topic, now: i64) -> Result<()> {
        self.exec(
            "INSERT INTO topics (tenant_id, id, name, name_en, description, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT (tenant_id, id) DO UPDATE SET \
             name = excluded.name, name_en = excluded.name_en, \
             description = excluded.description, updated_at = excluded.updated_at",
            vec![
                t.id.clone().into(),
                t.name.clone().into(),
                t.name_en.clone().into(),
                t.description.clone().into(),
                now.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// Removes a kind of event and its subscriptions; gives whether it existed.
    pub async fn delete_topic(&self, id: &str) -> Result<bool> {
        self.exec(
            "DELETE FROM subscriptions WHERE tenant_id = $1 AND topic_id = $2",
            vec![id.to_owned().into()],
        )
        .await?;
        Ok(self
            .exec(
                "DELETE FROM topics WHERE tenant_id = $1 AND id = $2",
                vec![id.to_owned().into()],
            )
            .await?
            == 1)
    }

    pub async fn subscriptions_of(&self, person_id: &str) -> Result<Vec<Subscription>> {
        self.all(
            "SELECT topic_id, person_id, by_email, by_sms FROM subscriptions \
             WHERE tenant_id = $1 AND person_id = $2",
            vec![person_id.to_owned().into()],
        )
        .await?
        .iter()
        .map(subscription)
        .collect()
    }

    /// Everyone subscribed to a kind of event.
    pub async fn subscribers(&self, topic_id: &str) -> Result<Vec<Subscription>> {
        self.all(
            "SELECT topic_id, person_id, by_email, by_sms FROM subscriptions \
             WHERE tenant_id = $1 AND topic_id = $2 ORDER BY person_id",
            vec![topic_id.to_owned().into()],
        )
        .await?
        .iter()
        .map(subscription)
        .collect()
    }

    /// Sets a person's channels for a kind of event (neither: no subscription).
    pub async fn set_subscription(&self, s: &Subscription, now: i64) -> Result<()> {
        if !s.by_email && !s.by_sms {
            self.exec(
                "DELETE FROM subscriptions WHERE tenant_id = $1 AND topic_id = $2 AND person_id = $3",
                vec![s.topic_id.clone().into(), s.person_id.clone().into()],
            )
            .await?;
            return Ok(());
        }
        self.exec(
            "INSERT INTO subscriptions (tenant_id, topic_id, person_id, by_email, by_sms, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, topic_id, person_id) \
             DO UPDATE SET by_email = excluded.by_email, by_sms = excluded.by_sms",
            vec![
                s.topic_id.clone().into(),
                s.person_id.clone().into(),
                s.by_email.into(),
                s.by_sms.into(),
                now.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// Records a message sent to a kind's subscribers.
    pub async fn record_broadcast(
        &self,
        id: &str,
        topic_id: &str,
        text: &str,
        sent_by: &str,
        recipients: i64,
        now: i64,
    ) -> Result<()> {
        self.exec(
            "INSERT INTO broadcasts (tenant_id, id, topic_id, text, sent_by, recipients, sent_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            vec![
                id.to_owned().into(),
                topic_id.to_owned().into(),
                text.to_owned().into(),
                sent_by.to_owned().into(),
                recipients.into(),
                now.into(),
            ],
        )
        .await?;
        Ok(())
    }

    /// How many messages to subscribers this commune sent since a time.
    pub async fn broadcasts_since(&self, since: i64) -> Result<i64> {
        match self
            .one(
                "SELECT COUNT(*) AS n FROM broadcasts WHERE tenant_id = $1 AND sent_at >= $2",
                vec![since.into()],
            )
            .await?
        {
            Some(r) => get(&r, "n"),
            None => Ok(0),
        }
    }
}

fn subscription(r: &sea_orm::QueryResult) -> Result<Subscription> {
    Ok(Subscription {
        topic_id: get(r, "topic_id")?,
        person_id: get(r, "person_id")?,
        by_email: get(r, "by_email")?,
        by_sms: get(r, "by_sms")?,
    })
}
