//! The invitation messages (SPEC §7): a fresh single-use token, whose digest alone is
//! stored, its expiry, and the email that carries the link — for a user created without a
//! password (by REST or SCIM) and for a clinician's assistant. Apart from the invitation
//! endpoints, so that every creation path can build one.

use staffroom_persistence::invitations::NewInvitation;

use crate::auth::password;
use crate::state::AppState;

/// Bytes of randomness in an invitation token.
const TOKEN_BYTES: usize = 32;

/// A new invitation whose message says `why` before the link: a fresh token, whose
/// digest alone is stored, its expiry, and the message that carries the link.
fn invitation_saying(state: &AppState, greeting: &str, why: &str) -> NewInvitation {
    let token = password::random_token(TOKEN_BYTES);
    let expires_at = staffroom_persistence::tx::now() + state.invitation_ttl;
    let link = format!(
        "{}/accept-invitation?token={token}",
        state.public_url.trim_end_matches('/')
    );
    NewInvitation {
        token_hash: password::digest(&token),
        expires_at,
        subject: "You are invited to Staffroom".to_owned(),
        body: format!(
            "Hello {greeting},\n\n{why} Choose your password here:\n\n{link}\n\nThe link \
             works once and until {} UTC.\n",
            expires_at.format("%Y-%m-%d %H:%M")
        ),
    }
}

/// A new invitation of the user `first_name`, created by an administrator.
pub fn new_invitation(state: &AppState, first_name: &str) -> NewInvitation {
    invitation_saying(
        state,
        first_name,
        "An administrator of your practice has created your Staffroom account.",
    )
}

/// A new invitation of the assistant `full_name` by the clinician `clinician`.
pub fn new_assistant_invitation(
    state: &AppState,
    full_name: &str,
    clinician: &str,
) -> NewInvitation {
    invitation_saying(
        state,
        full_name,
        &format!("{clinician} invites you to be their assistant on Staffroom."),
    )
}
