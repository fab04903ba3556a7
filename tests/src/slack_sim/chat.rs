//! `chat.postMessage` and `chat.update`: the methods that change a channel.

use super::api::{Answer, ApiError, Call};
use super::world::{Edit, parse_ts, ts_string};
use serde_json::{Value, json};

/// Slack refuses text longer than this (characters).
pub const MAX_TEXT: usize = 40_000;
/// Blocks in one message.
pub const MAX_BLOCKS: usize = 50;

/// `text` and `blocks` of a post or an edit, checked as Slack checks them. `blocks` may be an
/// empty list.
fn content(c: &Call) -> Result<(String, Option<Value>), ApiError> {
    let text = c.arg("text").unwrap_or("").to_string();
    let blocks = match c.non_empty("blocks") {
        None => None,
        Some(raw) => {
            let v: Value =
                serde_json::from_str(raw).map_err(|_| ApiError::new("invalid_blocks_format"))?;
            let Value::Array(list) = &v else {
                return Err(ApiError::new("invalid_blocks_format"));
            };
            let typed = list
                .iter()
                .all(|b| b.get("type").is_some_and(Value::is_string));
            if !typed || list.len() > MAX_BLOCKS {
                return Err(ApiError::new("invalid_blocks"));
            }
            // An empty list is kept: chat.update takes it as "remove the blocks".
            Some(v)
        }
    };
    let has_blocks = blocks
        .as_ref()
        .is_some_and(|b| b.as_array().is_some_and(|l| !l.is_empty()));
    let attachments = c.non_empty("attachments").is_some_and(|a| a != "[]");
    if text.trim().is_empty() && !has_blocks && !attachments {
        return Err(ApiError::new("no_text"));
    }
    if text.chars().count() > MAX_TEXT {
        return Err(ApiError::new("msg_too_long"));
    }
    Ok((text, blocks))
}

pub fn post_message(c: &mut Call) -> Answer {
    let shared = c.shared;
    let mut w = shared.world();
    let t = c.authed(&w)?;
    c.need(&t, "chat:write")?;
    let ch = c
        .non_empty("channel")
        .and_then(|key| w.channel(key))
        .ok_or_else(|| ApiError::new("channel_not_found"))?;
    if ch.archived {
        return Err(ApiError::new("is_archived"));
    }
    // chat:write.public lets a bot post in public channels it has not joined.
    let may_post = ch.bot_member || (!ch.is_private && t.has("chat:write.public"));
    if !may_post {
        return Err(ApiError::new("not_in_channel"));
    }
    let channel_id = ch.id.clone();
    shared
        .limits()
        .post(&channel_id)
        .map_err(ApiError::ratelimited)?;
    let (text, blocks) = content(c)?;
    let blocks = blocks.filter(|b| b.as_array().is_some_and(|l| !l.is_empty()));
    let (bot_user, bot_id) = (w.app.bot_user_id.clone(), w.app.bot_id.clone());
    let m = w
        .post(
            &channel_id,
            bot_user,
            Some(bot_id),
            text,
            blocks,
            Some(t.id),
            shared.now_micros(),
        )
        .expect("the channel exists")
        .clone();
    *shared.stats().posted.entry(channel_id.clone()).or_default() += 1;
    Ok(json!({
        "channel": channel_id,
        "ts": m.ts,
        "message": w.message_json(&m),
    }))
}

pub fn update(c: &mut Call) -> Answer {
    let shared = c.shared;
    let mut w = shared.world();
    let t = c.authed(&w)?;
    c.need(&t, "chat:write")?;
    let ts = c.non_empty("ts").unwrap_or("").to_string();
    let channel_id = c
        .non_empty("channel")
        .and_then(|id| w.channels.iter().find(|ch| ch.id == id))
        .map(|ch| ch.id.clone())
        .ok_or_else(|| ApiError::new("channel_not_found"))?;
    let bot_user = w.app.bot_user_id.clone();
    let ch = w.channel_mut(&channel_id).expect("found above");
    let want = parse_ts(&ts);
    let Some(m) = ch
        .messages
        .iter_mut()
        .find(|m| want.is_some() && parse_ts(&m.ts) == want)
    else {
        return Err(ApiError::new("message_not_found"));
    };
    // A bot edits only what its app posted.
    if m.user != bot_user {
        return Err(ApiError::new("cant_update_message"));
    }
    let (text, blocks) = content(c)?;
    let edited_ts = ts_string(shared.now_micros());
    let previous_text = std::mem::replace(&mut m.text, text.clone());
    // Slack keeps the blocks when an edit sends none, and drops them for an empty list.
    let previous_blocks = match blocks {
        Some(b) if b.as_array().is_some_and(|l| l.is_empty()) => m.blocks.take(),
        Some(b) => m.blocks.replace(b),
        None => m.blocks.clone(),
    };
    m.edits.push(Edit {
        previous_text,
        previous_blocks,
        edited_ts,
    });
    let m = m.clone();
    Ok(json!({
        "channel": channel_id,
        "ts": m.ts,
        "text": text,
        "message": w.message_json(&m),
    }))
}
