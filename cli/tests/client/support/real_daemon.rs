//! The real daemon's RPC service, in this process, on a real socket over a real store in a temp
//! dir: for the client's tests whose answers the daemon gives by itself (teams, members,
//! settings; nothing that needs GitHub), in place of the fake daemon. What the fake daemon is
//! still for: states the daemon only reaches with GitHub (a sync in progress, a connect flow's
//! steps) and faults (another protocol version, a lost connection).

use std::path::Path;
use std::sync::Arc;
use tidemark_daemon::auth::Policy;
use tidemark_daemon::context::{ConfigState, Context, Runtime};
use tidemark_daemon::crypto::Keyring;
use tidemark_daemon::rpc::Shared;
use tidemark_daemon::settings::{Key, Layer, Origin, Raw, Settings};
use tidemark_daemon::store::Store;
use tokio::net::UnixListener;
use tokio::task::JoinHandle;

/// Where GitHub calls would go: a closed loopback port, so nothing leaves the machine.
const NOWHERE: &str = "http://127.0.0.1:9";

pub struct RealDaemon {
    task: JoinHandle<()>,
    shared: Arc<Shared>,
    _dir: tempfile::TempDir,
}

impl RealDaemon {
    /// Serve on `socket` until dropped. The caller is this test's user, the daemon's own user
    /// too (an operator), as with a daemon a user starts for themself.
    pub fn listen(socket: &Path) -> RealDaemon {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("store")).unwrap();
        let keyring = Keyring::from_secrets(&[Keyring::generate_key()], "test").unwrap();
        let mut given = Layer::default();
        for key in [Key::GithubUrl, Key::GithubApiUrl] {
            given.set(key, Raw::Text(NOWHERE.into()), Origin::Env);
        }
        let settings = Settings::resolve(&given, &Layer::default()).unwrap();
        let runtime = Runtime::new(
            dir.path().to_path_buf(),
            socket.to_path_buf(),
            ConfigState {
                given,
                file: None,
                current: settings,
            },
        );
        let ctx = Context::new(store, keyring, Policy::current(), runtime);
        let shared = Arc::new(Shared::new(ctx));
        let listener = UnixListener::bind(socket).unwrap();
        let task = tokio::spawn(tidemark_daemon::rpc::serve(listener, shared.clone()));
        RealDaemon {
            task,
            shared,
            _dir: dir,
        }
    }

    /// The daemon's store, to check what a client's calls left there (and to seed records
    /// only GitHub would bring).
    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    /// Record `team` as connected to GitHub organization `org` (as a connect flow would), so
    /// that repositories can be tracked and history seeded; nothing asks GitHub.
    pub fn connect_github(&self, team: u64, org: &str) {
        use tidemark_daemon::crypto::Secret;
        use tidemark_daemon::store::{NewCredential, NewGitHubIntegration, Provider};
        let (store, keys) = (&self.shared.store, &self.shared.keyring);
        store
            .create_credential(
                keys,
                team,
                NewCredential {
                    provider: Provider::Github,
                    access_token: Secret::new(
                        "gho_TESTTOKEN000000000000000000000000000".to_string(),
                    ),
                    refresh_token: None,
                    token_expires_at: None,
                    scopes: vec!["read:org".into(), "repo".into()],
                    connected_by: None,
                },
            )
            .unwrap();
        store
            .create_github_integration(
                keys,
                team,
                NewGitHubIntegration {
                    organization_slug: org.into(),
                    organization_id: 1,
                    webhook_secret: Secret::new("whsec-test".to_string()),
                },
            )
            .unwrap();
    }

    /// The daemon's keys, to seal what a seeded record holds (a team's GitHub connection).
    pub fn keyring(&self) -> &Keyring {
        &self.shared.keyring
    }
}

impl Drop for RealDaemon {
    fn drop(&mut self) {
        self.task.abort();
    }
}
