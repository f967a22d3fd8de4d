use uuid::Uuid;

use super::*;
use crate::{FieldError, Refusal};

fn clinic(n: u128) -> ClinicId {
    ClinicId::from_uuid(Uuid::from_u128(n))
}

fn site_admin() -> Creator<'static> {
    Creator {
        actor: Actor {
            site_admin: true,
            clinic_ids: &[],
        },
        default_clinic_id: None,
    }
}

fn request(user_type: UserType) -> UserCreationRequest {
    UserCreationRequest {
        user_type,
        profession: Profession::Other,
        permissions: Vec::new(),
        clinic_ids: Vec::new(),
        default_clinic_id: None,
    }
}

fn site() -> UserCreationSnapshot {
    UserCreationSnapshot {
        email_taken: false,
        site_clinics: vec![clinic(1), clinic(2), clinic(3)],
        plan: LicencePlan::Flex { licences: 5 },
        usage: UsageSnapshot::default(),
    }
}

#[test]
fn a_clinical_user_without_clinics_gets_the_sites_first_clinic_and_a_diary() {
    let made = decide_user_creation(&site_admin(), &request(UserType::Clinical), &site()).unwrap();
    assert_eq!(made.default_clinic_id, clinic(1));
    assert_eq!(made.clinic_ids, vec![clinic(1)]);
    assert!(made.diary_enabled);
    let made =
        decide_user_creation(&site_admin(), &request(UserType::NonClinical), &site()).unwrap();
    assert!(!made.diary_enabled);
}

#[test]
fn the_default_clinic_joins_the_clinics_and_grants_are_sorted_once() {
    let mut req = request(UserType::NonClinical);
    req.clinic_ids = vec![clinic(3), clinic(2)];
    req.permissions = vec![
        Permission::ViewReports,
        Permission::ClinicAdmin,
        Permission::ViewReports,
    ];
    let made = decide_user_creation(&site_admin(), &req, &site()).unwrap();
    assert_eq!(made.default_clinic_id, clinic(3));
    assert_eq!(made.clinic_ids, vec![clinic(2), clinic(3)]);
    assert_eq!(
        made.permissions,
        vec![Permission::ClinicAdmin, Permission::ViewReports]
    );
}

#[test]
fn a_clinic_admin_naming_no_clinic_gives_their_own_default() {
    let mine = [clinic(2)];
    let creator = Creator {
        actor: Actor {
            site_admin: false,
            clinic_ids: &mine,
        },
        default_clinic_id: Some(clinic(2)),
    };
    let made = decide_user_creation(&creator, &request(UserType::Clinical), &site()).unwrap();
    assert_eq!(made.clinic_ids, vec![clinic(2)]);
    assert_eq!(made.default_clinic_id, clinic(2));
    let mut elsewhere = request(UserType::Clinical);
    elsewhere.clinic_ids = vec![clinic(3)];
    assert_eq!(
        decide_user_creation(&creator, &elsewhere, &site()),
        Err(UserCreationRefusal::Access(vec![FieldError::new(
            "clinic_ids[0]",
            Refusal::ClinicNotAccessible.code(),
            Refusal::ClinicNotAccessible.to_string(),
        )]))
    );
    let mut admin = request(UserType::Clinical);
    admin.permissions = vec![Permission::SiteAdmin];
    assert_eq!(
        decide_user_creation(&creator, &admin, &site()),
        Err(UserCreationRefusal::Access(vec![FieldError::new(
            "permissions[0]",
            Refusal::PermissionNotGrantable.code(),
            Refusal::PermissionNotGrantable.to_string(),
        )]))
    );
}

#[test]
fn refusals_come_in_rule_order_access_email_clinics_licence() {
    let mut req = request(UserType::Clinical);
    req.clinic_ids = vec![clinic(9)];
    req.default_clinic_id = Some(clinic(1));
    req.profession = Profession::Billing;
    req.permissions = vec![Permission::ClinicAdmin, Permission::FinishSoapNotes];
    let full = UsageSnapshot {
        clinical_active: 5,
        non_clinical_active: 0,
    };
    let mut snapshot = UserCreationSnapshot {
        email_taken: true,
        usage: full,
        ..site()
    };
    let soap = Refusal::SoapNotAllowedForProfession;
    assert_eq!(
        decide_user_creation(&site_admin(), &req, &snapshot),
        Err(UserCreationRefusal::Access(vec![FieldError::new(
            "permissions[1]",
            soap.code(),
            soap.to_string(),
        )]))
    );
    req.permissions = vec![Permission::ClinicAdmin];
    assert_eq!(
        decide_user_creation(&site_admin(), &req, &snapshot),
        Err(UserCreationRefusal::EmailTaken)
    );
    snapshot.email_taken = false;
    assert_eq!(
        decide_user_creation(&site_admin(), &req, &snapshot),
        Err(UserCreationRefusal::Clinics(vec![
            ClinicChoiceRefusal::UnknownClinic,
            ClinicChoiceRefusal::DefaultNotInClinics,
        ]))
    );
    req.clinic_ids = vec![clinic(1)];
    let refused = decide_user_creation(&site_admin(), &req, &snapshot).unwrap_err();
    assert!(matches!(
        refused,
        UserCreationRefusal::Licence { usage, .. } if usage == full
    ));
}

#[test]
fn an_unknown_default_clinic_is_refused_and_a_site_without_clinics_is_broken() {
    let mut req = request(UserType::NonClinical);
    req.default_clinic_id = Some(clinic(7));
    assert_eq!(
        decide_user_creation(&site_admin(), &req, &site()),
        Err(UserCreationRefusal::Clinics(vec![
            ClinicChoiceRefusal::UnknownDefaultClinic
        ]))
    );
    let empty = UserCreationSnapshot {
        site_clinics: Vec::new(),
        ..site()
    };
    assert_eq!(
        decide_user_creation(&site_admin(), &request(UserType::NonClinical), &empty),
        Err(UserCreationRefusal::SiteWithoutClinics)
    );
}
