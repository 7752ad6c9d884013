//! OpenID Connect relying party (authorization code flow with PKCE, `state` and `nonce`).
//!
//! What the library leaves to us, done here: the JWKS is re-fetched when a token names an
//! unknown key (rotation), at most once per provider every [`JWKS_REFETCH_EVERY`]; only
//! asymmetric algorithms are accepted (never `none` or HMAC); `iat` in the future is refused;
//! `azp`, when present, must be our client id, and a token for several audiences must carry it
//! (OpenID Connect Core §3.1.3.7, points 4 and 5: openidconnect 4.1 checks neither); `state` is
//! bound to the browser (the flow cookie) and used once; userinfo must be about the ID token's
//! subject; the `acr` must reach the level asked for.

use std::sync::Arc;
use std::time::Duration;

use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreAuthenticationFlow, CoreErrorResponseType,
    CoreGenderClaim, CoreJsonWebKey, CoreJsonWebKeySet, CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreRevocableToken, CoreRevocationErrorResponse,
    CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AccessToken, AdditionalClaims, AuthenticationContextClass, AuthorizationCode, ClientId,
    ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet, EndpointSet,
    IdTokenFields, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, StandardErrorResponse, StandardTokenResponse, SubjectIdentifier,
    TokenResponse,
};
use serde::{Deserialize, Serialize};
use sportello_domain::AssuranceLevel;
use sportello_domain::identity::fiscal_code_from_idp;
use sportello_store::identity::VerifiedIdentity;
use tokio::sync::RwLock;

use sportello_kernel::config::OidcProvider;

/// SPID/CIE OIDC's extra claim.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct SpidClaims {
    #[serde(default)]
    pub fiscal_number: Option<String>,
}
impl AdditionalClaims for SpidClaims {}

type SpidTokenResponse = StandardTokenResponse<
    IdTokenFields<
        SpidClaims,
        EmptyExtraTokenFields,
        CoreGenderClaim,
        CoreJweContentEncryptionAlgorithm,
        CoreJwsSigningAlgorithm,
    >,
    CoreTokenType,
>;

type SpidClient = openidconnect::Client<
    SpidClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    SpidTokenResponse,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// Signing algorithms accepted on ID tokens: asymmetric only.
const ALGS: &[CoreJwsSigningAlgorithm] = &[
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha384,
    CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha512,
    CoreJwsSigningAlgorithm::RsaSsaPssSha256,
    CoreJwsSigningAlgorithm::RsaSsaPssSha384,
    CoreJwsSigningAlgorithm::RsaSsaPssSha512,
    CoreJwsSigningAlgorithm::EcdsaP256Sha256,
    CoreJwsSigningAlgorithm::EcdsaP384Sha384,
];

/// Tolerated clock difference with the provider.
const SKEW: Duration = Duration::from_secs(60);

/// A token naming an unknown key re-fetches the provider's keys at most this often: a stream of
/// such tokens must not turn us into a load generator against the provider (a genuine rotation
/// is picked up by the first one).
pub const JWKS_REFETCH_EVERY: Duration = Duration::from_secs(60);

/// OpenID Connect Core §3.1.3.7, 4–5: a token for several audiences names us in `azp`; an `azp`,
/// when present, is our client id.
fn authorized_party<AC: AdditionalClaims, GC: openidconnect::GenderClaim>(
    claims: &openidconnect::IdTokenClaims<AC, GC>,
    client_id: &str,
) -> Result<(), String> {
    match claims.authorized_party() {
        Some(azp) if azp.as_str() != client_id => Err(format!(
            "ID token rejected: issued to another client (azp {:?})",
            azp.as_str()
        )),
        None if claims.audiences().len() > 1 => {
            Err("ID token rejected: several audiences and no azp".into())
        }
        _ => Ok(()),
    }
}

/// One configured provider, its discovered metadata cached (and refreshed on an unknown key).
pub struct Provider {
    pub config: OidcProvider,
    metadata: RwLock<Option<CoreProviderMetadata>>,
    /// When the keys were last re-fetched (successfully) because of an unknown key; held during
    /// a fetch, so concurrent sign-ins share one.
    jwks_refetched: tokio::sync::Mutex<Option<std::time::Instant>>,
}

