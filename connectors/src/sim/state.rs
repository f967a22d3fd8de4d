//! What the simulator holds, and the three provider APIs played against it.
//!
//! Everything here is synchronous: a call is answered under one lock of [`SimState`],
//! so an idempotency key is looked up, the work done and the key recorded atomically.

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, TimeDelta, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::email::EmailMessage;
use crate::exercise::{ExerciseClinic, LaunchLink, NewExerciseUser};
use crate::imaging::{NewImagingUser, NewReferral};

/// How long an exercise launch link stays valid.
const LAUNCH_TTL_MINUTES: i64 = 5;
/// Longest accepted first or last name at the exercise provider.
const MAX_NAME_CHARS: usize = 100;

/// One of the three simulated providers; the first path segment names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Provider {
    Exercise,
    Imaging,
    Email,
}

impl Provider {
    pub(crate) fn from_segment(segment: &str) -> Option<Self> {
        match segment {
            "exercise" => Some(Self::Exercise),
            "imaging" => Some(Self::Imaging),
            "email" => Some(Self::Email),
            _ => None,
        }
    }
}

/// An answer: a status and, unless it is `204`, a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Reply {
    pub status: u16,
    pub body: Option<Value>,
}

impl Reply {
    pub(crate) fn json(status: u16, body: Value) -> Self {
        Self {
            status,
            body: Some(body),
        }
    }

    pub(crate) fn no_content() -> Self {
        Self {
            status: 204,
            body: None,
        }
    }

    /// The WIRE.md error body, `{"code", "message"}`.
    pub(crate) fn error(status: u16, code: &str, message: impl Into<String>) -> Self {
        Self::json(status, json!({"code": code, "message": message.into()}))
    }

    pub(crate) fn not_found() -> Self {
        Self::error(404, "not_found", "no such route")
    }

    pub(crate) fn method_not_allowed() -> Self {
        Self::error(
            405,
            "method_not_allowed",
            "method not allowed on this route",
        )
    }

    fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A provider call, already routed to its provider and authorised.
pub(crate) struct Call<'a> {
    pub method: &'a str,
    /// The path segments after the provider's prefix (`["v1", "users", "IMU-…"]`).
    pub segments: &'a [&'a str],
    /// The decoded query string.
    pub query: &'a HashMap<String, String>,
    pub body: &'a [u8],
    /// When the call is handled (millisecond precision).
    pub now: DateTime<Utc>,
    /// `http://HOST:PORT`, for the launch links.
    pub base_url: &'a str,
}

/// Where an idempotency key lives: per provider, per API key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct IdempotencyScope {
    pub provider: Provider,
    pub api_key: String,
    pub key: String,
}

#[derive(Debug)]
struct IdempotencyRecord {
    /// Method, path and canonical body of the first call.
    fingerprint: String,
    reply: Reply,
}

