//! Booking an appointment (SPEC §2): a pure decision over the request, the user to book
//! and the clinic, and whether the user is already booked at that time.

use chrono::{Duration, NaiveDateTime};

use crate::{ClinicId, UserStatus, UserType};

/// The longest appointment, in hours.
pub const MAX_APPOINTMENT_HOURS: i64 = 24;

/// What the request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRequest {
    pub clinic_id: ClinicId,
    pub client_ref: String,
    pub starts_at: NaiveDateTime,
    pub ends_at: NaiveDateTime,
}

/// The user to book, as the rules see them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookableUser {
    pub status: UserStatus,
    pub user_type: UserType,
    pub diary_enabled: bool,
    pub clinic_ids: Vec<ClinicId>,
}

/// What the decision reads, after the site lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingSnapshot {
    /// `None` when the id is no user of the site.
    pub user: Option<BookableUser>,
    pub clinic_exists: bool,
    /// The user has an appointment overlapping the requested time.
    pub overlaps: bool,
}

/// A request field the booking refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BookingFieldRefusal {
    /// `client_ref` is empty.
    ClientRefRequired,
    /// `ends_at` is not after `starts_at`.
    EndsNotAfterStart,
    /// Longer than [`MAX_APPOINTMENT_HOURS`].
    TooLong,
    /// `user_id` is no user of the site.
    UnknownUser,
    /// `clinic_id` is no clinic of the site.
    UnknownClinic,
}

/// Why a user cannot be booked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unbookable {
    /// The user is deactivated.
    Inactive,
    /// Only clinical users have appointments.
    NonClinical,
    /// A user made clinical gets a diary at their next login.
    DiaryNotStarted,
    /// The user has no access to the appointment's clinic.
    NoClinicAccess,
}

/// Why the appointment is not booked, in the order the rules are asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BookingRefusal {
    Fields(Vec<BookingFieldRefusal>),
    Unbookable(Unbookable),
    /// The user already has an appointment at that time.
    Overlaps,
}

/// The request's own mistakes, all at once.
fn request_refusals(request: &BookingRequest) -> Vec<BookingFieldRefusal> {
    let mut refusals = Vec::new();
    if request.client_ref.trim().is_empty() {
        refusals.push(BookingFieldRefusal::ClientRefRequired);
    }
    if request.ends_at <= request.starts_at {
        refusals.push(BookingFieldRefusal::EndsNotAfterStart);
    } else if request.ends_at - request.starts_at > Duration::hours(MAX_APPOINTMENT_HOURS) {
        refusals.push(BookingFieldRefusal::TooLong);
    }
    refusals
}

/// Decides a booking: the request, the user and clinic exist, the user is bookable at that
/// clinic, and free at that time.
pub fn decide_booking(
    request: &BookingRequest,
    site: &BookingSnapshot,
) -> Result<(), BookingRefusal> {
    let fields = request_refusals(request);
    if !fields.is_empty() {
        return Err(BookingRefusal::Fields(fields));
    }
    let Some(user) = &site.user else {
        return Err(BookingRefusal::Fields(vec![
            BookingFieldRefusal::UnknownUser,
        ]));
    };
    if !site.clinic_exists {
        return Err(BookingRefusal::Fields(vec![
            BookingFieldRefusal::UnknownClinic,
        ]));
    }
    let unbookable = if user.status != UserStatus::Active {
        Some(Unbookable::Inactive)
    } else if user.user_type != UserType::Clinical {
        Some(Unbookable::NonClinical)
    } else if !user.diary_enabled {
        Some(Unbookable::DiaryNotStarted)
    } else if !user.clinic_ids.contains(&request.clinic_id) {
        Some(Unbookable::NoClinicAccess)
    } else {
        None
    };
    if let Some(why) = unbookable {
        return Err(BookingRefusal::Unbookable(why));
    }
    if site.overlaps {
        return Err(BookingRefusal::Overlaps);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::DateTime;
    use uuid::Uuid;

    use super::*;

    fn at(hour: i64) -> NaiveDateTime {
        DateTime::from_timestamp(hour * 3600, 0)
            .unwrap()
            .naive_utc()
    }

    fn clinic() -> ClinicId {
        ClinicId::from_uuid(Uuid::from_u128(1))
    }

    fn request(from: i64, to: i64) -> BookingRequest {
        BookingRequest {
            clinic_id: clinic(),
            client_ref: "C-1".to_owned(),
            starts_at: at(from),
            ends_at: at(to),
        }
    }

    fn free() -> BookingSnapshot {
        BookingSnapshot {
            user: Some(BookableUser {
                status: UserStatus::Active,
                user_type: UserType::Clinical,
                diary_enabled: true,
                clinic_ids: vec![clinic()],
            }),
            clinic_exists: true,
            overlaps: false,
        }
    }

    #[test]
    fn a_free_clinical_user_at_their_clinic_is_booked() {
        assert_eq!(decide_booking(&request(9, 10), &free()), Ok(()));
    }

    #[test]
    fn the_requests_mistakes_come_together_and_first() {
        let mut bad = request(10, 9);
        bad.client_ref = "  ".to_owned();
        assert_eq!(
            decide_booking(
                &bad,
                &BookingSnapshot {
                    user: None,
                    ..free()
                }
            ),
            Err(BookingRefusal::Fields(vec![
                BookingFieldRefusal::ClientRefRequired,
                BookingFieldRefusal::EndsNotAfterStart
            ]))
        );
        assert_eq!(
            decide_booking(&request(0, 25), &free()),
            Err(BookingRefusal::Fields(vec![BookingFieldRefusal::TooLong]))
        );
    }

    #[test]
    fn unknown_ids_then_bookability_then_overlap() {
        let unknown = BookingSnapshot {
            user: None,
            ..free()
        };
        assert_eq!(
            decide_booking(&request(9, 10), &unknown),
            Err(BookingRefusal::Fields(vec![
                BookingFieldRefusal::UnknownUser
            ]))
        );
        let nowhere = BookingSnapshot {
            clinic_exists: false,
            ..free()
        };
        assert_eq!(
            decide_booking(&request(9, 10), &nowhere),
            Err(BookingRefusal::Fields(vec![
                BookingFieldRefusal::UnknownClinic
            ]))
        );
        let mut late = free();
        if let Some(user) = &mut late.user {
            user.diary_enabled = false;
        }
        assert_eq!(
            decide_booking(&request(9, 10), &late),
            Err(BookingRefusal::Unbookable(Unbookable::DiaryNotStarted))
        );
        let busy = BookingSnapshot {
            overlaps: true,
            ..free()
        };
        assert_eq!(
            decide_booking(&request(9, 10), &busy),
            Err(BookingRefusal::Overlaps)
        );
    }
}
