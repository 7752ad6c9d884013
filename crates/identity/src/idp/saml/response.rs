//! Checking an IdP's Response: every SPID rule, in the conformance tool's order, after
//! samael/xmlsec verified the signatures (see the module's documentation).

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use samael::schema::Assertion;
use sportello_domain::AssuranceLevel;

use super::*;

impl Saml {
    /// Every check. CPU-bound and synchronous.
    pub fn validate(
        &self,
        saml_response_b64: &str,
        expected: &Expected<'_>,
    ) -> Result<Asserted, Rejected> {
        self.validate_at(saml_response_b64, expected, Utc::now())
    }

    /// [`Saml::validate`] with the clock given (`now`): the steps below, in order.
    pub(crate) fn validate_at(
        &self,
        saml_response_b64: &str,
        exp: &Expected<'_>,
        now: DateTime<Utc>,
    ) -> Result<Asserted, Rejected> {
        let idp = self
            .idp(exp.idp_entity_id)
            .ok_or_else(|| invalid(format!("unknown IdP {}", exp.idp_entity_id)))?;
        let xml = decode_response(saml_response_b64)?;
        let root = xml::parse(&xml).map_err(|e| invalid(format!("malformed XML: {e}")))?;
        let c = Check::new(self, exp, idp, now);
        c.response(&root)?;
        let a = c.structure(&root)?;
        let trusted = c.signatures(&xml, a)?;
        c.assertion(a, &trusted)?;
        let (name_id, latest) = c.subject(a, &trusted)?;
        let latest = c.conditions(a, &trusted, latest)?;
        let level = c.level(a, &trusted)?;
        let attributes = c.attributes(a, &trusted)?;
        let session_index = trusted
            .authn_statements
            .as_deref()
            .and_then(|a| a.first())
            .and_then(|a| a.session_index.clone());
        Ok(Asserted {
            subject: SamlSubject {
                name_id,
                session_index,
            },
            assertion_id: trusted.id.clone(),
            idp_entity_id: idp.entity_id.clone(),
            level,
            not_on_or_after: latest + c.skew,
            attributes,
        })
    }
}

/// What every step needs: the service provider, what our request expected, the clock. (Visible
/// to the module's tests, which exercise a step on its own where an earlier one would stop the
/// input first.)
pub(super) struct Check<'a> {
    saml: &'a Saml,
    exp: &'a Expected<'a>,
    idp: &'a IdpInfo,
    now: DateTime<Utc>,
    skew: Duration,
    /// Nothing may be issued before our request was (less the clock skew).
    earliest: DateTime<Utc>,
}

impl<'a> Check<'a> {
    pub(super) fn new(
        saml: &'a Saml,
        exp: &'a Expected<'a>,
        idp: &'a IdpInfo,
        now: DateTime<Utc>,
    ) -> Self {
        let skew = Duration::seconds(SKEW_SECONDS);
        Check {
            saml,
            exp,
            idp,
            now,
            skew,
            earliest: exp.issued_at - skew,
        }
    }

    fn acs_url(&self) -> &str {
        self.saml.sp.acs_url.as_str()
    }

    /// The Response element: its attributes, its Issuer, its Status.
    fn response(&self, root: &xml::El) -> Result<(), Rejected> {
        let (exp, now, skew) = (self.exp, self.now, self.skew);
        if root.ns != NS_P || root.name != "Response" {
            return Err(invalid("the root element is not a samlp:Response"));
        }
        // ---- Response attributes -------------------------------------------------------
        let response_id = root.attr("ID").unwrap_or("");
        if response_id.is_empty() {
            return Err(invalid("Response ID missing or empty")); // 8, 9
        }
        if root.attr("Version") != Some("2.0") {
            return Err(invalid("Response Version is not 2.0")); // 10
        }
        let r_ii = instant(root.attr("IssueInstant"), "Response IssueInstant")?; // 11-13
        if r_ii < self.earliest || r_ii > now + skew {
            return Err(invalid("Response IssueInstant out of range")); // 14, 15
        }
        if root.attr("InResponseTo").filter(|v| !v.is_empty()) != Some(exp.request_id) {
            return Err(invalid("Response InResponseTo does not match our request")); // 16-18
        }
        if root.attr("Destination") != Some(self.acs_url()) {
            return Err(invalid("Response Destination is not our ACS URL")); // 19-21
        }

        // ---- Response Issuer -------------------------------------------------------------
        let iss = one(root, NS_A, "Issuer", "Response Issuer")?; // 28
        if iss.text.trim() != self.idp.entity_id {
            return Err(invalid("Response Issuer is not the IdP")); // 27, 29
        }
        if iss.attr("Format").is_some_and(|f| f != ENTITY_FMT) {
            return Err(invalid("Response Issuer Format is not entity")); // 30 (31: absent is fine)
        }

        // ---- Status ----------------------------------------------------------------------
        let st = one(root, NS_P, "Status", "Status")?; // 23
        let sc = one(st, NS_P, "StatusCode", "StatusCode")?; // 22
        let code = sc.attr("Value").unwrap_or("");
        if code != SUCCESS {
            if !TOP_STATUS.contains(&code) {
                return Err(invalid(format!("invalid StatusCode {code:?}"))); // 24, 26
            }
            let message = opt(st, NS_P, "StatusMessage", "StatusMessage")?
                .map(|m| m.text.trim().to_owned())
                .unwrap_or_default();
            let sub = sc
                .children
                .iter()
                .find(|c| c.ns == NS_P && c.name == "StatusCode")
                .and_then(|c| c.attr("Value"))
                .unwrap_or("");
            return Err(Rejected::IdpStatus {
                message: idp_status_message(&message, sub),
            }); // 104-111
        }
        Ok(())
    }