impl Provider {
    fn new(config: OidcProvider) -> Self {
        Self {
            config,
            metadata: RwLock::new(None),
            jwks_refetched: tokio::sync::Mutex::new(None),
        }
    }
}

/// What the callback needs to finish: kept server-side with the request.
pub struct Started {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

pub struct Oidc {
    /// The federation's providers.
    pub providers: Vec<Arc<Provider>>,
    /// Communes' own providers met so far (id `commune-<ISTAT number>-<id>`), with their cached
    /// metadata; replaced when their configuration changes.
    communes: std::sync::Mutex<std::collections::HashMap<String, Arc<Provider>>>,
    http: openidconnect::reqwest::Client,
}

fn http_client(roots: &[reqwest::Certificate]) -> Result<openidconnect::reqwest::Client, String> {
    let b = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(10));
    super::trusting(b, roots).build().map_err(|e| e.to_string())
}

impl Oidc {
    /// `roots`: extra certificate authorities (setting `tls_ca_bundle`) for providers behind a
    /// private CA.
    pub fn new(configs: &[OidcProvider], roots: &[reqwest::Certificate]) -> Result<Self, String> {
        for c in configs {
            IssuerUrl::new(c.issuer.clone())
                .map_err(|e| format!("OIDC provider {}: issuer: {e}", c.id))?;
        }
        Ok(Self {
            providers: configs
                .iter()
                .map(|c| Arc::new(Provider::new(c.clone())))
                .collect(),
            communes: std::sync::Mutex::new(std::collections::HashMap::new()),
            http: http_client(roots)?,
        })
    }

    /// A commune's provider, from its stored configuration (metadata cache kept while the
    /// configuration is unchanged).
    pub fn commune_provider(&self, config: OidcProvider) -> Arc<Provider> {
        let Ok(mut map) = self.communes.lock() else {
            return Arc::new(Provider::new(config));
        };
        if let Some(p) = map.get(&config.id)
            && p.config == config
        {
            return p.clone();
        }
        let p = Arc::new(Provider::new(config.clone()));
        map.insert(config.id, p.clone());
        p
    }

    pub fn provider(&self, id: &str) -> Option<&Arc<Provider>> {
        self.providers.iter().find(|p| p.config.id == id)
    }

    async fn metadata(&self, p: &Provider, refresh: bool) -> Result<CoreProviderMetadata, String> {
        if !refresh && let Some(m) = p.metadata.read().await.as_ref() {
            return Ok(m.clone());
        }
        let issuer = IssuerUrl::new(p.config.issuer.clone()).map_err(|e| e.to_string())?;
        let m = CoreProviderMetadata::discover_async(issuer, &self.http)
            .await
            .map_err(|e| format!("discovery at {}: {e}", p.config.issuer))?;
        *p.metadata.write().await = Some(m.clone());
        Ok(m)
    }

    async fn refresh_jwks(&self, p: &Provider) -> Result<CoreProviderMetadata, String> {
        let mut m = self.metadata(p, false).await?;
        let jwks = CoreJsonWebKeySet::fetch_async(m.jwks_uri(), &self.http)
            .await
            .map_err(|e| format!("JWKS: {e}"))?;
        m = m.set_jwks(jwks);
        *p.metadata.write().await = Some(m.clone());
        Ok(m)
    }

    /// The provider's keys after a token named one we do not know: fetched again, unless that
    /// was done less than [`JWKS_REFETCH_EVERY`] ago — then the keys as they are now (another
    /// sign-in may just have fetched the new ones). One fetch at a time per provider; a failed
    /// fetch does not count.
    async fn keys_after_unknown_kid(&self, p: &Provider) -> Result<CoreProviderMetadata, String> {
        let mut last = p.jwks_refetched.lock().await;
        if last.is_some_and(|t| t.elapsed() < JWKS_REFETCH_EVERY) {
            return self.metadata(p, false).await;
        }
        let m = self.refresh_jwks(p).await?;
        *last = Some(std::time::Instant::now());
        Ok(m)
    }

