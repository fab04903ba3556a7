//! Credentials, the GitHub integration, secrets at rest and key rotation.

use super::*;
use crate::crypto::CryptoError;

fn credential(provider: Provider, token: &str, connected_by: Option<u32>) -> NewCredential {
    NewCredential {
        provider,
        access_token: Secret::new(token),
        refresh_token: None,
        token_expires_at: None,
        scopes: vec!["repo".into()],
        connected_by,
    }
}

#[test]
fn one_credential_per_team_and_provider() {
    let env = env();
    let a = team_owned_by(&env.store, "A", 1000);
    let b = team_owned_by(&env.store, "B", 1001);
    let (s, k) = (&env.store, &env.keys);
    s.create_credential(k, a, credential(Provider::Github, "t1", Some(1000)))
        .unwrap();
    let err = s
        .create_credential(k, a, credential(Provider::Github, "t2", None))
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    // Other providers, and the same provider in another team, are fine.
    s.create_credential(k, a, credential(Provider::Jira, "t3", None))
        .unwrap();
    s.create_credential(k, b, credential(Provider::Github, "t4", None))
        .unwrap();
    assert_eq!(s.credentials(a).unwrap().len(), 2);
    let kept = s.credential(a, Provider::Github).unwrap().unwrap();
    let token = s
        .credential_secret(k, &kept, SecretField::AccessToken)
        .unwrap()
        .unwrap();
    assert_eq!(
        token.expose(),
        "t1",
        "the conflicting write changed nothing"
    );
    assert_eq!(kept.connected_by, Some(1000));
}

#[test]
fn credential_needs_its_team_and_a_known_user() {
    let env = env();
    let a = team_owned_by(&env.store, "A", 1000);
    let before = all_keys(&env.store);
    let err = env
        .store
        .create_credential(&env.keys, a + 50, credential(Provider::Github, "t", None))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound(ref w) if w.contains("team")),
        "{err}"
    );
    let err = env
        .store
        .create_credential(&env.keys, a, credential(Provider::Github, "t", Some(4242)))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound(ref w) if w.contains("4242")),
        "{err}"
    );
    assert_eq!(all_keys(&env.store), before);
}

#[test]
fn secrets_round_trip_through_credential_secret_and_webhook_secret() {
    let env = env();
    let team = team_owned_by(&env.store, "A", 1000);
    let cred = github_credential(&env, team, "gho_roundtrip");
    assert_eq!(cred.scopes, ["repo", "read:org"]);
    let stored = env
        .store
        .credential(team, Provider::Github)
        .unwrap()
        .unwrap();
    assert_eq!(stored, cred);
    let get = |f| env.store.credential_secret(&env.keys, &stored, f).unwrap();
    assert_eq!(
        get(SecretField::AccessToken).unwrap().expose(),
        "gho_roundtrip"
    );
    assert_eq!(
        get(SecretField::RefreshToken).unwrap().expose(),
        "gho_roundtrip-refresh"
    );
    assert!(get(SecretField::WebhookSecret).is_none());
    github_integration(&env, team, "whsec_roundtrip");
    let integration = env.store.github_integration(team).unwrap().unwrap();
    assert_eq!(
        env.store
            .webhook_secret(&env.keys, &integration)
            .unwrap()
            .expose(),
        "whsec_roundtrip"
    );
    // Another keyring opens nothing.
    let stranger = keyring();
    assert!(matches!(
        env.store
            .credential_secret(&stranger, &stored, SecretField::AccessToken),
        Err(CryptoError::Undecryptable(_))
    ));
}

