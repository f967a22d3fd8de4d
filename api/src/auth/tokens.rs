//! JWTs signed by Staffroom: HS256 with a shared secret by default, RS256 with a key pair
//! as an option. Verification pins the algorithm and checks `exp`, `iss` and `aud`.

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

pub struct TokenKeys {
    algorithm: Algorithm,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

/// A freshly issued token and its lifetime in seconds.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: String,
    pub expires_in: i64,
}

impl TokenKeys {
    pub fn hs256(secret: &[u8]) -> Self {
        Self {
            algorithm: Algorithm::HS256,
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
        }
    }

    pub fn rs256(private_pem: &[u8], public_pem: &[u8]) -> Result<Self, String> {
        Ok(Self {
            algorithm: Algorithm::RS256,
            encoding: EncodingKey::from_rsa_pem(private_pem)
                .map_err(|e| format!("STAFFROOM_JWT_PRIVATE_KEY is not an RSA PEM key: {e}"))?,
            decoding: DecodingKey::from_rsa_pem(public_pem)
                .map_err(|e| format!("STAFFROOM_JWT_PUBLIC_KEY is not an RSA PEM key: {e}"))?,
        })
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

    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        let mut validation = Validation::new(self.algorithm);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 30;
        decode::<Claims>(token, &self.decoding, &validation)
            .map(|data| data.claims)
            .map_err(|e| {
                let detail = match e.kind() {
                    jsonwebtoken::errors::ErrorKind::ExpiredSignature => "The token has expired.",
                    _ => "The bearer token is not valid.",
                };
                ApiError::invalid_token(detail)
            })
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
