//! Start the real `tidemarkd` in a temp dir, connect to it as the `tidemark` client does, and wait
//! on conditions with a timeout (never a bare sleep).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};
use tidemark_protocol::{PROTOCOL_VERSION, TidemarkClient};

mod delivery;
mod slack;
pub use delivery::*;
pub use slack::{SlackConnected, connect_slack};

/// Path of a workspace binary, built next to the test executables (`cargo nextest run
/// --workspace`, as `.ci/test` runs it, and `cargo test --workspace` build every binary before
/// running any test).
pub fn bin(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let dir = exe
        .parent()
        .and_then(|deps| {
            if deps.ends_with("deps") {
                deps.parent()
            } else {
                Some(deps)
            }
        })
        .expect("target dir");
    let path = dir.join(name);
    assert!(
        path.exists(),
        "{} is not built; run the whole workspace's tests: .ci/test (cargo nextest run --workspace)",
        path.display()
    );
    // `cargo nextest run -p tidemark-tests` (or `cargo test -p ...`) rebuilds libraries but not
    // other packages' binaries: refuse to test a binary older than the sources it is built from.
    // Cargo lists them in `NAME.d` beside the binary (test-only modules are not among them, so
    // editing one is no reason).
    let deps = std::fs::read_to_string(dir.join(format!("{name}.d"))).unwrap_or_default();
    let newest_source = deps
        .split_once(": ")
        .map(|(_, files)| files)
        .unwrap_or_default()
        .split_whitespace()
        .filter(|f| f.ends_with(".rs") && !f.contains("/.cargo/") && !f.contains("/rustc/"))
        .filter_map(|f| std::fs::metadata(f).and_then(|m| m.modified()).ok())
        .max();
    let built = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
    if let (Some(source), Some(built)) = (newest_source, built) {
        assert!(
            built >= source,
            "{} is older than its sources: run the whole workspace's tests (.ci/test)",
            path.display()
        );
    }
    path
}

/// Poll `check` until it returns Some, or panic after `timeout` saying what was awaited.
pub fn wait_until<T>(timeout: Duration, what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(2);
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    }
}

/// What a test's daemon and client must not inherit from the environment the tests run in.
pub const CLEARED_ENV: [&str; 17] = [
    "INTEGRATION_ENCRYPTION_KEY",
    "TIDEMARK_DATA_DIR",
    "TIDEMARK_SOCKET",
    "TIDEMARK_CONFIG",
    "GITHUB_CLIENT_ID",
    "GITHUB_CLIENT_SECRET",
    "TIDEMARK_GITHUB_URL",
    "TIDEMARK_GITHUB_API_URL",
    "TIDEMARK_OAUTH_ADDR",
    "TIDEMARK_PUBLIC_URL",
    "TIDEMARK_SYNC_INTERVAL_SECS",
    "TIDEMARK_TOKEN_CHECK_SECS",
    "TIDEMARK_GITHUB_SECONDARY_WAIT_SECS",
    "TIDEMARK_WEBHOOK_BACKLOG_MAX",
    "TIDEMARK_SOCKET_GROUP",
    "TIDEMARK_SOCKET_MODE",
    "TIDEMARK_MANAGED_BY",
];