#[test]
fn secrets_never_reach_the_disk_in_clear() {
    let env = env();
    let team = team_owned_by(&env.store, "A", 1000);
    let canary = "gho_CANARY_7f3a9c1e5b2d4f60";
    github_credential(&env, team, canary);
    github_integration(&env, team, "whsec_CANARY_0b1c2d3e4f");
    env.store.flush().unwrap();
    let mut files = Vec::new();
    let mut dirs = vec![env.dir.path().to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                files.push(path);
            }
        }
    }
    let contains = |needle: &[u8]| {
        files.iter().any(|f| {
            let bytes = std::fs::read(f).unwrap();
            bytes.windows(needle.len()).any(|w| w == needle)
        })
    };
    // The grep itself works: non-secret data written with the tokens is on disk in clear.
    assert!(
        contains(b"org-of-"),
        "the organization slug should be on disk"
    );
    for secret in [
        canary,
        "CANARY_7f3a9c1e5b2d4f60-refresh",
        "whsec_CANARY_0b1c2d3e4f",
        "CANARY",
    ] {
        assert!(
            !contains(secret.as_bytes()),
            "{secret} found in clear on disk"
        );
    }
}

#[test]
fn ciphertext_moved_to_another_team_does_not_decrypt() {
    let env = env();
    let a = team_owned_by(&env.store, "A", 1000);
    let b = team_owned_by(&env.store, "B", 1001);
    let cred_a = github_credential(&env, a, "gho_team_a");
    github_credential(&env, b, "gho_team_b");
    // Overwrite B's stored record with A's ciphertext, as an attacker with disk access could.
    let mut cred_b = env.store.credential(b, Provider::Github).unwrap().unwrap();
    cred_b.access_token = cred_a.access_token.clone();
    let mut w = env.store.writer();
    w.put(
        super::super::integrations::credential_key(b, Provider::Github),
        &cred_b,
    );
    w.commit().unwrap();
    let stored_b = env.store.credential(b, Provider::Github).unwrap().unwrap();
    let err = env
        .store
        .credential_secret(&env.keys, &stored_b, SecretField::AccessToken)
        .unwrap_err();
    assert!(matches!(err, CryptoError::WrongRecord { .. }), "{err}");
    // Swapping fields inside one record is caught too.
    let mut swapped = cred_a.clone();
    swapped.access_token = cred_a.refresh_token.clone().unwrap();
    let err = env
        .store
        .credential_secret(&env.keys, &swapped, SecretField::AccessToken)
        .unwrap_err();
    assert!(matches!(err, CryptoError::WrongRecord { .. }), "{err}");
}

#[test]
fn github_integration_needs_the_github_credential_and_is_unique() {
    let env = env();
    let team = team_owned_by(&env.store, "A", 1000);
    let new = |slug: &str| NewGitHubIntegration {
        organization_slug: slug.into(),
        organization_id: 1,
        webhook_secret: Secret::new("s"),
    };
    // A Jira credential is not enough.
    env.store
        .create_credential(&env.keys, team, credential(Provider::Jira, "j", None))
        .unwrap();
    let err = env
        .store
        .create_github_integration(&env.keys, team, new("acme"))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::NotFound(ref w) if w.contains("github")),
        "{err}"
    );
    github_credential(&env, team, "gho_x");
    let gi = env
        .store
        .create_github_integration(&env.keys, team, new("acme"))
        .unwrap();
    assert_eq!(gi.sync_status, SyncStatus::Pending);
    let err = env
        .store
        .create_github_integration(&env.keys, team, new("other"))
        .unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert_eq!(
        env.store
            .github_integration(team)
            .unwrap()
            .unwrap()
            .organization_slug,
        "acme"
    );
}

