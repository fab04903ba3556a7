use super::*;
use std::os::unix::fs::PermissionsExt;

fn file_in(dir: &std::path::Path, text: &str, mode: u32) -> ConfigFile {
    let path = dir.join("daemon.toml");
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    ConfigFile {
        path,
        explicit: false,
    }
}

fn err_of(text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = file_in(dir.path(), text, 0o600);
    match read_file(&file).and_then(|layer| Settings::resolve(&Layer::default(), &layer)) {
        Ok(_) => panic!("{text:?} was accepted"),
        Err(e) => e
            .to_string()
            .replace(&dir.path().display().to_string(), "DIR"),
    }
}

#[test]
fn defaults_then_file_then_environment_then_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = file_in(
        dir.path(),
        "sync_interval_secs = 3600\npublic_url = \"https://file.example\"\n\
         github_client_id = \"Ov23liFromFile\"\ntoken_check_secs = 30\n",
        0o600,
    );
    let from_file = read_file(&file).unwrap();
    let mut given = Layer::default();
    given.set(
        Key::PublicUrl,
        Raw::Text("https://flag.example/".into()),
        Origin::Flag,
    );
    let env = |name: &str| match name {
        "TIDEMARK_PUBLIC_URL" => Some("https://env.example".into()),
        "TIDEMARK_TOKEN_CHECK_SECS" => Some("15".into()),
        "GITHUB_CLIENT_SECRET" => Some("shh-from-env".into()),
        "TIDEMARK_SOCKET_MODE" => Some("   ".into()),
        _ => None,
    };
    let given = given.with_env(env);
    let s = Settings::resolve(&given, &from_file).unwrap();
    assert_eq!(
        s.public_url.as_deref(),
        Some("https://flag.example"),
        "the flag wins, trimmed of /"
    );
    assert_eq!(
        s.token_check,
        Duration::from_secs(15),
        "the environment wins over the file"
    );
    assert_eq!(
        s.sync_every,
        Duration::from_secs(3600),
        "the file wins over the default"
    );
    assert_eq!(s.secondary_wait, Duration::from_secs(60), "the default");
    assert_eq!(s.github.client_id.as_deref(), Some("Ov23liFromFile"));
    assert_eq!(
        s.github.client_secret.as_ref().map(Secret::expose),
        Some("shh-from-env")
    );
    assert_eq!(s.socket_mode, None, "a blank variable counts as unset");
    assert_eq!(s.webhook_addr, Some("127.0.0.1:8787".parse().unwrap()));
    let shown: BTreeMap<String, (Option<String>, SettingSource)> = s
        .describe()
        .into_iter()
        .map(|i| (i.key, (i.value, i.source)))
        .collect();
    assert_eq!(shown["public_url"].1, SettingSource::CommandLine);
    assert_eq!(shown["token_check_secs"].1, SettingSource::Environment);
    assert_eq!(
        shown["sync_interval_secs"],
        (Some("3600".into()), SettingSource::ConfigFile)
    );
    assert_eq!(
        shown["github_url"],
        (Some("https://github.com".into()), SettingSource::Default)
    );
    assert_eq!(
        shown["github_client_secret"],
        (Some("set".into()), SettingSource::Environment)
    );
    assert_eq!(shown.len(), Key::ALL.len(), "every setting is shown");
    let debug = format!("{s:?} {given:?} {from_file:?}");
    assert!(
        !debug.contains("shh-from-env"),
        "a secret in Debug output: {debug}"
    );
}

