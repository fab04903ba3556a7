//! The TUI's connect and disconnect: the update function driven through the real link against
//! the fake daemon, as the runtime drives it (requests out, events in), minus the terminal.

mod support;

use std::path::Path;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use support::connect::{PATIENCE, github_org, serve, socket_in, three_orgs, wait_until};
use support::fake_daemon::FakeGithub;
use tidemark_protocol::ConnectPrompt;
use tidemark_tui::app::{
    ConnectPhase, Event, Loadable, Modal, Notice, Request, Screen, State, handle_event,
};
use tidemark_tui::autostart::Endpoint;
use tidemark_tui::link;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::task::JoinHandle;

struct Tui {
    state: State,
    requests: Option<UnboundedSender<Request>>,
    events: UnboundedReceiver<Event>,
    link: Option<JoinHandle<()>>,
}

impl Tui {
    async fn start(socket: &Path) -> Tui {
        let endpoint = Endpoint {
            data_dir: socket.parent().unwrap().join("data"),
            socket: socket.to_path_buf(),
            autostart: false,
        };
        let (req_tx, req_rx) = unbounded_channel();
        let (ev_tx, ev_rx) = unbounded_channel();
        let link = tokio::spawn(link::run(endpoint, req_rx, ev_tx));
        let mut tui = Tui {
            state: State::new(socket.to_path_buf()),
            requests: Some(req_tx),
            events: ev_rx,
            link: Some(link),
        };
        tui.until("the team list", |s| s.teams().len() == 2).await;
        tui
    }

    fn handle(&mut self, event: Event) {
        for request in handle_event(&mut self.state, event) {
            let _ = self.requests.as_ref().unwrap().send(request);
        }
    }

    fn press(&mut self, keys: &str) {
        for c in keys.chars() {
            self.key(KeyCode::Char(c));
        }
    }

    fn key(&mut self, code: KeyCode) {
        self.handle(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)));
    }

    /// Apply events from the link until `done` holds.
    async fn until(&mut self, what: &str, done: impl Fn(&State) -> bool) {
        let deadline = tokio::time::Instant::now() + PATIENCE;
        while !done(&self.state) {
            let event = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("timed out waiting for {what}: {:#?}", self.state))
                .expect("link alive");
            self.handle(event);
        }
    }

    /// Open the team `name` and wait for its status.
    async fn open(&mut self, name: &str) {
        let index = self.state.teams().iter().position(|t| t.name == name);
        for _ in 0..index.unwrap() {
            self.press("j");
        }
        self.key(KeyCode::Enter);
        self.until(
            "the team view",
            |s| matches!(&s.screen, Screen::Team(v) if matches!(v.status, Loadable::Loaded(_))),
        )
        .await;
    }
}

fn phase(state: &State) -> Option<&ConnectPhase> {
    match &state.modal {
        Some(Modal::Connect(dialog)) => Some(&dialog.phase),
        _ => None,
    }
}