#[derive(Debug, Clone, Serialize)]
struct ExerciseUserRecord {
    id: String,
    clm_id: String,
    first_name: String,
    last_name: String,
    external_id: String,
    created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct LaunchRecord {
    user_id: String,
    clm_id: String,
    expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
struct ImagingUserRecord {
    id: String,
    title: Option<String>,
    first_name: String,
    last_name: String,
    email: String,
    marketing_opt_in: bool,
    created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
struct ReferralRecord {
    id: String,
    user_id: String,
    patient_name: String,
    body_part: String,
    notes: Option<String>,
    status: String,
    callback_url: String,
    created_at: DateTime<Utc>,
    /// The report last delivered to the callback URL and accepted there.
    report: Option<Value>,
}

impl ReferralRecord {
    /// The WIRE.md answer: everything but the callback URL.
    fn answer(&self) -> Value {
        json!({
            "id": self.id,
            "user_id": self.user_id,
            "patient_name": self.patient_name,
            "body_part": self.body_part,
            "notes": self.notes,
            "status": self.status,
            "created_at": self.created_at,
        })
    }
}

/// What `POST /_sim/imaging/referrals/{id}/report` may say; everything has a default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub(crate) struct ReportRequest {
    pub summary: Option<String>,
    pub images: Option<Vec<String>>,
    /// Reuse this `webhook-id` (a redelivery); default: a new one.
    pub webhook_id: Option<String>,
}

/// One report delivery to a referral's callback URL, as `GET /_sim/state` shows it.
#[derive(Debug, Clone, Serialize)]
struct DeliveryRecord {
    webhook_id: String,
    referral_id: String,
    callback_url: String,
    /// `delivering`, `delivered` (a 2xx answer), `rejected` (a 4xx answer: not retried)
    /// or `given_up` (still failing after the last attempt).
    status: &'static str,
    attempts: u32,
    /// The status of the last answer, if any came.
    last_answer: Option<u16>,
}

/// A delivery ready to send: where, what, and its record's position.
#[derive(Debug, Clone)]
pub(crate) struct PreparedDelivery {
    pub index: usize,
    pub webhook_id: String,
    pub callback_url: String,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, Serialize)]
struct MessageRecord {
    id: String,
    to: String,
    subject: String,
    body: String,
    accepted_at: DateTime<Utc>,
}

/// Everything the simulator holds.
#[derive(Debug, Default)]
pub(crate) struct SimState {
    clinics: Vec<ExerciseClinic>,
    exercise_users: Vec<ExerciseUserRecord>,
    launches: HashMap<String, LaunchRecord>,
    imaging_users: Vec<ImagingUserRecord>,
    referrals: Vec<ReferralRecord>,
    deliveries: Vec<DeliveryRecord>,
    messages: Vec<MessageRecord>,
    idempotency: HashMap<IdempotencyScope, IdempotencyRecord>,
}

/// The current time, truncated to milliseconds.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

fn to_json<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Parses a JSON body: malformed JSON is `400 invalid_json`, the wrong shape `422 invalid_body`.
fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Reply> {
    serde_json::from_slice(body).map_err(|e| match e.classify() {
        serde_json::error::Category::Data => Reply::error(422, "invalid_body", e.to_string()),
        _ => Reply::error(400, "invalid_json", e.to_string()),
    })
}

/// Method, path and body with object keys sorted, so a replay with the same JSON in
/// another key order still matches.
pub(crate) fn fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    fn canonical(value: &Value, out: &mut String) {
        match value {
            Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push('{');
                for (i, key) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    out.push_str(&Value::String(key.clone()).to_string());
                    out.push(':');
                    if let Some(v) = map.get(key) {
                        canonical(v, out);
                    }
                }
                out.push('}');
            }
            Value::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    canonical(item, out);
                }
                out.push(']');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = format!("{method} {path}\n");
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => canonical(&value, &mut out),
        Err(_) => out.push_str(&String::from_utf8_lossy(body)),
    }
    out
}

