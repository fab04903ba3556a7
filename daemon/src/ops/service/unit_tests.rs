use super::*;

fn spec(scope: Scope) -> UnitSpec {
    UnitSpec {
        scope,
        exec: PathBuf::from("/usr/local/bin/tidemarkd"),
        data_dir: None,
        extra_args: vec![],
    }
}

fn values<'a>(unit: &'a [(String, String, String)], key: &str) -> Vec<&'a str> {
    unit.iter()
        .filter(|(s, k, _)| s == "Service" && k == key)
        .map(|(_, _, v)| v.as_str())
        .collect()
}

fn one<'a>(unit: &'a [(String, String, String)], key: &str) -> &'a str {
    let v = values(unit, key);
    assert_eq!(v.len(), 1, "{key} should appear once, found {v:?}");
    v[0]
}

#[test]
fn system_unit_runs_as_tidemark_with_a_group_socket_and_hardening() {
    let unit = parse(&render(&spec(Scope::System)));
    assert_eq!(one(&unit, "User"), "tidemark");
    assert_eq!(one(&unit, "Group"), "tidemark");
    assert_eq!(one(&unit, "StateDirectory"), "tidemark");
    assert_eq!(one(&unit, "StateDirectoryMode"), "0700");
    assert_eq!(one(&unit, "RuntimeDirectoryMode"), "0750");
    assert_eq!(
        values(&unit, "ReadWritePaths"),
        [SYSTEM_DATA_DIR, "-/etc/tidemark"],
        "the data dir, and the config dir `setup github` writes"
    );
    assert_eq!(one(&unit, "ExecReload"), "/bin/kill -HUP $MAINPID");
    assert_eq!(one(&unit, "Environment"), "TIDEMARK_MANAGED_BY=systemd");
    assert_eq!(one(&unit, "ProtectHome"), "yes");
    let exec = one(&unit, "ExecStart");
    assert!(
        exec.starts_with("/usr/local/bin/tidemarkd --data-dir /var/lib/tidemark --socket /run/tidemark/tidemark.sock --socket-group tidemark --socket-mode 0660")
            && exec.ends_with(" run"),
        "{exec}"
    );
    for (key, want) in [
        ("NoNewPrivileges", "yes"),
        ("ProtectSystem", "strict"),
        ("PrivateTmp", "yes"),
        ("PrivateDevices", "yes"),
        ("LimitCORE", "0"),
        ("RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"),
        ("MemoryDenyWriteExecute", "yes"),
        ("ProtectKernelTunables", "yes"),
        ("ProtectKernelModules", "yes"),
        ("ProtectKernelLogs", "yes"),
        ("ProtectControlGroups", "yes"),
        ("CapabilityBoundingSet", ""),
        ("AmbientCapabilities", ""),
        ("UMask", "0077"),
        ("KillSignal", "SIGTERM"),
    ] {
        assert_eq!(one(&unit, key), want, "{key}");
    }
    assert_eq!(
        values(&unit, "SystemCallFilter")[0],
        "@system-service",
        "the allow list comes first"
    );
    // Peer credentials must see real uids: no user namespace.
    assert!(values(&unit, "PrivateUsers").is_empty());
    assert!(values(&unit, "DynamicUser").is_empty());
    assert!(unit.contains(&(
        "Install".into(),
        "WantedBy".into(),
        "multi-user.target".into()
    )));
}

#[test]
fn user_unit_keeps_the_home_readable_and_the_data_dir_writable() {
    let unit = parse(&render(&spec(Scope::User)));
    assert!(values(&unit, "User").is_empty());
    assert_eq!(one(&unit, "ProtectHome"), "read-only");
    assert_eq!(
        values(&unit, "ReadWritePaths"),
        ["%h/.local/share/tidemark", "-%h/.config/tidemark"]
    );
    assert_eq!(one(&unit, "ExecReload"), "/bin/kill -HUP $MAINPID");
    assert_eq!(one(&unit, "RuntimeDirectoryMode"), "0700");
    assert_eq!(one(&unit, "ExecStart"), "/usr/local/bin/tidemarkd run");
    assert_eq!(one(&unit, "LimitCORE"), "0");
    assert!(unit.contains(&("Install".into(), "WantedBy".into(), "default.target".into())));

    let mut custom = spec(Scope::User);
    custom.data_dir = Some(PathBuf::from("/srv/tide mark"));
    custom.exec = PathBuf::from("/opt/my tools/tidemarkd%1");
    custom.extra_args = vec!["--public-url".into(), "https://x.example".into()];
    let unit = parse(&render(&custom));
    assert_eq!(values(&unit, "ReadWritePaths")[0], "/srv/tide\\x20mark");
    assert_eq!(
        one(&unit, "ExecStart"),
        "\"/opt/my tools/tidemarkd%%1\" --data-dir \"/srv/tide mark\" --public-url https://x.example run"
    );
}

#[test]
fn the_units_command_line_is_one_tidemarkd_accepts() {
    for scope in [Scope::System, Scope::User] {
        let unit = parse(&render(&spec(scope)));
        let exec = one(&unit, "ExecStart");
        let args: Vec<&str> = exec.split(' ').collect();
        crate::cli::check_args(&args).unwrap_or_else(|e| panic!("{exec}: {e}"));
    }
}

/// The measured exposure, where `systemd-analyze` (systemd 250+, `--offline`) is installed;
/// skipped elsewhere.
#[test]
fn systemd_analyze_security_rates_the_system_unit_2_0_or_lower() {
    let Ok(version) = std::process::Command::new("systemd-analyze")
        .arg("--version")
        .output()
    else {
        eprintln!("systemd-analyze is not installed: skipped");
        return;
    };
    if !version.status.success() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    for (scope, limit) in [(Scope::System, 2.0), (Scope::User, 2.0)] {
        let file = dir.path().join(UNIT_NAME);
        std::fs::write(&file, render(&spec(scope))).unwrap();
        let out = std::process::Command::new("systemd-analyze")
            .args(["security", "--offline=true", "--no-pager"])
            .arg(&file)
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let Some(line) = text.lines().find(|l| l.contains("Overall exposure level")) else {
            // An older systemd without --offline: nothing to measure.
            eprintln!(
                "systemd-analyze gave no rating: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        };
        let score: f64 = line
            .split(':')
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("cannot read {line:?}"));
        assert!(
            score <= limit,
            "{scope:?} unit exposure {score} > {limit}:\n{text}"
        );
    }
}

/// systemd's default soft limit (1,024) is what ran out in issue 15: both units raise it.
#[test]
fn both_units_raise_the_open_file_limit() {
    for scope in [Scope::System, Scope::User] {
        let text = render(&spec(scope));
        let unit = parse(&text);
        assert_eq!(one(&unit, "LimitNOFILE"), "65536", "{scope:?}");
        // In [Service], where systemd reads it.
        assert!(
            text.find("LimitNOFILE=").unwrap() > text.find("[Service]").unwrap()
                && text.find("LimitNOFILE=").unwrap() < text.find("[Install]").unwrap(),
            "{text}"
        );
    }
}
