//! Azurite, Microsoft's Azure Storage emulator (npm `azurite`, installed into
//! `tests/azurite/node_modules` by `.ci/prereqs`), started on a free loopback port for
//! one test. Its data lives in a folder of the test, so a stop and a restart on the same
//! port model an outage of the storage service, not a loss of the lake.
//!
//! Containers are reached with an account SAS signed with the emulator's published
//! account key, exactly as a SAS URL from a real account is used.

use base64::Engine;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The emulator's well-known account (documented by Microsoft; not a secret).
pub const ACCOUNT: &str = "devstoreaccount1";
pub const ACCOUNT_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

pub struct Azurite {
    child: Option<Child>,
    pub port: u16,
    location: tempfile::TempDir,
    log: PathBuf,
}

fn executable() -> PathBuf {
    let bin = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/azurite/node_modules/.bin/azurite-blob");
    assert!(
        bin.exists(),
        "Azurite is not installed at {}: run `bash .ci/prereqs` (npm ci in tests/azurite)",
        bin.display()
    );
    bin
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Azurite {
    pub fn start() -> Azurite {
        let location = tempfile::tempdir().unwrap();
        let log = location.path().with_extension("azurite.log");
        let mut azurite = Azurite {
            child: None,
            port: free_port(),
            location,
            log,
        };
        azurite.resume();
        azurite
    }

    /// Starts (again) on the same port and data folder.
    pub fn resume(&mut self) {
        assert!(self.child.is_none(), "Azurite is already running");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(executable())
            .args(["--blobHost", "127.0.0.1", "--blobPort"])
            .arg(self.port.to_string())
            .arg("--location")
            .arg(self.location.path())
            // The Blob SDK speaks a newer service version than the emulator announces.
            .args(["--skipApiVersionCheck", "--loose", "--silent"])
            .stdout(Stdio::from(log.try_clone().unwrap()))
            .stderr(Stdio::from(log))
            .spawn()
            .expect("start azurite-blob");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("Azurite exited with {status}:\n{}", self.log_text());
            }
            assert!(
                Instant::now() < deadline,
                "Azurite did not listen within 60 s:\n{}",
                self.log_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the emulator (SIGTERM, so it saves its metadata like a service that goes
    /// down for maintenance): the storage service is down until [`Azurite::resume`].
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(15);
            while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The URL of `container` with an account SAS (read, write, delete, list, create).
    pub fn container_url(&self, container: &str) -> String {
        format!(
            "http://127.0.0.1:{}/{ACCOUNT}/{container}?{}",
            self.port,
            account_sas()
        )
    }
}

impl Drop for Azurite {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An account SAS for the Blob service, signed as the "Create an account SAS" page of
/// the Storage REST reference describes (version 2020-12-06 and later).
pub fn account_sas() -> String {
    let version = "2021-08-06";
    let (permissions, services, resource_types, protocol) = ("rwdlac", "b", "sco", "https,http");
    let expiry = (chrono::Utc::now() + chrono::Duration::days(1))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string();
    let string_to_sign = format!(
        "{ACCOUNT}\n{permissions}\n{services}\n{resource_types}\n\n{expiry}\n\n{protocol}\n{version}\n\n"
    );
    let key_bytes = base64::engine::general_purpose::STANDARD
        .decode(ACCOUNT_KEY)
        .unwrap();
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key_bytes);
    let signature = base64::engine::general_purpose::STANDARD
        .encode(ring::hmac::sign(&key, string_to_sign.as_bytes()).as_ref());
    let encode = |v: &str| -> String {
        v.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect()
    };
    format!(
        "sv={version}&ss={services}&srt={resource_types}&sp={permissions}&se={}&spr={}&sig={}",
        encode(&expiry),
        encode(protocol),
        encode(&signature)
    )
}
