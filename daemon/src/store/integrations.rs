//! Integration credentials and the GitHub integration that hangs off a GitHub credential.
//! Secrets arrive as [`Secret`]s and are sealed here, bound to their record field; they leave only
//! through [`Store::credential_secret`] / [`Store::webhook_secret`] for daemon-internal use.

use super::keys::{Key, Kind, TeamId};
use super::records::{
    GitHubIntegration, IntegrationCredential, PreviousWebhookSecret, Provider, SyncStatus,
};
use super::{Result, Store, StoreError, now};
use crate::crypto::{self, Binding, Ciphertext, CryptoError, Keyring, Secret};

pub(super) fn credential_key(team: TeamId, provider: Provider) -> Key {
    Key::new(team, Kind::Credential).u8(provider.code())
}

pub(super) fn github_key(team: TeamId) -> Key {
    Key::new(team, Kind::GitHubIntegration).u8(Provider::Github.code())
}

/// The secret fields we store, and the names their ciphertexts are bound to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretField {
    AccessToken,
    RefreshToken,
    WebhookSecret,
    PreviousWebhookSecret,
}

impl SecretField {
    pub fn as_str(self) -> &'static str {
        match self {
            SecretField::AccessToken => "access_token",
            SecretField::RefreshToken => "refresh_token",
            SecretField::WebhookSecret => "webhook_secret",
            SecretField::PreviousWebhookSecret => "previous_webhook_secret",
        }
    }

    pub fn binding(self, team: TeamId, provider: Provider) -> Binding<'static> {
        Binding {
            team_id: team,
            provider: provider.as_str(),
            field: self.as_str(),
        }
    }
}

pub struct NewCredential {
    pub provider: Provider,
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub token_expires_at: Option<i64>,
    pub scopes: Vec<String>,
    pub connected_by: Option<u32>,
}

pub struct NewGitHubIntegration {
    pub organization_slug: String,
    pub organization_id: u64,
    pub webhook_secret: Secret,
}

impl Store {
    /// Store a team's credential for a provider. There is at most one per (team, provider).
    pub fn create_credential(
        &self,
        keyring: &Keyring,
        team: TeamId,
        new: NewCredential,
    ) -> Result<IntegrationCredential> {
        let mut w = self.writer();
        if self.team(team)?.is_none() {
            return Err(StoreError::NotFound(format!("team #{team}")));
        }
        if self.credential(team, new.provider)?.is_some() {
            return Err(StoreError::Conflict(format!(
                "a {} credential for team #{team}",
                new.provider
            )));
        }
        if let Some(uid) = new.connected_by
            && self.user(uid)?.is_none()
        {
            return Err(StoreError::NotFound(format!("user {uid}")));
        }
        let seal = |field: SecretField, secret: &Secret| {
            crypto::encrypt(keyring, field.binding(team, new.provider), secret)
        };
        let at = now();
        let cred = IntegrationCredential {
            team_id: team,
            provider: new.provider,
            access_token: seal(SecretField::AccessToken, &new.access_token),
            refresh_token: new
                .refresh_token
                .as_ref()
                .map(|t| seal(SecretField::RefreshToken, t)),
            token_expires_at: new.token_expires_at,
            scopes: new.scopes,
            connected_by: new.connected_by,
            created_at: at,
            updated_at: at,
        };
        w.put(credential_key(team, new.provider), &cred);
        w.commit()?;
        Ok(cred)
    }

    pub fn credential(
        &self,
        team: TeamId,
        provider: Provider,
    ) -> Result<Option<IntegrationCredential>> {
        self.get(Kind::Credential, credential_key(team, provider))
    }

    pub fn credentials(&self, team: TeamId) -> Result<Vec<IntegrationCredential>> {
        self.scan(Kind::Credential, Key::new(team, Kind::Credential))
    }

