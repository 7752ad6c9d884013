//! People: one per fiscal code once an identity provider vouched for it; contacts.

use super::*;
use crate::{Result, StoreError};

impl IdentityDb<'_> {
    /// The person with this fiscal code, created on first sight; the profile is refreshed from
    /// what the identity provider says now (contacts chosen by the person are kept).
    pub async fn person_from_idp(&self, who: &VerifiedIdentity, now: i64) -> Result<Person> {
        let id = uuid::Uuid::new_v4().to_string();
        let sql = format!(
            "INSERT INTO people ({PERSON_COLS}, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, NULL, FALSE, FALSE, $9, $10) \
             ON CONFLICT (fiscal_code) DO UPDATE SET given_name = excluded.given_name, \
             family_name = excluded.family_name, date_of_birth = excluded.date_of_birth, \
             place_of_birth = excluded.place_of_birth, idp_email = excluded.idp_email, \
             idp_mobile = excluded.idp_mobile, updated_at = excluded.updated_at, desk_made = FALSE \
             RETURNING {PERSON_COLS}"
        );
        let row = self
            .one(
                &sql,
                vec![
                    id.into(),
                    who.fiscal_code.clone().into(),
                    who.given_name.clone().into(),
                    who.family_name.clone().into(),
                    opt(&who.date_of_birth),
                    opt(&who.place_of_birth),
                    opt(&who.email),
                    opt(&who.mobile),
                    now.into(),
                    now.into(),
                ],
            )
            .await?
            .ok_or_else(|| StoreError::Corrupt("upsert returned no row".into()))?;
        person_of(&row)
    }

    /// The person with this fiscal code, created on first sight but never updated: for identity
    /// providers trusted by one commune only, which must not rewrite a federation-wide profile.
    pub async fn person_from_local_idp(&self, who: &VerifiedIdentity, now: i64) -> Result<Person> {
        self.exec(
            "INSERT INTO people (id, fiscal_code, given_name, family_name, date_of_birth, \
             place_of_birth, idp_email, idp_mobile, email_consent, sms_consent, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, FALSE, FALSE, $9, $10) \
             ON CONFLICT (fiscal_code) DO NOTHING",
            vec![
                uuid::Uuid::new_v4().to_string().into(),
                who.fiscal_code.clone().into(),
                who.given_name.clone().into(),
                who.family_name.clone().into(),
                opt(&who.date_of_birth),
                opt(&who.place_of_birth),
                opt(&who.email),
                opt(&who.mobile),
                now.into(),
                now.into(),
            ],
        )
        .await?;
        self.person_by_fiscal_code(&who.fiscal_code)
            .await?
            .ok_or_else(|| StoreError::Corrupt("person vanished".into()))
    }

    pub async fn person(&self, id: &str) -> Result<Option<Person>> {
        let sql = format!("SELECT {PERSON_COLS} FROM people WHERE id = $1");
        self.one(&sql, vec![id.into()])
            .await?
            .map(|r| person_of(&r))
            .transpose()
    }

    pub async fn person_by_fiscal_code(&self, cf: &str) -> Result<Option<Person>> {
        let sql = format!("SELECT {PERSON_COLS} FROM people WHERE fiscal_code = $1");
        self.one(&sql, vec![cf.into()])
            .await?
            .map(|r| person_of(&r))
            .transpose()
    }

    pub async fn people_count(&self) -> Result<i64> {
        let row = self
            .one("SELECT COUNT(*) AS n FROM people", vec![])
            .await?
            .ok_or_else(|| StoreError::Corrupt("count".into()))?;
        get(&row, "n")
    }

    /// The contact address the person proved theirs, if any.
    pub async fn contact_email_verified(&self, person_id: &str) -> Result<Option<String>> {
        self.one(
            "SELECT contact_email_verified FROM people WHERE id = $1",
            vec![person_id.into()],
        )
        .await?
        .map_or(Ok(None), |r| get(&r, "contact_email_verified"))
    }

    /// Records that the person proved `email` theirs, if it is still their contact address.
    pub async fn mark_contact_email_verified(&self, person_id: &str, email: &str) -> Result<bool> {
        let n = self
            .exec(
                "UPDATE people SET contact_email_verified = $1 WHERE id = $2 AND contact_email = $1",
                vec![email.into(), person_id.into()],
            )
            .await?;
        Ok(n == 1)
    }

    /// The contact mobile number the person proved theirs, if any.
    pub async fn contact_mobile_verified(&self, person_id: &str) -> Result<Option<String>> {
        self.one(
            "SELECT contact_mobile_verified FROM people WHERE id = $1",
            vec![person_id.into()],
        )
        .await?
        .map_or(Ok(None), |r| get(&r, "contact_mobile_verified"))
    }

    /// Records that the person proved `mobile` theirs, if it is still their contact number.
    pub async fn mark_contact_mobile_verified(
        &self,
        person_id: &str,
        mobile: &str,
    ) -> Result<bool> {
        let n = self
            .exec(
                "UPDATE people SET contact_mobile_verified = $1 WHERE id = $2 AND contact_mobile = $1",
                vec![mobile.into(), person_id.into()],
            )
            .await?;
        Ok(n == 1)
    }

    /// The notification contacts a person chose.
    pub async fn set_contacts(
        &self,
        person_id: &str,
        email: Option<String>,
        mobile: Option<String>,
        email_consent: bool,
        sms_consent: bool,
        now: i64,
    ) -> Result<()> {
        self.exec(
            "UPDATE people SET contact_email = $1, contact_mobile = $2, email_consent = $3, \
             sms_consent = $4, updated_at = $5 WHERE id = $6",
            vec![
                email.into(),
                mobile.into(),
                email_consent.into(),
                sms_consent.into(),
                now.into(),
                person_id.into(),
            ],
        )
        .await?;
        Ok(())
    }

    // --- local accounts -------------------------------------------------------------------------
}

