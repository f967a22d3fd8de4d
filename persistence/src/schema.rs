// The Diesel schema shared by both backends. Both migration folders must produce it;
// the persistence tests run every query against SQLite and PostgreSQL to prove it.

diesel::table! {
    sites (id) {
        id -> Text,
        name -> Text,
        plan -> Text,
        licences -> BigInt,
        settings -> Text,
        lock_version -> BigInt,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        /// The site's users that SCIM lists show (`scim_deleted_at IS NULL`), kept by
        /// triggers on `users`.
        scim_users -> BigInt,
        /// The site's active users by type (`sites::usage`), kept by triggers on `users`.
        active_clinical -> BigInt,
        active_non_clinical -> BigInt,
    }
}

diesel::table! {
    clinics (id) {
        id -> Text,
        site_id -> Text,
        name -> Text,
        search_text -> Text,
        assistants_may_finish_notes -> Bool,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        external_id -> Nullable<Text>,
    }
}

diesel::table! {
    users (id) {
        id -> Text,
        site_id -> Text,
        title -> Nullable<Text>,
        first_name -> Text,
        last_name -> Text,
        email -> Text,
        email_normalized -> Text,
        search_text -> Text,
        sort_first_name -> Text,
        sort_last_name -> Text,
        user_type -> Text,
        profession -> Text,
        status -> Text,
        default_clinic_id -> Text,
        diary_enabled -> Bool,
        password_hash -> Nullable<Text>,
        last_login_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        external_id -> Nullable<Text>,
        scim_deleted_at -> Nullable<Timestamp>,
        user_name -> Nullable<Text>,
        user_name_normalized -> Nullable<Text>,
        email_primary -> Nullable<Bool>,
    }
}

diesel::table! {
    user_permissions (user_id, permission) {
        user_id -> Text,
        site_id -> Text,
        permission -> Text,
    }
}

diesel::table! {
    user_clinics (user_id, clinic_id) {
        user_id -> Text,
        clinic_id -> Text,
        site_id -> Text,
    }
}

diesel::table! {
    service_accounts (id) {
        id -> Text,
        site_id -> Text,
        name -> Text,
        client_id -> Text,
        secret_hash -> Text,
        permissions -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> Text,
        site_id -> Text,
        occurred_at -> Timestamp,
        actor_kind -> Text,
        actor_id -> Nullable<Text>,
        on_behalf_of -> Nullable<Text>,
        action -> Text,
        target_type -> Text,
        target_id -> Nullable<Text>,
        before_state -> Nullable<Text>,
        after_state -> Nullable<Text>,
        request_id -> Nullable<Text>,
    }
}

