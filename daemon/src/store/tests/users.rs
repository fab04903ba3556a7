//! Local users: upsert, rename, delete.

use super::*;

#[test]
fn upsert_creates_then_renames_keeping_created_at() {
    let env = env();
    assert!(env.store.user(1000).unwrap().is_none());
    let first = env.store.upsert_user(1000, "alice").unwrap();
    assert_eq!((first.uid, first.name.as_str()), (1000, "alice"));
    let same = env.store.upsert_user(1000, "alice").unwrap();
    assert_eq!(same, first);
    let renamed = env.store.upsert_user(1000, "alice2").unwrap();
    assert_eq!(renamed.name, "alice2");
    assert_eq!(renamed.created_at, first.created_at);
    assert_eq!(env.store.user(1000).unwrap().unwrap().name, "alice2");
    assert_eq!(global_keys(&env.store, Kind::User).len(), 1);
}

#[test]
fn delete_user_clears_connected_by_everywhere_and_drops_memberships() {
    let env = env();
    let a = team_owned_by(&env.store, "A", 1000);
    let b = team_owned_by(&env.store, "B", 1001);
    env.store.set_membership(b, 1000, Role::Admin).unwrap();
    for (team, provider) in [
        (a, Provider::Github),
        (a, Provider::Slack),
        (b, Provider::Jira),
    ] {
        env.store
            .create_credential(
                &env.keys,
                team,
                NewCredential {
                    provider,
                    access_token: Secret::new(format!("tok-{team}-{provider}")),
                    refresh_token: None,
                    token_expires_at: None,
                    scopes: vec![],
                    connected_by: Some(1000),
                },
            )
            .unwrap();
    }
    // Connected by someone else: must stay attributed.
    env.store
        .create_credential(
            &env.keys,
            b,
            NewCredential {
                provider: Provider::Github,
                access_token: Secret::new("tok-b-github"),
                refresh_token: None,
                token_expires_at: None,
                scopes: vec![],
                connected_by: Some(1001),
            },
        )
        .unwrap();

    env.store.delete_user(1000).unwrap();

    assert!(env.store.user(1000).unwrap().is_none());
    assert!(env.store.membership(a, 1000).unwrap().is_none());
    assert!(env.store.membership(b, 1000).unwrap().is_none());
    assert!(env.store.teams_of_user(1000).unwrap().is_empty());
    assert!(
        global_keys(&env.store, Kind::UserTeam)
            .iter()
            .all(|k| keys::read_u32(k, keys::ID_OFFSET) != Some(1000))
    );
    for (team, provider) in [
        (a, Provider::Github),
        (a, Provider::Slack),
        (b, Provider::Jira),
    ] {
        let cred = env
            .store
            .credential(team, provider)
            .unwrap()
            .expect("credential kept");
        assert_eq!(cred.connected_by, None, "{team} {provider}");
        let token = env
            .store
            .credential_secret(&env.keys, &cred, SecretField::AccessToken)
            .unwrap()
            .unwrap();
        assert_eq!(token.expose(), format!("tok-{team}-{provider}"));
    }
    let other = env.store.credential(b, Provider::Github).unwrap().unwrap();
    assert_eq!(other.connected_by, Some(1001));
    // The teams themselves and the other owner are untouched.
    assert_eq!(env.store.teams().unwrap().len(), 2);
    assert_eq!(
        env.store.membership(b, 1001).unwrap().unwrap().role,
        Role::Owner
    );
}

#[test]
fn delete_unknown_user_is_not_found() {
    let env = env();
    assert!(matches!(
        env.store.delete_user(5),
        Err(StoreError::NotFound(_))
    ));
}
