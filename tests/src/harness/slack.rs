//! Connecting a team to the Slack simulator the way a person does: the "Add to Slack" link
//! opened in a browser (Slack's page redirects to the daemon's loopback listener), then a
//! channel picked.

use super::ctx;
use anyhow::{Context, bail};
use tidemark_protocol::agreements::SlackConnectState;
use tidemark_protocol::{ConnectPrompt, TeamRef, TidemarkClient};

/// What connecting gave: the workspace's name and the redirect the browser followed.
pub struct SlackConnected {
    pub workspace: String,
    pub callback: String,
}

/// Connect `team` to Slack through the browser flow and pick `channel` (`#name`).
pub async fn connect_slack(
    client: &TidemarkClient,
    team: TeamRef,
    channel: &str,
) -> anyhow::Result<SlackConnected> {
    let started = client.slack_connect(ctx(), team.clone()).await??;
    let ConnectPrompt::Browser { authorize_url } = started.prompt else {
        bail!("not a browser prompt: {:?}", started.prompt);
    };
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let page = http.get(&authorize_url).send().await?;
    anyhow::ensure!(
        page.status().as_u16() == 302,
        "Slack's page answered {}",
        page.status()
    );
    let callback = page
        .headers()
        .get("location")
        .context("no redirect")?
        .to_str()?
        .to_string();
    let answer = http.get(&callback).send().await?;
    anyhow::ensure!(
        answer.status().as_u16() == 200,
        "the callback answered {}",
        answer.status()
    );
    let workspace = match client
        .slack_connect_status(ctx(), started.flow, 8_000)
        .await??
    {
        SlackConnectState::Connected { workspace, .. } => workspace,
        other => bail!("Slack did not connect: {other:?}"),
    };
    client
        .slack_channel_set(ctx(), team, channel.to_string())
        .await??;
    Ok(SlackConnected {
        workspace,
        callback,
    })
}