/// A temp dir with a data dir and a socket path in it.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let dir = tempfile::tempdir().expect("tempdir");
        Sandbox { dir }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("run").join("tidemark.sock")
    }

    /// `XDG_CONFIG_HOME` for the daemons and clients of this sandbox (never the user's own).
    pub fn config_home(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    /// The daemon's default config file here.
    pub fn config_file(&self) -> PathBuf {
        self.config_home().join("tidemark").join("daemon.toml")
    }

    /// Write the daemon's config file (mode 0600, as `tidemark setup github` leaves it).
    pub fn write_config(&self, text: &str) {
        use std::os::unix::fs::PermissionsExt;
        let path = self.config_file();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    /// Give this sandbox's data dir the encryption key of `other`'s (created 0700, the key
    /// 0600): what restoring another daemon's backup needs, as on a machine moved to.
    pub fn copy_key_from(&self, other: &Sandbox) {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        let key = "encryption.key";
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(self.data_dir())
            .unwrap();
        let to = self.data_dir().join(key);
        std::fs::copy(other.data_dir().join(key), &to).unwrap();
        std::fs::set_permissions(&to, std::fs::Permissions::from_mode(0o600)).unwrap();
    }

    /// `tidemark` with this sandbox's data dir, socket and config home, and a clean
    /// environment (it may start the daemon itself unless `--no-start`).
    pub fn client_command(&self) -> Command {
        let mut cmd = Command::new(bin("tidemark"));
        cmd.arg("--data-dir")
            .arg(self.data_dir())
            .arg("--socket")
            .arg(self.socket())
            .env("XDG_CONFIG_HOME", self.config_home())
            .stdin(Stdio::null());
        for var in CLEARED_ENV {
            cmd.env_remove(var);
        }
        cmd
    }

    pub fn log_path(&self, n: usize) -> PathBuf {
        self.dir.path().join(format!("tidemarkd-{n}.log"))
    }

    /// `tidemarkd` with this sandbox's settings and a clean environment.
    pub fn daemon_command(&self) -> Command {
        let mut cmd = Command::new(bin("tidemarkd"));
        cmd.arg("--data-dir")
            .arg(self.data_dir())
            .arg("--socket")
            .arg(self.socket())
            .env("XDG_CONFIG_HOME", self.config_home());
        for var in CLEARED_ENV {
            cmd.env_remove(var);
        }
        // Tests run side by side: each daemon's webhook listener on a port of its own (a
        // test can still pass --webhook-addr).
        cmd.env("TIDEMARK_WEBHOOK_ADDR", "127.0.0.1:0")
            .env("RUST_LOG", "trace")
            .stdin(Stdio::null());
        cmd
    }
}

impl Default for Sandbox {
    fn default() -> Self {
        Sandbox::new()
    }
}

/// Point a daemon command at the simulator, as its OAuth app (with the client secret or not).
pub fn use_simulator(cmd: &mut Command, sim: &crate::sim::Sim, with_secret: bool) {
    cmd.env("TIDEMARK_GITHUB_URL", sim.url())
        .env("TIDEMARK_GITHUB_API_URL", sim.url())
        .env("GITHUB_CLIENT_ID", &sim.shared.config.client_id);
    if with_secret {
        cmd.env("GITHUB_CLIENT_SECRET", &sim.shared.config.client_secret);
    }
}

/// `use_simulator` (no client secret), the webhook listener on `listen` and `public` as the URL
/// GitHub is told to call: the listener's own port for deliveries that arrive, another (where
/// nothing listens) for deliveries that fail, as while a daemon is down.
pub fn use_simulator_with_webhooks(
    cmd: &mut Command,
    sim: &crate::sim::Sim,
    listen: &str,
    public: &str,
) {
    use_simulator(cmd, sim, false);
    cmd.arg("--webhook-addr")
        .arg(listen)
        .arg("--public-url")
        .arg(format!("http://{public}"));
}

/// Wait (up to 30 s) until the team's first sync has finished and every tracked repository's
/// hook is as `hook_ready` wants it.
pub async fn first_sync_and_hooks(
    client: &TidemarkClient,
    team: tidemark_protocol::TeamRef,
    hook_ready: impl Fn(&tidemark_protocol::RepoInfo) -> bool,
) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let repos = client.tracked_repos(ctx(), team.clone()).await??;
        let sync = client.sync_status(ctx(), team.clone(), 0).await??;
        if repos.iter().all(&hook_ready) && !sync.running && sync.finished_at.is_some() {
            return Ok(());
        }
        if Instant::now() > deadline {
            anyhow::bail!("no first sync and hooks after 30 s: {sync:?}, {repos:?}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A running daemon; killed when dropped.
pub struct Daemon {
    pub child: Child,
    pub log: PathBuf,
    pub socket: PathBuf,
}

impl Daemon {
    /// Start `tidemarkd` and wait until it answers `hello`.
    pub fn start(sandbox: &Sandbox, log_n: usize) -> Daemon {
        Daemon::start_with(sandbox, log_n, |_| {})
    }

    pub fn start_with(sandbox: &Sandbox, log_n: usize, tweak: impl FnOnce(&mut Command)) -> Daemon {
        let log = sandbox.log_path(log_n);
        let file = std::fs::File::create(&log).expect("log file");
        let mut cmd = sandbox.daemon_command();
        cmd.stdout(file.try_clone().unwrap()).stderr(file);
        tweak(&mut cmd);
        let mut child = cmd.spawn().expect("spawn tidemarkd");
        let socket = sandbox.socket();
        wait_until(Duration::from_secs(20), "tidemarkd to answer hello", || {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("tidemarkd exited with {status}: {}", read(&log));
            }
            block_on(async { connect(&socket).await.ok() })
        });
        Daemon { child, log, socket }
    }

    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }

    /// SIGTERM, and wait for the exit.
    pub fn stop(mut self) -> ExitStatus {
        signal(self.pid(), libc::SIGTERM);
        let status = wait_until(Duration::from_secs(20), "tidemarkd to exit", || {
            self.child.try_wait().expect("wait")
        });
        // Keep Drop from killing a reused pid.
        std::mem::forget(self);
        status
    }

    /// SIGKILL, and reap.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        std::mem::forget(self);
    }

    pub fn log_text(&self) -> String {
        read(&self.log)
    }

    /// The webhook listener's address, from the daemon's log.
    pub fn webhook_url(&self) -> String {
        let addr = wait_until(
            Duration::from_secs(10),
            "the webhook listener to open",
            || {
                let log = self.log_text();
                let line = log
                    .lines()
                    .find(|l| l.contains("webhook listener open"))?
                    .to_string();
                let start = line.find("bound=")? + "bound=".len();
                Some(line[start..].split_whitespace().next()?.to_string())
            },
        );
        format!("http://{addr}")
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn signal(pid: i32, sig: i32) {
    // SAFETY: sending a signal to a child we spawned.
    unsafe {
        libc::kill(pid, sig);
    }
}

pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// Connect and shake hands, as the client does.
pub async fn connect(socket: &Path) -> anyhow::Result<TidemarkClient> {
    let stream = tokio::net::UnixStream::connect(socket).await?;
    let client = TidemarkClient::new(
        tarpc::client::Config::default(),
        tidemark_daemon::rpc::transport(stream),
    )
    .spawn();
    client.hello(ctx(), PROTOCOL_VERSION).await??;
    Ok(client)
}

pub fn ctx() -> tarpc::context::Context {
    tarpc::context::current()
}

/// Run a future on the test binary's one shared multi-thread runtime. A tarpc client lives on
/// the runtime that spawned it, so tests that keep a client across calls use this one.
pub fn block_on_shared<F: std::future::Future>(f: F) -> F::Output {
    static RT: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RT.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime")
    })
    .block_on(f)
}

