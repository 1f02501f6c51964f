//! S3 credentials as AWS users have them: profiles in `AWS_CONFIG_FILE` and
//! `AWS_SHARED_CREDENTIALS_FILE`, `credential_process`, `--profile` and `AWS_PROFILE`, against
//! the S3 server on loopback (which checks every signature), with no key variables set; what a
//! run says when there are no credentials or they are wrong; and their refresh in a long run.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use crate::common::proxy::{Fault, Op, Proxy, Rule};
use crate::common::reference::{assert_same_records, records_under};
use crate::common::s3::{ACCESS_KEY, S3Server, SECRET_KEY};
use crate::common::*;

/// A secret that must never be printed.
const WRONG_SECRET: &str = "wrong-secret-that-must-not-be-printed";
/// A secret inside broken credential_process output.
const LEAKY_SECRET: &str = "secret-in-broken-process-output";
/// The secret of a role's source profile.
const BASE_SECRET: &str = "base-profile-secret-never-printed";

/// A scratch HOME with AWS config files and credential_process scripts.
struct Aws {
    dir: TempDir,
}

impl Aws {
    fn new(config: &str, credentials: &str) -> Self {
        let aws = Aws { dir: tempdir() };
        std::fs::write(aws.config(), config).unwrap();
        std::fs::write(aws.credentials(), credentials).unwrap();
        aws
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("config")
    }