    fn client(p: &Provider, m: CoreProviderMetadata, redirect: &str) -> Result<SpidClient, String> {
        Ok(SpidClient::from_provider_metadata(
            m,
            ClientId::new(p.config.client_id.clone()),
            Some(ClientSecret::new(
                p.config.client_secret.expose().to_owned(),
            )),
        )
        .set_redirect_uri(RedirectUrl::new(redirect.to_owned()).map_err(|e| e.to_string())?))
    }

    /// The authorization URL and the secrets to keep for the callback.
    pub async fn start(
        &self,
        p: &Provider,
        redirect: &str,
        level: AssuranceLevel,
    ) -> Result<Started, String> {
        let client = Self::client(p, self.metadata(p, false).await?, redirect)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("phone".into()))
            .add_auth_context_value(AuthenticationContextClass::new(level.class_ref().into()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Started {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Exchanges the code and checks everything; the person and the level reached.
    pub async fn finish(
        &self,
        p: &Provider,
        redirect: &str,
        code: &str,
        nonce: &str,
        pkce_verifier: &str,
        requested: AssuranceLevel,
    ) -> Result<(VerifiedIdentity, AssuranceLevel), String> {
        let client = Self::client(p, self.metadata(p, false).await?, redirect)?;
        let token = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| e.to_string())?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| format!("token request refused: {e}"))?;
        let id_token = token
            .id_token()
            .ok_or("the provider sent no ID token")?
            .clone();
        let nonce = Nonce::new(nonce.to_owned());
        let verify = |client: &SpidClient| {
            let now = chrono::Utc::now();
            let verifier = client
                .id_token_verifier()
                .set_allowed_algs(ALGS.iter().cloned())
                .set_issue_time_verifier_fn(move |iat| {
                    if iat > now + SKEW {
                        Err(format!("issued in the future ({iat})"))
                    } else {
                        Ok(())
                    }
                });
            id_token.claims(&verifier, &nonce).cloned()
        };
        let claims = match verify(&client) {
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(
                openidconnect::SignatureVerificationError::NoMatchingKey,
            )) => {
                // The provider may have rotated its keys: check again with fresh ones.
                let client = Self::client(p, self.keys_after_unknown_kid(p).await?, redirect)?;
                verify(&client).map_err(|e| format!("ID token rejected: {e}"))?
            }
            other => other.map_err(|e| format!("ID token rejected: {e}"))?,
        };
        authorized_party(&claims, &p.config.client_id)?;
        let acr = claims
            .auth_context_ref()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default();
        let level = AssuranceLevel::from_class_ref(&acr)
            .ok_or_else(|| format!("unknown authentication level {acr:?}"))?;
        if level < requested {
            return Err(format!(
                "the provider signed you in at level {} but level {} is needed",
                level.number(),
                requested.number()
            ));
        }
        // Userinfo must describe the same subject (token substitution).
        let subject: SubjectIdentifier = claims.subject().clone();
        let client = Self::client(p, self.metadata(p, false).await?, redirect)?;
        let info: openidconnect::UserInfoClaims<SpidClaims, CoreGenderClaim> = client
            .user_info(
                AccessToken::new(token.access_token().secret().clone()),
                Some(subject),
            )
            .map_err(|e| e.to_string())?
            .request_async(&self.http)
            .await
            .map_err(|e| format!("userinfo rejected: {e}"))?;
        let cf = claims
            .additional_claims()
            .fiscal_number
            .clone()
            .or_else(|| info.additional_claims().fiscal_number.clone())
            .ok_or("the provider did not give a fiscal code")?;
        let cf = fiscal_code_from_idp(&cf).map_err(|e| e.to_string())?;
        let name = |c: Option<&openidconnect::LocalizedClaim<openidconnect::EndUserGivenName>>| {
            c.and_then(|n| n.get(None)).map(|n| n.as_str().to_owned())
        };
        let family = claims
            .family_name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_owned());
        Ok((
            VerifiedIdentity {
                fiscal_code: cf.as_str().to_owned(),
                given_name: name(claims.given_name()).unwrap_or_default(),
                family_name: family.unwrap_or_default(),
                email: claims.email().map(|e| e.as_str().to_owned()),
                mobile: claims.phone_number().map(|p| p.as_str().to_owned()),
                date_of_birth: claims.birthdate().map(|b| b.as_str().to_owned()),
                place_of_birth: None,
            },
            level,
        ))
    }
}