impl IdentityDb<'_> {
    /// Remembers that the person has cases with `commune` (the sign-in host lists them all).
    pub async fn note_person_commune(&self, person_id: &str, commune: i64, now: i64) -> Result<()> {
        self.exec(
            "INSERT INTO person_communes (person_id, commune_id, first_at) VALUES ($1, $2, $3) \
             ON CONFLICT (person_id, commune_id) DO NOTHING",
            vec![person_id.into(), commune.into(), now.into()],
        )
        .await?;
        Ok(())
    }

    /// The communes the person has cases with, the first ones first (at most `limit`).
    pub async fn person_communes(&self, person_id: &str, limit: u64) -> Result<Vec<i64>> {
        self.all(
            "SELECT commune_id FROM person_communes WHERE person_id = $1 ORDER BY first_at LIMIT $2",
            vec![person_id.into(), (limit as i64).into()],
        )
        .await?
        .iter()
        .map(|r| get(r, "commune_id"))
        .collect()
    }
}

impl IdentityDb<'_> {
    /// The person with this fiscal code, made known by a desk that identified them (a document
    /// at a front desk, an intermediary's delegation) if nobody knew them: never updated here,
    /// and marked so until an identity provider vouches for them.
    pub async fn person_from_desk(&self, who: &VerifiedIdentity, now: i64) -> Result<Person> {
        self.exec(
            "INSERT INTO people (id, fiscal_code, given_name, family_name, date_of_birth, \
             place_of_birth, idp_email, idp_mobile, email_consent, sms_consent, created_at, \
             updated_at, desk_made) VALUES ($1, $2, $3, $4, NULL, NULL, NULL, NULL, FALSE, FALSE, \
             $5, $6, TRUE) ON CONFLICT (fiscal_code) DO NOTHING",
            vec![
                uuid::Uuid::new_v4().to_string().into(),
                who.fiscal_code.clone().into(),
                who.given_name.clone().into(),
                who.family_name.clone().into(),
                now.into(),
                now.into(),
            ],
        )
        .await?;
        self.person_by_fiscal_code(&who.fiscal_code)
            .await?
            .ok_or_else(|| StoreError::Corrupt("person vanished".into()))
    }

    /// Whether the person is known only through a desk (no identity provider vouched yet).
    pub async fn person_desk_made(&self, id: &str) -> Result<bool> {
        self.one(
            "SELECT desk_made FROM people WHERE id = $1",
            vec![id.into()],
        )
        .await?
        .map_or(Ok(false), |r| get(&r, "desk_made"))
    }
}