    fn credentials(&self) -> PathBuf {
        self.dir.path().join("credentials")
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes an executable script; returns its path.
    fn script(&self, name: &str, body: &str) -> String {
        use std::os::unix::fs::PermissionsExt;
        let path = self.path(name);
        std::fs::write(&path, format!("#!/bin/sh\n{body}")).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path_str(&path).to_string()
    }

    /// A credential_process printing the server's keys, valid for `life` seconds if given, and
    /// counting its runs (one line each) in `counter`.
    fn process(&self, name: &str, life: Option<u64>) -> String {
        let counter = self.path(&format!("{name}.runs"));
        let expiration = match life {
            Some(seconds) => format!(
                r#","Expiration":"'"$(date -u -d "@$(( $(date +%s) + {seconds} ))" +%Y-%m-%dT%H:%M:%SZ)"'""#
            ),
            None => String::new(),
        };
        self.script(
            name,
            &format!(
                "echo run >> '{}'\necho '{{\"Version\":1,\"AccessKeyId\":\"{ACCESS_KEY}\",\"SecretAccessKey\":\"{SECRET_KEY}\"{expiration}}}'\n",
                path_str(&counter)
            ),
        )
    }

    fn runs(&self, name: &str) -> usize {
        std::fs::read_to_string(self.path(&format!("{name}.runs")))
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }

    /// The environment of a run: these files, HOME here (never the developer's ~/.aws), no
    /// instance metadata, and the S3 server's endpoint, but no keys and no region.
    fn env(&self, endpoint_port: u16) -> Vec<(String, String)> {
        [
            ("AWS_CONFIG_FILE", path_str(&self.config()).to_string()),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                path_str(&self.credentials()).to_string(),
            ),
            ("HOME", path_str(self.dir.path()).to_string()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            (
                "AWS_ENDPOINT_URL",
                format!("http://127.0.0.1:{endpoint_port}"),
            ),
            ("AWS_ALLOW_HTTP", "true".into()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect()
    }
}

fn with(env: &[(String, String)], extra: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut env = env.to_vec();
    env.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    env
}

/// Checks that no secret is in a run's output or its report.
#[track_caller]
fn assert_no_secret(run: &Run, report: &serde_json::Value) {
    let report = report.to_string();
    for secret in [SECRET_KEY, WRONG_SECRET, LEAKY_SECRET, BASE_SECRET] {
        for (what, text) in [
            ("stdout", &run.stdout),
            ("stderr", &run.stderr),
            ("report", &report),
        ] {
            assert!(!text.contains(secret), "{what} shows a secret: {text}");
        }
    }
}

/// Runs `trailpq ARGS` (ARGS may start before the command, for global flags) with a report.
fn run_with_report(args: &[&str], env: &[(String, String)]) -> (Run, serde_json::Value) {
    let report_file = tempfile::NamedTempFile::new().unwrap();
    let mut all = args.to_vec();
    all.extend(["--report", path_str(report_file.path())]);
    let run = trailpq_env(&all, env);
    (run, read_report(report_file.path()))
}

#[test]
fn profiles_sign_requests_with_no_key_variables() {
    crate::needs!(s3);
    let s3 = S3Server::start();
    s3.upload("logs", "AWSLogs/", &sample_data().join("awsdocs"));
    s3.bucket("lake");
    let expected = records_under(&sample_data().join("awsdocs"));
    let aws = Aws::new("", "");
    let process = aws.process("creds.sh", Some(3600));
    std::fs::write(
        aws.config(),
        format!(
            "[profile proc]\ncredential_process = {process}\nregion = us-east-1\n\n\
             [profile keys]\nregion = us-east-1\n"
        ),
    )
    .unwrap();
    std::fs::write(
        aws.credentials(),
        format!("[keys]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {SECRET_KEY}\n"),
    )
    .unwrap();
    let env = aws.env(s3.port);
    let out = tempdir();

    // credential_process, chosen with --profile; the region comes from the profile.
    let (run, report) = run_with_report(
        &[
            "convert",
            "s3://logs/AWSLogs/",
            "--out",
            "s3://lake/proc/",
            "--profile",
            "proc",
        ],
        &env,
    );
    let run = run.expect(0);
    assert_no_secret(&run, &report);
    assert_eq!(report["records_written"], expected.len() as u64, "{report}");
    assert_eq!(
        aws.runs("creds.sh"),
        1,
        "credentials are fetched once a run"
    );

    // The global flag before the command, on export from the bucket.
    let exported = trailpq_env(&["--profile", "proc", "export", "s3://lake/proc"], &env).expect(0);
    let records: Vec<serde_json::Value> = exported
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_same_records(&expected, &records);

    // Static keys in the shared credentials file, chosen with AWS_PROFILE.
    let dest = out.path().join("keys");
    let (run, report) = run_with_report(
        &["convert", "s3://logs/AWSLogs/", "--out", path_str(&dest)],
        &with(&env, &[("AWS_PROFILE", "keys")]),
    );
    let run = run.expect(0);
    assert_no_secret(&run, &report);
    assert_eq!(report["records_written"], expected.len() as u64, "{report}");
    assert_same_records(&expected, &export(&dest, None));

    // --profile wins over keys in the environment (as in the AWS CLI); without it, they win.
    let wrong_keys = with(
        &env,
        &[
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
            ("AWS_SECRET_ACCESS_KEY", WRONG_SECRET),
            ("AWS_REGION", "us-east-1"),
        ],
    );
    let query = trailpq_env(
        &[
            "query",
            "s3://lake/proc",
            "--sql",
            "SELECT count(*) AS n FROM cloudtrail",
            "--format",
            "csv",
            "--profile",
            "keys",
        ],
        &wrong_keys,
    )
    .expect(0);
    assert_eq!(query.stdout.trim(), format!("n\n{}", expected.len()));
    let run = trailpq_env(&["export", "s3://lake/proc"], &wrong_keys);
    let run = one_line_error(run, 1, "SignatureDoesNotMatch");
    assert!(
        run.stderr.contains("AWS_SECRET_ACCESS_KEY"),
        "{}",
        run.stderr
    );
    assert_no_secret(&run, &serde_json::Value::Null);
}

#[test]
fn wrong_or_failing_credentials_are_one_line_without_secrets() {
    crate::needs!(s3);
    let s3 = S3Server::start();
    s3.upload("logs", "AWSLogs/", &sample_data().join("awsdocs"));
    let aws = Aws::new("", "");
    let failing = aws.script(
        "failing.sh",
        &format!("echo '{{\"Version\":1,\"AccessKeyId\":\"{ACCESS_KEY}\",\"SecretAccessKey\":\"{LEAKY_SECRET}\"}}'\necho 'token expired, sign in again' >&2\nexit 1\n"),
    );
    let broken = aws.script(
        "broken.sh",
        &format!("echo '{{\"Version\":1,\"AccessKeyId\":\"{ACCESS_KEY}\",\"SecretAccessKey\":\"{LEAKY_SECRET}\"'\n"),
    );
    std::fs::write(
        aws.config(),
        format!(
            "[profile failing]\ncredential_process = {failing}\n\
             [profile broken]\ncredential_process = {broken}\n"
        ),
    )
    .unwrap();
    std::fs::write(
        aws.credentials(),
        format!(
            "[bad]\naws_access_key_id = {ACCESS_KEY}\naws_secret_access_key = {WRONG_SECRET}\n"
        ),
    )
    .unwrap();
    let env = with(&aws.env(s3.port), &[("AWS_REGION", "us-east-1")]);
    let out = tempdir();
    let dest = out.path().join("lake");
    let convert = |profile: &str| {
        run_with_report(
            &[
                "convert",
                "s3://logs/AWSLogs/",
                "--out",
                path_str(&dest),
                "--profile",
                profile,
            ],
            &env,
        )
    };

    // S3 refuses the profile's keys: the message names the profile to check.
    let (run, report) = convert("bad");
    assert_no_secret(&run, &report);
    let run = one_line_error(run, 1, "SignatureDoesNotMatch");
    assert!(
        run.stderr
            .contains("(check the credentials of profile 'bad' (--profile) (keys) in "),
        "{}",
        run.stderr
    );
    assert!(report["error"].as_str().unwrap().contains("profile 'bad'"));

    // The process fails: its own words, and what to check; not what it printed on stdout.
    let (run, report) = convert("failing");
    assert_no_secret(&run, &report);
    let run = one_line_error(run, 1, "cannot get AWS credentials from profile 'failing'");
    for needle in [
        "(credential_process)",
        "external process exited with status 1",
        "token expired, sign in again",
        "check that the credential_process of profile 'failing' works",
    ] {
        assert!(run.stderr.contains(needle), "{needle}: {}", run.stderr);
    }

    // The process prints broken JSON holding a secret: the error does not quote it.
    let (run, report) = convert("broken");
    assert_no_secret(&run, &report);
    one_line_error(run, 1, "could not parse response");
}

/// "Quickly" as events rather than seconds: with instance metadata disabled, nothing is asked
/// that could keep the run waiting (no metadata request, no S3 request to retry); with a
/// metadata service that never answers, the product asks it once and gives up on its own, long
/// before a deadline that only guards against a hang.
#[test]
fn no_credentials_anywhere_is_one_clear_line_quickly() {
    crate::needs!(s3);
    let s3 = S3Server::start();
    s3.upload("logs", "AWSLogs/", &sample_data().join("awsdocs"));
    let proxy = Proxy::start(s3.port);
    let metadata = FakeAws::start();
    let aws = Aws::new("", "");
    // A metadata service that would answer: it must not even be asked.
    let env = with(
        &aws.env(proxy.port),
        &[("AWS_EC2_METADATA_SERVICE_ENDPOINT", &metadata.url())],
    );
    let out = tempdir();
    let dest = out.path().join("lake");
    let args = ["convert", "s3://logs/AWSLogs/", "--out", path_str(&dest)];

    let (run, report) = run_with_report(&args, &env);
    assert_no_secret(&run, &report);
    let run = one_line_error(
        run,
        1,
        "'s3://logs/AWSLogs/': no AWS credentials found; tried ",
    );
    for needle in [
        "environment variables (AWS_ACCESS_KEY_ID unset)",
        "profile 'default' (not in ",
        path_str(&aws.config()),
        path_str(&aws.credentials()),
        "web identity (AWS_WEB_IDENTITY_TOKEN_FILE unset)",
        "container credentials (AWS_CONTAINER_CREDENTIALS_* unset)",
        "EC2 instance metadata (disabled by AWS_EC2_METADATA_DISABLED)",
        "`aws sso login --profile NAME`",
        "--profile NAME or AWS_PROFILE",
        "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
    ] {
        assert!(run.stderr.contains(needle), "{needle}: {}", run.stderr);
    }
    assert!(
        report["error"]
            .as_str()
            .unwrap()
            .contains("no AWS credentials found")
    );
    assert_eq!(metadata.seen().len(), 0, "disabled metadata was asked");
    assert_eq!(
        proxy.requests().len(),
        0,
        "S3 was asked without credentials"
    );

    // A profile that is in neither file is a usage error, named before anything is read.
    for (flag, var, origin) in [
        (Some("nosuch"), None, "(--profile)"),
        (None, Some("nosuch"), "(AWS_PROFILE)"),
    ] {
        let mut args = args.to_vec();
        if let Some(name) = flag {
            args.extend(["--profile", name]);
        }
        let env = match var {
            Some(name) => with(&env, &[("AWS_PROFILE", name)]),
            None => env.clone(),
        };
        let run = trailpq_env(&args, &env);
        let run = one_line_error(run, 2, &format!("AWS profile 'nosuch' {origin} is not in "));
        assert!(
            run.stderr.contains("there are no profiles there"),
            "{}",
            run.stderr
        );
    }
    assert_eq!(proxy.requests().len(), 0);

    // The metadata service does not answer (it reads requests and never replies): the product
    // gives up on its own after its attempts.
    let silent = Silent::start();
    let env: Vec<_> = env
        .into_iter()
        .filter(|(k, _)| !k.starts_with("AWS_EC2_METADATA_"))
        .chain([(
            "AWS_EC2_METADATA_SERVICE_ENDPOINT".to_string(),
            silent.url(),
        )])
        .collect();
    let run = finish(spawn(&args, &env), Duration::from_secs(120));
    let run = one_line_error(run, 1, "no AWS credentials found");
    assert!(
        run.stderr.contains("EC2 instance metadata (no answer)"),
        "{}",
        run.stderr
    );
    // One token request, unanswered: the product asked nothing more of the silent service (no
    // retry of it, no other request) and gave up on its own.
    assert_eq!(silent.requests(), ["PUT /latest/api/token HTTP/1.1"]);
    assert_eq!(proxy.requests().len(), 0);
}

/// A metadata service that reads requests and never answers; it keeps every connection open.
struct Silent {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Silent {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests: Arc<Mutex<Vec<String>>> = Arc::default();
        let log = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || {
                    let mut line = String::new();
                    let mut reader = BufReader::new(&stream);
                    if reader.read_line(&mut line).is_ok() && !line.is_empty() {
                        log.lock().unwrap().push(line.trim_end().to_string());
                    }
                    // Hold the connection until the client drops it.
                    let _ = std::io::copy(&mut reader, &mut std::io::sink());
                });
            }
        });
        Silent { port, requests }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// Starts `trailpq ARGS` with `env` and its output piped.
fn spawn(args: &[&str], env: &[(String, String)]) -> Child {
    let mut cmd = command(args);
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for a run to end; one still going after `deadline` (a limit against hangs, far beyond
/// what the run needs) is killed, and the test fails.
fn finish(mut child: Child, deadline: Duration) -> Run {
    let until = Instant::now() + deadline;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > until {
            let _ = child.kill();
            panic!("the run did not end within {deadline:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Run::from(child.wait_with_output().unwrap())
}

/// The first credentials are valid for 10 s, the next for an hour. The listing is signed with the
/// first (one run of credential_process for all its requests: not per request), then the first
/// source GET is held until they have expired; the rest of the run needs exactly one more.
/// (The listing takes well under the 5 s after which the first are due.)
#[test]
fn short_lived_credentials_are_refreshed_in_a_long_run_but_not_per_request() {
    crate::needs!(s3);
    let s3 = S3Server::start();
    let logs = tempdir();
    generate(logs.path(), 400, 2, "2024-05-01", 7);
    s3.upload("logs", "", logs.path());
    let proxy = Proxy::start(s3.port);
    let aws = Aws::new("", "");
    // Each run writes the expiry (Unix seconds) of the credentials it prints to short.sh.runs.
    let runs = aws.path("short.sh.runs");
    let process = aws.script(
        "short.sh",
        &format!(
            "runs='{}'\n\
             if [ -s \"$runs\" ]; then life=3600; else life=10; fi\n\
             expires=$(( $(date +%s) + life ))\n\
             echo \"$expires\" >> \"$runs\"\n\
             echo '{{\"Version\":1,\"AccessKeyId\":\"{ACCESS_KEY}\",\"SecretAccessKey\":\"{SECRET_KEY}\",\"Expiration\":\"'\"$(date -u -d \"@$expires\" +%Y-%m-%dT%H:%M:%SZ)\"'\"}}'\n",
            path_str(&runs)
        ),
    );
    std::fs::write(
        aws.config(),
        format!("[default]\ncredential_process = {process}\nregion = us-east-1\n"),
    )
    .unwrap();
    proxy.add(Rule::new(Some(Op::Get), Some("/AWSLogs/"), Fault::Hold).times(1));
    let report_file = tempfile::NamedTempFile::new().unwrap();
    let args = [
        "convert",
        "s3://logs/AWSLogs/",
        "--out",
        "s3://logs/lake/",
        "-q",
        "--report",
        path_str(report_file.path()),
    ];
    let child = spawn(&args, &aws.env(proxy.port));
    assert!(proxy.wait_held(Duration::from_secs(120)), "a GET was held");
    let listing = proxy.requests().len();
    assert_eq!(aws.runs("short.sh"), 1, "runs for {listing} requests");
    assert!(listing >= 5, "{listing} requests");
    // Wait until the first credentials have expired.
    let first = std::fs::read_to_string(&runs).unwrap();
    let first: u64 = first.lines().next().unwrap().parse().unwrap();
    let expired = SystemTime::UNIX_EPOCH + Duration::from_secs(first + 1);
    while SystemTime::now() < expired {
        std::thread::sleep(Duration::from_millis(100));
    }
    proxy.release();
    let run = finish(child, Duration::from_secs(300)).expect(0);
    let report = read_report(report_file.path());
    assert_no_secret(&run, &report);
    assert_eq!(
        report["records_written"],
        records_under(logs.path()).len() as u64,
        "{report}"
    );
    let requests = proxy.requests().len();
    assert_eq!(aws.runs("short.sh"), 2, "runs for {requests} requests");
    assert!(requests > listing, "{requests} requests");
}

/// A request seen by [`FakeAws`]: the request line, the header lines (lower-cased names) and
/// the body.
#[derive(Debug, Clone)]
struct Seen {
    line: String,
    headers: Vec<String>,
    body: String,
}

/// AWS's credential endpoints on loopback, as the SDK calls them: IAM Identity Center's
/// GetRoleCredentials, STS's AssumeRole and AssumeRoleWithWebIdentity (Query protocol, XML), the
/// container credentials endpoint and EC2 instance metadata (IMDSv2). Every answer holds the S3
/// server's keys, valid until 2099.
struct FakeAws {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl FakeAws {
    fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
        let log = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &log);
                });
            }
        });
        FakeAws { port, seen }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// Answers requests on one connection until the client closes it.
fn serve(stream: TcpStream, log: &Mutex<Vec<Seen>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut headers = Vec::new();
        let mut length = 0;
        loop {
            let mut header = String::new();
            reader.read_line(&mut header)?;
            let header = header.trim_end().to_string();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().unwrap_or(0);
                }
                headers.push(format!("{}:{value}", name.to_ascii_lowercase()));
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let seen = Seen {
            line: line.trim_end().to_string(),
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        let (extra, content_type, answer) = answer(&seen);
        log.lock().unwrap().push(seen);
        write!(
            writer,
            "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n{extra}\r\n{answer}",
            answer.len()
        )?;
        writer.flush()?;
    }
}

/// The answer to a request: extra header lines, content type, body.
fn answer(request: &Seen) -> (String, &'static str, String) {
    let path = request.line.split(' ').nth(1).unwrap_or_default();
    let sts = |action: &str| {
        format!(
            "<{action}Response xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><{action}Result>\
             <Credentials><AccessKeyId>{ACCESS_KEY}</AccessKeyId>\
             <SecretAccessKey>{SECRET_KEY}</SecretAccessKey><SessionToken>sts-token</SessionToken>\
             <Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>\
             <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/Reader/trailpq</Arn>\
             <AssumedRoleId>AROAEXAMPLE:trailpq</AssumedRoleId></AssumedRoleUser>\
             </{action}Result><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata>\
             </{action}Response>"
        )
    };
    let json_credentials = format!(
        r#"{{"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"{ACCESS_KEY}","SecretAccessKey":"{SECRET_KEY}","Token":"instance-token","Expiration":"2099-01-01T00:00:00Z","LastUpdated":"2024-01-01T00:00:00Z"}}"#
    );
    if path.starts_with("/federation/credentials") {
        let body = format!(
            r#"{{"roleCredentials":{{"accessKeyId":"{ACCESS_KEY}","secretAccessKey":"{SECRET_KEY}","expiration":4070908800000}}}}"#
        );
        (String::new(), "application/json", body)
    } else if request.body.contains("Action=AssumeRoleWithWebIdentity") {
        (String::new(), "text/xml", sts("AssumeRoleWithWebIdentity"))
    } else if request.body.contains("Action=AssumeRole") {
        (String::new(), "text/xml", sts("AssumeRole"))
    } else if path == "/latest/api/token" {
        (
            "x-aws-ec2-metadata-token-ttl-seconds: 21600\r\n".into(),
            "text/plain",
            "imds-session-token".into(),
        )
    } else if path == "/latest/meta-data/iam/security-credentials/" {
        (String::new(), "text/plain", "Reader".into())
    } else {
        // The role's credentials from instance metadata, and container credentials.
        (String::new(), "application/json", json_credentials)
    }
}

#[test]
fn sso_roles_web_identity_container_and_instance_credentials_sign_requests() {
    crate::needs!(s3);
    let s3 = S3Server::start();
    s3.upload("logs", "AWSLogs/", &sample_data().join("awsdocs"));
    let expected = records_under(&sample_data().join("awsdocs"));
    let fake = FakeAws::start();
    let aws = Aws::new(
        "[profile sso]\nsso_session = corp\nsso_account_id = 123456789012\n\
         sso_role_name = Reader\nregion = us-east-1\n\n\
         [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n\n\
         [profile role]\nrole_arn = arn:aws:iam::123456789012:role/Reader\nsource_profile = base\n\
         region = us-east-1\n",
        &format!("[base]\naws_access_key_id = AKIABASE\naws_secret_access_key = {BASE_SECRET}\n"),
    );
    // What `aws sso login --sso-session corp` leaves: a token cached under the SHA-1 of the
    // session's name.
    let cache = aws.dir.path().join(".aws/sso/cache");
    std::fs::create_dir_all(&cache).unwrap();
    let sha1 = std::process::Command::new("sh")
        .args(["-c", "printf %s corp | sha1sum | cut -d' ' -f1"])
        .output()
        .unwrap();
    let token_file = cache.join(format!(
        "{}.json",
        String::from_utf8(sha1.stdout).unwrap().trim()
    ));
    std::fs::write(
        &token_file,
        r#"{"accessToken":"sso-access-token","expiresAt":"2099-01-01T00:00:00Z","region":"us-east-1","startUrl":"https://corp.awsapps.com/start"}"#,
    )
    .unwrap();
    let web_token = aws.path("web-identity-token");
    std::fs::write(&web_token, "a.jwt.token").unwrap();
    let base = aws.env(s3.port);
    let endpoints = [
        ("AWS_ENDPOINT_URL_SSO", fake.url()),
        ("AWS_ENDPOINT_URL_STS", fake.url()),
    ];
    let base = with(
        &base,
        &endpoints
            .iter()
            .map(|(k, v)| (*k, v.as_str()))
            .collect::<Vec<_>>(),
    );
    let out = tempdir();
    let convert = |name: &str, extra: &[&str], env: &[(String, String)]| {
        let dest = out.path().join(name);
        let mut args = vec!["convert", "s3://logs/AWSLogs/", "--out", path_str(&dest)];
        args.extend(extra);
        let (run, report) = run_with_report(&args, env);
        let run = run.expect(0);
        assert_no_secret(&run, &report);
        assert_eq!(
            report["records_written"],
            expected.len() as u64,
            "{name}: {report}"
        );
    };
    let requests = |from: usize| fake.seen()[from..].to_vec();

    // IAM Identity Center: the cached token buys role credentials.
    convert("sso", &["--profile", "sso"], &base);
    let sso = requests(0);
    assert_eq!(sso.len(), 1, "{sso:?}");
    let line = &sso[0].line;
    assert!(line.starts_with("GET /federation/credentials?"), "{sso:?}");
    assert!(line.contains("account_id=123456789012") && line.contains("role_name=Reader"));
    assert!(
        sso[0]
            .headers
            .iter()
            .any(|h| h == "x-amz-sso_bearer_token: sso-access-token")
    );

    // A role assumed with another profile's keys.
    let before = fake.seen().len();
    convert("role", &[], &with(&base, &[("AWS_PROFILE", "role")]));
    let role = requests(before);
    assert_eq!(role.len(), 1, "{role:?}");
    assert!(role[0].body.contains("Action=AssumeRole&"), "{role:?}");
    assert!(
        role[0]
            .body
            .contains("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2FReader"),
        "{role:?}"
    );
    assert!(
        role[0]
            .headers
            .iter()
            .any(|h| h.starts_with("authorization:") && h.contains("Credential=AKIABASE/")),
        "signed with the source profile's keys: {role:?}"
    );

    // Web identity, as on EKS (no profile at all).
    let before = fake.seen().len();
    let web = with(
        &base,
        &[
            ("AWS_WEB_IDENTITY_TOKEN_FILE", path_str(&web_token)),
            ("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/Reader"),
            ("AWS_REGION", "us-east-1"),
        ],
    );
    convert("web", &[], &web);
    let web = requests(before);
    assert_eq!(web.len(), 1, "{web:?}");
    assert!(
        web[0].body.contains("Action=AssumeRoleWithWebIdentity"),
        "{web:?}"
    );
    assert!(
        web[0].body.contains("WebIdentityToken=a.jwt.token"),
        "{web:?}"
    );

    // Container credentials (ECS, EKS Pod Identity).
    let before = fake.seen().len();
    let container = format!("{}/v2/credentials/task", fake.url());
    convert(
        "container",
        &[],
        &with(
            &base,
            &[
                ("AWS_CONTAINER_CREDENTIALS_FULL_URI", container.as_str()),
                ("AWS_REGION", "us-east-1"),
            ],
        ),
    );
    let container = requests(before);
    assert_eq!(container.len(), 1, "{container:?}");
    assert!(
        container[0].line.starts_with("GET /v2/credentials/task "),
        "{container:?}"
    );

    // EC2 instance metadata (IMDSv2: a session token, the role's name, its credentials).
    let before = fake.seen().len();
    let instance: Vec<_> = with(
        &base,
        &[
            ("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake.url().as_str()),
            ("AWS_REGION", "us-east-1"),
        ],
    )
    .into_iter()
    .filter(|(k, _)| k != "AWS_EC2_METADATA_DISABLED")
    .collect();
    convert("instance", &[], &instance);
    let lines: Vec<String> = requests(before).into_iter().map(|r| r.line).collect();
    assert_eq!(
        lines,
        [
            "PUT /latest/api/token HTTP/1.1",
            "GET /latest/meta-data/iam/security-credentials/ HTTP/1.1",
            "GET /latest/meta-data/iam/security-credentials/Reader HTTP/1.1",
        ]
    );

    // Signed out of SSO: one line saying how to sign in again.
    std::fs::remove_file(&token_file).unwrap();
    let dest = out.path().join("signed-out");
    let (run, report) = run_with_report(
        &[
            "convert",
            "s3://logs/AWSLogs/",
            "--out",
            path_str(&dest),
            "--profile",
            "sso",
        ],
        &base,
    );
    assert_no_secret(&run, &report);
    let run = one_line_error(
        run,
        1,
        "cannot get AWS credentials from profile 'sso' (--profile) (SSO)",
    );
    assert!(
        run.stderr
            .contains("sign in again with `aws sso login --profile sso`"),
        "{}",
        run.stderr
    );
}
