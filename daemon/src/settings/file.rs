//! The config file, `daemon.toml`: where it is, reading it into a [`Layer`], and the one edit
//! tidemarkd makes to it itself (`tidemark setup github`), which keeps the user's comments.

use super::{Key, Layer, Origin, Raw, SECRET_BINDING, SettingsError};
use crate::crypto::{Ciphertext, Keyring, Secret};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use toml_edit::{DocumentMut, Item, Value};

/// The client secret as `tidemark setup github` writes it: Fernet-sealed with the daemon's key.
pub const SEALED_SECRET_KEY: &str = "github_client_secret_sealed";

/// The config file a daemon reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigFile {
    pub path: PathBuf,
    /// Named by `--config` / `TIDEMARK_CONFIG`: it must exist. The default one may be missing
    /// (the defaults apply).
    pub explicit: bool,
}

/// `$XDG_CONFIG_HOME/tidemark/daemon.toml`, else `~/.config/tidemark/daemon.toml`.
pub fn default_path() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("HOME")
                .filter(|v| !v.is_empty())
                .map(|home| PathBuf::from(home).join(".config"))
        })?;
    Some(base.join("tidemark").join("daemon.toml"))
}

/// Read the file into a layer. A missing default file is an empty layer.
pub fn read(file: &ConfigFile) -> Result<Layer, SettingsError> {
    let path = &file.path;
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !file.explicit => {
            return Ok(Layer::default());
        }
        Err(source) => {
            return Err(SettingsError::Read {
                path: path.clone(),
                source,
            });
        }
    };
    let mode = std::fs::metadata(path).map_or(0, |m| m.permissions().mode() & 0o777);
    parse(path, &text, mode)
}

fn parse(path: &Path, text: &str, mode: u32) -> Result<Layer, SettingsError> {
    let doc: DocumentMut =
        text.parse()
            .map_err(|e: toml_edit::TomlError| SettingsError::Syntax {
                path: path.to_path_buf(),
                message: e.to_string().trim().replace('\n', " "),
            })?;
    let bad = |key: &str, message: String| SettingsError::Invalid {
        origin: format!("bad config file {}: key `{key}`", path.display()),
        message,
    };
    let mut layer = Layer::default();
    let origin = Origin::File(path.to_path_buf());
    for (name, item) in doc.iter() {
        if name == SEALED_SECRET_KEY {
            let Some(text) = item.as_str() else {
                return Err(bad(
                    name,
                    "expected a string (as `tidemark setup github` writes it)".into(),
                ));
            };
            if layer.get(Key::GithubClientSecret).is_some() {
                return Err(bad(
                    name,
                    "set either github_client_secret or github_client_secret_sealed, not both"
                        .into(),
                ));
            }
            layer.set(
                Key::GithubClientSecret,
                Raw::Sealed(Ciphertext::from_stored(text.to_string())),
                origin.clone(),
            );
            continue;
        }
        let Some(key) = Key::from_name(name) else {
            return Err(bad(name, unknown_key(name)));
        };
        let value = match item {
            Item::Value(Value::String(s)) => s.value().clone(),
            Item::Value(Value::Integer(i)) if key != Key::SocketMode => i.value().to_string(),
            // `socket_mode = 0o660` reads as the number it is.
            Item::Value(Value::Integer(i)) => format!("{:o}", i.value()),
            other => {
                return Err(bad(
                    name,
                    format!(
                        "expected {} (a {}, found {})",
                        key.allowed(),
                        if key.name().ends_with("_secs") {
                            "number"
                        } else {
                            "string"
                        },
                        other.type_name()
                    ),
                ));
            }
        };
        if key == Key::SlackClientSecret && mode & 0o077 != 0 {
            return Err(bad(
                name,
                format!(
                    "the file holds a secret but its mode {mode:04o} lets others read it; \
                     `chmod 600 {}`, or give it as SLACK_CLIENT_SECRET",
                    path.display()
                ),
            ));
        }
        if key == Key::GithubClientSecret {
            if layer.get(key).is_some() {
                return Err(bad(
                    name,
                    "set either github_client_secret or github_client_secret_sealed, not both"
                        .into(),
                ));
            }
            if mode & 0o077 != 0 {
                return Err(bad(
                    name,
                    format!(
                        "the file holds a secret but its mode {mode:04o} lets others read it; \
                         `chmod 600 {}`, or let `tidemark setup github` store the secret sealed",
                        path.display()
                    ),
                ));
            }
        }
        layer.set(key, Raw::Text(value), origin.clone());
    }
    Ok(layer)
}

