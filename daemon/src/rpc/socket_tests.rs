#![allow(unsafe_code)] // libc calls, each with its SAFETY comment.
use super::*;
use std::os::unix::fs::symlink;

const VICTIM: &str = "the owner's precious data\n";

fn victim(dir: &Path) -> PathBuf {
    let path = dir.join("precious.txt");
    fs::write(&path, VICTIM).unwrap();
    path
}

fn assert_refused(err: SocketError, lock: &Path, needle: &str) {
    let text = err.to_string();
    assert!(
        matches!(err, SocketError::NotOurs { .. }),
        "{text} should be a refusal"
    );
    assert!(text.contains(&lock.display().to_string()), "{text}");
    assert!(text.contains(needle), "{text} should say {needle:?}");
}

#[test]
fn the_lock_file_is_created_private_and_reused_when_it_is_ours() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("t.sock.lock");
    drop(open_lock(&lock).unwrap());
    let meta = fs::symlink_metadata(&lock).unwrap();
    assert!(meta.file_type().is_file());
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    fs::write(&lock, "1234\n").unwrap();
    let mut again = open_lock(&lock).expect("our own lock file from an earlier run");
    let mut text = String::new();
    again.read_to_string(&mut text).unwrap();
    assert_eq!(text, "1234\n", "opening never truncates");
}

#[test]
fn a_symlinked_lock_file_is_refused_and_its_target_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let target = victim(dir.path());
    let lock = dir.path().join("t.sock.lock");
    symlink(&target, &lock).unwrap();
    let err = open_lock(&lock).unwrap_err();
    assert_refused(err, &lock, "is a symbolic link");
    assert_eq!(fs::read_to_string(&target).unwrap(), VICTIM);

    // A dangling one does not get its target created either.
    let lock2 = dir.path().join("u.sock.lock");
    let missing = dir.path().join("would-be-created");
    symlink(&missing, &lock2).unwrap();
    assert_refused(open_lock(&lock2).unwrap_err(), &lock2, "symbolic link");
    assert!(!missing.exists());
}

#[test]
fn a_hard_link_to_another_file_is_refused_and_not_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let target = victim(dir.path());
    let lock = dir.path().join("t.sock.lock");
    fs::hard_link(&target, &lock).unwrap();
    assert_refused(open_lock(&lock).unwrap_err(), &lock, "2 hard links");
    assert_eq!(fs::read_to_string(&target).unwrap(), VICTIM);
}

#[test]
fn a_lock_file_of_another_user_is_refused_and_not_truncated() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("t.sock.lock");
    fs::write(&lock, VICTIM).unwrap();
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // As root, make it someone else's (nobody's).
        std::os::unix::fs::chown(&lock, Some(65_534), Some(65_534)).unwrap();
        assert_refused(
            open_lock(&lock).unwrap_err(),
            &lock,
            "belongs to uid 65534, not to this daemon's uid 0",
        );
    } else {
        // Not root: a file of another user we cannot write is refused by the kernel first.
        fs::set_permissions(&lock, fs::Permissions::from_mode(0o400)).unwrap();
        assert!(open_lock(&lock).is_err());
    }
    assert_eq!(fs::read_to_string(&lock).unwrap(), VICTIM);
}

#[test]
fn a_directory_or_fifo_as_lock_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let lock = dir.path().join("t.sock.lock");
    fs::create_dir(&lock).unwrap();
    assert!(
        open_lock(&lock).is_err(),
        "a directory cannot be opened for writing"
    );
    let fifo = dir.path().join("f.sock.lock");
    let c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    assert_refused(
        open_lock(&fifo).unwrap_err(),
        &fifo,
        "a FIFO, not a regular file",
    );
}

#[tokio::test]
async fn bind_refuses_a_symlinked_lock_file_and_a_file_that_is_not_a_socket() {
    let dir = tempfile::tempdir().unwrap();
    let target = victim(dir.path());
    let socket = dir.path().join("t.sock");
    symlink(&target, dir.path().join("t.sock.lock")).unwrap();
    let err = bind(&socket, Access::default()).unwrap_err();
    assert!(matches!(err, SocketError::NotOurs { .. }), "{err}");
    assert_eq!(fs::read_to_string(&target).unwrap(), VICTIM);
    assert!(!socket.exists(), "nothing bound");

    // A regular file where the socket goes is not a stale socket: left alone.
    let socket = dir.path().join("u.sock");
    fs::write(&socket, VICTIM).unwrap();
    let err = bind(&socket, Access::default()).unwrap_err();
    assert!(
        err.to_string().contains("a regular file, not a socket"),
        "{err}"
    );
    assert_eq!(fs::read_to_string(&socket).unwrap(), VICTIM);
}

#[tokio::test]
async fn bind_claims_the_path_once_and_writes_its_pid() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("t.sock");
    let (_listener, guard) = bind(&socket, Access::default()).unwrap();
    let lock = dir.path().join("t.sock.lock");
    assert_eq!(
        fs::read_to_string(&lock).unwrap().trim(),
        std::process::id().to_string()
    );
    assert!(
        fs::symlink_metadata(&socket)
            .unwrap()
            .file_type()
            .is_socket()
    );
    let err = bind(&socket, Access::default()).unwrap_err();
    assert!(matches!(err, SocketError::AlreadyRunning { .. }), "{err}");
    drop(guard);
    assert!(!socket.exists());
    // The next daemon reuses the lock file it finds (ours) and a stale socket is replaced.
    let (_listener, _guard) = bind(&socket, Access::default()).unwrap();
}
