//! JWTs signed by Staffroom: HS256 with a shared secret by default, RS256 with a key pair
//! as an option. Verification pins the algorithm and checks `exp`, `iss` and `aud`.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, encode};
use serde::{Deserialize, Serialize};
use staffroom_domain::{PrincipalKind, SiteId};

use crate::error::ApiError;

pub const ISSUER: &str = "staffroom";
pub const AUDIENCE: &str = "staffroom-api";

/// The claims of every Staffroom token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub site: String,
    pub kind: PrincipalKind,
    pub scopes: Vec<String>,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
    pub jti: String,
    /// For an assistant's token: the account's token generation when it was issued; a
    /// revoked or deleted assistant record moves it, retiring every earlier token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
}

/// Seconds a token is still accepted after its `exp`, for clocks a little apart.
const LEEWAY: i64 = 30;

/// Tokens kept as verified at most; past it the map starts again empty.
const VERIFIED_CAPACITY: usize = 4096;

pub struct TokenKeys {
    algorithm: Algorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    /// Tokens this process verified, by their text, with their claims. A token's text
    /// fixes its signature and claims, so one verified once needs only its expiry checked
    /// again; revocation is the caller check's, never the token's.
    verified: RwLock<HashMap<Box<str>, Claims>>,
}

/// A freshly issued token and its lifetime in seconds.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_in: i64,
}

impl TokenKeys {
    pub fn hs256(secret: &[u8]) -> Self {
        Self::new(
            Algorithm::HS256,
            EncodingKey::from_secret(secret),
            DecodingKey::from_secret(secret),
        )
    }

    pub fn rs256(private_pem: &[u8], public_pem: &[u8]) -> Result<Self, String> {
        Ok(Self::new(
            Algorithm::RS256,
            EncodingKey::from_rsa_pem(private_pem)
                .map_err(|e| format!("STAFFROOM_JWT_PRIVATE_KEY is not an RSA PEM key: {e}"))?,
            DecodingKey::from_rsa_pem(public_pem)
                .map_err(|e| format!("STAFFROOM_JWT_PUBLIC_KEY is not an RSA PEM key: {e}"))?,
        ))
    }

    fn new(algorithm: Algorithm, encoding: EncodingKey, decoding: DecodingKey) -> Self {
        let mut validation = Validation::new(algorithm);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = LEEWAY.unsigned_abs();
        Self {
            algorithm,
            encoding,
            decoding,
            validation,
            verified: RwLock::default(),
        }
    }

    pub fn issue(
        &self,
        kind: PrincipalKind,
        subject: &str,
        site: SiteId,
        scopes: Vec<String>,
        ttl_seconds: i64,
    ) -> Result<IssuedToken, ApiError> {
        self.issue_generation(kind, (subject, site), scopes, ttl_seconds, None)
    }

    /// Issues a token that carries `generation` (an assistant's), checked on every request.
    pub fn issue_generation(
        &self,
        kind: PrincipalKind,
        (subject, site): (&str, SiteId),
        scopes: Vec<String>,
        ttl_seconds: i64,
        generation: Option<i64>,
    ) -> Result<IssuedToken, ApiError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: subject.to_owned(),
            site: site.to_string(),
            kind,
            scopes,
            iat: now,
            exp: now + ttl_seconds,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
            jti: uuid::Uuid::new_v4().to_string(),
            generation,
        };
        let token = encode(&Header::new(self.algorithm), &claims, &self.encoding).map_err(|e| {
            tracing::error!(error = %e, "cannot sign token");
            ApiError::internal()
        })?;
        Ok(IssuedToken {
            token,
            expires_in: ttl_seconds,
        })
    }

    /// The claims of `token` if it is one of ours and has not expired: checked in full the
    /// first time, then looked up by its text with only its expiry checked again.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let expired = || ApiError::invalid_token("The token has expired.");
        let known = self
            .verified
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(token)
            .cloned();
        if let Some(claims) = known {
            return if claims.exp + LEEWAY >= chrono::Utc::now().timestamp() {
                Ok(claims)
            } else {
                Err(expired())
            };
        }
        let claims = decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => expired(),
                _ => ApiError::invalid_token("The bearer token is not valid."),
            })?;
        let mut verified = self
            .verified
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if verified.len() >= VERIFIED_CAPACITY {
            verified.clear();
        }
        verified.insert(token.into(), claims.clone());
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        TokenKeys::hs256(b"0123456789abcdef0123456789abcdef")
    }

    #[test]
    fn issues_and_verifies() {
        let site = SiteId::new();
        let t = keys()
            .issue(
                PrincipalKind::User,
                "u1",
                site,
                vec!["site_admin".into()],
                60,
            )
            .unwrap();
        let c = keys().verify(&t.token).unwrap();
        assert_eq!(c.sub, "u1");
        assert_eq!(c.site, site.to_string());
        assert_eq!(c.kind, PrincipalKind::User);
    }

    #[test]
    fn refuses_expired_forged_and_other_keys() {
        let k = keys();
        let expired = k
            .issue(PrincipalKind::User, "u1", SiteId::new(), vec![], -120)
            .unwrap();
        assert_eq!(
            k.verify(&expired.token).unwrap_err().code,
            staffroom_domain::ProblemCode::InvalidToken
        );
        let other = TokenKeys::hs256(b"another secret that is long enough!!");
        let t = other
            .issue(PrincipalKind::User, "u1", SiteId::new(), vec![], 60)
            .unwrap();
        assert!(k.verify(&t.token).is_err());
        assert!(k.verify("not.a.token").is_err());
    }

    #[test]
    fn a_token_verified_once_is_known_by_its_text_until_it_expires() {
        let k = keys();
        let t = k
            .issue(PrincipalKind::User, "u1", SiteId::new(), vec![], 60)
            .unwrap();
        let first = k.verify(&t.token).unwrap();
        assert_eq!(k.verify(&t.token).unwrap(), first);
        assert_eq!(k.verified.read().unwrap().len(), 1);

        // A known token whose expiry has passed since (beyond the leeway) is refused.
        let mut stale = first.clone();
        stale.exp = chrono::Utc::now().timestamp() - LEEWAY - 1;
        k.verified
            .write()
            .unwrap()
            .insert(t.token.clone().into(), stale);
        let refused = k.verify(&t.token).unwrap_err();
        assert_eq!(refused.code, staffroom_domain::ProblemCode::InvalidToken);
        assert!(refused.detail.contains("expired"), "{}", refused.detail);

        // A token that fails is never kept.
        assert!(k.verify("not.a.token").is_err());
        assert_eq!(k.verified.read().unwrap().len(), 1);
    }

    #[test]
    fn refuses_alg_none() {
        // header {"alg":"none","typ":"JWT"} with valid-looking claims and no signature
        let claims = serde_json::json!({"sub":"u","site":"s","kind":"user","scopes":[],
            "iat":0,"exp":9999999999i64,"iss":ISSUER,"aud":AUDIENCE,"jti":"x"});
        use base64::Engine;
        let e = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let token = format!(
            "{}.{}.",
            e.encode(br#"{"alg":"none","typ":"JWT"}"#),
            e.encode(claims.to_string())
        );
        assert!(keys().verify(&token).is_err());
    }
}