#[test]
fn deleting_the_github_credential_takes_integration_and_repos_but_not_history() {
    let env = env();
    let team = full_team(&env, "A", 1000);
    let other = full_team(&env, "B", 1001);
    env.store
        .create_credential(&env.keys, team, credential(Provider::Slack, "s", None))
        .unwrap();
    env.store.delete_credential(team, Provider::Github).unwrap();
    assert!(
        env.store
            .credential(team, Provider::Github)
            .unwrap()
            .is_none()
    );
    assert!(env.store.github_integration(team).unwrap().is_none());
    assert!(env.store.tracked_repos(team).unwrap().is_empty());
    assert!(
        env.store
            .credential(team, Provider::Slack)
            .unwrap()
            .is_some()
    );
    assert_eq!(
        env.store.count_pull_requests(team).unwrap(),
        1,
        "history stays"
    );
    assert_eq!(env.store.count_members(team).unwrap(), 2);
    // The other team is untouched.
    assert!(env.store.github_integration(other).unwrap().is_some());
    assert_eq!(env.store.tracked_repos(other).unwrap().len(), 2);
    // Deleting a non-GitHub credential touches nothing else; deleting twice is NotFound.
    env.store.delete_credential(team, Provider::Slack).unwrap();
    assert!(matches!(
        env.store.delete_credential(team, Provider::Slack),
        Err(StoreError::NotFound(_))
    ));
    // A new credential starts from scratch: no integration resurrected.
    github_credential(&env, team, "gho_again");
    assert!(env.store.github_integration(team).unwrap().is_none());
}

#[test]
fn sync_status_updates_and_complete_stamps_last_sync() {
    let env = env();
    let team = full_team(&env, "A", 1000);
    let gi = env
        .store
        .set_github_sync_status(team, SyncStatus::Error, Some("HTTP 502".into()))
        .unwrap();
    assert_eq!(
        (gi.sync_status, gi.sync_error.as_deref()),
        (SyncStatus::Error, Some("HTTP 502"))
    );
    assert_eq!(gi.last_sync_at, None);
    let gi = env
        .store
        .set_github_sync_status(team, SyncStatus::Complete, None)
        .unwrap();
    assert!(gi.last_sync_at.is_some());
    assert_eq!(env.store.github_integration(team).unwrap().unwrap(), gi);
    assert!(matches!(
        env.store
            .set_github_sync_status(team + 99, SyncStatus::Complete, None),
        Err(StoreError::NotFound(_))
    ));
}

#[test]
fn reencrypt_all_moves_every_secret_to_the_newest_key() {
    let env = env();
    let a = full_team(&env, "A", 1000);
    let b = full_team(&env, "B", 1001);
    let s = &env.store;
    s.create_credential(&env.keys, b, credential(Provider::Jira, "jira-b", None))
        .unwrap();
    let new_key = Keyring::generate_key();
    let rotated = Keyring::from_secrets(&[new_key.clone(), env.key.clone()], "rotated").unwrap();
    let report = s.reencrypt_all(&rotated).unwrap();
    // A: access + refresh + webhook; B: the same plus the Jira access token.
    let expected = RotationReport {
        reencrypted: 7,
        already_current: 0,
        failed: vec![],
    };
    assert_eq!(report, expected);
    let new_only = Keyring::from_secrets(&[new_key], "new").unwrap();
    for (team, name) in [(a, "A"), (b, "B")] {
        let cred = s.credential(team, Provider::Github).unwrap().unwrap();
        let open = |f| s.credential_secret(&new_only, &cred, f).unwrap().unwrap();
        assert_eq!(
            open(SecretField::AccessToken).expose(),
            format!("gho_{name}_token")
        );
        assert_eq!(
            open(SecretField::RefreshToken).expose(),
            format!("gho_{name}_token-refresh")
        );
        let gi = s.github_integration(team).unwrap().unwrap();
        assert_eq!(
            s.webhook_secret(&new_only, &gi).unwrap().expose(),
            format!("whsec_{name}")
        );
        // The old key alone no longer opens anything.
        assert!(
            s.credential_secret(&env.keys, &cred, SecretField::AccessToken)
                .is_err()
        );
    }
    let jira = s.credential(b, Provider::Jira).unwrap().unwrap();
    let open = s
        .credential_secret(&new_only, &jira, SecretField::AccessToken)
        .unwrap();
    assert_eq!(open.unwrap().expose(), "jira-b");
    let again = s.reencrypt_all(&rotated).unwrap();
    let expected = RotationReport {
        reencrypted: 0,
        already_current: 7,
        failed: vec![],
    };
    assert_eq!(again, expected);
}