    /// Anti-XML-signature-wrapping: unique IDs, no encryption, exactly one Assertion (a child
    /// of the Response), signatures where SPID puts them, no comments. Gives the Assertion.
    fn structure<'x>(&self, root: &'x xml::El) -> Result<&'x xml::El, Rejected> {
        let mut ids: Vec<&str> = Vec::new();
        let mut assertions = 0usize;
        let mut encrypted = false;
        let mut signatures = 0usize;
        root.walk(&mut |e| {
            if let Some(id) = e.attr("ID") {
                ids.push(id);
            }
            if e.name == "Assertion" {
                assertions += 1;
            }
            if e.name == "EncryptedAssertion" {
                encrypted = true;
            }
            if e.ns == NS_DS && e.name == "Signature" {
                signatures += 1;
            }
        });
        let n_ids = ids.len();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() != n_ids {
            return Err(invalid("duplicate ID attributes"));
        }
        if encrypted {
            return Err(invalid("encrypted assertions are not supported"));
        }
        let direct: Vec<&xml::El> = root.kids(NS_A, "Assertion").collect();
        if assertions != 1 || direct.len() != 1 {
            return Err(invalid(
                "exactly one Assertion, child of the Response, is required",
            )); // 32, xsw*
        }
        let a = direct[0];
        let assertion_id = a.attr("ID").unwrap_or("");
        if assertion_id.is_empty() {
            return Err(invalid("Assertion ID missing or empty")); // 33, 34
        }
        let a_sig = one(a, NS_DS, "Signature", "Assertion Signature")?; // 2, 3
        let r_sig = opt(root, NS_DS, "Signature", "Response Signature")?;
        if signatures != 1 + usize::from(r_sig.is_some()) {
            return Err(invalid("unexpected Signature elements"));
        }
        check_signature_shape(a_sig, a)?;
        if let Some(r_sig) = r_sig {
            check_signature_shape(r_sig, root)?;
        }
        let mut comment_in_name_id = false;
        let mut comment = false;
        a.walk(&mut |e| {
            if e.comments {
                comment = true;
                if e.name == "NameID" {
                    comment_in_name_id = true;
                }
            }
        });
        if comment_in_name_id {
            return Err(invalid("comment inside NameID"));
        }
        if comment {
            return Err(invalid(
                "comment or processing instruction inside the Assertion",
            ));
        }
        Ok(a)
    }

    /// The signatures, verified by samael/xmlsec with the IdP's metadata keys only; gives the
    /// signed copy of the Assertion (values are taken from there only).
    pub(super) fn signatures(&self, xml: &str, a: &xml::El) -> Result<Assertion, Rejected> {
        let assertion_id = a.attr("ID").unwrap_or("");
        let (trusted, signed_itself) = verified_assertion(xml, self.idp)?;
        if trusted.id != assertion_id {
            return Err(invalid(
                "the signed Assertion is not the Assertion of the Response",
            ));
        }
        if !signed_itself {
            // Only the Response was kept whole: the Assertion must still carry its own
            // (verified: xmlsec checked every signature) signature, pointing at it.
            let want_uri = format!("#{assertion_id}");
            let covered = trusted.signature.as_ref().is_some_and(|s| {
                s.signed_info.reference.len() == 1
                    && s.signed_info.reference[0].uri.as_deref() == Some(want_uri.as_str())
            });
            if !covered {
                return Err(invalid("the Assertion is not signed")); // 3
            }
        }
        Ok(trusted)
    }

    /// The Assertion's own attributes and Issuer, on the parsed and the signed copy alike.
    fn assertion(&self, a: &xml::El, trusted: &Assertion) -> Result<(), Rejected> {
        let (now, skew, earliest, idp) = (self.now, self.skew, self.earliest, self.idp);
        if a.attr("Version") != Some("2.0") || trusted.version != "2.0" {
            return Err(invalid("Assertion Version is not 2.0")); // 35
        }
        let a_ii = instant(a.attr("IssueInstant"), "Assertion IssueInstant")?; // 36-38
        if a_ii < earliest
            || a_ii > now + skew
            || trusted.issue_instant < earliest
            || trusted.issue_instant > now + skew
        {
            return Err(invalid("Assertion IssueInstant out of range")); // 39, 40
        }
        let a_iss = one(a, NS_A, "Issuer", "Assertion Issuer")?; // 68
        if a_iss.text.trim() != idp.entity_id
            || trusted.issuer.value.as_deref().map(str::trim) != Some(idp.entity_id.as_str())
        {
            return Err(invalid("Assertion Issuer is not the IdP")); // 69
        }
        if a_iss.attr("Format") != Some(ENTITY_FMT)
            || trusted.issuer.format.as_deref() != Some(ENTITY_FMT)
        {
            return Err(invalid("Assertion Issuer Format must be entity")); // 70-72
        }
        Ok(())
    }

    /// The Subject: a transient NameID, bearer confirmations for our ACS and request, not
    /// expired. Gives the NameID and the latest confirmation's end.
    fn subject(
        &self,
        a: &xml::El,
        trusted: &Assertion,
    ) -> Result<(String, DateTime<Utc>), Rejected> {
        let (exp, now, skew) = (self.exp, self.now, self.skew);
        let subj = one(a, NS_A, "Subject", "Subject")?; // 42
        let nid = one(subj, NS_A, "NameID", "NameID")?; // 41, 44
        if nid.text.trim().is_empty() {
            return Err(invalid("NameID empty")); // 43
        }
        if nid.attr("Format") != Some(TRANSIENT) {
            return Err(invalid("NameID Format must be transient")); // 45-47
        }
        if nid.attr("NameQualifier").is_none_or(str::is_empty) {
            return Err(invalid("NameID NameQualifier missing or empty")); // 48, 49
        }
        let scs: Vec<&xml::El> = subj.kids(NS_A, "SubjectConfirmation").collect();
        if scs.is_empty() {
            return Err(invalid("SubjectConfirmation missing")); // 52
        }
        for scn in &scs {
            if scn.attr("Method") != Some(BEARER) {
                return Err(invalid("SubjectConfirmation Method must be bearer")); // 53-55
            }
            let scd = one(
                scn,
                NS_A,
                "SubjectConfirmationData",
                "SubjectConfirmationData",
            )?; // 51, 56
            if scd.attr("Recipient") != Some(self.acs_url()) {
                return Err(invalid("Recipient is not our ACS URL")); // 57-59
            }
            if scd.attr("InResponseTo").filter(|v| !v.is_empty()) != Some(exp.request_id) {
                return Err(invalid("SubjectConfirmationData InResponseTo mismatch")); // 60-62
            }
            if instant(
                scd.attr("NotOnOrAfter"),
                "SubjectConfirmationData NotOnOrAfter",
            )? <= now - skew
            {
                return Err(invalid("SubjectConfirmationData expired")); // 63-66
            }
        }
        // The same on the signed copy: values taken from there only.
        let t_subject = trusted
            .subject
            .as_ref()
            .ok_or_else(|| invalid("Subject missing"))?;
        let t_nid = t_subject
            .name_id
            .as_ref()
            .ok_or_else(|| invalid("NameID missing"))?;
        if t_nid.value.trim().is_empty() || t_nid.format.as_deref() != Some(TRANSIENT) {
            return Err(invalid("NameID empty or not transient"));
        }
        let t_scs = t_subject
            .subject_confirmations
            .as_deref()
            .filter(|v| !v.is_empty())
            .ok_or_else(|| invalid("SubjectConfirmation missing"))?;
        let mut latest = now;
        for c in t_scs {
            let data = c
                .subject_confirmation_data
                .as_ref()
                .ok_or_else(|| invalid("SubjectConfirmationData missing"))?;
            let noa = data
                .not_on_or_after
                .ok_or_else(|| invalid("SubjectConfirmationData NotOnOrAfter missing"))?;
            if c.method.as_deref() != Some(BEARER)
                || data.recipient.as_deref() != Some(self.acs_url())
                || data.in_response_to.as_deref() != Some(exp.request_id)
                || noa <= now - skew
                || data.not_before.is_some_and(|nb| nb > now + skew)
            {
                return Err(invalid("SubjectConfirmation not valid for this request"));
            }
            latest = latest.max(noa);
        }
        Ok((t_nid.value.trim().to_owned(), latest))
    }

    /// The Conditions: in force now, for our entity ID. Gives the later of `latest` and their end.
    fn conditions(
        &self,
        a: &xml::El,
        trusted: &Assertion,
        latest: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, Rejected> {
        let (now, skew) = (self.now, self.skew);
        let cond = one(a, NS_A, "Conditions", "Conditions")?; // 74
        let nb = instant(cond.attr("NotBefore"), "Conditions NotBefore")?; // 75-77
        if nb > now + skew {
            return Err(invalid("Conditions NotBefore in the future")); // 78
        }
        let noa = instant(cond.attr("NotOnOrAfter"), "Conditions NotOnOrAfter")?; // 79-81
        if noa <= now - skew {
            return Err(invalid("Conditions expired")); // 82
        }
        let ar = one(cond, NS_A, "AudienceRestriction", "AudienceRestriction")?; // 73, 84
        if !ar
            .kids(NS_A, "Audience")
            .any(|x| x.text.trim() == self.saml.sp.entity_id)
        {
            return Err(invalid("Audience is not our entityID")); // 83, 85-87
        }
        let t_cond = trusted
            .conditions
            .as_ref()
            .ok_or_else(|| invalid("Conditions missing"))?;
        let (Some(t_nb), Some(t_noa)) = (t_cond.not_before, t_cond.not_on_or_after) else {
            return Err(invalid("Conditions NotBefore/NotOnOrAfter missing"));
        };
        let audience_ok = t_cond.audience_restrictions.as_deref().is_some_and(|ars| {
            !ars.is_empty()
                && ars.iter().all(|r| {
                    r.audience
                        .iter()
                        .any(|x| x.trim() == self.saml.sp.entity_id)
                })
        });
        if t_nb > now + skew || t_noa <= now - skew || !audience_ok {
            return Err(invalid("Conditions not valid for this SP now"));
        }
        Ok(latest.max(t_noa))
    }

    /// The SPID level the IdP asserted (signed), at least the one our request asked for.
    fn level(&self, a: &xml::El, trusted: &Assertion) -> Result<AssuranceLevel, Rejected> {
        let exp = self.exp;
        let ast = one(a, NS_A, "AuthnStatement", "AuthnStatement")?; // 89
        let actx = one(ast, NS_A, "AuthnContext", "AuthnContext")?; // 88
        let acr = one(actx, NS_A, "AuthnContextClassRef", "AuthnContextClassRef")?; // 90, 93
        let t_acr = match trusted.authn_statements.as_deref() {
            Some([only]) => only
                .authn_context
                .as_ref()
                .and_then(|c| c.value.as_ref())
                .and_then(|v| v.value.as_deref())
                .map(str::trim)
                .unwrap_or(""),
            _ => "",
        };
        if t_acr != acr.text.trim() {
            return Err(invalid("AuthnContextClassRef differs from the signed one"));
        }
        let level = AssuranceLevel::from_class_ref(t_acr)
            .ok_or_else(|| invalid("AuthnContextClassRef is not a SPID level"))?; // 92, 97
        if level.number() < exp.level.number().max(1) {
            return Err(invalid(format!(
                "SPID level {} is lower than the requested level {}",
                level.number(),
                exp.level.number().max(1)
            ))); // 94
        }
        Ok(level)
    }

    /// The attributes, each with a value; taken from the signed copy.
    fn attributes(
        &self,
        a: &xml::El,
        trusted: &Assertion,
    ) -> Result<HashMap<String, String>, Rejected> {
        for ats in a.kids(NS_A, "AttributeStatement") {
            let found: Vec<&xml::El> = ats.kids(NS_A, "Attribute").collect();
            if found.is_empty() {
                return Err(invalid("AttributeStatement without Attribute")); // 98
            }
            if found
                .iter()
                .any(|at| at.kids(NS_A, "AttributeValue").next().is_none())
            {
                return Err(invalid("Attribute without AttributeValue")); // 99
            }
        }
        let mut attributes = HashMap::new();
        for statement in trusted.attribute_statements.iter().flatten() {
            for attribute in &statement.attributes {
                let Some(name) = attribute.name.as_deref().map(str::trim) else {
                    continue;
                };
                let value = attribute
                    .values
                    .first()
                    .and_then(|v| v.value.as_deref())
                    .map(str::trim)
                    .unwrap_or("");
                if !name.is_empty() {
                    attributes
                        .entry(name.to_owned())
                        .or_insert_with(|| value.to_owned());
                }
            }
        }
        Ok(attributes)
    }
}
