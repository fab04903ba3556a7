//! Rotating a team's webhook secret: the new one replaces the old in the integration, and the
//! old one is kept (sealed, bound to its own field) for a grace period, in one batch.

use super::integrations::{SecretField, github_key};
use super::keys::{Key, Kind, TeamId};
use super::records::{PreviousWebhookSecret, Provider};
use super::{Result, Store, StoreError, now};
use crate::crypto::{self, Keyring, Secret};

pub(super) fn previous_key(team: TeamId) -> Key {
    Key::new(team, Kind::PreviousWebhookSecret)
}

impl Store {
    /// Make `new` the team's webhook secret and keep the current one until `until`.
    pub fn rotate_webhook_secret(
        &self,
        keyring: &Keyring,
        team: TeamId,
        new: &Secret,
        until: i64,
    ) -> Result<()> {
        let mut w = self.writer();
        let mut g = self.github_integration(team)?.ok_or_else(|| {
            StoreError::NotFound(format!("a GitHub integration for team #{team}"))
        })?;
        let old = self
            .webhook_secret(keyring, &g)
            .map_err(|e| StoreError::Rejected {
                field: "webhook secret",
                reason: format!("the current secret cannot be read ({e}); it is kept"),
            })?;
        g.webhook_secret = crypto::encrypt(
            keyring,
            SecretField::WebhookSecret.binding(team, Provider::Github),
            new,
        );
        g.updated_at = now();
        w.put(github_key(team), &g);
        w.put(
            previous_key(team),
            &PreviousWebhookSecret {
                team_id: team,
                secret: crypto::encrypt(
                    keyring,
                    SecretField::PreviousWebhookSecret.binding(team, Provider::Github),
                    &old,
                ),
                until,
            },
        );
        w.commit()
    }

    /// The previous webhook secret while its grace period lasts.
    pub fn previous_webhook_secret(
        &self,
        keyring: &Keyring,
        team: TeamId,
    ) -> Result<Option<Secret>> {
        let Some(prev) =
            self.get::<PreviousWebhookSecret>(Kind::PreviousWebhookSecret, previous_key(team))?
        else {
            return Ok(None);
        };
        if prev.until <= now() {
            return Ok(None);
        }
        crypto::decrypt(
            keyring,
            SecretField::PreviousWebhookSecret.binding(team, Provider::Github),
            &prev.secret,
        )
        .map(|d| Some(d.secret))
        .map_err(|e| StoreError::Rejected {
            field: "previous webhook secret",
            reason: e.to_string(),
        })
    }
}