#[test]
fn file_errors_name_the_file_the_key_and_what_is_allowed() {
    let e = err_of("sync_interval_secs = \"soon\"\n");
    assert_eq!(
        e,
        "bad config file DIR/daemon.toml: key `sync_interval_secs`: \"soon\" is not allowed; \
         expected a whole number of seconds, 1 or more"
    );
    let e = err_of("sync_interval_secs = 0\n");
    assert!(
        e.contains("key `sync_interval_secs`: \"0\" is not allowed"),
        "{e}"
    );
    let e = err_of("sync_intervall_secs = 60\n");
    assert!(
        e.contains("key `sync_intervall_secs`: unknown key (did you mean `sync_interval_secs`?)"),
        "{e}"
    );
    assert!(
        e.contains("the keys are: github_client_id, github_client_secret, github_url"),
        "{e}"
    );
    let e = err_of("data_dir = \"/x\"\n");
    assert!(
        e.contains("key `data_dir`: the data dir is not read from the config file"),
        "{e}"
    );
    assert!(e.contains("--data-dir or TIDEMARK_DATA_DIR"), "{e}");
    let e = err_of("public_url = \"ftp://x\"\n");
    assert!(
        e.contains("key `public_url`: \"ftp://x\" is not allowed; expected an http(s) URL"),
        "{e}"
    );
    let e = err_of("webhook_addr = true\n");
    assert!(
        e.contains("key `webhook_addr`: expected an address with a port"),
        "{e}"
    );
    assert!(e.contains("found boolean"), "{e}");
    let e = err_of("oauth_addr = \"0.0.0.0:80\"\n");
    assert!(e.contains("binds loopback only"), "{e}");
    let e = err_of("socket_mode = \"0666\"\n");
    assert!(
        e.contains("key `socket_mode`: \"0666\" is not allowed; expected \"0600\""),
        "{e}"
    );
    let e = err_of("github_client_id = \"has space\"\n");
    assert!(e.contains("key `github_client_id`: \"has space\" is not allowed; expected the client id of a GitHub OAuth app"), "{e}");
    let e = err_of("public_url = \"https://x\n");
    assert!(e.starts_with("bad config file DIR/daemon.toml: "), "{e}");
    assert!(e.contains("line 1"), "{e}");
}

#[test]
fn integers_and_octal_modes_read_as_written() {
    let dir = tempfile::tempdir().unwrap();
    let file = file_in(
        dir.path(),
        "socket_mode = 0o660\nsocket_group = \"tidemark\"\n",
        0o644,
    );
    let s = Settings::resolve(&Layer::default(), &read_file(&file).unwrap()).unwrap();
    assert_eq!(s.socket_mode, Some(0o660));
    assert_eq!(s.socket_group.as_deref(), Some("tidemark"));
}

#[test]
fn a_plain_secret_only_in_a_file_no_one_else_reads() {
    let dir = tempfile::tempdir().unwrap();
    let file = file_in(dir.path(), "github_client_secret = \"plain-shh\"\n", 0o640);
    let e = read_file(&file).unwrap_err().to_string();
    assert!(
        e.contains("key `github_client_secret`: the file holds a secret but its mode 0640"),
        "{e}"
    );
    assert!(!e.contains("plain-shh"), "{e}");
    std::fs::set_permissions(&file.path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let s = Settings::resolve(&Layer::default(), &read_file(&file).unwrap()).unwrap();
    assert_eq!(s.github.client_secret.unwrap().expose(), "plain-shh");
}

#[test]
fn the_slack_app_reads_from_the_file_its_secret_only_when_no_one_else_can() {
    let dir = tempfile::tempdir().unwrap();
    let text = "slack_client_id = \"1234567890.0987654321\"\nslack_client_secret = \"slack-shh\"\nslack_url = \"http://127.0.0.1:9/\"\n";
    let file = file_in(dir.path(), text, 0o644);
    let e = read_file(&file).unwrap_err().to_string();
    assert!(
        e.contains("key `slack_client_secret`: the file holds a secret"),
        "{e}"
    );
    assert!(!e.contains("slack-shh"), "{e}");
    std::fs::set_permissions(&file.path, std::fs::Permissions::from_mode(0o600)).unwrap();
    let s = Settings::resolve(&Layer::default(), &read_file(&file).unwrap()).unwrap();
    assert_eq!(s.slack.client_id.as_deref(), Some("1234567890.0987654321"));
    assert_eq!(
        s.slack.client_secret.as_ref().unwrap().expose(),
        "slack-shh"
    );
    assert_eq!(s.slack.url, "http://127.0.0.1:9");
    assert!(!format!("{s:?}").contains("slack-shh"));
    // Unset: Slack's own URL, and no app.
    let s = Settings::resolve(&Layer::default(), &Layer::default()).unwrap();
    assert_eq!(s.slack.url, "https://slack.com");
    assert!(s.slack.client_id.is_none());
}

#[test]
fn a_missing_file_is_the_defaults_unless_named_explicitly() {
    let dir = tempfile::tempdir().unwrap();
    let mut file = ConfigFile {
        path: dir.path().join("nope.toml"),
        explicit: false,
    };
    assert!(read_file(&file).unwrap().keys().next().is_none());
    file.explicit = true;
    let e = read_file(&file).unwrap_err().to_string();
    assert!(e.starts_with("cannot read the config file"), "{e}");
}

#[test]
fn setup_writes_the_id_and_a_sealed_secret_and_keeps_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let file = file_in(
        dir.path(),
        "# my tunnel\npublic_url = \"https://t.example\" # keep me\ngithub_client_secret = \"old\"\n",
        0o600,
    );
    let keyring = Keyring::from_secrets(&[Keyring::generate_key()], "test").unwrap();
    let sealed = seal_secret(&keyring, &Secret::new("new-shh"));
    write_github_app(&file.path, "Ov23liNew", SecretChange::Set(sealed)).unwrap();
    let text = std::fs::read_to_string(&file.path).unwrap();
    assert!(
        text.contains("# my tunnel\npublic_url = \"https://t.example\" # keep me"),
        "{text}"
    );
    assert!(text.contains("github_client_id = \"Ov23liNew\""), "{text}");
    assert!(
        !text.contains("new-shh") && !text.contains("\"old\""),
        "{text}"
    );
    let mode = std::fs::metadata(&file.path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);

    let mut s = Settings::resolve(&Layer::default(), &read_file(&file).unwrap()).unwrap();
    assert!(s.is_sealed());
    s.unseal(&keyring).unwrap();
    assert_eq!(s.github.client_secret.as_ref().unwrap().expose(), "new-shh");

    // Another daemon's keys cannot open it, and the error says what to do.
    let other = Keyring::from_secrets(&[Keyring::generate_key()], "other").unwrap();
    let mut s = Settings::resolve(&Layer::default(), &read_file(&file).unwrap()).unwrap();
    let e = s.unseal(&other).unwrap_err().to_string();
    assert!(e.contains("key `github_client_secret_sealed`"), "{e}");
    assert!(e.contains("tidemark setup github"), "{e}");

    write_github_app(&file.path, "Ov23liNew", SecretChange::Remove).unwrap();
    let s = Settings::resolve(&Layer::default(), &read_file(&file).unwrap()).unwrap();
    assert!(s.github.client_secret.is_none() && !s.is_sealed());
}