#[test]
fn reencrypt_all_moves_a_previous_webhook_secret_in_its_grace_period_too() {
    let env = env();
    let a = full_team(&env, "A", 1000);
    let s = &env.store;
    s.rotate_webhook_secret(&env.keys, a, &Secret::new("whsec_new"), now() + 3600)
        .unwrap();
    let new_key = Keyring::generate_key();
    let rotated = Keyring::from_secrets(&[new_key.clone(), env.key.clone()], "rotated").unwrap();
    // Access, refresh, webhook secret and the previous webhook secret.
    assert_eq!(s.reencrypt_all(&rotated).unwrap().reencrypted, 4);
    let new_only = Keyring::from_secrets(&[new_key], "new").unwrap();
    assert_eq!(
        s.previous_webhook_secret(&new_only, a)
            .unwrap()
            .unwrap()
            .expose(),
        "whsec_A"
    );
    assert!(s.previous_webhook_secret(&env.keys, a).is_err());
}

#[test]
fn reencrypt_all_reports_undecryptable_secrets_and_leaves_them_alone() {
    let env = env();
    full_team(&env, "A", 1000);
    let b = team_owned_by(&env.store, "B", 1001);
    // B's token was sealed with a key nobody has any more.
    let lost = keyring();
    env.store
        .create_credential(&lost, b, credential(Provider::Github, "gho_lost", None))
        .unwrap();
    let key = super::super::integrations::credential_key(b, Provider::Github);
    let raw_before = env.store.raw().get(&key).unwrap().unwrap();
    let rotated = Keyring::from_secrets(&[Keyring::generate_key(), env.key.clone()], "r").unwrap();
    let report = env.store.reencrypt_all(&rotated).unwrap();
    assert_eq!(report.reencrypted, 3, "{report:?}");
    assert_eq!(report.failed.len(), 1, "{report:?}");
    assert!(
        report.failed[0].contains(&format!("team #{b}")),
        "{}",
        report.failed[0]
    );
    let raw_after = env.store.raw().get(&key).unwrap().expect("not deleted");
    assert_eq!(raw_after, raw_before, "left byte-identical");
    // Still reported on the next run, still there.
    let again = env.store.reencrypt_all(&rotated).unwrap();
    assert_eq!((again.already_current, again.failed.len()), (3, 1));
    assert!(env.store.credential(b, Provider::Github).unwrap().is_some());
}

/// The organization hook record: kept per team, refused for an org the team is not connected
/// to, removed with the connection, and known to the integrity check.
#[test]
fn an_org_hook_record_lives_and_dies_with_the_connection() {
    let e = env();
    let team = e.store.create_team("platform", None).unwrap().id;
    let hook = OrgHook {
        team_id: team,
        organization_id: 77,
        hook_id: Some(123),
        refused: None,
        updated_at: 1_700_000_000,
    };
    assert!(matches!(
        e.store.put_org_hook(&hook),
        Err(StoreError::NotFound(_))
    ));
    e.store
        .create_credential(
            &e.keys,
            team,
            NewCredential {
                provider: Provider::Github,
                access_token: Secret::new("gho_abc"),
                refresh_token: None,
                token_expires_at: None,
                scopes: vec!["admin:org_hook".into()],
                connected_by: None,
            },
        )
        .unwrap();
    e.store
        .create_github_integration(
            &e.keys,
            team,
            NewGitHubIntegration {
                organization_slug: "acme".into(),
                organization_id: 77,
                webhook_secret: Secret::new("whs"),
            },
        )
        .unwrap();
    e.store.put_org_hook(&hook).unwrap();
    assert_eq!(e.store.org_hook(team).unwrap(), Some(hook.clone()));
    let integrity = e.store.check_integrity().unwrap();
    assert!(integrity.problems.is_empty(), "{:?}", integrity.problems);
    // Another org's hook is refused.
    assert!(
        e.store
            .put_org_hook(&OrgHook {
                organization_id: 78,
                ..hook
            })
            .is_err()
    );
    e.store.disconnect_github(team, false).unwrap();
    assert_eq!(e.store.org_hook(team).unwrap(), None);
}