/// A simulator with a small seeded org (`repos` repositories of `prs_per_repo` pull requests,
/// `members` people) that approves a device flow at once.
/// A browser on this machine opening a web flow's authorize link, signed in to GitHub (the
/// simulator) as `as_login` (None: the simulator's viewer): GitHub approves and redirects back;
/// answers where to (the daemon's callback URL), not followed.
pub fn authorize_in_browser(authorize_url: &str, as_login: Option<&str>) -> String {
    block_on_shared(async {
        let no_redirects = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut req = no_redirects.get(authorize_url);
        if let Some(login) = as_login {
            req = req.header(
                "cookie",
                format!("{}={login}", crate::sim::oauth::LOGIN_COOKIE),
            );
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), 302, "GitHub redirects back");
        r.headers()["location"].to_str().unwrap().to_string()
    })
}

/// The login of a member of the simulator's org who is not its viewer: another person's GitHub
/// account, which sees the same organization.
pub fn another_member_login(sim: &crate::sim::Sim) -> String {
    let w = sim.world();
    let id = *w
        .members
        .keys()
        .find(|id| **id != w.viewer_id)
        .expect("an org member besides the viewer");
    w.account(id).login.clone()
}

pub fn small_org_sim(repos: usize, prs_per_repo: usize, members: usize) -> crate::sim::Sim {
    use crate::sim::{OrgSpec, Sim, SimConfig};
    Sim::start(
        SimConfig {
            org: OrgSpec {
                repos,
                prs_per_repo,
                members,
                ..OrgSpec::default()
            },
            device_interval: 0,
            auto_approve: Some(1),
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .expect("the simulator starts")
}

/// POST `body` to the simulator's control API (`/_sim/...`); panics unless it answers 2xx.
pub fn sim_control(
    sim: &crate::sim::Sim,
    path: &str,
    body: serde_json::Value,
) -> serde_json::Value {
    block_on_shared(async {
        let r = reqwest::Client::new()
            .post(format!("{}{path}", sim.url()))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "POST {path}: {}", r.status());
        r.json().await.unwrap()
    })
}

/// A loopback port free a moment ago (for a URL that must be known before the daemon starts).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Every pull request of `team`, newest first.
pub async fn all_pull_requests(
    client: &TidemarkClient,
    team: tidemark_protocol::TeamRef,
) -> anyhow::Result<Vec<tidemark_protocol::PrInfo>> {
    let query = tidemark_protocol::PrQuery {
        team,
        repo: None,
        state: None,
        limit: 0,
    };
    Ok(client.pull_requests(ctx(), query).await??)
}

/// Create `team`, connect it to the simulator's org through the device flow (the simulator
/// approves it), and track every repository; returns their names.
pub async fn connect_team_and_track_all(
    client: &TidemarkClient,
    team: &str,
) -> anyhow::Result<Vec<String>> {
    connect_team_and_track_all_with(client, team, false).await
}

/// [`connect_team_and_track_all`], asking also for `admin:org_hook` when `org_hook` (as
/// `tidemark connect github --org-hook` does).
pub async fn connect_team_and_track_all_with(
    client: &TidemarkClient,
    team: &str,
    org_hook: bool,
) -> anyhow::Result<Vec<String>> {
    create_and_connect_team(client, team, org_hook).await?;
    track_all_repos(client, team).await
}

/// Create `team` and connect it to the simulator's org through the device flow (the simulator
/// approves it), asking also for `admin:org_hook` when `org_hook`. Fails unless the flow ends
/// connected.
pub async fn create_and_connect_team(
    client: &TidemarkClient,
    team: &str,
    org_hook: bool,
) -> anyhow::Result<()> {
    use tidemark_protocol::{ConnectMethod, ConnectRequest, ConnectState, TeamRef};
    client.team_create(ctx(), team.to_string()).await??;
    let started = client
        .github_connect(
            ctx(),
            ConnectRequest {
                team: TeamRef::Name(team.to_string()),
                method: ConnectMethod::Device,
                org: None,
                replace: false,
                org_hook,
            },
        )
        .await??;
    loop {
        match client
            .github_connect_status(ctx(), started.flow, 2_000)
            .await??
        {
            ConnectState::Waiting => continue,
            ConnectState::Connected { .. } => return Ok(()),
            other => anyhow::bail!("connecting {team}: {other:?}"),
        }
    }
}

/// Track every repository `team`'s organization has (the team connected); returns their names.
/// Fails unless the daemon tracked every one.
pub async fn track_all_repos(client: &TidemarkClient, team: &str) -> anyhow::Result<Vec<String>> {
    use tidemark_protocol::TeamRef;
    let team_ref = || TeamRef::Name(team.to_string());
    let names: Vec<String> = client
        .repos_available(ctx(), team_ref())
        .await??
        .into_iter()
        .map(|r| r.full_name)
        .collect();
    let tracked = client
        .repos_track(ctx(), team_ref(), names.clone())
        .await??;
    anyhow::ensure!(
        tracked.len() == names.len(),
        "tracked {} of {} repositories: {tracked:?}",
        tracked.len(),
        names.len()
    );
    Ok(names)
}

/// `tidemark --socket SOCKET --no-start ARGS...` (no stdin), run to its end.
pub fn cli_output(socket: &Path, args: &[&str]) -> std::process::Output {
    Command::new(bin("tidemark"))
        .arg("--socket")
        .arg(socket)
        .arg("--no-start")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

/// [`cli_output`]; panics unless the command succeeds.
pub fn cli(socket: &Path, args: &[&str]) -> std::process::Output {
    let out = cli_output(socket, args);
    assert!(
        out.status.success(),
        "tidemark {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// What a user types to set a team up, through the CLI: create `team`, connect it to the
/// simulator's org (the device flow, which the simulator approves), track every repository of
/// the org that is not archived, and sync, waiting for the sync to end. Returns the repositories
/// tracked (`org/name`).
pub fn cli_connect_track_all_and_sync(
    socket: &Path,
    sim: &crate::sim::Sim,
    team: &str,
) -> Vec<String> {
    cli(socket, &["team", "create", team]);
    cli(socket, &["connect", "github", "--team", team]);
    let repos: Vec<String> = {
        let w = sim.world();
        let org = w.org.as_ref().unwrap().login.clone();
        w.repos
            .values()
            .filter(|r| !r.archived)
            .map(|r| format!("{org}/{}", r.name))
            .collect()
    };
    let mut track = vec!["repos", "track", "--team", team];
    track.extend(repos.iter().map(String::as_str));
    cli(socket, &track);
    cli(socket, &["sync", "--team", team, "--wait"]);
    repos
}

/// Run a future to completion on a fresh current-thread runtime.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// Seed a sandbox's store (daemon stopped) with a team that has a GitHub credential, integration
/// and a tracked repo, using these secrets. Returns the team id.
pub fn seed_connected_team(
    sandbox: &Sandbox,
    team_name: &str,
    access_token: &str,
    refresh_token: &str,
    webhook_secret: &str,
) -> u64 {
    seed_github_team(
        sandbox,
        &SeedTeam {
            team_name,
            access_token,
            refresh_token: Some(refresh_token),
            token_expires_at: Some(4_102_444_800),
            webhook_secret,
            org_slug: "octo-org",
            org_id: 9_919,
            repos: &[(1_296_269, "octo-org/hello-world")],
        },
    )
}

/// Seed a sandbox's store (daemon stopped) with a Slack link for `team`: its bot token as the
/// team's `slack` credential, a workspace and a channel.
pub fn seed_slack(sandbox: &Sandbox, team: u64, bot_token: &str) {
    use tidemark_daemon::crypto::{Secret, load_keyring_with};
    use tidemark_daemon::store::{NewCredential, Provider, SlackLink, Store};
    let (keyring, _) = load_keyring_with(None, &sandbox.data_dir(), false).unwrap();
    let store = Store::open(&tidemark_daemon::lifecycle::store_dir(&sandbox.data_dir())).unwrap();
    store
        .create_credential(
            &keyring,
            team,
            NewCredential {
                provider: Provider::Slack,
                access_token: Secret::new(bot_token),
                refresh_token: None,
                token_expires_at: None,
                scopes: vec!["chat:write".into(), "channels:read".into()],
                connected_by: None,
            },
        )
        .unwrap();
    store
        .set_slack_link(&SlackLink {
            team_id: team,
            workspace: "Canary Corp".into(),
            workspace_id: "T0CANARY".into(),
            bot_user_id: Some("U0BOT".into()),
            channel_id: Some("C0CANARY".into()),
            channel_name: Some("eng".into()),
            problem: None,
            sent: 0,
            last_sent_at: None,
            connected_at: 0,
        })
        .unwrap();
    store.flush().unwrap();
}

/// A team connected to GitHub without going through OAuth, for [`seed_github_team`].
pub struct SeedTeam<'a> {
    pub team_name: &'a str,
    pub access_token: &'a str,
    pub refresh_token: Option<&'a str>,
    pub token_expires_at: Option<i64>,
    pub webhook_secret: &'a str,
    pub org_slug: &'a str,
    pub org_id: u64,
    /// (GitHub repository id, `owner/name`) of each tracked repository.
    pub repos: &'a [(u64, &'a str)],
}

/// Seed a sandbox's store (daemon stopped) with a team connected to GitHub as `seed` says,
/// owned by the current user. Returns the team id.
pub fn seed_github_team(sandbox: &Sandbox, seed: &SeedTeam<'_>) -> u64 {
    use tidemark_daemon::crypto::{Secret, load_keyring_with};
    use tidemark_daemon::store::{NewCredential, NewGitHubIntegration, Provider, Store};
    tidemark_daemon::lifecycle::prepare_data_dir(&sandbox.data_dir()).unwrap();
    let (keyring, _) = load_keyring_with(None, &sandbox.data_dir(), true).unwrap();
    let store = Store::open(&tidemark_daemon::lifecycle::store_dir(&sandbox.data_dir())).unwrap();
    // SAFETY: geteuid cannot fail.
    let uid = unsafe { libc::geteuid() };
    store
        .upsert_user(uid, &tidemark_daemon::auth::user_name(uid))
        .unwrap();
    let team = store.create_team(seed.team_name, Some(uid)).unwrap();
    store
        .create_credential(
            &keyring,
            team.id,
            NewCredential {
                provider: Provider::Github,
                access_token: Secret::new(seed.access_token),
                refresh_token: seed.refresh_token.map(Secret::new),
                token_expires_at: seed.token_expires_at,
                scopes: vec!["read:org".into(), "repo".into(), "read:user".into()],
                connected_by: Some(uid),
            },
        )
        .unwrap();
    store
        .create_github_integration(
            &keyring,
            team.id,
            NewGitHubIntegration {
                organization_slug: seed.org_slug.into(),
                organization_id: seed.org_id,
                webhook_secret: Secret::new(seed.webhook_secret),
            },
        )
        .unwrap();
    for (id, name) in seed.repos {
        store.track_repo(team.id, *id, name).unwrap();
    }
    store.flush().unwrap();
    drop(store);
    // The daemon started next must find the store free: sled's threads release its lock a
    // moment after the drop (seen once as a daemon that would not start).
    wait_for_store_unlocked(sandbox);
    team.id
}

/// Wait (up to 10 s) until no one holds the lock of the sandbox's store: sled takes an `flock`
/// on its `db` file, released by its background threads a moment after a store is dropped.
/// Probing with a non-blocking `flock` of our own, released at once, takes nothing from the
/// next opener.
pub fn wait_for_store_unlocked(sandbox: &Sandbox) {
    use std::os::fd::AsRawFd;
    let db = tidemark_daemon::lifecycle::store_dir(&sandbox.data_dir()).join("db");
    let Ok(file) = std::fs::File::open(&db) else {
        return;
    };
    wait_until(
        Duration::from_secs(10),
        "the store's lock to be released",
        || {
            // SAFETY: flock on a file descriptor we own.
            let free = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0;
            if free {
                // SAFETY: as above; we release what we just took.
                unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_UN) };
            }
            free.then_some(())
        },
    );
}

/// Open a sandbox's store (daemon stopped), retrying while the lock of the last one to close it
/// (sled's background threads of a store just dropped, a killed daemon) is still being released.
pub fn open_store(sandbox: &Sandbox) -> tidemark_daemon::store::Store {
    use tidemark_daemon::store::{Store, StoreError};
    let dir = tidemark_daemon::lifecycle::store_dir(&sandbox.data_dir());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match Store::open(&dir) {
            Ok(store) => return store,
            Err(StoreError::Locked(_)) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => panic!("cannot open the store in {}: {e}", dir.display()),
        }
    }
}

/// Every file under `dir` whose bytes contain `needle`.
pub fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path)
                && bytes.windows(needle.len()).any(|w| w == needle)
            {
                hits.push(path);
            }
        }
    }
    hits
}