diesel::table! {
    idempotency_keys (scope, idem_key) {
        scope -> Text,
        idem_key -> Text,
        request_hash -> Text,
        state -> Text,
        status -> Nullable<BigInt>,
        response_headers -> Nullable<Text>,
        response_body -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    appointments (id) {
        id -> Text,
        site_id -> Text,
        user_id -> Text,
        clinic_id -> Text,
        client_ref -> Text,
        starts_at -> Timestamp,
        ends_at -> Timestamp,
        version -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    outbox_jobs (id) {
        id -> Text,
        site_id -> Text,
        kind -> Text,
        subject_id -> Nullable<Text>,
        payload -> Text,
        idempotency_key -> Text,
        status -> Text,
        attempts -> BigInt,
        next_attempt_at -> Timestamp,
        leased_until -> Nullable<Timestamp>,
        lease_owner -> Nullable<Text>,
        last_error -> Nullable<Text>,
        result -> Nullable<Text>,
        actor_kind -> Text,
        actor_id -> Nullable<Text>,
        request_id -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        finished_at -> Nullable<Timestamp>,
        version -> BigInt,
    }
}

diesel::table! {
    exercise_integrations (site_id) {
        site_id -> Text,
        clm_id -> Text,
        clinic_name -> Text,
        connected_at -> Timestamp,
        version -> BigInt,
    }
}

diesel::table! {
    exercise_users (user_id) {
        user_id -> Text,
        site_id -> Text,
        clm_id -> Text,
        state -> Text,
        pending_action -> Nullable<Text>,
        first_name -> Text,
        last_name -> Text,
        provider_user_id -> Nullable<Text>,
        last_error -> Nullable<Text>,
        job_id -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    sent_mail (id) {
        id -> Text,
        idempotency_key -> Text,
        to_address -> Text,
        subject -> Text,
        body -> Text,
        sent_at -> Timestamp,
    }
}

diesel::table! {
    invitations (id) {
        id -> Text,
        site_id -> Text,
        user_id -> Nullable<Text>,
        email -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        superseded_at -> Nullable<Timestamp>,
        assistant_id -> Nullable<Text>,
    }
}

diesel::table! {
    assistant_accounts (id) {
        id -> Text,
        site_id -> Text,
        email -> Text,
        email_normalized -> Text,
        full_name -> Text,
        password_hash -> Nullable<Text>,
        last_login_at -> Nullable<Timestamp>,
        token_generation -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    assistants (id) {
        id -> Text,
        site_id -> Text,
        clinician_id -> Text,
        account_id -> Text,
        full_name -> Text,
        status -> Text,
        invited_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
        version -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::joinable!(assistants -> assistant_accounts (account_id));
diesel::joinable!(assistants -> users (clinician_id));

diesel::joinable!(clinics -> sites (site_id));
diesel::joinable!(users -> sites (site_id));
diesel::joinable!(user_permissions -> users (user_id));
diesel::joinable!(user_clinics -> users (user_id));
diesel::joinable!(user_clinics -> clinics (clinic_id));
diesel::joinable!(service_accounts -> sites (site_id));
diesel::joinable!(audit_events -> sites (site_id));
diesel::joinable!(appointments -> users (user_id));
diesel::joinable!(appointments -> clinics (clinic_id));
diesel::joinable!(exercise_users -> users (user_id));
diesel::joinable!(invitations -> users (user_id));

diesel::table! {
    imaging_integrations (site_id) {
        site_id -> Text,
        enabled -> Bool,
        version -> BigInt,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    imaging_connections (user_id) {
        user_id -> Text,
        site_id -> Text,
        state -> Text,
        pending_action -> Nullable<Text>,
        pending_from -> Nullable<Text>,
        title -> Nullable<Text>,
        first_name -> Text,
        last_name -> Text,
        email -> Text,
        marketing_opt_in -> Bool,
        provider_user_id -> Nullable<Text>,
        relinked -> Bool,
        last_error -> Nullable<Text>,
        job_id -> Nullable<Text>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    imaging_forgotten (user_id, provider_user_id) {
        user_id -> Text,
        provider_user_id -> Text,
        site_id -> Text,
        title -> Nullable<Text>,
        first_name -> Text,
        last_name -> Text,
        email -> Text,
        marketing_opt_in -> Bool,
        forgotten_at -> Timestamp,
    }
}

diesel::table! {
    imaging_referrals (id) {
        id -> Text,
        site_id -> Text,
        user_id -> Text,
        provider_user_id -> Text,
        patient_name -> Text,
        body_part -> Text,
        notes -> Nullable<Text>,
        status -> Text,
        provider_referral_id -> Nullable<Text>,
        last_error -> Nullable<Text>,
        job_id -> Nullable<Text>,
        report_summary -> Nullable<Text>,
        report_images -> Nullable<Text>,
        reported_at -> Nullable<Timestamp>,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    /// Processed report deliveries of the imaging webhook, by `webhook-id`.
    imaging_webhooks (webhook_id) {
        webhook_id -> Text,
        site_id -> Text,
        referral_id -> Text,
        received_at -> Timestamp,
    }
}

diesel::joinable!(imaging_connections -> users (user_id));

diesel::table! {
    scim_tokens (id) {
        id -> Text,
        site_id -> Text,
        name -> Text,
        token_hash -> Text,
        version -> BigInt,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(scim_tokens -> sites (site_id));

diesel::allow_tables_to_appear_in_same_query!(
    sites,
    clinics,
    users,
    user_permissions,
    user_clinics,
    service_accounts,
    audit_events,
    idempotency_keys,
    appointments,
    outbox_jobs,
    exercise_integrations,
    exercise_users,
    sent_mail,
    invitations,
    imaging_integrations,
    imaging_connections,
    imaging_forgotten,
    imaging_referrals,
    assistant_accounts,
    assistants,
    imaging_webhooks,
    scim_tokens,
);
