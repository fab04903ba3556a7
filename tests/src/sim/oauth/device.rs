//! The device flow: `POST /login/device/code`, then the client polls the token endpoint until the
//! viewer approves (by themselves after a few polls, or through the control API).

use super::replies::{V, answer, oauth_error, oauth_error_with};
use super::tokens::issue;
use super::{
    DEVICE_TTL, DeviceCode, DeviceStatus, SLOW_DOWN_STEP, parse_scopes, token_fields, wants_json,
};
use crate::sim::Shared;
use crate::sim::clock;
use crate::sim::http::{Request, Response};
use std::time::Instant;

/// `POST /login/device/code`.
pub(super) fn device_code(shared: &Shared, req: &Request) -> Response {
    let js = wants_json(req);
    let f = token_fields(req);
    if f.get("client_id").map(String::as_str) != Some(shared.config.client_id.as_str()) {
        return answer(js, 404, vec![("error", V::S("Not Found".into()))]);
    }
    let mut o = shared.oauth();
    if o.device_flow_disabled {
        let mut r = oauth_error(js, "device_flow_disabled");
        r.status = 400;
        return r;
    }
    let device_code = shared.random_hex(20);
    let user_code = loop {
        let raw: String = shared
            .random_token(32)
            .chars()
            .filter(|c| c.is_ascii_uppercase() || ('2'..='9').contains(c))
            .filter(|c| !matches!(c, 'I' | 'O'))
            .take(8)
            .collect();
        if raw.len() == 8 {
            let code = format!("{}-{}", &raw[..4], &raw[4..]);
            if !o.devices.values().any(|d| d.user_code == code) {
                break code;
            }
        }
    };
    let interval = o.interval(shared);
    o.devices.insert(
        device_code.clone(),
        DeviceCode {
            device_code: device_code.clone(),
            user_code: user_code.clone(),
            client_id: shared.config.client_id.clone(),
            scopes: parse_scopes(f.get("scope").map(String::as_str).unwrap_or("")),
            expires_at: clock::now() + DEVICE_TTL,
            interval,
            last_poll: None,
            polls: 0,
            status: DeviceStatus::Pending,
        },
    );
    answer(
        js,
        200,
        vec![
            ("device_code", V::S(device_code)),
            ("expires_in", V::N(DEVICE_TTL as u64)),
            ("interval", V::N(interval)),
            ("user_code", V::S(user_code)),
            (
                "verification_uri",
                V::S(format!("{}/login/device", shared.urls.web)),
            ),
        ],
    )
}

/// The device flow's poll.
pub(super) fn poll(
    shared: &Shared,
    js: bool,
    client_ok: bool,
    device_code: Option<&str>,
) -> Response {
    if !client_ok {
        return oauth_error(js, "incorrect_client_credentials");
    }
    let now = clock::now();
    let viewer = shared.world().viewer_id;
    let mut o = shared.oauth();
    if o.device_flow_disabled {
        return oauth_error(js, "device_flow_disabled");
    }
    let auto = o.auto_approve(shared);
    let Some(d) = device_code.and_then(|c| o.devices.get_mut(c)) else {
        return oauth_error(js, "incorrect_device_code");
    };
    if d.status == DeviceStatus::Used {
        return oauth_error(js, "incorrect_device_code");
    }
    if d.expires_at <= now {
        return oauth_error(js, "expired_token");
    }
    let polled = Instant::now();
    if d.interval > 0
        && d.last_poll
            .is_some_and(|t| polled.duration_since(t).as_secs_f64() < d.interval as f64)
    {
        d.interval += SLOW_DOWN_STEP;
        d.last_poll = Some(polled);
        let interval = d.interval;
        return oauth_error_with(js, "slow_down", vec![("interval", V::N(interval))]);
    }
    d.last_poll = Some(polled);
    d.polls += 1;
    if d.status == DeviceStatus::Pending && auto.is_some_and(|n| d.polls > n) {
        // The viewer typed the code in after `n` polls.
        d.status = DeviceStatus::Approved(viewer);
    }
    match d.status {
        DeviceStatus::Pending => oauth_error(js, "authorization_pending"),
        DeviceStatus::Denied => oauth_error(js, "access_denied"),
        DeviceStatus::Used => oauth_error(js, "incorrect_device_code"),
        DeviceStatus::Approved(user_id) => {
            d.status = DeviceStatus::Used;
            let scopes = d.scopes.clone();
            drop(o);
            issue(shared, js, user_id, scopes, true)
        }
    }
}