fn view_org(state: &State) -> Option<String> {
    match &state.screen {
        Screen::Team(view) => match &view.status {
            Loadable::Loaded(status) => github_org(status),
            _ => None,
        },
        Screen::Teams => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_connects_through_the_device_flow_and_refreshes_the_team() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let (fake, _server) = serve(&dir, FakeGithub::default());
    let mut tui = Tui::start(&socket).await;
    tui.open("mobile").await;

    tui.press("c");
    tui.until("the device code", |s| {
        matches!(phase(s), Some(ConnectPhase::Waiting { .. }))
    })
    .await;
    let Some(ConnectPhase::Waiting { prompt, .. }) = phase(&tui.state) else {
        unreachable!()
    };
    assert_eq!(
        prompt,
        &ConnectPrompt::Device {
            user_code: "WDJB-MJHT".into(),
            verification_uri: "https://github.com/login/device".into()
        }
    );
    // The daemon answers Waiting twice, then the user has approved: the view reloads.
    tui.until("the reloaded team", |s| view_org(s).is_some())
        .await;
    assert_eq!(tui.state.modal, None);
    assert_eq!(
        tui.state.notice,
        Some(Notice::Info(
            "Connected team 'mobile' to GitHub organization acme as @octocat.".into()
        ))
    );
    assert_eq!(view_org(&tui.state).as_deref(), Some("acme"));
    assert_eq!(
        github_org(&fake.team("mobile").unwrap()).as_deref(),
        Some("acme")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_picks_an_organization() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let (fake, _server) = serve(&dir, three_orgs());
    let mut tui = Tui::start(&socket).await;
    tui.open("mobile").await;

    tui.press("c");
    tui.until("the organization picker", |s| {
        matches!(phase(s), Some(ConnectPhase::ChooseOrg { .. }))
    })
    .await;
    tui.press("jjk");
    tui.key(KeyCode::Enter);
    tui.until("the reloaded team", |s| view_org(s).is_some())
        .await;
    assert_eq!(view_org(&tui.state).as_deref(), Some("acme-labs"));
    assert_eq!(
        github_org(&fake.team("mobile").unwrap()).as_deref(),
        Some("acme-labs")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_esc_and_quit_cancel_the_flow() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let (fake, _server) = serve(
        &dir,
        FakeGithub {
            waits: u32::MAX,
            ..FakeGithub::default()
        },
    );
    let mut tui = Tui::start(&socket).await;
    tui.open("mobile").await;

    tui.press("c");
    tui.until("the device code", |s| {
        matches!(phase(s), Some(ConnectPhase::Waiting { .. }))
    })
    .await;
    tui.key(KeyCode::Esc);
    assert_eq!(tui.state.modal, None);
    wait_until("the cancel", || fake.cancelled().len() == 1).await;
    assert_eq!(fake.cancelled(), fake.flows());

    // Quit with a second flow open: its cancel is the last request, and the link delivers it
    // before it stops (as the runtime lets it when the UI goes away).
    tui.press("c");
    tui.until("the second code", |s| {
        matches!(phase(s), Some(ConnectPhase::Waiting { .. }))
    })
    .await;
    tui.handle(Event::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )));
    assert!(tui.state.quit);
    drop(tui.requests.take());
    tokio::time::timeout(PATIENCE, tui.link.take().unwrap())
        .await
        .expect("the link stops")
        .unwrap();
    assert_eq!(fake.flows().len(), 2);
    assert_eq!(fake.cancelled(), fake.flows(), "both flows were cancelled");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_disconnects_with_purge() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let (fake, _server) = serve(&dir, FakeGithub::default());
    let mut tui = Tui::start(&socket).await;
    tui.open("platform").await;
    assert_eq!(view_org(&tui.state).as_deref(), Some("acme"));

    tui.press("xpy");
    tui.until("the report", |s| matches!(s.notice, Some(Notice::Info(_))))
        .await;
    let Some(Notice::Info(text)) = &tui.state.notice else {
        unreachable!()
    };
    assert_eq!(
        text,
        "Disconnected 'platform' from GitHub (acme): 2 webhooks deleted, grant revoked, 3 \
         repositories removed, history purged."
    );
    tui.until("the reloaded team", |s| {
        matches!(&s.screen, Screen::Team(v)
            if matches!(&v.status, Loadable::Loaded(st) if st.integrations.is_empty()))
    })
    .await;
    let platform = fake.team("platform").unwrap();
    assert!(platform.integrations.is_empty());
    assert_eq!(platform.pull_request_count, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tui_shows_the_daemons_refusal_and_retries_with_the_other_method() {
    let dir = tempfile::tempdir().unwrap();
    let socket = socket_in(&dir);
    let (_fake, _server) = serve(
        &dir,
        FakeGithub {
            client_secret: false,
            waits: u32::MAX,
            ..FakeGithub::default()
        },
    );
    let mut tui = Tui::start(&socket).await;
    tui.open("mobile").await;
    tui.press("c");
    tui.until("the device code", |s| {
        matches!(phase(s), Some(ConnectPhase::Waiting { .. }))
    })
    .await;
    tui.press("w");
    tui.until("the refusal", |s| {
        matches!(phase(s), Some(ConnectPhase::Failed { .. }))
    })
    .await;
    let Some(ConnectPhase::Failed { reason }) = phase(&tui.state) else {
        unreachable!()
    };
    assert!(
        reason.starts_with("invalid method: the web flow needs GITHUB_CLIENT_SECRET"),
        "{reason}"
    );
    // The TUI names no command-line flag: `w` is how it switches.
    assert!(!reason.contains("--"), "{reason}");
    tui.press("w");
    tui.until("a device code again", |s| {
        matches!(phase(s), Some(ConnectPhase::Waiting { .. }))
    })
    .await;
}
