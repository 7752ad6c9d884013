//! Ratings of closed cases and their averages per service and per office.

use serde::Serialize;

use crate::identity::get;
use crate::{Result, TenantDb};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseRating {
    pub case_id: String,
    pub service_id: String,
    pub office_id: String,
    pub stars: i32,
    pub answer: String,
    pub details: String,
    pub rated_at: i64,
}

/// The ratings of one service or office: how many, the average (tenths of a star).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Average {
    pub id: String,
    pub count: i64,
    pub tenths: i64,
}

impl TenantDb<'_> {
    /// Records a case's rating; gives false if it was rated already (once per case).
    pub async fn rate_case(&self, r: &CaseRating) -> Result<bool> {
        Ok(self
            .exec(
                "INSERT INTO case_ratings (tenant_id, case_id, service_id, office_id, stars, answer, details, rated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (tenant_id, case_id) DO NOTHING",
                vec![
                    r.case_id.clone().into(),
                    r.service_id.clone().into(),
                    r.office_id.clone().into(),
                    r.stars.into(),
                    r.answer.clone().into(),
                    r.details.clone().into(),
                    r.rated_at.into(),
                ],
            )
            .await?
            == 1)
    }

    pub async fn case_rating(&self, case_id: &str) -> Result<Option<CaseRating>> {
        self.one(
            "SELECT case_id, service_id, office_id, stars, answer, details, rated_at FROM case_ratings \
             WHERE tenant_id = $1 AND case_id = $2",
            vec![case_id.into()],
        )
        .await?
        .map(|r| {
            Ok(CaseRating {
                case_id: get(&r, "case_id")?,
                service_id: get(&r, "service_id")?,
                office_id: get(&r, "office_id")?,
                stars: get(&r, "stars")?,
                answer: get(&r, "answer")?,
                details: get(&r, "details")?,
                rated_at: get(&r, "rated_at")?,
            })
        })
        .transpose()
    }

    /// Averages by service (`by = "service_id"`) or by office (`"office_id"`).
    pub async fn rating_averages(&self, by_office: bool) -> Result<Vec<Average>> {
        let col = if by_office { "office_id" } else { "service_id" };
        self.all(
            &format!(
                "SELECT {col} AS id, COUNT(*) AS n, SUM(stars) AS total FROM case_ratings \
                 WHERE tenant_id = $1 GROUP BY {col} ORDER BY {col}"
            ),
            vec![],
        )
        .await?
        .iter()
        .map(|r| {
            let n: i64 = get(r, "n")?;
            let total: i64 = get(r, "total")?;
            Ok(Average {
                id: get(r, "id")?,
                count: n,
                tenths: if n == 0 { 0 } else { (total * 10 + n / 2) / n },
            })
        })
        .collect()
    }
}
