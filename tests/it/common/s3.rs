//! A real S3-protocol server on loopback: s3s-fs, which checks SigV4 signatures and stores each
//! object as a plain file under its root folder (so tests can seed and inspect buckets directly).

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::{TempDir, repo, tempdir};

pub const ACCESS_KEY: &str = "AKIATRAILPQTEST";
pub const SECRET_KEY: &str = "trailpq-test-secret-key";

pub struct S3Server {
    child: Child,
    pub port: u16,
    root: TempDir,
}

/// The s3s-fs binary: `$TRAILPQ_S3S_FS`, or the one `make test-deps` installs into `.tools/`.
pub fn binary() -> PathBuf {
    std::env::var_os("TRAILPQ_S3S_FS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".tools/bin/s3s-fs"))
}

impl S3Server {
    pub fn start() -> Self {
        let root = tempdir();
        let (child, port) = spawn_on_loopback("s3s-fs", Duration::from_secs(10), |port| {
            Command::new(binary())
                .args(["--host", "127.0.0.1", "--port", &port.to_string()])
                .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
                .arg(root.path())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("s3s-fs starts")
        });
        S3Server { child, port, root }
    }

    /// Environment for trailpq to reach this server.
    pub fn env(&self) -> Vec<(String, String)> {
        self.env_with_secret(SECRET_KEY)
    }

    pub fn env_with_secret(&self, secret: &str) -> Vec<(String, String)> {
        [
            (
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{}", self.port),
            ),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", secret.into()),
            ("AWS_REGION", "us-east-1".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }

    /// Creates a bucket; returns its folder on disk.
    pub fn bucket(&self, name: &str) -> PathBuf {
        let dir = self.root.path().join(name);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Removes the empty folders s3s-fs keeps after the objects in them are deleted (S3 has no
    /// folders: nothing a client sees changes). s3s-fs walks every folder under a prefix it
    /// lists, so a thousand runs' empty staging folders make each listing of `_trailpq/work/`
    /// a thousand times slower than S3's.
    #[cfg_attr(not(feature = "slow-tests"), allow(dead_code))]
    pub fn forget_empty_folders(&self, bucket: &str) {
        fn prune(dir: &Path) -> bool {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return false;
            };
            let mut empty = true;
            for entry in entries.flatten() {
                let path = entry.path();
                empty &= path.is_dir() && prune(&path) && std::fs::remove_dir(&path).is_ok();
            }
            empty
        }
        prune(&self.bucket(bucket));
    }

    /// Copies a local folder into a bucket under `prefix`.
    pub fn upload(&self, bucket: &str, prefix: &str, from: &Path) {
        let to = self.bucket(bucket).join(prefix);
        for rel in super::files_under(from) {
            let target = to.join(&rel);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::copy(from.join(&rel), &target).unwrap();
        }
    }
}

/// Starts a server on a free loopback port (`spawn` starts it on the port given), and waits until
/// it accepts connections; tries other ports if it exits or is not up within `timeout`.
pub fn spawn_on_loopback(
    what: &str,
    timeout: Duration,
    spawn: impl Fn(u16) -> Child,
) -> (Child, u16) {
    for _ in 0..5 {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut child = spawn(port);
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                break;
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return (child, port);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    panic!("{what} did not start on loopback");
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
