//! SPEC §4 rules 1 and 2: which permissions a profession may hold. Rule 6 (a profession
//! change re-checks the permissions held) is these same rules applied to the new profession.

use serde::Serialize;

use crate::{Permission, Profession, Refusal};

/// Why a profession may not hold a permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, thiserror::Error)]
#[serde(rename_all = "snake_case")]
pub enum ProfessionRefusal {
    /// Rule 1: clerical and billing staff hold no SOAP-note permission.
    #[error("{profession} users cannot hold SOAP-note permissions")]
    SoapNotAllowedForProfession { profession: Profession },
    /// Rule 2: assistants and students never finish SOAP notes, whatever the clinic allows.
    #[error("{profession} is an assistant or student profession and cannot finish SOAP notes")]
    FinishNotesNotAllowedForProfession { profession: Profession },
}

impl ProfessionRefusal {
    /// The §4 rule that refuses, whose code the answers carry.
    pub const fn rule(&self) -> Refusal {
        match self {
            Self::SoapNotAllowedForProfession { .. } => Refusal::SoapNotAllowedForProfession,
            Self::FinishNotesNotAllowedForProfession { .. } => {
                Refusal::FinishNotesNotAllowedForProfession
            }
        }
    }

    /// The rule's field-level code (that of [`ProfessionRefusal::rule`]).
    pub const fn code(&self) -> &'static str {
        self.rule().code()
    }
}

impl From<ProfessionRefusal> for Refusal {
    fn from(refusal: ProfessionRefusal) -> Self {
        refusal.rule()
    }
}

impl Profession {
    /// Whether this profession may hold `permission` (rules 1–2).
    pub fn may_hold(self, permission: Permission) -> Result<(), ProfessionRefusal> {
        if permission.is_soap_note() && self.is_clerical_or_billing() {
            return Err(ProfessionRefusal::SoapNotAllowedForProfession { profession: self });
        }
        if permission == Permission::FinishSoapNotes && self.is_assistant_or_student() {
            return Err(ProfessionRefusal::FinishNotesNotAllowedForProfession { profession: self });
        }
        Ok(())
    }

    /// The permissions of `held` this profession may not hold, with the reason of each.
    pub fn refusals<'a>(
        self,
        held: impl IntoIterator<Item = &'a Permission>,
    ) -> Vec<(Permission, ProfessionRefusal)> {
        held.into_iter()
            .filter_map(|p| self.may_hold(*p).err().map(|r| (*p, r)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clerical_and_billing_hold_no_soap_permission() {
        for profession in [Profession::Clerical, Profession::Billing] {
            for permission in Permission::ALL {
                let result = profession.may_hold(*permission);
                if permission.is_soap_note() {
                    assert_eq!(
                        result.unwrap_err().rule(),
                        Refusal::SoapNotAllowedForProfession
                    );
                } else {
                    assert!(result.is_ok(), "{profession} may hold {permission}");
                }
            }
        }
    }

    #[test]
    fn assistants_and_students_never_finish_notes() {
        for profession in Profession::ALL
            .iter()
            .filter(|p| p.is_assistant_or_student())
        {
            assert_eq!(
                profession
                    .may_hold(Permission::FinishSoapNotes)
                    .unwrap_err()
                    .rule(),
                Refusal::FinishNotesNotAllowedForProfession
            );
            assert!(profession.may_hold(Permission::StartSoapNotes).is_ok());
            assert!(profession.may_hold(Permission::ForwardSoapNotes).is_ok());
        }
    }

    #[test]
    fn clinicians_may_hold_everything() {
        for profession in [
            Profession::Pt,
            Profession::Ot,
            Profession::Slp,
            Profession::Atc,
            Profession::Other,
        ] {
            assert!(
                profession.refusals(Permission::ALL).is_empty(),
                "{profession}"
            );
        }
    }

    #[test]
    fn refusals_name_each_permission() {
        let held = [
            Permission::StartSoapNotes,
            Permission::ViewReports,
            Permission::FinishSoapNotes,
        ];
        let refused = Profession::Billing.refusals(&held);
        assert_eq!(refused.len(), 2);
        let refused = Profession::Pta.refusals(&held);
        assert_eq!(
            refused,
            vec![(
                Permission::FinishSoapNotes,
                ProfessionRefusal::FinishNotesNotAllowedForProfession {
                    profession: Profession::Pta
                }
            )]
        );
    }
}