    /// Delete a credential; for GitHub its integration and tracked repositories go with it, in one
    /// atomic step. Synced history (members, pull requests) stays.
    pub fn delete_credential(&self, team: TeamId, provider: Provider) -> Result<()> {
        let mut w = self.writer();
        if self.credential(team, provider)?.is_none() {
            return Err(StoreError::NotFound(format!(
                "a {provider} credential for team #{team}"
            )));
        }
        w.remove(credential_key(team, provider));
        if provider == Provider::Github {
            w.remove(github_key(team));
            for key in self.scan_keys(Key::new(team, Kind::TrackedRepo))? {
                w.remove(key);
            }
        }
        w.commit()
    }

    /// Decrypt one of a credential's secrets, for the daemon's own use (never for a reply).
    pub fn credential_secret(
        &self,
        keyring: &Keyring,
        cred: &IntegrationCredential,
        field: SecretField,
    ) -> Result<Option<Secret>, CryptoError> {
        let ct = match field {
            SecretField::AccessToken => Some(&cred.access_token),
            SecretField::RefreshToken => cred.refresh_token.as_ref(),
            SecretField::WebhookSecret | SecretField::PreviousWebhookSecret => None,
        };
        ct.map(|ct| open(keyring, field.binding(cred.team_id, cred.provider), ct))
            .transpose()
    }

    pub fn create_github_integration(
        &self,
        keyring: &Keyring,
        team: TeamId,
        new: NewGitHubIntegration,
    ) -> Result<GitHubIntegration> {
        let mut w = self.writer();
        if self.credential(team, Provider::Github)?.is_none() {
            return Err(StoreError::NotFound(format!(
                "a github credential for team #{team}"
            )));
        }
        if self.github_integration(team)?.is_some() {
            return Err(StoreError::Conflict(format!(
                "a GitHub integration for team #{team}"
            )));
        }
        let at = now();
        let integration = GitHubIntegration {
            team_id: team,
            organization_slug: new.organization_slug,
            organization_id: new.organization_id,
            webhook_secret: crypto::encrypt(
                keyring,
                SecretField::WebhookSecret.binding(team, Provider::Github),
                &new.webhook_secret,
            ),
            last_sync_at: None,
            sync_status: SyncStatus::Pending,
            sync_error: None,
            created_at: at,
            updated_at: at,
        };
        w.put(github_key(team), &integration);
        w.commit()?;
        Ok(integration)
    }

    pub fn github_integration(&self, team: TeamId) -> Result<Option<GitHubIntegration>> {
        self.get(Kind::GitHubIntegration, github_key(team))
    }

    pub fn webhook_secret(
        &self,
        keyring: &Keyring,
        integration: &GitHubIntegration,
    ) -> Result<Secret, CryptoError> {
        open(
            keyring,
            SecretField::WebhookSecret.binding(integration.team_id, Provider::Github),
            &integration.webhook_secret,
        )
    }

    /// Record a sync's progress on the integration.
    pub fn set_github_sync_status(
        &self,
        team: TeamId,
        status: SyncStatus,
        error: Option<String>,
    ) -> Result<GitHubIntegration> {
        let mut w = self.writer();
        let mut integration = self.github_integration(team)?.ok_or_else(|| {
            StoreError::NotFound(format!("a GitHub integration for team #{team}"))
        })?;
        integration.sync_status = status;
        integration.sync_error = error;
        integration.updated_at = now();
        if status == SyncStatus::Complete {
            integration.last_sync_at = Some(integration.updated_at);
        }
        w.put(github_key(team), &integration);
        w.commit()?;
        Ok(integration)
    }