/// Clinic ids the exercise provider knows: `CLM-` and digits.
fn is_known_clinic(clm_id: &str) -> bool {
    clm_id
        .strip_prefix("CLM-")
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

fn unknown_user(id: &str) -> Reply {
    Reply::error(404, "unknown_user", format!("no user {id}"))
}

fn same_email(a: &str, b: &str) -> bool {
    a.trim().to_lowercase() == b.trim().to_lowercase()
}

/// A name the exercise provider accepts, trimmed: 1 to 100 characters.
fn valid_name(field: &str, value: &str) -> Result<String, Reply> {
    let trimmed = value.trim();
    let chars = trimmed.chars().count();
    if chars == 0 || chars > MAX_NAME_CHARS {
        return Err(Reply::error(
            422,
            "invalid_name",
            format!("{field} must be 1 to {MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(trimmed.to_owned())
}

/// Unwraps a `Result<T, Reply>` or returns the reply.
macro_rules! tri {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(reply) => return reply,
        }
    };
}

impl SimState {
    /// `GET /_sim/state`.
    pub(crate) fn snapshot(&self) -> Value {
        json!({
            "exercise": {
                "clinics": to_json(&self.clinics),
                "users": to_json(&self.exercise_users),
            },
            "imaging": {
                "users": to_json(&self.imaging_users),
                "referrals": to_json(&self.referrals),
                "deliveries": to_json(&self.deliveries),
            },
            "email": {
                "messages": to_json(&self.messages),
            },
        })
    }

    /// Prepares the delivery of a report for referral `referral_id` (`404
    /// unknown_referral` if there is none), with the WIRE.md webhook body.
    pub(crate) fn prepare_report(
        &mut self,
        referral_id: &str,
        request: ReportRequest,
    ) -> Result<PreparedDelivery, Reply> {
        let Some(referral) = self.referrals.iter().find(|r| r.id == referral_id) else {
            return Err(Reply::error(
                404,
                "unknown_referral",
                format!("no referral {referral_id}"),
            ));
        };
        let summary = request
            .summary
            .unwrap_or_else(|| format!("{}: no abnormality detected.", referral.body_part));
        let images = request.images.unwrap_or_else(|| {
            vec![format!(
                "https://images.imaging.example/{}/1.png",
                referral.id
            )]
        });
        let body = json!({
            "type": "referral.report_ready",
            "referral_id": referral.id,
            "report": {"summary": summary, "images": images},
        });
        let webhook_id = request
            .webhook_id
            .unwrap_or_else(|| format!("msg_{}", Uuid::new_v4().simple()));
        let callback_url = referral.callback_url.clone();
        self.deliveries.push(DeliveryRecord {
            webhook_id: webhook_id.clone(),
            referral_id: referral.id.clone(),
            callback_url: callback_url.clone(),
            status: "delivering",
            attempts: 0,
            last_answer: None,
        });
        Ok(PreparedDelivery {
            index: self.deliveries.len() - 1,
            webhook_id,
            callback_url,
            body: body.to_string().into_bytes(),
        })
    }

    /// Records one attempt of a delivery: its answer's status (`None`: no answer), and
    /// whether the delivery is over. A `2xx` marks the referral `reported` with the report.
    pub(crate) fn delivery_attempted(
        &mut self,
        delivery: &PreparedDelivery,
        answer: Option<u16>,
        last_attempt: bool,
    ) {
        let Some(record) = self.deliveries.get_mut(delivery.index) else {
            return;
        };
        record.attempts += 1;
        record.last_answer = answer;
        record.status = match answer {
            Some(200..=299) => "delivered",
            Some(400..=499) => "rejected",
            _ if last_attempt => "given_up",
            _ => "delivering",
        };
        if record.status == "delivered" {
            let report = serde_json::from_slice::<Value>(&delivery.body)
                .ok()
                .and_then(|body| body.get("report").cloned());
            let referral_id = record.referral_id.clone();
            if let Some(referral) = self.referrals.iter_mut().find(|r| r.id == referral_id) {
                referral.status = "reported".to_owned();
                referral.report = report;
            }
        }
    }

    /// Runs `call` once per idempotency key: a replay with the same fingerprint gets the
    /// first answer (and `true`), one with another fingerprint `422 idempotency_key_reused`.
    pub(crate) fn run_idempotent(
        &mut self,
        scope: IdempotencyScope,
        fingerprint: String,
        call: impl FnOnce(&mut Self) -> Reply,
    ) -> (Reply, bool) {
        if let Some(record) = self.idempotency.get(&scope) {
            if record.fingerprint == fingerprint {
                return (record.reply.clone(), true);
            }
            return (
                Reply::error(
                    422,
                    "idempotency_key_reused",
                    "this Idempotency-Key was used for a different request",
                ),
                false,
            );
        }
        let reply = call(self);
        if reply.status < 500 {
            self.idempotency.insert(
                scope,
                IdempotencyRecord {
                    fingerprint,
                    reply: reply.clone(),
                },
            );
        }
        (reply, false)
    }

    /// Answers one provider call.
    pub(crate) fn handle(&mut self, provider: Provider, call: &Call<'_>) -> Reply {
        match provider {
            Provider::Exercise => self.exercise(call),
            Provider::Imaging => self.imaging(call),
            Provider::Email => self.email(call),
        }
    }

    // ---- exercise ------------------------------------------------------------------

    fn exercise(&mut self, call: &Call<'_>) -> Reply {
        let (clm_id, rest) = match call.segments {
            ["v1", "clinics", clm_id, rest @ ..] => (*clm_id, rest),
            _ => return Reply::not_found(),
        };
        let known_route = matches!(rest, [] | ["users"] | ["users", _] | ["users", _, "launch"]);
        if !known_route {
            return Reply::not_found();
        }
        if !is_known_clinic(clm_id) {
            return Reply::error(404, "unknown_clinic", format!("no clinic {clm_id}"));
        }
        let reply = match (call.method, rest) {
            ("GET", []) => Reply::json(200, to_json(&clinic(clm_id))),
            ("POST", ["users"]) => self.create_exercise_user(clm_id, call),
            ("DELETE", ["users", id]) => self.delete_exercise_user(clm_id, id),
            ("POST", ["users", id, "launch"]) => self.launch(clm_id, id, call),
            _ => Reply::method_not_allowed(),
        };
        if reply.is_success() && !self.clinics.iter().any(|c| c.clm_id == clm_id) {
            self.clinics.push(clinic(clm_id));
        }
        reply
    }

    fn create_exercise_user(&mut self, clm_id: &str, call: &Call<'_>) -> Reply {
        let new: NewExerciseUser = tri!(parse(call.body));
        let first_name = tri!(valid_name("first_name", &new.first_name));
        let last_name = tri!(valid_name("last_name", &new.last_name));
        let user = ExerciseUserRecord {
            id: format!("EXU-{}", Uuid::new_v4()),
            clm_id: clm_id.to_owned(),
            first_name,
            last_name,
            external_id: new.external_id,
            created_at: call.now,
        };
        let body = to_json(&user);
        self.exercise_users.push(user);
        Reply::json(201, body)
    }

    fn exercise_user_index(&self, clm_id: &str, id: &str) -> Option<usize> {
        self.exercise_users
            .iter()
            .position(|u| u.id == id && u.clm_id == clm_id)
    }

    fn delete_exercise_user(&mut self, clm_id: &str, id: &str) -> Reply {
        let Some(index) = self.exercise_user_index(clm_id, id) else {
            return unknown_user(id);
        };
        self.exercise_users.remove(index);
        self.launches.retain(|_, launch| launch.user_id != id);
        Reply::no_content()
    }

    fn launch(&mut self, clm_id: &str, id: &str, call: &Call<'_>) -> Reply {
        if self.exercise_user_index(clm_id, id).is_none() {
            return unknown_user(id);
        }
        let token = format!("{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
        let link = LaunchLink {
            url: format!("{}/exercise/launch/{token}", call.base_url),
            expires_at: call.now + TimeDelta::minutes(LAUNCH_TTL_MINUTES),
        };
        self.launches.insert(
            token,
            LaunchRecord {
                user_id: id.to_owned(),
                clm_id: clm_id.to_owned(),
                expires_at: link.expires_at,
            },
        );
        Reply::json(200, to_json(&link))
    }

    /// `GET /exercise/launch/{token}`: where a launch link lands (no auth, no faults).
    pub(crate) fn landing(&self, token: &str, now: DateTime<Utc>) -> Reply {
        let Some(launch) = self.launches.get(token) else {
            return Reply::error(404, "unknown_launch", "no such launch link");
        };
        if launch.expires_at <= now {
            return Reply::error(410, "launch_expired", "this launch link has expired");
        }
        let Some(user) = self
            .exercise_users
            .iter()
            .find(|u| u.id == launch.user_id && u.clm_id == launch.clm_id)
        else {
            return Reply::error(404, "unknown_launch", "the user of this link is gone");
        };
        Reply::json(
            200,
            json!({
                "clm_id": user.clm_id,
                "user_id": user.id,
                "external_id": user.external_id,
                "first_name": user.first_name,
                "last_name": user.last_name,
                "expires_at": launch.expires_at,
            }),
        )
    }

    // ---- imaging -------------------------------------------------------------------

    fn imaging(&mut self, call: &Call<'_>) -> Reply {
        match (call.method, call.segments) {
            ("POST", ["v1", "users"]) => self.create_imaging_user(call),
            ("GET", ["v1", "users"]) => self.find_imaging_users(call),
            ("GET", ["v1", "users", id]) => match self.imaging_user(id) {
                Some(user) => Reply::json(200, to_json(user)),
                None => unknown_user(id),
            },
            ("PATCH", ["v1", "users", id]) => self.update_imaging_user(id, call),
            ("POST", ["v1", "users", id, "referrals"]) => self.create_referral(id, call),
            (_, ["v1", "users"] | ["v1", "users", _] | ["v1", "users", _, "referrals"]) => {
                Reply::method_not_allowed()
            }
            _ => Reply::not_found(),
        }
    }

    fn imaging_user(&self, id: &str) -> Option<&ImagingUserRecord> {
        self.imaging_users.iter().find(|u| u.id == id)
    }

    /// The user other than `except` who holds `email`, if any.
    fn email_holder(&self, email: &str, except: Option<&str>) -> Option<&ImagingUserRecord> {
        self.imaging_users
            .iter()
            .find(|u| Some(u.id.as_str()) != except && same_email(&u.email, email))
    }

    fn create_imaging_user(&mut self, call: &Call<'_>) -> Reply {
        let new: NewImagingUser = tri!(parse(call.body));
        let email = tri!(valid_email(&new.email));
        if self.email_holder(&email, None).is_some() {
            return email_in_use(&email);
        }
        let user = ImagingUserRecord {
            id: format!("IMU-{}", Uuid::new_v4()),
            title: new.title,
            first_name: new.first_name,
            last_name: new.last_name,
            email,
            marketing_opt_in: new.marketing_opt_in,
            created_at: call.now,
        };
        let body = to_json(&user);
        self.imaging_users.push(user);
        Reply::json(201, body)
    }

    fn find_imaging_users(&self, call: &Call<'_>) -> Reply {
        let items: Vec<&ImagingUserRecord> = match call.query.get("email") {
            Some(email) => self
                .imaging_users
                .iter()
                .filter(|u| same_email(&u.email, email))
                .collect(),
            None => self.imaging_users.iter().collect(),
        };
        Reply::json(200, json!({ "items": to_json(&items) }))
    }

    fn update_imaging_user(&mut self, id: &str, call: &Call<'_>) -> Reply {
        if self.imaging_user(id).is_none() {
            return unknown_user(id);
        }
        let fields: serde_json::Map<String, Value> = tri!(parse(call.body));
        if let Some(field) = fields
            .keys()
            .find(|k| !matches!(k.as_str(), "email" | "marketing_opt_in"))
        {
            return Reply::error(
                422,
                "immutable_field",
                format!("{field} cannot be changed; only email and marketing_opt_in can"),
            );
        }
        let email = match fields.get("email") {
            None => None,
            Some(Value::String(email)) => Some(tri!(valid_email(email))),
            Some(_) => return Reply::error(422, "invalid_body", "email must be a string"),
        };
        let opt_in = match fields.get("marketing_opt_in") {
            None => None,
            Some(Value::Bool(b)) => Some(*b),
            Some(_) => {
                return Reply::error(422, "invalid_body", "marketing_opt_in must be a boolean");
            }
        };
        if let Some(email) = &email
            && self.email_holder(email, Some(id)).is_some()
        {
            return email_in_use(email);
        }
        let Some(user) = self.imaging_users.iter_mut().find(|u| u.id == id) else {
            return unknown_user(id);
        };
        if let Some(email) = email {
            user.email = email;
        }
        if let Some(opt_in) = opt_in {
            user.marketing_opt_in = opt_in;
        }
        Reply::json(200, to_json(user))
    }

    fn create_referral(&mut self, user_id: &str, call: &Call<'_>) -> Reply {
        if self.imaging_user(user_id).is_none() {
            return unknown_user(user_id);
        }
        let new: NewReferral = tri!(parse(call.body));
        let referral = ReferralRecord {
            id: format!("IMR-{}", Uuid::new_v4()),
            user_id: user_id.to_owned(),
            patient_name: new.patient_name,
            body_part: new.body_part,
            notes: new.notes,
            status: "requested".to_owned(),
            callback_url: new.callback_url,
            created_at: call.now,
            report: None,
        };
        let body = referral.answer();
        self.referrals.push(referral);
        Reply::json(201, body)
    }

    // ---- email ---------------------------------------------------------------------

    fn email(&mut self, call: &Call<'_>) -> Reply {
        match (call.method, call.segments) {
            ("POST", ["v1", "messages"]) => {}
            (_, ["v1", "messages"]) => return Reply::method_not_allowed(),
            _ => return Reply::not_found(),
        }
        let message: EmailMessage = tri!(parse(call.body));
        let to = message.to.trim();
        if !to.contains('@') {
            return Reply::error(
                422,
                "invalid_recipient",
                format!("{to:?} is not an email address"),
            );
        }
        let record = MessageRecord {
            id: format!("MSG-{}", Uuid::new_v4()),
            to: to.to_owned(),
            subject: message.subject,
            body: message.body,
            accepted_at: call.now,
        };
        let body = json!({"id": record.id, "accepted_at": record.accepted_at});
        self.messages.push(record);
        Reply::json(202, body)
    }
}

fn clinic(clm_id: &str) -> ExerciseClinic {
    ExerciseClinic {
        clm_id: clm_id.to_owned(),
        name: format!("Clinic {clm_id}"),
    }
}

/// An address the imaging provider accepts (trimmed, with an `@`): else `422 invalid_email`.
fn valid_email(email: &str) -> Result<String, Reply> {
    let email = email.trim();
    match email.split_once('@') {
        Some((local, domain)) if !local.is_empty() && !domain.is_empty() => Ok(email.to_owned()),
        _ => Err(Reply::error(
            422,
            "invalid_email",
            format!("{email:?} is not an email address"),
        )),
    }
}

fn email_in_use(email: &str) -> Reply {
    Reply::error(
        409,
        "email_in_use",
        format!("{email} is already used by another user"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clinic_ids_are_clm_and_digits() {
        assert!(is_known_clinic("CLM-1"));
        assert!(is_known_clinic("CLM-0042"));
        assert!(!is_known_clinic("CLM-"));
        assert!(!is_known_clinic("CLM-12a"));
        assert!(!is_known_clinic("clm-12"));
        assert!(!is_known_clinic("XYZ-12"));
    }

    #[test]
    fn fingerprints_ignore_key_order() {
        assert_eq!(
            fingerprint("POST", "/p", br#"{"a": 1, "b": {"d": 2, "c": [1, 2]}}"#),
            fingerprint("POST", "/p", br#"{"b": {"c": [1, 2], "d": 2}, "a": 1}"#),
        );
        assert_ne!(
            fingerprint("POST", "/p", br#"{"a": 1}"#),
            fingerprint("POST", "/p", br#"{"a": 2}"#),
        );
        assert_ne!(
            fingerprint("POST", "/p", b"{}"),
            fingerprint("POST", "/q", b"{}"),
        );
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(valid_name("f", "  Ann ").ok(), Some("Ann".to_owned()));
        assert!(valid_name("f", "   ").is_err());
        assert!(valid_name("f", &"é".repeat(100)).is_ok());
        assert!(valid_name("f", &"é".repeat(101)).is_err());
    }
}