#[test]
fn a_new_file_starts_from_the_commented_template() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sub/daemon.toml");
    write_github_app(&path, "Ov23liX", SecretChange::Keep).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    for key in Key::ALL.into_iter().filter(|k| !k.is_secret()) {
        assert!(
            text.contains(&format!("# {} = ", key.name())),
            "{key} missing:\n{text}"
        );
    }
    // The template alone sets nothing.
    let layer = file::read(&ConfigFile {
        path: dir.path().join("t.toml"),
        explicit: false,
    })
    .unwrap();
    assert!(layer.keys().next().is_none());
    std::fs::write(dir.path().join("t.toml"), template()).unwrap();
    let layer = file::read(&ConfigFile {
        path: dir.path().join("t.toml"),
        explicit: true,
    })
    .unwrap();
    assert!(
        layer.keys().next().is_none(),
        "the template must set nothing"
    );
}

#[test]
fn changes_and_what_a_reload_keeps() {
    let mut a_given = Layer::default();
    a_given.set(
        Key::WebhookAddr,
        Raw::Text("127.0.0.1:1".into()),
        Origin::Flag,
    );
    let a = Settings::resolve(&a_given, &Layer::default()).unwrap();
    let mut file = Layer::default();
    let origin = Origin::File("/f".into());
    file.set(Key::SyncIntervalSecs, Raw::Text("5".into()), origin.clone());
    file.set(Key::SocketMode, Raw::Text("0660".into()), origin.clone());
    file.set(Key::GithubClientSecret, Raw::Text("x".into()), origin);
    let mut b = Settings::resolve(&Layer::default(), &file).unwrap();
    let changed = a.changed(&b);
    assert_eq!(
        changed,
        vec![
            Key::GithubClientSecret,
            Key::WebhookAddr,
            Key::SyncIntervalSecs,
            Key::SocketMode
        ]
    );
    b.keep_fixed_from(&a);
    assert_eq!(b.webhook_addr, a.webhook_addr);
    assert_eq!(b.socket_mode, None);
    assert_eq!(b.sync_every, Duration::from_secs(5));
    assert_eq!(
        a.changed(&b),
        vec![Key::GithubClientSecret, Key::SyncIntervalSecs]
    );
}