    /// Re-encrypt every stored secret with the keyring's newest key. Each record is rewritten
    /// atomically, so an interrupted run leaves every secret readable with the same keyring and
    /// can simply be run again. Secrets that do not decrypt are reported and left as they are.
    pub fn reencrypt_all(&self, keyring: &Keyring) -> Result<RotationReport> {
        let mut report = RotationReport::default();
        for team in self.teams()? {
            for cred in self.credentials(team.id)? {
                let mut updated = cred.clone();
                let fields = [
                    (SecretField::AccessToken, Some(&mut updated.access_token)),
                    (SecretField::RefreshToken, updated.refresh_token.as_mut()),
                ];
                let mut changed = false;
                for (field, ct) in fields {
                    if let Some(ct) = ct {
                        changed |= reseal(
                            keyring,
                            field.binding(team.id, cred.provider),
                            ct,
                            &mut report,
                        );
                    }
                }
                if changed {
                    self.replace_if_unchanged(
                        Kind::Credential,
                        credential_key(team.id, cred.provider),
                        &cred,
                        &updated,
                    )?;
                }
            }
            if let Some(integration) = self.github_integration(team.id)? {
                let mut updated = integration.clone();
                let binding = SecretField::WebhookSecret.binding(team.id, Provider::Github);
                if reseal(keyring, binding, &mut updated.webhook_secret, &mut report) {
                    self.replace_if_unchanged(
                        Kind::GitHubIntegration,
                        github_key(team.id),
                        &integration,
                        &updated,
                    )?;
                }
            }
            // The secret a rotation replaced, still accepted for its grace period: an old key
            // must not be needed to read it once the key file drops that key.
            let key = super::webhook_secret::previous_key(team.id);
            if let Some(prev) =
                self.get::<PreviousWebhookSecret>(Kind::PreviousWebhookSecret, &key)?
            {
                let mut updated = prev.clone();
                let binding = SecretField::PreviousWebhookSecret.binding(team.id, Provider::Github);
                if reseal(keyring, binding, &mut updated.secret, &mut report) {
                    self.replace_if_unchanged(Kind::PreviousWebhookSecret, key, &prev, &updated)?;
                }
            }
        }
        Ok(report)
    }

    /// Write `new` only if the record still equals `old` (a concurrent change wins; the next
    /// rotation run picks it up).
    fn replace_if_unchanged<T>(&self, kind: Kind, key: Key, old: &T, new: &T) -> Result<()>
    where
        T: serde::Serialize + serde::de::DeserializeOwned + PartialEq,
    {
        let mut w = self.writer();
        let current: Option<T> = self.get(kind, &key)?;
        if current.as_ref() == Some(old) {
            w.put(key, new);
            w.commit()?;
        }
        Ok(())
    }
}

fn open(keyring: &Keyring, binding: Binding<'_>, ct: &Ciphertext) -> Result<Secret, CryptoError> {
    crypto::decrypt(keyring, binding, ct).map(|d| d.secret)
}

/// Decrypt and re-encrypt one secret with the newest key; true if it changed.
fn reseal(
    keyring: &Keyring,
    binding: Binding<'_>,
    ct: &mut Ciphertext,
    report: &mut RotationReport,
) -> bool {
    match crypto::decrypt(keyring, binding, ct) {
        Ok(d) if d.by_newest_key => {
            report.already_current += 1;
            false
        }
        Ok(d) => {
            *ct = crypto::encrypt(keyring, binding, &d.secret);
            report.reencrypted += 1;
            true
        }
        Err(e) => {
            report.failed.push(e.to_string());
            false
        }
    }
}

#[derive(Debug, Default, PartialEq, Eq)]
pub struct RotationReport {
    pub reencrypted: usize,
    pub already_current: usize,
    /// One message per secret that could not be decrypted (kept, not deleted).
    pub failed: Vec<String>,
}

impl Store {
    /// Say which stored secrets cannot be decrypted. They are kept, never deleted.
    pub fn report_unreadable_secrets(&self, keyring: &Keyring) -> Result<usize, StoreError> {
        let store = self;
        let mut unreadable = 0;
        for team in store.teams()? {
            for cred in store.credentials(team.id)? {
                for field in [SecretField::AccessToken, SecretField::RefreshToken] {
                    if let Err(e) = store.credential_secret(keyring, &cred, field) {
                        unreadable += 1;
                        tracing::error!(team = team.id, error = %e, "stored secret cannot be decrypted; kept as is");
                    }
                }
            }
            if let Some(g) = store.github_integration(team.id)?
                && let Err(e) = store.webhook_secret(keyring, &g)
            {
                unreadable += 1;
                tracing::error!(team = team.id, error = %e, "stored secret cannot be decrypted; kept as is");
            }
        }
        Ok(unreadable)
    }
}