fn unknown_key(name: &str) -> String {
    let known: Vec<&str> = Key::ALL.iter().map(|k| k.name()).collect();
    match name {
        "data_dir" | "socket" => format!(
            "the {} is not read from the config file: clients find the daemon by it, so it is \
             set with --{} or TIDEMARK_{} for both",
            name.replace('_', " "),
            name.replace('_', "-"),
            name.to_uppercase()
        ),
        _ => {
            let near = known
                .iter()
                .find(|k| strsim_close(k, name))
                .map(|k| format!(" (did you mean `{k}`?)"))
                .unwrap_or_default();
            format!(
                "unknown key{near}; the keys are: {}, {SEALED_SECRET_KEY}",
                known.join(", ")
            )
        }
    }
}

/// A cheap "did you mean": same key with at most two edits (Levenshtein).
fn strsim_close(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()] <= 2
}

/// Seal the OAuth app's client secret for the config file.
pub fn seal_secret(keyring: &Keyring, secret: &Secret) -> Ciphertext {
    crate::crypto::encrypt(keyring, SECRET_BINDING, secret)
}

/// What to do with the client secret when writing the GitHub app's settings.
pub enum SecretChange {
    Keep,
    Set(Ciphertext),
    Remove,
}

/// Set `github_client_id` (and the sealed secret) in the file, keeping everything else in it,
/// written atomically with mode 0600.
pub fn write_github_app(
    path: &Path,
    client_id: &str,
    secret: SecretChange,
) -> Result<(), SettingsError> {
    let err = |message: String| SettingsError::Write {
        path: path.to_path_buf(),
        message,
    };
    let mut doc: DocumentMut = match std::fs::read_to_string(path) {
        Ok(text) => text.parse().map_err(|e: toml_edit::TomlError| {
            err(format!(
                "it does not parse as TOML ({}); fix it first",
                e.to_string().trim()
            ))
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => template().parse().expect("valid"),
        Err(e) => return Err(err(e.to_string())),
    };
    doc["github_client_id"] = toml_edit::value(client_id);
    match secret {
        SecretChange::Keep => {}
        SecretChange::Set(sealed) => {
            doc.remove("github_client_secret");
            doc[SEALED_SECRET_KEY] = toml_edit::value(sealed.as_str());
        }
        SecretChange::Remove => {
            doc.remove("github_client_secret");
            doc.remove(SEALED_SECRET_KEY);
        }
    }
    write_atomically(path, doc.to_string().as_bytes()).map_err(|e| err(e.to_string()))
}

/// Write `bytes` to a temporary file beside `path` (0600), sync it, and rename it over `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    if !dir.exists() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("daemon.toml"),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)?;
        std::fs::File::open(dir)?.sync_all()
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A commented file listing every key, for a new config file.
pub fn template() -> String {
    let mut out = String::from(
        "# tidemarkd's settings. The environment and the command line win over this file.\n\
         # Reload after a change: `tidemark daemon reload` (or SIGHUP); the settings marked\n\
         # \"restart\" need `tidemark daemon restart`. `tidemark daemon status` shows what runs.\n",
    );
    for key in Key::ALL {
        let example = match key {
            Key::GithubClientId => "\"Ov23li...\"".to_string(),
            Key::GithubClientSecret | Key::SlackClientSecret => continue,
            Key::SlackClientId => "\"1234567890.0987654321\"".to_string(),
            Key::PublicUrl => "\"https://<your tunnel>\"".to_string(),
            Key::OauthAddr => "\"127.0.0.1:8765\"".to_string(),
            Key::MetricsAddr => "\"127.0.0.1:9464\"".to_string(),
            Key::SocketGroup => "\"tidemark\"".to_string(),
            Key::SocketMode => "\"0660\"".to_string(),
            k if k.name().ends_with("_secs") || k == Key::WebhookBacklogMax => {
                k.default_text().unwrap_or("60").to_string()
            }
            k => format!("\"{}\"", k.default_text().unwrap_or_default()),
        };
        let restart = if key.reloadable() { "" } else { " (restart)" };
        out.push_str(&format!(
            "\n# {}{restart}\n# {} = {example}\n",
            key.allowed(),
            key.name()
        ));
    }
    out.push_str(
        "\n# The OAuth app's client secret: `tidemark setup github` stores it sealed with the\n\
         # daemon's key as github_client_secret_sealed. A plain github_client_secret is read\n\
         # only from a file no one else can read (mode 0600).\n",
    );
    out
}
